"""Released outcomes for the market and user data streams on a machine of their own: read from
the journal's stream on NATS (`bourse consume streams`).

Like the SQL consumer (`store/stream_projection.py`), it runs the journaled commands through an
engine of its own (`journal/stream_engine.py`). It catches up with the stream before it
serves, so its read model and market data start where the writer is; after that a thread
follows the stream and hands each batch to the event loop, where the read model folds it and
the streams' listeners (`on_release`) send it.
Nothing here is durable for clients: a restarted stream server is a new connection to them, and
Binance clients take a fresh depth snapshot then.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from bourse.events import Outcome
from bourse.journal.nats_follow import StreamFollower
from bourse.journal.stream_engine import StreamEngine
from bourse.view import ReadModel
from bourse.view.fold import apply as fold

log = logging.getLogger(__name__)
CAUGHT_UP_WAIT_S = 5.0


class JournalFeed:
    def __init__(self, journal: StreamFollower, snapshots: Path) -> None:
        self.journal = journal
        self.engine = StreamEngine(journal, snapshots)
        self.view = ReadModel()
        self.released_seq = 0  # what the loop has folded and handed on
        self.on_release: list[Callable[[list[Outcome]], None]] = []
        self.on_failure: Callable[[], None] = lambda: None  # on the loop: serve no more
        self.failed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._released = asyncio.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def catch_up(self) -> None:
        """Run the engine to the stream's end now (before serving), and take the read model
        there. Blocking."""
        end = self.journal.stream_last()
        while self.engine.seq < end:
            self.engine.step(wait_s=1.0)
        self.view = self.engine.follower.read_model()
        self.released_seq = self.engine.seq

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Follow the stream from here on, handing each batch to `loop`."""
        self._loop = loop
        self._released = asyncio.Event()
        self._thread = threading.Thread(target=self._follow, name="journal-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following; a snapshot where it stopped, so a restart replays nothing twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            if self._thread.is_alive():
                return  # still in a read: no snapshot of a state being changed
        if not self.failed:
            self.engine.snapshot()

    def lag(self) -> int:
        """Commands in the stream not yet sent to the streams."""
        return max(0, self.journal.stream_end() - self.released_seq)

    async def caught_up(self) -> None:
        """Until what the stream held when asked has been handed on: a listenKey made on the
        writer a moment ago is known here then (at most CAUGHT_UP_WAIT_S)."""
        target = await asyncio.to_thread(self.journal.stream_last)
        try:
            async with asyncio.timeout(CAUGHT_UP_WAIT_S):
                while self.released_seq < target:
                    await self._released.wait()
        except TimeoutError:
            log.warning("streams: still %d commands behind", target - self.released_seq)

    def _follow(self) -> None:
        assert self._loop is not None
        while not self._stop.is_set():
            try:
                batch = self.engine.step(wait_s=0.5)
            except Exception:
                log.exception("streams: following the journal failed; the process stops")
                self.failed = True
                self._loop.call_soon_threadsafe(self.on_failure)
                return
            if batch:
                self._loop.call_soon_threadsafe(self._release, batch)

    def _release(self, batch: list[Outcome]) -> None:  # on the loop
        fold(self.view, batch)
        self.released_seq = batch[-1].seq
        for fn in self.on_release:
            try:
                fn(batch)
            except Exception:  # one listener's bug must not stop the others' streams
                log.exception("release listener %r failed", fn)
        event, self._released = self._released, asyncio.Event()
        event.set()
