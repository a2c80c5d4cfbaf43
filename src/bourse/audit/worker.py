"""Keeps the audit log beside the engine: released outcomes in, tree and index out, on a thread
of its own, and a signed tree head every `HEAD_EVERY_S` while the log grows (and on demand).

Like the SQL projection, it never holds the engine back: released batches queue for it, and its
lag (released but not yet in the tree) is a gauge.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from bourse.audit.log import AuditLog
from bourse.events import Outcome

log = logging.getLogger(__name__)
HEAD_EVERY_S = 10.0
_Batch = tuple[list[Outcome], list[bytes]]
_STOP: _Batch = ([], [])


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class AuditWorker:
    def __init__(self, audit: AuditLog, *, head_every_s: float = HEAD_EVERY_S) -> None:
        self.log = audit
        self.head_every_s = head_every_s
        self._queue: queue.SimpleQueue[_Batch | Callable[[], None]] = queue.SimpleQueue()
        self._released_seq = audit.size
        self._applied = threading.Condition()
        self._last_head = time.monotonic()
        self._head_size = -1
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bourse-audit", daemon=True)
        self._thread.start()

    def submit(self, batch: list[Outcome], records: list[bytes]) -> None:
        """Queue released outcomes with their journaled commands (in seq order)."""
        self._released_seq = batch[-1].seq
        self._queue.put((batch, records))

    @property
    def behind(self) -> int:
        return self._released_seq - self.log.size

    def wait_for(self, seq: int, timeout: float = 30.0) -> bool:
        with self._applied:
            return self._applied.wait_for(
                lambda: self.log.size >= seq or self.error is not None, timeout
            )

    def call(self, fn: Callable[[AuditLog], Any], timeout: float = 30.0) -> Any:
        """Run `fn(log)` on the worker's thread after everything queued so far (the log is the
        worker's alone while it runs) and return its result."""
        done = threading.Event()
        result: list[Any] = []
        failure: list[BaseException] = []

        def job() -> None:
            try:
                result.append(fn(self.log))
            except BaseException as exc:
                failure.append(exc)
            finally:
                done.set()

        self._queue.put(job)
        if not done.wait(timeout):
            raise TimeoutError("the audit log did not answer in time")
        if failure:
            raise failure[0]
        return result[0]

    def sign_head(self) -> dict[str, Any] | None:
        """Sign a head now, over everything released before this call."""
        return self.call(lambda audit: self._sign(audit))  # type: ignore[no-any-return]

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()

    def _sign(self, audit: AuditLog) -> dict[str, Any] | None:
        head = audit.sign_head(wall_ms())
        if head is None:
            log.warning("no audit tree head signed: %s", audit.signer_problem)
        self._last_head = time.monotonic()
        self._head_size = audit.size
        return head

    def _run(self) -> None:
        audit = self.log
        while True:
            try:
                item = self._queue.get(timeout=self.head_every_s)
            except queue.Empty:
                item = None
            try:
                if item is _STOP:
                    if audit.size != self._head_size:
                        self._sign(audit)
                    audit.close()
                    return
                if callable(item):
                    item()
                elif item is not None and self.error is None:
                    batch, records = item
                    audit.extend(zip(batch, records, strict=True))
                    with self._applied:
                        self._applied.notify_all()
                due = time.monotonic() - self._last_head >= self.head_every_s
                if due and audit.size != self._head_size and self.error is None:
                    self._sign(audit)
            except Exception as exc:  # the log is rebuildable from the journal; trading goes on
                log.exception("the audit log failed; rebuild it with `bourse audit rebuild`")
                self.error = exc
                with self._applied:
                    self._applied.notify_all()
