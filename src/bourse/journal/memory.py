"""In-memory journal: same contract as FileJournal, "durable" as soon as appended.

Meant for tests and benchmarks where disk I/O would only add noise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from bourse.journal.base import JournalClosed

if TYPE_CHECKING:
    from bourse.journal.base import Journal


class MemoryJournal:
    """List-backed journal; the durable listener runs synchronously inside ``append``."""

    def __init__(self) -> None:
        self._records: list[bytes] = []
        self._first_seq = 1  # seq of self._records[0]; moves forward on prune
        self._listener: Callable[[int], None] | None = None
        self._closed = False
        self.truncated_bytes = 0
        self.switch_interval_s = 0.005  # CPython's own: this journal has no thread

    def append(self, seq: int, payload: bytes) -> None:
        if self._closed:
            raise JournalClosed("journal is closed")
        expected = self._first_seq + len(self._records)
        if seq != expected:
            raise ValueError(f"journal append out of sequence: got seq {seq}, expected {expected}")
        self._records.append(payload)
        if self._listener is not None:
            self._listener(seq)

    @property
    def last_seq(self) -> int:
        return self._first_seq + len(self._records) - 1

    @property
    def durable_seq(self) -> int:
        return self.last_seq

    def set_durable_listener(self, fn: Callable[[int], None]) -> None:
        self._listener = fn

    def set_failure_listener(self, fn: Callable[[BaseException], None]) -> None:
        """Never called: appending to a list does not fail."""

    def unavailable(self) -> str | None:
        return None

    def flush(self) -> int:
        return self.last_seq

    def replay(self, from_seq: int = 1) -> Iterator[tuple[int, bytes]]:
        if max(from_seq, 1) < self._first_seq:
            raise ValueError(
                f"cannot replay from seq {from_seq}: records before seq {self._first_seq} "
                "have been pruned"
            )
        # Bound the range now so records appended while iterating are not yielded.
        start = max(from_seq, self._first_seq)
        return self._iter(self._records, self._first_seq, start, self.last_seq)

    @staticmethod
    def _iter(records: list[bytes], base: int, start: int, end: int) -> Iterator[tuple[int, bytes]]:
        for seq in range(start, end + 1):
            yield seq, records[seq - base]

    def prune(self, before_seq: int) -> int:
        """Drop records with seq < before_seq; returns how many were dropped."""
        drop = min(before_seq - self._first_seq, len(self._records))
        if drop <= 0:
            return 0
        # Rebind rather than mutate so an in-progress replay keeps its own view.
        self._records = self._records[drop:]
        self._first_seq += drop
        return drop

    def close(self) -> None:
        self._closed = True


if TYPE_CHECKING:

    def _conforms(j: MemoryJournal) -> Journal:
        return j
