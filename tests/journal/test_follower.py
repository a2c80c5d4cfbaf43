"""A follower handed only the commands as journaled gives the outcomes the engine released for
them, from a snapshot at the seq where it takes over; out of order or without that snapshot it
refuses, naming what is wrong."""

from pathlib import Path

import pytest

from bourse.bench.flow import prepared
from bourse.engine import Engine, snapshot
from bourse.events import Outcome
from bourse.journal.follower import Follower, FollowerGap
from bourse.journal.memory import MemoryJournal
from bourse.journal.sequencer import Sequencer
from bourse.journal.snapshots import SnapshotStore


def _run(tmp_path: Path) -> tuple[list[Outcome], list[bytes], Engine]:
    """A mixed flow with trades through the sequencer; a snapshot taken after the set-up."""
    before, flow = prepared(3000)
    outcomes: list[Outcome] = []
    records: list[bytes] = []

    def keep(batch: list[Outcome], payloads: list[bytes]) -> None:
        outcomes.extend(batch)
        records.extend(payloads)

    engine = Engine()
    sequencer = Sequencer(engine, MemoryJournal(), None, keep)
    for cmd in before:
        sequencer.submit(cmd)
    SnapshotStore(tmp_path).write(len(before), snapshot.dump(engine.state))
    for cmd in flow:
        sequencer.submit(cmd)
    return outcomes, records, engine


def test_a_follower_from_a_snapshot_gives_the_released_outcomes(tmp_path: Path) -> None:
    outcomes, records, engine = _run(tmp_path)
    start = SnapshotStore(tmp_path).list()[-1]
    follower = Follower.at(tmp_path, start)
    assert follower.seq == start
    got: list[Outcome] = []
    for first in range(start + 1, len(records) + 1, 700):  # batches of any size, in order
        got += follower.apply(first, records[first - 1 : first + 699])
    assert got == outcomes[start:]
    assert any(o.command == "PlaceOrder" and len(o.events) > 2 for o in got)  # trades in it
    assert follower.seq == engine.state.last_seq


def test_a_follower_from_nothing_starts_at_seq_0(tmp_path: Path) -> None:
    outcomes, records, _ = _run(tmp_path)
    follower = Follower.at(tmp_path / "none", 0)
    assert follower.apply(1, records[:50]) == outcomes[:50]


def test_a_gap_or_a_repeat_is_refused_naming_both_seqs(tmp_path: Path) -> None:
    _, records, _ = _run(tmp_path)
    follower = Follower.at(tmp_path, 0)
    follower.apply(1, records[:10])
    with pytest.raises(FollowerGap, match="at seq 10; it was handed 12 next"):
        follower.apply(12, records[11:12])
    with pytest.raises(FollowerGap, match="at seq 10; it was handed 10 next"):
        follower.apply(10, records[9:10])
    assert follower.seq == 10  # nothing was run


def test_no_snapshot_at_the_seq_is_an_error_not_a_guess(tmp_path: Path) -> None:
    _run(tmp_path)
    start = SnapshotStore(tmp_path).list()[-1]
    with pytest.raises(FileNotFoundError, match=rf"no snapshot at seq {start + 5} .* at {start}"):
        Follower.at(tmp_path, start + 5)
    with pytest.raises(FileNotFoundError, match=r"no snapshot at seq 3 .*none"):
        Follower.at(tmp_path, 3)
