"""The SQL projection on a machine of its own: a consumer of the journal's stream on NATS.

It reads the commands as journaled and runs them through an engine of its own (a follower:
replay is exact, so it gets the outcomes the writer's engine released), and folds the outcomes
into the store. Its position is the store's own `projection_state.last_seq`, written in the same
transaction as the rows (`Projector.apply`): after a crash it resumes at exactly the next
command, and nothing is applied twice. Its engine restarts from the newest local snapshot at
or below that position, and re-runs the commands between without writing them again.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from bourse.events import Outcome
from bourse.journal.nats_follow import StreamFollower
from bourse.journal.stream_engine import SNAPSHOT_EVERY, StreamEngine
from bourse.store.projector import Projector, StoreUnreachable

log = logging.getLogger(__name__)
RETRY_MAX_S = 5.0


class StreamProjection:
    def __init__(
        self,
        journal: StreamFollower,
        projector: Projector,
        snapshots: Path,
        snapshot_every: int = SNAPSHOT_EVERY,
    ) -> None:
        self.journal = journal
        self.projector = projector
        self.position = projector.last_seq()
        if self.position > journal.last_seq:
            raise ValueError(
                f"the store has applied up to seq {self.position} but the stream "
                f"{journal.address.stream} ends at {journal.last_seq}: it is another journal's"
            )
        self.engine = StreamEngine(
            journal, snapshots, at_most=self.position, snapshot_every=snapshot_every
        )
        # the store has these already: the engine runs them again, nothing is written
        follower = self.engine.follower
        behind = journal.replay(follower.seq + 1)
        for chunk in _chunks(itertools.takewhile(lambda r: r[0] <= self.position, behind)):
            follower.apply(chunk[0][0], (payload for _, payload in chunk))

    def step(self, wait_s: float = 0.5) -> int:
        """Apply what the stream has next (waiting at most `wait_s` for it): how many."""
        outcomes = self.engine.step(wait_s)
        if outcomes:
            self._apply(outcomes)
        return len(outcomes)

    def _apply(self, batch: list[Outcome]) -> None:
        wait = 0.05
        while True:
            try:
                self.projector.apply(batch)
            except StoreUnreachable as exc:
                log.warning("the store cannot be written (%s); trying again in %.2f s", exc, wait)
                time.sleep(wait)  # the store's outage, backed off; nothing else waits on it
                wait = min(wait * 2, RETRY_MAX_S)
                continue
            self.position = batch[-1].seq
            return

    def lag(self) -> int:
        """Commands in the stream the store has not applied yet."""
        return max(0, self.journal.stream_end() - self.position)


def _chunks(
    records: Iterator[tuple[int, bytes]], size: int = 4096
) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
