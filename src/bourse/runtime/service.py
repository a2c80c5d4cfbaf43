"""Bridges the asyncio server and the exchange: commands run on the event loop's thread (the
engine thread), and each request awaits its command's durable release before it answers."""

import asyncio

from bourse.commands import Command
from bourse.events import Outcome
from bourse.runtime.exchange import Exchange


class Service:
    def __init__(self, exchange: Exchange, operator_token: str) -> None:
        self.exchange = exchange
        self.operator_token = operator_token
        self._waiters: dict[int, asyncio.Future[Outcome]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        exchange.add_listener(self._on_release)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def execute(self, cmd: Command) -> Outcome:
        """Run `cmd` now; answer once its journal record is durable."""
        loop = asyncio.get_running_loop()
        outcome = self.exchange.submit(cmd)
        future: asyncio.Future[Outcome] = loop.create_future()
        # Registered before yielding: the release hops onto this loop, so it cannot run first.
        self._waiters[outcome.seq] = future
        return await future

    def _on_release(self, batch: list[Outcome]) -> None:  # the journal's writer thread
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._resolve, batch)

    def _resolve(self, batch: list[Outcome]) -> None:
        waiters = self._waiters
        for outcome in batch:
            future = waiters.pop(outcome.seq, None)
            if future is not None and not future.done():
                future.set_result(outcome)
