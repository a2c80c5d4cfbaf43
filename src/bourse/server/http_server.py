"""The HTTP server of one process (the single process, or each gateway): uvicorn, configured
once, with its graceful stop made whole."""

import asyncio
import socket
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvicorn

T = TypeVar("T")

LATECOMER_POLL_S = 0.05


class HttpServer(uvicorn.Server):
    """uvicorn.Server that also stops the connections accepted as its listener closed.

    uvicorn's shutdown closes the listener, tells the connections open at that moment to close
    after their current request, and waits for all of them. asyncio may still hand it a
    connection the kernel accepted just before: its protocol starts a loop turn later, nobody
    tells it to close, a keep-alive client goes on sending requests over it, and the shutdown
    waits its whole timeout, then cancels that client's request in flight (a bare 500, though
    its command may be journaled). Gateways sharing one listening socket, with clients that
    reconnect at once, met this in about one stop in twenty under load."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # uvicorn's shutdown tells these before its first await; any other is a latecomer
        told = set(self.server_state.connections)
        watch = asyncio.create_task(self._stop_latecomers(told))
        try:
            await super().shutdown(sockets)
        finally:
            watch.cancel()

    async def _stop_latecomers(self, told: set[Any]) -> None:
        while True:
            for conn in list(self.server_state.connections):
                if conn not in told:
                    told.add(conn)
                    conn.shutdown()
            await asyncio.sleep(LATECOMER_POLL_S)


def http_server(asgi: Any) -> HttpServer:
    """The HTTP server of one process, for the sockets given to its `run`/`serve`."""
    # A request that never finishes must not keep the server from stopping (and snapshotting).
    config = uvicorn.Config(
        asgi,
        log_level="warning",
        log_config=None,  # uvicorn's records go through the handler configured by server.logs
        timeout_graceful_shutdown=10,
        # uvicorn would believe X-Forwarded-For from any loopback peer; the app decides instead
        proxy_headers=False,
        # As Binance: a ping every 20 s, and a connection without a pong for a minute is closed.
        ws_ping_interval=20,
        ws_ping_timeout=60,
    )
    return HttpServer(config)


def run_on_server_loop(main: Coroutine[Any, Any, T]) -> T:
    """`main` on the event loop uvicorn runs one process on (uvloop, where installed): what an
    engine process and its gateways, which run their own coroutine, need as much. On asyncio's
    default loop they took 12 % more CPU per order (`bench api`, one gateway, 2026-12-07: the
    engine process 132 against 94 µs, the gateway 300 against 272)."""
    factory = uvicorn.Config(app="").get_loop_factory()  # the app is never loaded here
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
