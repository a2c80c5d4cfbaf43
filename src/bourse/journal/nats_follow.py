"""Following a journal stream on NATS JetStream as its writer appends: a consumer on another
machine (`bourse consume`), or a standby engine that takes the writer role once the writer stops
renewing its lease (see `nats_lease`).

`bourse run --standby` opens one, applies what `follow` returns until `won`, then `promote`s it
at the last record it applied: from then on it is the writer's journal (`NatsJournal`), its
first record citing the stream's last one, so nothing the old writer may still send gets in
after it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bourse.journal import nats_lease
from bourse.journal.base import JournalError
from bourse.journal.nats_journal import NatsJournal
from bourse.journal.nats_reading import RecordReader, last_record

log = logging.getLogger(__name__)


class StreamFollower(NatsJournal):
    """The journal of stream `url`, opened to follow (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        node: str | None = None,
        lease_s: float = nats_lease.LEASE_S,
        create: bool = True,
    ) -> None:
        """`create`: make the stream if it is missing (the first engine of a deployment may
        start as a standby); a consumer does not, so a mistyped name is an error."""
        super().__init__(url, writer=False, create=create, node=node, lease_s=lease_s)
        self._tail: RecordReader | None = None  # what `follow` reads, where it stopped
        self._end = (self.last_seq, time.monotonic())  # the stream's end, when it was asked

    def wait_for_writer_role(self) -> None:
        """Start watching the lease (a journal opened with `writer=False`): once its writer has
        not renewed it for `lease_s`, this one takes it (see `won`), and keeps renewing it."""

        async def watch() -> None:
            while True:  # NATS unreachable for a while must not end the watch
                try:
                    self._kv = await nats_lease.bucket(self._js, self.address)
                    holder = await nats_lease.acquire(self._kv, self.node, self.lease_s, wait=True)
                except Exception as exc:
                    log.warning("standby: watching the writer lease failed (%r); again", exc)
                    await asyncio.sleep(self.lease_s / 4)
                    continue
                self._hold(holder)
                return

        self._loop.call_soon_threadsafe(lambda: self._tasks.append(asyncio.ensure_future(watch())))

    @property
    def won(self) -> bool:
        """Whether this standby holds the writer lease now (it must still `promote`)."""
        return self._holder is not None

    def follow(self, from_seq: int, wait_s: float = 0.2) -> list[tuple[int, bytes]]:
        """The records from `from_seq` on that are in the stream now (up to a chunk), waiting at
        most `wait_s` for the first: [] when none came."""
        return self._run(self._follow(from_seq, wait_s))

    async def _follow(self, from_seq: int, wait_s: float) -> list[tuple[int, bytes]]:
        tail = self._tail
        if tail is None:
            tail = self._tail = RecordReader(self._js, self.address)
        if tail.next_seq != from_seq:
            await tail.start(from_seq)
        return await tail.read(wait_s=wait_s)

    def stream_last(self) -> int:
        """The seq of the stream's last record now (asked of NATS)."""

        async def ask() -> int:
            return (await last_record(self._js, self.address))[1]

        last = self._run(ask())
        self._end = (last, time.monotonic())
        return last

    def stream_end(self, max_age_s: float = 1.0) -> int:
        """The seq of the stream's last record, asked of NATS at most once in `max_age_s`
        (a consumer's lag, for every scrape of its metrics)."""
        last, asked = self._end
        if time.monotonic() - asked < max_age_s:
            return last
        return self.stream_last()

    def promote(self, applied_seq: int) -> bool:
        """Become the writer after record `applied_seq`, if that is the stream's last (False:
        more was written meanwhile; follow it, then try again). Needs the lease (`won`)."""
        if self._holder is None:
            raise JournalError("a standby takes the writer role only once it holds the lease")

        async def promote() -> bool:
            if await self._read_end() != applied_seq:
                return False
            if self._tail is not None:
                await self._tail.close()
                self._tail = None
            await self._start_writing()
            return True

        return self._run(promote())
