"""The journal interface: an append-only, bytes-only log of sequenced records.

The sequencer assigns contiguous sequence numbers starting at 1 and appends each
encoded command here; a command's result is acknowledged only once its record is
durable. The interface is deliberately narrow (opaque bytes, no domain types) so a
replicated implementation can sit behind it later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable


class JournalError(Exception):
    """Base class for journal failures."""


class JournalCorrupted(JournalError):
    """Stored journal data fails verification in a way that is not a torn tail.

    The message always names the sequence number and the file/offset involved, so an
    operator can find the damage; the journal refuses to start rather than drop data.
    """


class JournalClosed(JournalError):
    """The journal was used after close()."""


class JournalUnavailable(JournalError):
    """The journal cannot make a record durable now (its server is unreachable): a command is
    refused before it gets a sequence number, so nothing happened and it may be sent again."""


class JournalFenced(JournalError):
    """Another engine writes the journal now: this one may not append, and what it appended
    after the other's first record was never recorded (the message names both)."""


class WriterActive(JournalError):
    """An engine that is alive writes this journal already; a second one is refused before it
    changes anything (start it as a standby instead)."""


@runtime_checkable
class Journal(Protocol):
    """Append-only log of ``(seq, payload)`` records with group-committed durability."""

    def append(self, seq: int, payload: bytes) -> None:
        """Buffer a record without blocking on I/O.

        ``seq`` must be ``last_seq + 1``, otherwise ``ValueError``. If the background
        writer has failed, its exception is raised here.
        """
        ...

    # bytes of a torn tail cut off when it was opened (a file journal's; 0 for others)
    truncated_bytes: int
    # the interpreter's thread switch interval the process should run with: the journal's own
    # thread (its writer, its network client) shares the GIL with the engine's
    switch_interval_s: float

    @property
    def last_seq(self) -> int:
        """The last appended seq (not necessarily durable yet); 0 if empty."""
        ...

    @property
    def durable_seq(self) -> int:
        """Every record with seq <= this is durable (fsynced)."""
        ...

    def set_durable_listener(self, fn: Callable[[int], None]) -> None:
        """Register ``fn(durable_seq)``, called after each commit with the new durable seq.

        It may be called from a background thread; it must be quick and must not call
        ``flush``/``close`` on the same journal.
        """
        ...

    def set_failure_listener(self, fn: Callable[[BaseException], None]) -> None:
        """Register ``fn(error)``, called once (from any thread) when the journal stops for good
        with records appended but not durable: those will never be."""
        ...

    def unavailable(self) -> str | None:
        """Why a record appended now would not become durable soon (None: it would). Asked
        before a command is sequenced, so a refusal leaves nothing half done."""
        ...

    def flush(self) -> int:
        """Block until everything appended so far is durable; return ``durable_seq``.

        When it returns, the durable listener has also been called for those seqs.
        """
        ...

    def replay(self, from_seq: int = 1) -> Iterator[tuple[int, bytes]]:
        """Yield durable records with seq >= ``from_seq`` in order.

        Raises ``ValueError`` if records at or after ``from_seq`` were pruned away.
        """
        ...

    def close(self) -> None:
        """Flush and release resources. Idempotent."""
        ...
