"""The sequencer: the one door every command passes, in one order.

It gives each command the next sequence number, appends it to the journal, runs it through the
engine at once (while its batch is being fsynced) and holds the outcome back until the journal
says the record is durable. Only then is the outcome released to whoever acknowledges it, to
the projections and to the streams, so nothing a command caused leaves the process before it
would survive a crash.

Threading: `submit` is called from one thread (the engine's). The journal's writer thread calls
`_on_durable`, which pops released outcomes from a deque; deque append/popleft are atomic.
"""

import threading
from collections import deque
from collections.abc import Callable, Iterable

from bourse.commands import Command, decode_command, encode_command
from bourse.engine import Engine
from bourse.events import Outcome
from bourse.journal.base import Journal

Release = Callable[[list[Outcome]], None]
# the same, with each outcome's command as journaled (the audit log hashes those bytes)
ReleaseRecords = Callable[[list[Outcome], list[bytes]], None]


class UnencodableCommand(ValueError):
    """A command the journal cannot record (a value msgspec cannot encode; integers of any size
    it can, see codec.py): refused before it gets a sequence number, so nothing was journaled
    and the engine never saw it."""


class Sequencer:
    def __init__(
        self,
        engine: Engine,
        journal: Journal,
        release: Release | None = None,
        release_records: ReleaseRecords | None = None,
    ) -> None:
        if journal.last_seq != engine.state.last_seq:
            raise ValueError(
                f"journal ends at seq {journal.last_seq} but the engine is at "
                f"{engine.state.last_seq}: recover before sequencing"
            )
        self.engine = engine
        self.journal = journal
        self._release = release
        self._pending: deque[Outcome] = deque()
        self._release_records = release_records
        self._records: deque[bytes] | None = None if release_records is None else deque()
        # The writer thread and `submit` may both release (see submit): one at a time, in order.
        self._releasing = threading.Lock()
        journal.set_durable_listener(self._on_durable)

    def submit(self, cmd: Command) -> Outcome:
        """Journal and execute `cmd`; its outcome is released once durable (see `release`)."""
        try:
            record = encode_command(cmd)
        except (OverflowError, ValueError, TypeError) as exc:
            raise UnencodableCommand(f"{type(cmd).__name__} cannot be journaled: {exc}") from exc
        seq = self.engine.state.last_seq + 1
        self.journal.append(seq, record)
        outcome = Outcome(
            seq=seq,
            ts_ms=cmd.ts_ms,
            command=type(cmd).__name__,
            events=self.engine.execute(seq, cmd),
        )
        if self._records is not None:  # before the outcome: the writer pops both once it sees it
            self._records.append(record)
        self._pending.append(outcome)
        durable = self.journal.durable_seq
        if durable >= seq:
            # The record was synced, and the writer told us, while the engine was still running
            # the command: that notification found nothing to release. Release it now, or it
            # would wait for the next command's sync (forever, on a quiet server).
            self._on_durable(durable)
        return outcome

    def flush(self) -> int:
        """Block until everything submitted is durable and released; returns the last seq."""
        return self.journal.flush()

    def _on_durable(self, durable_seq: int) -> None:
        with self._releasing:
            pending = self._pending
            batch: list[Outcome] = []
            while pending and pending[0].seq <= durable_seq:
                batch.append(pending.popleft())
            if not batch:
                return
            if self._release is not None:
                self._release(batch)
            if self._records is not None and self._release_records is not None:
                records = self._records
                self._release_records(batch, [records.popleft() for _ in batch])


def replay(
    engine: Engine,
    records: Iterable[tuple[int, bytes]],
    release: Release | None = None,
    batch_size: int = 2000,
    release_records: ReleaseRecords | None = None,
) -> int:
    """Run journaled commands through `engine` (recovery); returns the number replayed.

    `release` receives the outcomes in batches (to rebuild or catch up projections), and
    `release_records` the same batches with their commands as journaled.
    """
    batch: list[Outcome] = []
    payloads: list[bytes] = []
    count = 0
    keep = release is not None or release_records is not None

    def flush() -> None:
        if release is not None:
            release(batch)
        if release_records is not None:
            release_records(batch, payloads)

    for seq, payload in records:
        cmd = decode_command(payload)
        events = engine.execute(seq, cmd)
        count += 1
        if keep:
            batch.append(
                Outcome(seq=seq, ts_ms=cmd.ts_ms, command=type(cmd).__name__, events=events)
            )
            if release_records is not None:
                payloads.append(bytes(payload))
            if len(batch) >= batch_size:
                flush()
                batch, payloads = [], []
    if keep and batch:
        flush()
    return count
