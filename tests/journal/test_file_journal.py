"""Tests for the journal contract (both implementations) and FileJournal specifics."""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bourse.journal.base import Journal, JournalClosed, JournalCorrupted, JournalError
from bourse.journal.file_journal import FileJournal
from bourse.journal.memory import MemoryJournal
from bourse.journal.segment_format import HEADER_SIZE, encode_record, segment_name

Factory = Callable[[], Journal]


def payload_for(seq: int) -> bytes:
    # Varying lengths (including empty) so offsets are not all aligned.
    return (b"p%d-" % seq) * (seq % 7)


def fill(j: Journal, first: int, last: int, *, flush_every: int = 0) -> None:
    for seq in range(first, last + 1):
        j.append(seq, payload_for(seq))
        if flush_every and seq % flush_every == 0:
            j.flush()


def expected(first: int, last: int) -> list[tuple[int, bytes]]:
    return [(seq, payload_for(seq)) for seq in range(first, last + 1)]


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("journal-*.log"))


class _Journals:
    """Opens journals for a test and guarantees they are closed afterwards."""

    def __init__(self) -> None:
        self.opened: list[FileJournal] = []

    def open(self, directory: Path, **kwargs: Any) -> FileJournal:
        j = FileJournal(directory, **kwargs)
        self.opened.append(j)
        return j

    def close_all(self) -> None:
        for j in self.opened:
            # Tests that inject writer failures have already asserted on them.
            with contextlib.suppress(Exception):
                j.close()


@pytest.fixture
def journals() -> Iterator[_Journals]:
    js = _Journals()
    yield js
    js.close_all()


@pytest.fixture(params=["file", "file-inline", "memory"])
def make_journal(request: pytest.FixtureRequest, tmp_path: Path, journals: _Journals) -> Factory:
    """Factory for the contract tests; the file variants use tiny segments so that
    rolling and pruning are exercised too ("file-inline" commits in flush(), no thread)."""
    if request.param == "file":
        return lambda: journals.open(tmp_path / "j", segment_bytes=512)
    if request.param == "file-inline":
        return lambda: journals.open(tmp_path / "j", segment_bytes=512, writer_thread=False)
    return MemoryJournal


def _gate_sync(j: FileJournal) -> tuple[threading.Event, threading.Event]:
    """Make the writer block inside its next sync until `release` is set."""
    entered, release = threading.Event(), threading.Event()
    real_sync = j._sync

    def gated(fd: int) -> None:
        entered.set()
        assert release.wait(timeout=30)
        real_sync(fd)

    j._sync = gated  # type: ignore[method-assign]
    return entered, release


# --------------------------------------------------------------------------------------
# Contract: both implementations
# --------------------------------------------------------------------------------------


def test_satisfies_protocol(make_journal: Factory) -> None:
    assert isinstance(make_journal(), Journal)


def test_empty_journal(make_journal: Factory) -> None:
    j = make_journal()
    assert (j.last_seq, j.durable_seq, j.flush()) == (0, 0, 0)
    assert list(j.replay()) == []


def test_append_flush_replay_round_trip(make_journal: Factory) -> None:
    j = make_journal()
    fill(j, 1, 100)
    assert j.last_seq == 100
    assert j.flush() == 100
    assert j.durable_seq == 100
    assert list(j.replay()) == expected(1, 100)


def test_replay_from_the_middle(make_journal: Factory) -> None:
    j = make_journal()
    fill(j, 1, 100, flush_every=7)
    j.flush()
    assert list(j.replay(50)) == expected(50, 100)
    assert list(j.replay(100)) == expected(100, 100)
    assert list(j.replay(101)) == []
    assert list(j.replay(0)) == expected(1, 100)


def test_out_of_sequence_append_raises_value_error(make_journal: Factory) -> None:
    j = make_journal()
    j.append(1, b"a")
    with pytest.raises(ValueError, match="got seq 3, expected 2"):
        j.append(3, b"c")
    with pytest.raises(ValueError):
        j.append(1, b"again")
    with pytest.raises(ValueError):
        j.append(-1, b"negative")
    assert j.last_seq == 1
    j.append(2, b"b")
    assert j.flush() == 2
    assert list(j.replay()) == [(1, b"a"), (2, b"b")]


def test_durable_listener_sees_increasing_seqs(make_journal: Factory) -> None:
    j = make_journal()
    seen: list[int] = []
    j.set_durable_listener(seen.append)
    fill(j, 1, 300, flush_every=50)
    assert j.flush() == 300
    # flush() returns only after the listener has heard about everything it covers.
    assert seen[-1] == 300
    assert all(a < b for a, b in itertools.pairwise(seen))


def test_close_is_idempotent_and_rejects_appends(make_journal: Factory) -> None:
    j = make_journal()
    fill(j, 1, 10)
    j.close()
    j.close()
    with pytest.raises(JournalClosed):
        j.append(11, b"late")
    assert list(j.replay()) == expected(1, 10)  # close flushed everything


def test_prune_keeps_later_records(make_journal: Factory) -> None:
    j = make_journal()
    fill(j, 1, 200, flush_every=10)
    j.flush()
    j.prune(100)  # type: ignore[attr-defined]  # prune is not part of the Protocol
    assert list(j.replay(100)) == expected(100, 200)
    with pytest.raises(ValueError, match="pruned"):
        j.replay(1)
    assert j.last_seq == 200
    j.append(201, b"after prune")
    j.flush()
    assert list(j.replay(200))[-1] == (201, b"after prune")


# --------------------------------------------------------------------------------------
# FileJournal: persistence, segments, group commit
# --------------------------------------------------------------------------------------


def test_reopen_round_trip(tmp_path: Path, journals: _Journals) -> None:
    j = journals.open(tmp_path)
    fill(j, 1, 50)
    j.close()

    j = journals.open(tmp_path)
    assert (j.last_seq, j.durable_seq, j.truncated_bytes) == (50, 50, 0)
    assert list(j.replay()) == expected(1, 50)
    assert list(j.replay(25)) == expected(25, 50)
    fill(j, 51, 60)
    j.close()

    j = journals.open(tmp_path)
    assert list(j.replay()) == expected(1, 60)


def test_directory_can_only_be_opened_once(tmp_path: Path, journals: _Journals) -> None:
    journals.open(tmp_path)
    with pytest.raises(JournalError, match="already open"):
        FileJournal(tmp_path)


def test_segments_roll_and_replay_across_them(tmp_path: Path, journals: _Journals) -> None:
    j = journals.open(tmp_path, segment_bytes=300)
    fill(j, 1, 120, flush_every=5)
    j.close()

    files = segments(tmp_path)
    assert len(files) > 5
    first_seqs = [int(p.stem.split("-")[1]) for p in files]
    assert first_seqs[0] == 1
    assert first_seqs == sorted(first_seqs)
    for path, first in zip(files, first_seqs, strict=True):
        assert path.name == segment_name(first)
        # Every segment starts with the record its name promises (seq is header[8:16]).
        assert int.from_bytes(path.read_bytes()[8:16], "little") == first

    j = journals.open(tmp_path, segment_bytes=300)
    assert list(j.replay()) == expected(1, 120)
    for start in (1, first_seqs[2], first_seqs[2] + 1, first_seqs[-1], 120):
        assert list(j.replay(start)) == expected(start, 120)


def test_replay_skips_segments_before_from_seq(tmp_path: Path, journals: _Journals) -> None:
    j = journals.open(tmp_path, segment_bytes=300)
    fill(j, 1, 120, flush_every=5)
    j.flush()
    files = segments(tmp_path)
    third = int(files[2].stem.split("-")[1])
    # Damage the first segment behind the open journal's back: a replay that starts in
    # the third segment must not even read it, while a full replay must notice.
    data = bytearray(files[0].read_bytes())
    data[HEADER_SIZE] ^= 0xFF
    files[0].write_bytes(bytes(data))
    assert list(j.replay(third)) == expected(third, 120)
    with pytest.raises(JournalCorrupted, match="seq 1 "):
        list(j.replay(1))


def test_prune_deletes_whole_old_segments_only(tmp_path: Path, journals: _Journals) -> None:
    j = journals.open(tmp_path, segment_bytes=300)
    fill(j, 1, 120, flush_every=5)
    j.flush()
    before = segments(tmp_path)
    assert j.prune(1) == 0
    removed = j.prune(60)
    after = segments(tmp_path)
    assert removed == len(before) - len(after) > 0
    first_kept = int(after[0].stem.split("-")[1])
    assert first_kept <= 60  # the segment holding seq 60 survives
    assert list(j.replay(60)) == expected(60, 120)

    # Pruning "everything" still keeps the newest segment so last_seq survives reopen.
    j.prune(10**9)
    assert len(segments(tmp_path)) == 1
    j.close()
    j = journals.open(tmp_path, segment_bytes=300)
    assert j.last_seq == 120
    last_first = int(segments(tmp_path)[0].stem.split("-")[1])
    assert list(j.replay(last_first)) == expected(last_first, 120)
    with pytest.raises(ValueError, match="pruned"):
        j.replay(1)
    fill(j, 121, 130)
    assert j.flush() == 130


def test_group_commit_batches_appends_during_a_sync(tmp_path: Path, journals: _Journals) -> None:
    j = journals.open(tmp_path)
    entered, release = _gate_sync(j)
    j.append(1, payload_for(1))
    assert entered.wait(timeout=30)  # the writer is now "inside fsync" with batch [1]
    fill(j, 2, 10_000)
    assert j.durable_seq == 0
    release.set()
    assert j.flush() == 10_000
    assert j.fsyncs == 2  # [1] and then everything that queued up behind it
    assert list(j.replay()) == expected(1, 10_000)


def test_group_commit_from_a_producer_thread(tmp_path: Path, journals: _Journals) -> None:
    j = journals.open(tmp_path)
    n = 10_000
    producer = threading.Thread(target=fill, args=(j, 1, n))
    producer.start()
    producer.join()
    assert j.flush() == n
    assert j.fsyncs < n // 10
    assert list(j.replay()) == expected(1, n)


def _finishes(work: Callable[[], object]) -> bool:
    """Whether `work` returns within 10 s (it runs in a thread of its own)."""
    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(timeout=10)
    return not worker.is_alive()


def _under_load(j: FileJournal) -> None:
    """A batch of four records ([2..5], queued behind [1]): the next sync gathers four."""
    entered, release = _gate_sync(j)
    j.append(1, payload_for(1))
    assert entered.wait(timeout=30)
    fill(j, 2, 5)
    release.set()
    assert j.flush() == 5 and j.fsyncs == 2


def test_under_load_one_sync_gathers_as_many_records_as_the_last(
    tmp_path: Path, journals: _Journals
) -> None:
    j = journals.open(tmp_path, commit_delay_s=600, busy_s=600)
    _under_load(j)
    gathering = threading.Event()
    gather = j._gather

    def gather_and_tell(wanted: int) -> None:  # called with the lock held until it waits
        gathering.set()
        gather(wanted)

    j._gather = gather_and_tell  # type: ignore[method-assign]
    fill(j, 6, 8)  # three of the four: the writer waits for a fourth ...
    assert gathering.wait(timeout=30)
    assert j.durable_seq == 5
    j.append(9, payload_for(9))  # ... and syncs as soon as it comes, not after 600 s
    assert _finishes(j.flush)
    assert (j.durable_seq, j.fsyncs) == (9, 3)
    assert list(j.replay()) == expected(1, 9)


def test_under_load_the_writer_waits_commit_delay_s_at_most(
    tmp_path: Path, journals: _Journals
) -> None:
    j = journals.open(tmp_path, commit_delay_s=0.05, busy_s=600)
    _under_load(j)
    j.append(6, payload_for(6))  # alone: synced once the delay has passed
    assert j.flush() == 6 and j.fsyncs == 3


def test_a_lone_producer_never_waits_for_a_sync(tmp_path: Path, journals: _Journals) -> None:
    j = journals.open(tmp_path, commit_delay_s=600, busy_s=600)

    def one_at_a_time() -> None:  # each record durable before the next
        for seq in range(1, 21):
            j.append(seq, payload_for(seq))
            j.flush()

    assert _finishes(one_at_a_time)
    assert (j.durable_seq, j.fsyncs) == (20, 20)


def test_max_batch_caps_records_per_sync(tmp_path: Path, journals: _Journals) -> None:
    j = journals.open(tmp_path, max_batch=100)
    entered, release = _gate_sync(j)
    j.append(1, payload_for(1))
    assert entered.wait(timeout=30)
    fill(j, 2, 1001)
    release.set()
    assert j.flush() == 1001
    assert j.fsyncs == 1 + 10


def test_replay_yields_only_durable_records(tmp_path: Path, journals: _Journals) -> None:
    j = journals.open(tmp_path)
    entered, release = _gate_sync(j)
    fill(j, 1, 3)
    assert entered.wait(timeout=30)
    assert j.last_seq == 3
    assert j.durable_seq == 0
    assert list(j.replay()) == []
    release.set()
    j.flush()
    assert list(j.replay()) == expected(1, 3)


def test_listener_runs_on_writer_thread(tmp_path: Path, journals: _Journals) -> None:
    j = journals.open(tmp_path)
    threads: set[str] = set()
    j.set_durable_listener(lambda seq: threads.add(threading.current_thread().name))
    fill(j, 1, 10)
    j.flush()
    assert threads == {"bourse-journal-writer"}


def test_writer_failure_surfaces_on_append_flush_and_close(
    tmp_path: Path, journals: _Journals, caplog: pytest.LogCaptureFixture
) -> None:
    j = journals.open(tmp_path)
    fill(j, 1, 5)
    j.flush()

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    j._sync = disk_full  # type: ignore[method-assign]
    j.append(6, b"doomed")
    with caplog.at_level(logging.ERROR), pytest.raises(OSError, match="No space"):
        j.flush()
    assert j.durable_seq == 5
    with pytest.raises(OSError, match="No space"):
        j.append(7, b"more")
    with pytest.raises(OSError, match="No space"):
        j.close()
    j.close()  # second close is a no-op


def test_listener_exception_is_not_swallowed(tmp_path: Path, journals: _Journals) -> None:
    j = journals.open(tmp_path)

    def broken(seq: int) -> None:
        raise RuntimeError("listener bug")

    j.set_durable_listener(broken)
    j.append(1, b"x")
    with pytest.raises(RuntimeError, match="listener bug"):
        j.flush()
    with pytest.raises(RuntimeError, match="listener bug"):
        j.append(2, b"y")


def test_replay_of_many_records_returns_every_one_in_order(
    tmp_path: Path, journals: _Journals
) -> None:
    # Speed is measured by `bourse bench journal`, never asserted here.
    j = journals.open(tmp_path)
    for seq in range(1, 20_001):
        j.append(seq, seq.to_bytes(4, "big"))
    j.flush()
    seqs = [seq for seq, payload in j.replay() if int.from_bytes(payload, "big") == seq]
    assert seqs == list(range(1, 20_001))


# --------------------------------------------------------------------------------------
# FileJournal: recovery of torn tails vs. refusing corruption
# --------------------------------------------------------------------------------------


def _write_and_close(directory: Path, n: int, **kwargs: int) -> None:
    j = FileJournal(directory, **kwargs)
    fill(j, 1, n)
    j.close()


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x5A
    path.write_bytes(bytes(data))


def _record_offsets(n: int) -> list[int]:
    """Start offset of each record 1..n in a single segment, plus the end offset."""
    offs = [0]
    for seq in range(1, n + 1):
        offs.append(offs[-1] + HEADER_SIZE + len(payload_for(seq)))
    return offs


N_TORN = 20
_OFFS = _record_offsets(N_TORN)
_LAST_LEN = _OFFS[-1] - _OFFS[-2]


@pytest.mark.parametrize(
    ("chop", "survivors"),
    [
        (1, N_TORN - 1),  # last byte of the last payload
        (_LAST_LEN - HEADER_SIZE - 2, N_TORN - 1),  # mid-payload
        (_LAST_LEN - HEADER_SIZE, N_TORN - 1),  # exactly the payload: bare header left
        (_LAST_LEN - 5, N_TORN - 1),  # mid-header
        (_LAST_LEN, N_TORN - 1),  # a whole record: clean boundary, nothing torn
        (_LAST_LEN + 3, N_TORN - 2),  # into the second-to-last record
    ],
)
def test_torn_tail_is_truncated(
    tmp_path: Path,
    journals: _Journals,
    caplog: pytest.LogCaptureFixture,
    chop: int,
    survivors: int,
) -> None:
    _write_and_close(tmp_path, N_TORN)
    (seg,) = segments(tmp_path)
    data = seg.read_bytes()
    assert len(data) == _OFFS[-1]
    seg.write_bytes(data[:-chop])

    with caplog.at_level(logging.WARNING):
        j = journals.open(tmp_path)
    torn = len(data) - chop - _OFFS[survivors]
    assert j.truncated_bytes == torn
    assert (torn > 0) == any("torn tail" in r.message for r in caplog.records)
    assert (j.last_seq, j.durable_seq) == (survivors, survivors)
    assert list(j.replay()) == expected(1, survivors)

    # Appending continues right after the surviving records, and it all persists.
    fill(j, survivors + 1, N_TORN + 5)
    j.close()
    j = journals.open(tmp_path)
    assert j.truncated_bytes == 0
    assert list(j.replay()) == expected(1, N_TORN + 5)


@pytest.mark.parametrize("where", ["payload", "crc", "seq"])
def test_bad_checksum_on_final_record_is_truncated(
    tmp_path: Path, journals: _Journals, where: str
) -> None:
    _write_and_close(tmp_path, N_TORN)
    (seg,) = segments(tmp_path)
    start = _OFFS[-2]
    _flip(seg, {"payload": _OFFS[-1] - 1, "crc": start + 4, "seq": start + 8}[where])

    j = journals.open(tmp_path)
    assert j.truncated_bytes == _LAST_LEN
    assert j.last_seq == N_TORN - 1
    assert list(j.replay()) == expected(1, N_TORN - 1)
    j.append(N_TORN, b"rewritten")
    assert j.flush() == N_TORN


def test_torn_tail_can_empty_the_newest_segment(tmp_path: Path, journals: _Journals) -> None:
    j = journals.open(tmp_path, segment_bytes=200)
    fill(j, 1, 40, flush_every=1)  # one record per batch: every roll starts a new file
    j.close()
    newest = segments(tmp_path)[-1]
    first = int(newest.stem.split("-")[1])
    newest.write_bytes(newest.read_bytes()[:3])  # the roll happened, its batch was torn

    j = journals.open(tmp_path, segment_bytes=200)
    assert j.last_seq == first - 1
    assert list(j.replay()) == expected(1, first - 1)
    fill(j, first, 45)
    j.close()
    j = journals.open(tmp_path, segment_bytes=200)
    assert list(j.replay()) == expected(1, 45)


@pytest.mark.parametrize("where", ["payload", "crc", "seq", "length"])
def test_corruption_in_the_middle_refuses_to_start(tmp_path: Path, where: str) -> None:
    _write_and_close(tmp_path, N_TORN)
    (seg,) = segments(tmp_path)
    bad_seq = 6  # payload_for(6) is non-empty
    start = _OFFS[bad_seq - 1]
    offset = {
        "payload": start + HEADER_SIZE + 1,
        "crc": start + 4,
        "seq": start + 8,
        "length": start + 1,
    }[where]
    size_before = seg.stat().st_size
    _flip(seg, offset)

    with pytest.raises(JournalCorrupted) as info:
        FileJournal(tmp_path)
    msg = str(info.value)
    assert f"seq {bad_seq} " in msg
    assert str(seg) in msg
    assert f"offset {start}" in msg
    assert seg.stat().st_size == size_before  # nothing was truncated
    # The directory lock was released, so the operator (or a retry) can open it again.
    with pytest.raises(JournalCorrupted):
        FileJournal(tmp_path)


def test_huge_length_in_a_middle_record_is_not_mistaken_for_a_torn_tail(tmp_path: Path) -> None:
    _write_and_close(tmp_path, N_TORN)
    (seg,) = segments(tmp_path)
    data = bytearray(seg.read_bytes())
    start = _OFFS[4]  # record seq 5
    data[start + 3] = 0x7F  # length now runs far past EOF
    seg.write_bytes(bytes(data))
    with pytest.raises(JournalCorrupted, match=r"seq 5 .*past EOF.*seq 6 follows"):
        FileJournal(tmp_path)


def test_seq_gap_inside_a_segment_refuses_to_start(tmp_path: Path) -> None:
    recs = [encode_record(s, payload_for(s)) for s in (1, 2, 4, 5)]
    (tmp_path / segment_name(1)).write_bytes(b"".join(recs))
    with pytest.raises(JournalCorrupted, match="has seq 4 but seq 3 was expected"):
        FileJournal(tmp_path)


def test_seq_gap_between_segments_refuses_to_start(tmp_path: Path) -> None:
    (tmp_path / segment_name(1)).write_bytes(b"".join(encode_record(s, b"a") for s in (1, 2, 3)))
    (tmp_path / segment_name(5)).write_bytes(b"".join(encode_record(s, b"b") for s in (5, 6)))
    with pytest.raises(JournalCorrupted, match=r"starts at seq 5 .* ends at seq 3"):
        FileJournal(tmp_path)


def test_torn_record_in_an_older_segment_refuses_to_start(tmp_path: Path) -> None:
    j = FileJournal(tmp_path, segment_bytes=200)
    fill(j, 1, 30, flush_every=1)
    j.close()
    older = segments(tmp_path)[0]
    older.write_bytes(older.read_bytes()[:-2])
    with pytest.raises(JournalCorrupted, match="later segments exist"):
        FileJournal(tmp_path, segment_bytes=200)


def test_inline_journal_commits_only_in_flush_and_survives_reopen(
    tmp_path: Path, journals: _Journals
) -> None:
    j = journals.open(tmp_path, writer_thread=False)
    seen: list[int] = []
    j.set_durable_listener(seen.append)
    for seq in range(1, 101):
        j.append(seq, b"p%d" % seq)
    assert (j.durable_seq, j.fsyncs, seen) == (0, 0, [])  # nothing is durable before flush
    assert j.flush() == 100
    assert (j.durable_seq, j.fsyncs, seen) == (100, 1, [100])  # one group commit
    j.append(101, b"last")
    j.close()  # close commits what is buffered
    reopened = journals.open(tmp_path)
    assert [seq for seq, _ in reopened.replay()] == list(range(1, 102))


def test_inline_journal_sync_failure_is_raised_and_sticks(
    tmp_path: Path, journals: _Journals
) -> None:
    j = journals.open(tmp_path, writer_thread=False)

    def failing(fd: int) -> None:
        raise OSError(28, "No space left on device")

    j._sync = failing  # type: ignore[method-assign]
    j.append(1, b"x")
    with pytest.raises(OSError, match="No space"):
        j.flush()
    with pytest.raises(OSError, match="No space"):
        j.append(2, b"y")
    assert j.durable_seq == 0


# --------------------------------------------------------------------------------------
# FileJournal(read_only=True): the same checks as recovery, without changing a byte
# --------------------------------------------------------------------------------------


def _contents(directory: Path) -> dict[str, bytes | None]:
    """Every entry of `directory`: a file's bytes, None for a directory."""
    return {p.name: None if p.is_dir() else p.read_bytes() for p in directory.iterdir()}


@pytest.mark.parametrize(("chop", "survivors"), [(3, N_TORN - 1), (_LAST_LEN + 3, N_TORN - 2)])
def test_read_only_open_reports_a_torn_tail_and_leaves_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, chop: int, survivors: int
) -> None:
    _write_and_close(tmp_path, N_TORN)
    (seg,) = segments(tmp_path)
    seg.write_bytes(seg.read_bytes()[:-chop])
    before = _contents(tmp_path)
    torn = _OFFS[-1] - chop - _OFFS[survivors]

    with caplog.at_level(logging.WARNING):
        j = FileJournal(tmp_path, read_only=True)
    try:
        assert (j.torn_bytes, j.torn_after_seq, j.truncated_bytes) == (torn, survivors, 0)
        assert (j.last_seq, j.durable_seq) == (survivors, survivors)
        assert list(j.replay()) == expected(1, survivors)
        assert list(j.replay(3)) == expected(3, survivors)
        with pytest.raises(JournalError, match="read-only"):
            j.append(survivors + 1, b"x")
        assert j.flush() == survivors
        with pytest.raises(JournalError, match="read-only"):
            j.prune(5)
        # A second reader is not blocked by the first.
        FileJournal(tmp_path, read_only=True).close()
    finally:
        j.close()
    assert not any("truncating" in r.message for r in caplog.records)
    assert _contents(tmp_path) == before  # not a byte changed, nothing created

    # The next ordinary open cuts the torn tail exactly as it always did.
    j = FileJournal(tmp_path)
    try:
        assert (j.truncated_bytes, j.torn_bytes, j.last_seq) == (torn, 0, survivors)
    finally:
        j.close()
    assert seg.stat().st_size == _OFFS[survivors]


def test_read_only_open_of_a_segment_of_garbage_creates_and_cuts_nothing(tmp_path: Path) -> None:
    seg = tmp_path / segment_name(1)
    seg.write_bytes(b"\xff" * 5000)
    before = _contents(tmp_path)
    with FileJournal(tmp_path, read_only=True) as j:
        assert (j.torn_bytes, j.torn_after_seq, j.last_seq) == (5000, 0, 0)
        assert list(j.replay()) == []
    assert _contents(tmp_path) == before  # in particular, no journal.lock
    with FileJournal(tmp_path) as j:
        assert (j.truncated_bytes, j.last_seq) == (5000, 0)
    assert seg.stat().st_size == 0


def test_read_only_open_of_an_intact_journal_reports_no_torn_tail(tmp_path: Path) -> None:
    _write_and_close(tmp_path, N_TORN)
    with FileJournal(tmp_path, read_only=True) as j:
        assert (j.torn_bytes, j.last_seq) == (0, N_TORN)
        assert list(j.replay()) == expected(1, N_TORN)


def test_read_only_open_refuses_corruption_in_the_middle_and_changes_nothing(
    tmp_path: Path,
) -> None:
    _write_and_close(tmp_path, N_TORN)
    (seg,) = segments(tmp_path)
    _flip(seg, _OFFS[5] + HEADER_SIZE + 1)  # a payload byte of record seq 6
    before = _contents(tmp_path)
    with pytest.raises(JournalCorrupted, match=r"seq 6 .*fails its checksum"):
        FileJournal(tmp_path, read_only=True)
    assert _contents(tmp_path) == before


def test_read_only_open_of_a_missing_directory_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        FileJournal(tmp_path / "nowhere", read_only=True)
    assert not (tmp_path / "nowhere").exists()


def test_read_only_open_is_refused_while_a_writer_has_the_journal(tmp_path: Path) -> None:
    writer = FileJournal(tmp_path)
    try:
        fill(writer, 1, 3)
        writer.flush()
        with pytest.raises(JournalError, match="open for writing"):
            FileJournal(tmp_path, read_only=True)
    finally:
        writer.close()
    with FileJournal(tmp_path, read_only=True) as j:
        # and a writer waits for the reader to finish
        with pytest.raises(JournalError, match="already open"):
            FileJournal(tmp_path)
        assert j.last_seq == 3
