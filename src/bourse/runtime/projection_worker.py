"""Feeds released outcomes to the SQL store on its own thread, so SQL never slows matching.

With `in_process=False` (what `bourse run` uses) the thread hands each batch to a projector in a
child process (`projector_process`) instead of applying it itself, so the SQL work does not
compete with matching for the GIL either.
"""

import logging
import queue
import threading
from collections.abc import Callable

from bourse.events import Outcome
from bourse.runtime.projector_process import ProjectorProcess
from bourse.store.projector import Projector

log = logging.getLogger(__name__)
_STOP: list[Outcome] = []  # sentinel (identity-compared)
MAX_BATCH = 5000


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
        self._drained = threading.Condition()
        self._applied_seq = projector.last_seq()
        # called on this worker's thread with the store's new seq, after each applied batch
        self.listeners: list[Callable[[int], None]] = []
        self._thread.start()

    def submit(self, batch: list[Outcome]) -> None:
        """Queue outcomes (any thread); they are applied in the order queued."""
        self._queue.put(batch)

    @property
    def applied_seq(self) -> int:
        return self._applied_seq

    def wait_for(self, seq: int, timeout: float = 30.0) -> bool:
        """Block until the store has applied everything up to `seq` (for tests and tools)."""
        with self._drained:
            return self._drained.wait_for(
                lambda: self._applied_seq >= seq or self.error is not None, timeout
            )

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()
        if self._remote is not None:
            self._remote.close()

    def _run(self) -> None:
        stop = False
        while not stop:
            batch = self._queue.get()
            if batch is _STOP:
                break
            batch = list(batch)
            while len(batch) < MAX_BATCH:  # coalesce what is already waiting into one transaction
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.extend(more)
            try:
                self._apply(batch)
            except BaseException as exc:  # the store is rebuildable; matching must go on
                log.exception(
                    "the SQL projection failed; rebuild it with `bourse replay --rebuild-store`"
                )
                self.error = exc
                with self._drained:
                    self._drained.notify_all()
                for fn in self.listeners:
                    fn(self._applied_seq)
                return
            with self._drained:
                self._applied_seq = batch[-1].seq
                self._drained.notify_all()
            for fn in self.listeners:
                fn(self._applied_seq)
