"""A real `bourse run` on loopback for the Binance clients, and accounts with API keys on it.

Each test module gets its own server (a fresh data directory with the demo markets), so tests in
a module share its order books but every test trades from accounts of its own.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from tests.runtime.server import Server


class Trader(NamedTuple):
    account_id: int
    key: str
    secret: str


class Exchange:
    """The running server as its operator sees it (admin API with the operator token)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.url = server.url
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


@pytest.fixture(scope="module")
def bourse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exchange]:
    data_dir: Path = tmp_path_factory.mktemp("clients") / "data"
    server = Server(data_dir)
    exchange = Exchange(server)
    try:
        yield exchange
    finally:
        exchange.admin.close()
        server.stop()
