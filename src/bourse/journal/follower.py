"""A follower: a second copy of the deterministic engine, fed only the commands as journaled.

What a consumer in another process needs is the outcomes; rather than encode them where the
engine runs (about 2 µs a command on the journal's writer thread, under the engine's GIL), the
consumer's process runs the same commands through its own engine, which gives the same outcomes
(replay is exact; `bourse replay` checks it by digest). It starts from a snapshot taken at the
seq where it takes over, and is handed each released batch's journaled commands in seq order.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bourse.engine import Engine, read_model, snapshot
from bourse.events import Outcome
from bourse.journal.sequencer import replay
from bourse.journal.snapshots import SnapshotStore
from bourse.view import ReadModel


class FollowerGap(RuntimeError):
    """Commands handed to a follower out of seq order (the message names both seqs)."""


class Follower:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def at(cls, snapshots: Path, seq: int) -> Follower:
        """A follower at `seq`: from the snapshot written at exactly that seq (an empty engine
        at 0). The process it follows writes that snapshot before handing over (see
        `Exchange`); a missing one is an error, never a guess."""
        if seq == 0:
            return cls(Engine())
        found = SnapshotStore(snapshots).latest(at_most=seq)
        if found is None or found[0] != seq:
            have = "none" if found is None else f"the newest is at {found[0]}"
            raise FileNotFoundError(
                f"no snapshot at seq {seq} in {snapshots} to follow from ({have})"
            )
        return cls(Engine(snapshot.load(found[1])))

    @classmethod
    def from_snapshot(cls, payload: bytes | None) -> Follower:
        """A follower from a snapshot's payload (an empty engine for None)."""
        return cls(Engine(snapshot.load(payload)) if payload is not None else Engine())

    def read_model(self) -> ReadModel:
        """The read model as of `seq`: where a consumer starts before it folds what follows."""
        return read_model.export(self.engine.state)

    def dump(self) -> bytes:
        """A snapshot of the follower's engine, at `seq`."""
        return snapshot.dump(self.engine.state)

    @property
    def seq(self) -> int:
        return self.engine.state.last_seq

    def apply(self, first_seq: int, records: Iterable[bytes]) -> list[Outcome]:
        """Run the journaled commands seq `first_seq`, `first_seq + 1`, … and return their
        outcomes (what the engine they were journaled by released for them)."""
        if first_seq != self.seq + 1:
            raise FollowerGap(f"the follower is at seq {self.seq}; it was handed {first_seq} next")
        outcomes: list[Outcome] = []
        replay(
            self.engine,
            enumerate(records, start=first_seq),
            outcomes.extend,
            batch_size=1 << 30,
        )
        return outcomes
