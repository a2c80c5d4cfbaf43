"""A real `bourse run` on loopback for the Binance clients, and accounts with API keys on it.

Each test module gets its own server (a fresh data directory with the demo markets), so tests in
a module share its order books but every test trades from accounts of its own.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import httpx
import pytest
from binance.async_client import AsyncClient  # the submodules: binance/ may be another package's
from binance.ws.constants import WSListenerState
from binance.ws.reconnecting_websocket import ReconnectingWebsocket
from binance.ws.websocket_api import WebsocketAPI

from tests.server.server import Server


class Trader(NamedTuple):
    account_id: int
    key: str
    secret: str


class Exchange:
    """The running server as its operator sees it (admin API with the operator token)."""

    def __init__(self, server: Server, stream_port: str | None = None) -> None:
        self.server = server
        self.url = server.url
        self.ws_url = server.url.replace("http://", "ws://")
        # where the market and user streams are served (`--stream-port`, else the API's port)
        self.stream_url = f"ws://127.0.0.1:{stream_port}" if stream_port else self.ws_url
        self.admin = httpx.Client(base_url=f"{server.url}/admin/v1", headers=server.headers)

    def trader(self, **deposits: str) -> Trader:
        """A new account funded with `deposits` (asset=amount) and a read+trade HMAC key."""
        r = self.admin.post("/accounts", json={"deposits": deposits, "reason": "client test"})
        r.raise_for_status()
        account_id = r.json()["accountId"]
        k = self.admin.post("/keys", json={"accountId": account_id, "reason": "client test"})
        k.raise_for_status()
        return Trader(account_id, k.json()["apiKey"], k.json()["secretKey"])

    def ledger(self, account_id: int) -> dict[str, tuple[str, str]]:
        """The engine's balances of an account: asset → (free, locked), as decimal strings."""
        r = self.admin.get(f"/accounts/{account_id}")
        r.raise_for_status()
        return {b["asset"]: (b["free"], b["locked"]) for b in r.json()["balances"]}


@contextmanager
def running(tmp_path_factory: pytest.TempPathFactory, name: str, *args: str) -> Iterator[Exchange]:
    """A `bourse run` (with `args`) in a fresh data directory, stopped afterwards."""
    server = Server(tmp_path_factory.mktemp(name) / "data", *args)
    stream_port = args[args.index("--stream-port") + 1] if "--stream-port" in args else None
    exchange = Exchange(server, stream_port)
    try:
        yield exchange
    finally:
        exchange.admin.close()
        server.stop()


def python_binance(exchange: Exchange, trader: Trader) -> AsyncClient:
    """python-binance's AsyncClient on the server, REST and WebSocket API URLs pointed at it
    (AsyncClient.create() would ping binance.com first)."""
    client = AsyncClient(trader.key, trader.secret)
    client.API_URL = exchange.url + "/api"
    client.ws_api = WebsocketAPI(url=exchange.ws_url + "/ws-api/v3")
    return client


async def stop_reading(socket: ReconnectingWebsocket) -> None:
    """Stop a python-binance socket's read loop now, before the socket or its client is closed.

    Closing one (`__aexit__`, `close_connection()`) marks the loop EXITING and then waits for
    it to stop; but the loop looks at that mark only between messages, and waits up to
    `TIMEOUT` (10 s) for the next (python-binance issue 1584): on a quiet connection every close
    took 10 s. Here the loop is marked the same way and its connection closed, so the pending
    read ends at once and the loop stops; the close that follows finds nothing to wait for.
    (The loop's `TIMEOUT` is also the WebSocket API's wait for an answer: not shortened.)"""
    if socket.ws is not None:
        socket.ws_state = WSListenerState.EXITING
        await socket.ws.close()


async def close(client: AsyncClient) -> None:
    """`client.close_connection()`, its WebSocket API's read loop stopped first (`stop_reading`)."""
    await stop_reading(client.ws_api)
    await client.close_connection()


@pytest.fixture(scope="module")
def bourse(tmp_path_factory: pytest.TempPathFactory, shape: tuple[str, ...]) -> Iterator[Exchange]:
    with running(tmp_path_factory, "clients", *shape) as exchange:
        yield exchange
