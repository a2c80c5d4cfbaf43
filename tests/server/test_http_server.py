"""The HTTP server's graceful stop reaches every connection, those accepted as it began too; an
engine process and its gateways run on the same event loop as the single process."""

import asyncio
import socket
from typing import Any

from bourse.server.http_server import http_server, run_on_server_loop


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            kind = (await receive())["type"]  # lifespan.startup, then lifespan.shutdown
            await send({"type": f"{kind}.complete"})
            if kind == "lifespan.shutdown":
                return


def test_a_connection_accepted_as_the_stop_begins_is_told_to_close_too() -> None:
    """The stand-in for a keep-alive connection whose protocol asyncio started just after
    uvicorn told the open ones to close: told nothing, it would hold the stop for its whole
    timeout (10 s) and then have its request in flight cancelled."""
    server = http_server(_app)
    connections: set[Any] = server.server_state.connections

    class Connection:
        def __init__(self, then: "Connection | None" = None) -> None:
            self.told = 0
            self.then = then

        def shutdown(self) -> None:  # as uvicorn's protocols do: it closes, so it leaves
            self.told += 1
            connections.discard(self)
            if self.then is not None:  # accepted meanwhile
                connections.add(self.then)

    latecomer = Connection()
    open_one = Connection(then=latecomer)

    async def scenario() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            serving = asyncio.create_task(server.serve(sockets=[listener]))
            while not server.started:
                await asyncio.sleep(0.01)  # uvicorn offers no event for its start
            connections.add(open_one)
            server.should_exit = True
            await asyncio.wait_for(serving, 5)

    asyncio.run(scenario())
    assert (open_one.told, latecomer.told) == (1, 1)


def test_engine_and_gateway_processes_run_on_uvicorns_loop() -> None:
    """uvloop, as uvicorn picks for the single process (asyncio's default loop costs them more
    CPU per order in socket and engine-link I/O)."""

    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert run_on_server_loop(loop_module()).startswith("uvloop")
