"""Keeps the audit log beside the engine: released outcomes in, tree and index out, and a signed
tree head every `HEAD_EVERY_S` while the log grows (and on demand).

Like the SQL projection it never holds the engine back: released batches queue for it, and its
lag (released but not yet in the tree) is a gauge. With `process=True` (what `bourse run` uses)
the log is kept by a child process at a lower priority, which follows the engine
(`journal/follower.py`): it is handed only the commands as journaled, bytes this side already
has, and runs them through its own copy of the engine for their outcomes. Nothing of an outcome
is encoded, hashed or indexed where the engine runs. Otherwise a thread keeps it (tests, tools).
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bourse import codec
from bourse.audit.log import AuditLog
from bourse.events import Outcome
from bourse.journal.follower import Follower
from bourse.server.heap import settle_heap
from bourse.server.linger import Linger

log = logging.getLogger(__name__)
HEAD_EVERY_S = 10.0
_Batch = tuple[list[Outcome], list[bytes]]
_Records = tuple[int, list[bytes]]  # for a child: the first seq and the commands as journaled
_STOP: _Batch = ([], [])
_Item = _Batch | _Records | Callable[[], None]  # a batch, or a job
MAX_BATCH = 5000  # commands sent on as one
# what the worker sends its child; every message is answered (a batch with the log's size)
_BATCH, _SIGN, _QUIT = b"B", b"S", b"Q"


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class Keeper:
    """The log and its head timer, wherever it runs (this process's thread or the child), and
    where its heads are published besides `heads.jsonl` (a NATS server's URL, or "")."""

    def __init__(self, audit: AuditLog, head_every_s: float, publish_to: str = "") -> None:
        self.log = audit
        self.head_every_s = head_every_s
        self._last_head = time.monotonic()
        self._head_size = -1
        self._publisher = None
        if publish_to:
            from bourse.audit.publish import HeadPublisher

            self._publisher = HeadPublisher(publish_to)
            audit.publishers.append(self._publisher)

    def extend(self, batch: list[Outcome], records: list[bytes]) -> None:
        self.log.extend(zip(batch, records, strict=True))

    def sign(self) -> dict[str, Any] | None:
        head = self.log.sign_head(wall_ms())
        if head is None:
            log.warning("no audit tree head signed: %s", self.log.signer_problem)
        self._last_head = time.monotonic()
        self._head_size = self.log.size
        return head

    def tick(self) -> None:
        """Sign a head if one is due and the log grew since the last."""
        due = time.monotonic() - self._last_head >= self.head_every_s
        if due and self.log.size != self._head_size:
            self.sign()

    def close(self) -> None:
        if self.log.size != self._head_size:
            self.sign()
        self.log.close()
        if self._publisher is not None:
            self._publisher.close()


class AuditWorker:
    def __init__(
        self,
        audit: AuditLog,
        *,
        head_every_s: float = HEAD_EVERY_S,
        process: bool = False,
        publish_to: str = "",
        snapshots: Path | None = None,
    ) -> None:
        """With `process`, the child follows the engine from `audit.size`, from the snapshot
        at exactly that seq in `snapshots` (default `<data>/snapshots`; none is needed at 0)."""
        self.data_dir = audit.data_dir
        self.head_every_s = head_every_s
        self.size = audit.size  # applied, as last known here
        self.signer_problem = ""
        self._released_seq = audit.size
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._held: _Item | None = None  # taken while coalescing
        self._applied = threading.Condition()
        self.linger = Linger()  # under load, one commit of the log for more commands
        self.error: BaseException | None = None
        self._keeper: Keeper | None = None
        self._child: _Child | None = None
        if process:
            audit.close()  # the child is the log's only writer from now on
            follow_from = snapshots or audit.data_dir / "snapshots"
            self._child = _Child(audit.data_dir, follow_from, head_every_s, publish_to)
        else:
            self._keeper = Keeper(audit, head_every_s, publish_to)
        self._thread = threading.Thread(target=self._run, name="bourse-audit", daemon=True)
        self._thread.start()

    @property
    def child_pid(self) -> int | None:
        return None if self._child is None else self._child.pid

    def submit(self, batch: list[Outcome], records: list[bytes]) -> None:
        """Queue released outcomes with their journaled commands (in seq order). A child is
        handed only the commands: it runs them itself. Outcomes waiting in the queue would also
        be thousands of live objects for this process's cyclic garbage collector to walk again
        and again, which measured as most of what the consumer once cost the engine."""
        self._released_seq = batch[-1].seq
        if self._child is not None:
            self._queue.put((batch[0].seq, records))
        else:
            self._queue.put((batch, records))

    @property
    def behind(self) -> int:
        return self._released_seq - self.size

    def wait_for(self, seq: int, timeout: float = 30.0) -> bool:
        self.linger.hurry()
        with self._applied:
            return self._applied.wait_for(
                lambda: self.size >= seq or self.error is not None, timeout
            )

    def sign_head(self, timeout: float = 60.0) -> dict[str, Any] | None:
        """Sign a head now, over everything released before this call (None: see
        `signer_problem`)."""
        done = threading.Event()
        result: list[dict[str, Any] | None] = []

        def job() -> None:
            try:
                result.append(self._sign())
            finally:
                done.set()

        self._queue.put(job)
        self.linger.hurry()  # the head covers what was released: that is written first
        if not done.wait(timeout):
            raise TimeoutError("the audit log did not answer in time")
        if not result:
            raise RuntimeError(f"the audit log stopped: {self.error!r}")
        return result[0]

    def close(self) -> None:
        self._queue.put(_STOP)
        self.linger.hurry()
        self._thread.join()

    # --- on the worker's thread -----------------------------------------------------------------

    def _sign(self) -> dict[str, Any] | None:
        if self._keeper is not None:
            head = self._keeper.sign()
            self.signer_problem = self._keeper.log.signer_problem
            return head
        assert self._child is not None
        answer = self._child.ask(_SIGN)
        self.signer_problem = answer.get("problem", "")
        signed: dict[str, Any] | None = answer.get("head")
        return signed

    def _applied_up_to(self, size: int) -> None:
        with self._applied:
            self.size = size
            self._applied.notify_all()

    def _run(self) -> None:
        while True:
            item, self._held = self._held, None
            if item is None:
                try:
                    item = self._queue.get(timeout=self.head_every_s)
                except queue.Empty:
                    item = None
            try:
                if item is _STOP:
                    self._stop()
                    return
                if callable(item):
                    item()
                elif item is not None and self.error is None:
                    self.linger.wait()
                    if self._child is not None:
                        self._send(self._coalesce(item))
                    else:
                        self._apply(self._coalesce(item))
                    self.linger.written()
                if self._keeper is not None and self.error is None:
                    self._keeper.tick()
            except Exception as exc:  # the log is rebuildable from the journal; trading goes on
                log.exception("the audit log failed; rebuild it with `bourse audit rebuild`")
                self.error = exc
                self._applied_up_to(self.size)

    def _coalesce(self, first: _Batch | _Records) -> list[Any]:
        """`first` and the batches already waiting behind it, to be sent on as one; a job or
        the stop found behind them is held for right after."""
        parts: list[Any] = [first]
        count = len(first[1])
        while count < MAX_BATCH:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is _STOP or not isinstance(more, tuple):
                self._held = more
                break
            parts.append(more)
            count += len(more[1])
        return parts

    def _apply(self, parts: list[_Batch]) -> None:
        assert self._keeper is not None
        self._keeper.extend(
            [o for outcomes, _ in parts for o in outcomes], [r for _, rs in parts for r in rs]
        )
        self._applied_up_to(self._keeper.log.size)

    def _send(self, parts: list[_Records]) -> None:
        assert self._child is not None
        records = [r for _, rs in parts for r in rs]
        answer = self._child.ask(_BATCH + codec.encode((parts[0][0], records)))
        self._applied_up_to(int(answer["size"]))

    def _stop(self) -> None:
        if self._keeper is not None:
            self._keeper.close()
        elif self._child is not None:
            with contextlib.suppress(Exception):
                self._child.ask(_QUIT)
            self._child.close()


class AuditChildError(RuntimeError):
    """The audit process failed or went away (the message says how)."""


class _Child:
    """The audit log kept in a spawned process; each message answered in order."""

    def __init__(
        self, data_dir: Path, follow_from: Path, head_every_s: float, publish_to: str
    ) -> None:
        ctx = multiprocessing.get_context("spawn")  # never fork a process that has threads
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve,
            args=(str(data_dir), str(follow_from), head_every_s, publish_to, child),
            name="bourse-audit", daemon=True,
        )  # fmt: skip
        self._proc.start()
        child.close()
        self.ask(b"")  # ready: the log opened, the engine loaded from its snapshot

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def ask(self, message: bytes) -> dict[str, Any]:
        try:
            self._conn.send_bytes(message)
            reply: dict[str, Any] = json.loads(self._conn.recv_bytes())
        except (EOFError, OSError):
            self._proc.join(timeout=5)
            raise AuditChildError(
                f"the audit process exited (code {self._proc.exitcode})"
            ) from None
        if "error" in reply:
            raise AuditChildError(f"the audit process failed: {reply['error']}")
        return reply

    def close(self) -> None:
        self._proc.join(timeout=30)
        if self._proc.is_alive():
            self._proc.kill()
        self._conn.close()


NICENESS = 10  # the engine comes first: under load the log lags (visibly) rather than slow it


def _serve(
    data_dir: str, follow_from: str, head_every_s: float, publish_to: str, conn: Connection
) -> None:
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    decoder = codec.Decoder[_Records](_Records)
    try:
        keeper = Keeper(AuditLog(Path(data_dir)), head_every_s, publish_to)
        follower = Follower.at(Path(follow_from), keeper.log.size)
        settle_heap()  # the engine's copy is long-lived: out of the collector's sight
    except BaseException as exc:
        conn.send_bytes(json.dumps({"error": repr(exc)}).encode())
        return
    reply = conn.send_bytes
    try:
        while True:
            if not conn.poll(head_every_s):
                keeper.tick()
                continue
            message = conn.recv_bytes()
            kind = message[:1]
            try:
                if kind == _BATCH:
                    first_seq, records = decoder.decode(memoryview(message)[1:])
                    keeper.extend(follower.apply(first_seq, records), records)
                    keeper.tick()
                    answer: dict[str, Any] = {"size": keeper.log.size}
                elif kind == _SIGN:
                    head = keeper.sign()
                    answer = {"head": head, "problem": keeper.log.signer_problem}
                elif kind == _QUIT:
                    keeper.close()
                    reply(json.dumps({"size": keeper.log.size}).encode())
                    return
                else:
                    answer = {"size": keeper.log.size}
            except Exception as exc:  # report it, then stop keeping the log
                log.exception("the audit process failed")
                reply(json.dumps({"error": repr(exc)}).encode())
                return
            reply(json.dumps(answer).encode())
    except EOFError:
        keeper.close()  # the server went away: what was applied stays, its head signed
