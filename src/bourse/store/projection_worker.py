"""Feeds released outcomes to the SQL store on its own thread, so SQL never slows matching.

With `in_process=False` (what `bourse run` uses) the thread hands each batch to a projector in a
child process (`projector_process`) instead of applying it itself, so the SQL work does not
compete with matching for the GIL either.

When the store is out of reach (a lock held past the busy timeout, PostgreSQL down, a full disk,
the projector process killed) the worker keeps the batch and tries it again, waiting longer each
time up to `RETRY_MAX_S`, logging each failure; outcomes released meanwhile queue behind it, and
the store catches up by itself once it is back. `lag()` says how far behind it is, for `/health`.
"""

import collections
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bourse.events import Outcome
from bourse.server.linger import Linger
from bourse.store.projector import Projector, StoreUnreachable
from bourse.store.projector_process import ProjectorProcess

log = logging.getLogger(__name__)
_STOP: list[Outcome] = []  # sentinel (identity-compared)
MAX_BATCH = 5000
RETRY_FIRST_S = 0.05
RETRY_MAX_S = 5.0


@dataclass(frozen=True)
class StoreLag:
    """How far the store is behind what was released, and why, if it is stuck."""

    store_seq: int  # applied to the store
    released_seq: int  # durable and handed to the projection
    age_s: float  # since the oldest released outcome not yet in the store was released
    unreachable: str | None  # the store cannot be written now: it retries (the last error)
    failed: str | None  # the projection stopped for good: rebuild the store

    @property
    def behind(self) -> int:
        return self.released_seq - self.store_seq


class ProjectionWorker:
    def __init__(self, projector: Projector, *, in_process: bool = True) -> None:
        self.projector = projector
        self._remote: ProjectorProcess | None = None
        if not in_process:
            url = projector.engine.url.render_as_string(hide_password=False)
            projector.engine.dispose()  # the child is the store's only writer from now on
            self._remote = ProjectorProcess(url)
        self._apply = projector.apply if self._remote is None else self._remote.apply
        self._queue: queue.SimpleQueue[list[Outcome]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="bourse-projector", daemon=True)
        self.error: BaseException | None = None
        self.unreachable: str | None = None  # set while the store cannot be written
        self._stopping = threading.Event()  # cuts a retry's wait short when closing
        self._stop_seen = False  # the worker took the stop sentinel from the queue
        self.linger = Linger()  # under load, one transaction for more outcomes
        self._drained = threading.Condition()
        self._applied_seq = projector.last_seq()
        self._released_seq = self._applied_seq
        # (last seq of a released batch, when it was released), oldest first, until applied
        self._pending: collections.deque[tuple[int, float]] = collections.deque()
        # called on this worker's thread with the store's new seq, after each applied batch
        self.listeners: list[Callable[[int], None]] = []
        self._thread.start()

    def submit(self, batch: list[Outcome]) -> None:
        """Queue outcomes (one thread, in seq order); they are applied in the order queued."""
        with self._drained:
            self._released_seq = batch[-1].seq
            self._pending.append((batch[-1].seq, time.monotonic()))
        self._queue.put(batch)

    @property
    def applied_seq(self) -> int:
        return self._applied_seq

    @property
    def child_pid(self) -> int | None:
        """The projector process's pid (None when projecting in this process)."""
        return None if self._remote is None else self._remote.pid

    def lag(self) -> StoreLag:
        with self._drained:
            oldest = self._pending[0][1] if self._pending else None
            return StoreLag(
                store_seq=self._applied_seq,
                released_seq=self._released_seq,
                age_s=0.0 if oldest is None else time.monotonic() - oldest,
                unreachable=self.unreachable,
                failed=None if self.error is None else repr(self.error),
            )

    def hurry(self) -> None:
        """A reader waits for the store: write what is queued now, without lingering."""
        self.linger.hurry()

    def wait_for(self, seq: int, timeout: float = 30.0) -> bool:
        """Block until the store has applied everything up to `seq` (for tests and tools)."""
        self.hurry()
        with self._drained:
            return self._drained.wait_for(
                lambda: self._applied_seq >= seq or self.error is not None, timeout
            )

    def close(self) -> None:
        """Apply what is queued, then stop. If the store is out of reach, stop after one more
        try: the next start catches the store up from the journal."""
        self._queue.put(_STOP)
        self._stopping.set()
        self.hurry()
        self._thread.join()
        if self._remote is not None:
            self._remote.close()

    def _run(self) -> None:
        while not self._stop_seen:
            batch = self._queue.get()
            if batch is _STOP:
                break
            self.linger.wait()
            batch = self._coalesce(list(batch))
            try:
                if not self._apply_until_done(batch):
                    return
            except BaseException as exc:  # the store is rebuildable; matching must go on
                log.exception(
                    "the SQL projection failed; rebuild it with `bourse replay --rebuild-store`"
                )
                self.error = exc
                self._applied(self._applied_seq)
                return
            self._applied(batch[-1].seq)
            self.linger.written()

    def _coalesce(self, batch: list[Outcome]) -> list[Outcome]:
        """`batch` and what is already waiting behind it, for one transaction."""
        while len(batch) < MAX_BATCH and not self._stop_seen:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is _STOP:
                self._stop_seen = True
            else:
                batch.extend(more)
        return batch

    def _apply_until_done(self, batch: list[Outcome]) -> bool:
        """Apply `batch`, retrying while the store is out of reach; False if closing first."""
        wait, failures = RETRY_FIRST_S, 0
        while True:
            try:
                self._apply(batch)
            except StoreUnreachable as exc:
                failures += 1
                self.unreachable = str(exc)
                self._applied(self._applied_seq)  # wake readers: they answer 503 now
                if self._stopping.is_set():
                    log.warning(
                        "stopping with the SQL store at seq %d of %d (%s); the next start "
                        "catches it up from the journal",
                        self._applied_seq,
                        self._released_seq,
                        exc,
                    )
                    return False
                log.warning(
                    "the SQL store cannot be written (%s): store at seq %d of %d; try %d in %.2f s",
                    exc,
                    self._applied_seq,
                    self._released_seq,
                    failures + 1,
                    wait,
                )
                self._stopping.wait(wait)
                wait = min(wait * 2, RETRY_MAX_S)
                batch = self._coalesce(batch)  # one transaction catches up on more
                continue
            if failures:
                log.warning(
                    "the SQL store is written again after %d failed tries; caught up to seq %d",
                    failures,
                    batch[-1].seq,
                )
                self.unreachable = None
            return True

    def _applied(self, seq: int) -> None:
        with self._drained:
            self._applied_seq = seq
            while self._pending and self._pending[0][0] <= seq:
                self._pending.popleft()
            self._drained.notify_all()
        for fn in self.listeners:
            fn(seq)
