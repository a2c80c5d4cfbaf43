"""Segmented append-only journal on local disk with group commit.

On-disk layout: ``<dir>/journal-<first_seq:020d>.log`` segments, each a run of checksummed
records (`segment_format`: the layout, and telling a torn tail from damage in the middle).

Threading: ``append`` only encodes and buffers under a lock. A daemon writer thread
swaps the buffer out, writes it with one ``os.write``, syncs (GIL released), then
publishes ``durable_seq`` and calls the listener. Appends arriving during the sync form
the next batch, so the number of syncs adapts to load (group commit). Under concurrent load
(the previous batch held more than one record and was synced under ``busy_s`` ago) the writer
waits until as many records as that batch's are buffered, ``commit_delay_s`` at most, so that
one sync covers them: each write and sync cost the writer ~150 µs of CPU on the 2-core machine,
and with 16 connections sending orders a batch held ~3.4 records. A lone producer, one record
per batch, never waits.
With ``writer_thread=False`` there is no such thread: ``flush()`` writes and syncs the
buffered batch in the caller's thread, and the caller chooses the batch.

With ``read_only=True`` (a tool checking a journal, such as `bourse replay`) the segments are
verified by the same rules as recovery, but nothing is written, created or truncated: a torn
tail is reported (``torn_bytes``, ``torn_after_seq``) and left for the next writable open to
cut. Such a journal takes the lock file's shared lock (if the file exists): it is refused while
a writer has the directory, and a writer is refused while it is open; readers share it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Self

from bourse.journal.base import JournalClosed, JournalCorrupted, JournalError
from bourse.journal.segment_format import (
    CORRUPT_HINT,
    HEADER,
    HEADER_SIZE,
    SEGMENT_RE,
    SEQ,
    Segment,
    scan_segment,
    segment_name,
)
from bourse.private_files import create_private, private_dir

if TYPE_CHECKING:
    from bourse.journal.base import Journal

log = logging.getLogger(__name__)
_pack_header, _pack_seq, _crc32 = HEADER.pack, SEQ.pack, zlib.crc32  # bound once: the hot path

_LOCK_NAME = "journal.lock"

# fdatasync still persists the file size (needed to read appended data back) but skips
# mtime-only metadata, so it is as durable as fsync for an append-only log and cheaper.
_sync_fd: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


def fsync_path(path: Path, flags: int = os.O_RDONLY) -> None:
    """fsync a file or directory by path (a directory to make new entries or renames durable)."""
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# The engine thread should let the writer thread in soon after an fsync returns: the default
# 5 ms switch interval would add up to 5 ms to every acknowledgement.
SWITCH_INTERVAL_S = 0.0001
# Group commit under load, as PostgreSQL's commit_delay, but ending as soon as the batch is as
# large as the last one. `bench api`, alternating with the code before (2026-12-07): 16
# connections 269-279 against 314-318 µs of server CPU per order and 6-12 % more orders/s; 4
# connections 372-379 against 398-436 µs at the same rate; 1 connection never waits. A fixed
# 1 ms wait saved more at 16 (241-268 µs) but cost 4 connections a third of their orders/s.
COMMIT_DELAY_S = 0.001
BUSY_S = 0.002  # "under load": the last sync ended less than this long ago


class FileJournal:
    """Durable journal in ``directory``; see the module docstring for format and threading.

    ``append`` is safe to call from several threads but is designed for a single
    producer (the sequencer/engine thread). ``segment_bytes`` is the size after which
    a new segment is started (at a batch boundary, so segments can exceed it by up to
    one batch); ``max_batch`` caps the number of records written per sync.
    """

    def __init__(
        self,
        directory: Path,
        *,
        segment_bytes: int = 64 * 1024 * 1024,
        max_batch: int = 65536,
        writer_thread: bool = True,
        commit_delay_s: float = COMMIT_DELAY_S,
        busy_s: float = BUSY_S,
        read_only: bool = False,
    ) -> None:
        if segment_bytes <= 0 or max_batch <= 0:
            raise ValueError("segment_bytes and max_batch must be positive")
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self.max_batch = max_batch
        self.commit_delay_s = commit_delay_s
        self.busy_s = busy_s
        self.fsyncs = 0
        self.truncated_bytes = 0
        self.read_only = read_only
        # read_only: the torn tail the next writable open would cut, and the seq before it
        self.torn_bytes = 0
        self.torn_after_seq = 0
        self.torn_segment: Path | None = None
        self.switch_interval_s = SWITCH_INTERVAL_S

        if read_only:
            self._lock_fd = self._share_dir_lock()
        else:
            private_dir(self.directory)
            self._lock_fd = self._acquire_dir_lock()
        self._fd: int | None = None
        self._seg_size = 0
        try:
            self._segments, last = self._recover()
            if self._segments and not read_only:
                self._fd = os.open(self._segments[-1].path, os.O_WRONLY | os.O_APPEND)
                self._seg_size = os.fstat(self._fd).st_size
                # The previous process may have died before syncing its final batch.
                _sync_fd(self._fd)
        except BaseException:
            if self._fd is not None:
                os.close(self._fd)
            if self._lock_fd is not None:
                os.close(self._lock_fd)
            raise

        self._last_seq = last  # guarded by _lock
        self._durable_seq = last  # written only by the writer thread
        self._notified_seq = last  # durable and the listener has been told; flush waits on it
        self._written_seq = last  # writer-thread private
        self._buf: list[bytes] = []  # encoded records not yet handed to the writer
        self._closed = False
        self._error: BaseException | None = None
        # closed, failed or read-only: lets append test one flag on the hot path
        self._stopped = read_only
        self._listener: Callable[[int], None] | None = None
        self._failure_listener: Callable[[BaseException], None] | None = None
        self._writer_idle = False
        self._wanted = 0  # records the writer waits for before its next sync (0: none)

        self._lock = threading.Lock()
        self._has_data = threading.Condition(self._lock)  # writer waits here
        self._durable = threading.Condition(self._lock)  # flush() waits here
        # Without a writer thread, flush() commits in the caller's thread: the producer decides
        # the batch (e.g. "sequence up to N commands, then commit"), and on CPython it no longer
        # shares the GIL with a second thread, which measured ~1.7x the durable throughput.
        self._writer: threading.Thread | None = None
        if writer_thread and not read_only:
            self._writer = threading.Thread(
                target=self._run_writer, name="bourse-journal-writer", daemon=True
            )
            self._writer.start()

    # -- recovery ---------------------------------------------------------------------

    def _acquire_dir_lock(self) -> int:
        # Two writers on one directory would interleave records; fail fast instead.
        fd = create_private(self.directory / _LOCK_NAME, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise JournalError(f"journal directory {self.directory} is already open") from None
        return fd

    def _share_dir_lock(self) -> int | None:
        # A reader creates nothing: without a lock file no writer has opened the directory yet.
        try:
            fd = os.open(self.directory / _LOCK_NAME, os.O_RDONLY)
        except FileNotFoundError:
            if not self.directory.is_dir():
                raise
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise JournalError(
                f"journal directory {self.directory} is open for writing; "
                "stop its writer before reading it"
            ) from None
        return fd

    def _list_segments(self) -> list[Segment]:
        segs = []
        for p in self.directory.iterdir():
            m = SEGMENT_RE.match(p.name)
            if m:
                segs.append(Segment(int(m.group(1)), p))
        segs.sort()
        return segs

    def _recover(self) -> tuple[list[Segment], int]:
        """Verify all segments and truncate a torn tail (read-only: only note it); return
        (segments, last_seq)."""
        segs = self._list_segments()
        prev_last: int | None = None
        for i, seg in enumerate(segs):
            if prev_last is not None and seg.first_seq != prev_last + 1:
                raise JournalCorrupted(
                    f"journal segment {seg.path} starts at seq {seg.first_seq} but the "
                    f"previous segment ends at seq {prev_last}; refusing to start"
                )
            data = seg.path.read_bytes()
            res = scan_segment(data, seg.path, seg.first_seq)
            if res.problem is not None:
                is_tail = i == len(segs) - 1
                if res.problem != "torn":
                    raise JournalCorrupted(res.problem)
                if not is_tail:
                    raise JournalCorrupted(
                        f"journal record seq {res.last_seq + 1} in {seg.path} at offset "
                        f"{res.good_end} is incomplete but later segments exist; "
                        f"{CORRUPT_HINT}"
                    )
                cut = len(data) - res.good_end
                if self.read_only:  # left as it is: the next writable open cuts it
                    self.torn_bytes = cut
                    self.torn_after_seq = res.last_seq
                    self.torn_segment = seg.path
                else:
                    log.warning(
                        "journal: truncating torn tail of %s: %d bytes after offset %d "
                        "(last intact record seq %d)",
                        seg.path,
                        cut,
                        res.good_end,
                        res.last_seq,
                    )
                    os.truncate(seg.path, res.good_end)
                    self.truncated_bytes += cut
                    fsync_path(seg.path, os.O_RDWR)
            prev_last = res.last_seq
        return segs, (prev_last if prev_last is not None else 0)

    # -- hot path ---------------------------------------------------------------------

    def append(self, seq: int, payload: bytes) -> None:
        # Hot path: encode outside the lock, then keep the critical section tiny.
        # Explicit acquire/try/finally is measurably cheaper than `with` on 3.11.
        try:
            rec = _pack_header(len(payload), _crc32(payload, _crc32(_pack_seq(seq))), seq)
        except struct.error:
            rec = b""  # seq or length out of range; _reject() explains which
        lock = self._lock
        lock.acquire()
        try:
            if seq != self._last_seq + 1 or self._stopped or not rec:
                self._reject(seq, len(payload))
            self._buf.append(rec + payload)
            self._last_seq = seq
            # notify() is comparatively slow: only the idle writer, or the one gathering a batch
            # once it is complete, is woken
            if self._writer_idle or len(self._buf) == self._wanted:
                self._has_data.notify()
        finally:
            lock.release()

    def _reject(self, seq: int, length: int) -> NoReturn:
        """Raise the reason an append cannot proceed (called with the lock held)."""
        if self.read_only:
            raise JournalError(f"journal {self.directory} was opened read-only")
        if self._error is not None:
            raise self._error
        if self._closed:
            raise JournalClosed("journal is closed")
        if seq != self._last_seq + 1:
            raise ValueError(
                f"journal append out of sequence: got seq {seq}, expected {self._last_seq + 1}"
            )
        raise ValueError(f"journal payload of {length} bytes is too large for one record")

    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def durable_seq(self) -> int:
        return self._durable_seq

    def set_durable_listener(self, fn: Callable[[int], None]) -> None:
        self._listener = fn

    def set_failure_listener(self, fn: Callable[[BaseException], None]) -> None:
        self._failure_listener = fn

    def unavailable(self) -> str | None:
        return None if self._error is None else f"the journal's writer failed: {self._error!r}"

    def flush(self) -> int:
        if self._writer is None:
            return self._commit_inline()
        if threading.current_thread() is self._writer:
            raise RuntimeError("flush() called from the journal writer thread would deadlock")
        with self._lock:
            target = self._last_seq
            while self._notified_seq < target and self._error is None:
                self._durable.wait()
            if self._error is not None:
                raise self._error
            return self._durable_seq

    # -- writer thread ----------------------------------------------------------------

    def _run_writer(self) -> None:
        try:
            self._writer_loop()
        except BaseException as exc:  # stored; re-raised by append/flush/close
            log.error("journal writer failed: %r", exc)
            with self._lock:
                self._error = exc
                self._stopped = True
                self._durable.notify_all()
            if self._failure_listener is not None:
                self._failure_listener(exc)

    def _writer_loop(self) -> None:
        last_size, last_end = 0, float("-inf")  # the previous batch's
        while True:
            with self._lock:
                while not self._buf and not self._closed:
                    self._writer_idle = True
                    self._has_data.wait()
                    self._writer_idle = False
                if not self._buf:
                    return  # closed and drained
                if last_size > 1 and time.monotonic() - last_end < self.busy_s:
                    self._gather(last_size)
                if len(self._buf) <= self.max_batch:
                    batch, self._buf = self._buf, []
                else:
                    batch = self._buf[: self.max_batch]
                    del self._buf[: self.max_batch]
            self._commit(batch)
            last_size, last_end = len(batch), time.monotonic()

    def _gather(self, wanted: int) -> None:
        """Under load (lock held): wait until `wanted` records are buffered, as many as the last
        batch carried, or `commit_delay_s` has passed, so that one sync covers them all."""
        deadline = time.monotonic() + self.commit_delay_s
        self._wanted = wanted
        try:
            while len(self._buf) < wanted and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._has_data.wait(remaining)
        finally:
            self._wanted = 0

    def _commit(self, batch: list[bytes]) -> None:
        """Write and sync one batch, then report it (writer thread, or flush() when inline)."""
        first = self._written_seq + 1
        last = self._written_seq + len(batch)
        if self._fd is None or self._seg_size >= self.segment_bytes:
            self._roll(first)
        self._write_batch(b"".join(batch))
        self._written_seq = last
        self._durable_seq = last
        listener = self._listener
        if listener is not None:
            listener(last)  # outside the lock: it may read last_seq/durable_seq
        # Release flushers only after the listener ran, so that when flush() returns,
        # every covered seq has been both synced and reported.
        with self._lock:
            self._notified_seq = last
            self._durable.notify_all()

    def _commit_inline(self) -> int:
        if self._error is not None:
            raise self._error
        while True:
            with self._lock:
                if not self._buf:
                    return self._durable_seq
                batch = self._buf[: self.max_batch]
                del self._buf[: self.max_batch]
            try:
                self._commit(batch)
            except BaseException as exc:  # as on the writer thread: stored, raised from now on
                with self._lock:
                    self._error = exc
                    self._stopped = True
                raise

    def _write_batch(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self._sync(self._fd)
        self._seg_size += len(data)
        self.fsyncs += 1

    def _sync(self, fd: int) -> None:
        # Separate method so tests can inject slow or failing syncs.
        _sync_fd(fd)

    def _roll(self, first_seq: int) -> None:
        path = self.directory / segment_name(first_seq)
        fd = create_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND)
        fsync_path(self.directory)  # make the new file's directory entry durable
        old, self._fd, self._seg_size = self._fd, fd, 0
        if old is not None:
            os.close(old)  # already synced: rolls only happen between batches
        with self._lock:
            self._segments.append(Segment(first_seq, path))

    # -- reading / maintenance --------------------------------------------------------

    def replay(self, from_seq: int = 1) -> Iterator[tuple[int, bytes]]:
        with self._lock:
            limit = self._durable_seq
            segs = list(self._segments)
        first_retained = segs[0].first_seq if segs else limit + 1
        if max(from_seq, 1) < first_retained:
            raise ValueError(
                f"cannot replay from seq {from_seq}: records before seq {first_retained} "
                "have been pruned"
            )
        # Skip whole segments whose successor starts at or before from_seq.
        start = 0
        while start + 1 < len(segs) and segs[start + 1].first_seq <= from_seq:
            start += 1
        return self._replay_segments(segs[start:], from_seq, limit)

    @staticmethod
    def _replay_segments(
        segs: list[Segment], from_seq: int, limit: int
    ) -> Iterator[tuple[int, bytes]]:
        unpack_from = HEADER.unpack_from
        crc32 = zlib.crc32
        expected = segs[0].first_seq if segs else limit + 1
        for seg in segs:
            if expected > limit:
                return
            if seg.first_seq != expected:
                raise JournalCorrupted(
                    f"journal segment {seg.path} starts at seq {seg.first_seq}, "
                    f"expected seq {expected}, during replay"
                )
            with open(seg.path, "rb") as f:
                data = f.read()
            view = memoryview(data)
            size = len(data)
            off = 0
            # Records past `limit` may be mid-write by the writer thread; stop before them.
            while off + HEADER_SIZE <= size and expected <= limit:
                length, crc, seq = unpack_from(data, off)
                end = off + HEADER_SIZE + length
                if end > size or seq != expected or crc32(view[off + 8 : end]) != crc:
                    raise JournalCorrupted(
                        f"journal record seq {expected} in {seg.path} at offset {off} "
                        "failed verification during replay"
                    )
                if seq >= from_seq:
                    yield seq, data[off + HEADER_SIZE : end]
                expected += 1
                off = end
        if expected <= limit:
            raise JournalCorrupted(
                f"journal replay found no record seq {expected}, but seq {limit} is durable"
            )

    def prune(self, before_seq: int) -> int:
        """Delete whole segments whose records all have seq < before_seq.

        The newest segment is never deleted. Returns the number of segments removed.
        Must not run concurrently with a replay that still needs those segments.
        """
        if self.read_only:
            raise JournalError(f"journal {self.directory} was opened read-only")
        with self._lock:
            n = 0
            while n + 1 < len(self._segments) and self._segments[n + 1].first_seq <= before_seq:
                n += 1
            doomed, self._segments = self._segments[:n], self._segments[n:]
        for seg in doomed:
            seg.path.unlink()
        if doomed:
            fsync_path(self.directory)
            log.info("journal: pruned %d segment(s) before seq %d", len(doomed), before_seq)
        return len(doomed)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stopped = True
            self._has_data.notify()
        if self._writer is not None:
            self._writer.join()  # drains the buffer unless the writer failed
        elif self._error is None:
            # A failure is stored in self._error and raised below, after the files are closed.
            with contextlib.suppress(BaseException):
                self._commit_inline()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
        if self._error is not None:
            raise self._error

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if TYPE_CHECKING:

    def _conforms(j: FileJournal) -> Journal:
        return j
