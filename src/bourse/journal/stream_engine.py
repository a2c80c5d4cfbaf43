"""What a consumer of the journal's stream on another machine runs: a follower engine fed by the
stream (replay is exact, so it gets the outcomes the writer's engine released), snapshotted
beside it now and then so that a restart replays only what came after. The SQL store's consumer
(`store/stream_projection.py`) and the streams' (`streams/journal_feed.py`) each keep one."""

from __future__ import annotations

from pathlib import Path

from bourse.events import Outcome
from bourse.journal.follower import Follower
from bourse.journal.nats_follow import StreamFollower
from bourse.journal.snapshots import SnapshotStore

SNAPSHOT_EVERY = 100_000


class StreamEngine:
    def __init__(
        self,
        journal: StreamFollower,
        snapshots: Path,
        *,
        at_most: int | None = None,
        snapshot_every: int = SNAPSHOT_EVERY,
    ) -> None:
        """From the newest snapshot in `snapshots` (at seq `at_most` or before, if given)."""
        self.journal = journal
        self.snapshots = SnapshotStore(snapshots)
        self.snapshot_every = snapshot_every
        found = self.snapshots.latest(at_most=at_most)
        if found is not None and found[0] > journal.last_seq:
            raise ValueError(
                f"the snapshots in {snapshots} are at seq {found[0]} but the stream "
                f"{journal.address.stream} ends at {journal.last_seq}: they are another journal's"
            )
        self.follower = Follower.from_snapshot(found[1] if found else None)
        self._snapshot_seq = found[0] if found else 0

    @property
    def seq(self) -> int:
        return self.follower.seq

    def step(self, wait_s: float) -> list[Outcome]:
        """The outcomes of what the stream has next (waiting at most `wait_s` for it)."""
        records = self.journal.follow(self.seq + 1, wait_s)
        if not records:
            return []
        outcomes = self.follower.apply(records[0][0], (payload for _, payload in records))
        if self.seq - self._snapshot_seq >= self.snapshot_every:
            self.snapshot()
        return outcomes

    def snapshot(self) -> None:
        """A snapshot at `seq`, unless there is one already."""
        if self.seq > self._snapshot_seq:
            self.snapshots.write(self.seq, self.follower.dump())
            self._snapshot_seq = self.seq
