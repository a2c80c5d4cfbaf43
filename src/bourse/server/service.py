"""Bridges the asyncio server and the exchange: commands run on the event loop's thread (the
engine thread), and each request awaits its command's durable release before it answers.

Reads of the SQL store (orders, trades, klines) first wait until the store has applied every
outcome released so far, so a client always reads its own acknowledged writes.

`GatewayService` is what the gateways (`api/`) and the workers that re-enter as commands see of
it. `Service` is it in the engine's own process (one-process server, and the engine process of
`bourse run --gateways N`); `server.engine_link.LinkedService` is it in a gateway process, each
call a round trip to the engine process.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Generator, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

from bourse.banking.cards import PartnerEndImpact, PartnerEndSpec
from bourse.banking.cutoff import CutOffImpact, CutOffSpec
from bourse.commands import Command
from bourse.compliance.handover import Handover
from bourse.compliance.policy import Impact, PolicySpec
from bourse.domain.rejections import Refusal
from bourse.engine.impact import PREVIEW_SLICE
from bourse.events import Outcome
from bourse.keys.sealing import SecretBox
from bourse.server.exchange import Exchange, now_ms
from bourse.server.metrics import Metrics
from bourse.view import ReadModel
from bourse.view import apply as fold

_T = TypeVar("_T")
log = logging.getLogger(__name__)


class StoreUnavailable(RuntimeError):
    """The SQL projection failed or fell too far behind to answer a read."""


class AuditUnavailable(RuntimeError):
    """The audit log cannot answer (none kept, stopped, or no key to sign with)."""


READ_WAIT_S = 10.0  # how long a read waits for the store to catch up before it answers 503


def store_health(exchange: Exchange) -> tuple[bool, dict[str, Any]]:
    """Whether reads of the SQL store can be served now, and the store's lag, for /health."""
    lag = exchange.projection.lag()
    state = (
        "failed"  # the projection stopped: rebuild the store
        if lag.failed
        else "unreachable"  # it cannot be written now and retries
        if lag.unreachable
        else "behind"  # a read would time out waiting for it
        if lag.age_s >= READ_WAIT_S
        else "ok"
    )
    return state == "ok", {
        "state": state,
        "seq": lag.store_seq,
        "released_seq": lag.released_seq,
        "behind": lag.behind,
        "age_s": round(lag.age_s, 3),
        "error": lag.failed or lag.unreachable,
    }


class GatewayService(Protocol):
    """What a gateway may do and read: commands in, outcomes and the read model out."""

    clock: Callable[[], int]  # every command's time (tests move it to reach a deadline)
    view: ReadModel  # as of every outcome released so far
    released_seq: int
    box: SecretBox  # seals and opens API key secrets
    operator_token: str
    metrics: Metrics  # this process's
    process: str  # which process of the exchange this is: "server" (the only one), "gateway-2"
    on_release: list[Callable[[list[Outcome]], None]]  # on the loop, in order
    answers: dict[str, Callable[[], Any]]  # what this process says when asked (its streams)

    @property
    def data_dir(self) -> Path: ...

    @property
    def store_url(self) -> str: ...

    def attach(self, loop: asyncio.AbstractEventLoop) -> None: ...

    async def execute(self, cmd: Command) -> Outcome: ...

    async def check(self, cmd: Command) -> Refusal | None: ...

    async def preview(self, spec: PolicySpec, slice_size: int = PREVIEW_SLICE) -> Impact: ...

    async def offboarding(self, names: tuple[str, ...], reassign_to: str) -> Handover: ...

    async def cutoff_preview(self, spec: CutOffSpec) -> CutOffImpact: ...

    async def partner_end_preview(self, spec: PartnerEndSpec) -> PartnerEndImpact: ...

    async def traded_price(self, asset: str, quote: str) -> bool: ...

    async def store_caught_up(self, seq: int | None = None, timeout: float = ...) -> None: ...

    async def snapshot(self) -> tuple[int, str]: ...

    async def sign_audit_head(self) -> dict[str, Any]: ...

    async def state(self) -> dict[str, Any]: ...

    async def health(self) -> tuple[bool, dict[str, Any]]: ...

    async def engine_metrics(self) -> bytes: ...

    async def ask_every_process(self, name: str) -> list[Any]: ...

    async def caught_up(self) -> None: ...


class Service:
    def __init__(self, exchange: Exchange, operator_token: str, box: SecretBox) -> None:
        self.exchange = exchange
        self.operator_token = operator_token
        self.box = box
        # Every command's time comes from here (tests move it to reach a deadline).
        self.clock: Callable[[], int] = now_ms
        # what gateways and consumers read: the read model as of every outcome released
        self.view: ReadModel = exchange.read_model()
        self.released_seq = self.view.last_seq
        # seq -> (what to call with its outcome once durable, when it was submitted)
        self._callbacks: dict[int, tuple[Callable[[Outcome], None], float]] = {}
        # seq -> what to call instead if the journal stops before it is durable
        self._on_lost: dict[int, Callable[[Exception], None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._store_advanced: asyncio.Event | None = None
        self._released: asyncio.Event | None = None
        self.on_release: list[Callable[[list[Outcome]], None]] = []  # on the loop, in order
        self.on_store_applied: list[Callable[[int], None]] = []  # on the loop: the store's seq
        exchange.add_listener(self._on_release)
        self.metrics = Metrics(lambda: self.process)
        self.metrics.add_gauges(self._gauges)
        self.process = "server"  # "engine" once gateway processes serve for it
        self.answers: dict[str, Callable[[], Any]] = {}
        # the gateway processes' answers, once an EngineHost serves them
        self.others: Callable[[str], Awaitable[list[Any]]] | None = None
        exchange.projection.listeners.append(self._on_store_applied)
        exchange.on_failure.append(self._on_journal_failure)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._store_advanced = asyncio.Event()
        self._released = asyncio.Event()

    async def execute(self, cmd: Command) -> Outcome:
        """Run `cmd` now; answer once its journal record is durable."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()

        def answer(outcome: Outcome) -> None:
            if not future.done():  # not given up on meanwhile
                future.set_result(outcome)

        def lost(exc: Exception) -> None:
            if not future.done():
                future.set_exception(exc)

        # Registered before yielding: the release hops onto this loop, so it cannot run first.
        self.submit_then(cmd, answer, lost)
        return await future

    def submit_then(
        self,
        cmd: Command,
        done: Callable[[Outcome], None],
        lost: Callable[[Exception], None] | None = None,
    ) -> None:
        """Run `cmd` now; `done(outcome)` on the loop once durable, right after the release
        listeners have seen its batch (the engine link answers this way: no task or future
        per command); `lost(error)` instead if the journal stops before it is durable (it was
        never recorded)."""
        outcome = self.exchange.submit(cmd)
        self._callbacks[outcome.seq] = (done, time.perf_counter())
        if lost is not None:
            self._on_lost[outcome.seq] = lost

    def _on_journal_failure(self, exc: Exception) -> None:  # the journal's thread
        self._call_on_loop(self._fail_waiting, exc)

    def _fail_waiting(self, exc: Exception) -> None:
        """Answer every request still waiting whose command will never be durable: those after
        the journal's last durable record (the ones up to it are answered by their release,
        which may still be on its way to this loop)."""
        durable = self.exchange.journal.durable_seq
        for seq in [s for s in self._callbacks if s > durable]:
            del self._callbacks[seq]
            fn = self._on_lost.pop(seq, None)
            if fn is not None:
                fn(exc)

    def _gauges(self) -> Iterator[tuple[str, str, dict[str, str], float]]:
        ex = self.exchange
        seqs = "Sequence numbers: run by the engine, durable in the journal, released"
        yield "bourse_seq", seqs, {"stage": "engine"}, ex.last_seq
        yield "bourse_seq", seqs, {"stage": "journal"}, ex.journal.durable_seq
        yield "bourse_seq", seqs, {"stage": "released"}, self.released_seq
        lag = ex.projection.lag()
        behind = "Released commands a consumer has not applied yet"
        yield "bourse_consumer_lag_commands", behind, {"consumer": "sql"}, lag.behind
        age = "Seconds since the oldest released command a consumer has not applied"
        yield "bourse_consumer_lag_seconds", age, {"consumer": "sql"}, lag.age_s
        if ex.audit is not None:
            yield "bourse_consumer_lag_commands", behind, {"consumer": "audit"}, ex.audit.behind
        yield (
            "bourse_waiting_answers",
            "Requests waiting for their command to be durable",
            {},
            len(self._callbacks),
        )
        usable = "1 while the journal can make commands durable (0: they are refused)"
        yield "bourse_journal_available", usable, {}, float(ex.journal.unavailable() is None)
        stopped = "1 once the engine refuses every command after an internal error"
        yield "bourse_engine_stopped", stopped, {}, float(ex.failure is not None)

    @property
    def data_dir(self) -> Path:
        return self.exchange.data_dir.path

    @property
    def store_url(self) -> str:
        """The SQL store's URL, for readers (who never take the projector's write lock)."""
        return self.exchange.projector.engine.url.render_as_string(hide_password=False)

    async def check(self, cmd: Command) -> Refusal | None:
        """The engine's own first-stage checks of `cmd`, without running it (a test order)."""
        return self.exchange.check(cmd)

    async def snapshot(self) -> tuple[int, str]:
        """Write a snapshot at the last durable command now: its seq and path."""
        return self.exchange.write_snapshot()

    async def sign_audit_head(self) -> dict[str, Any]:
        """A tree head over everything released so far, signed now (AuditUnavailable if this
        exchange keeps no audit log or cannot sign: the message says why)."""
        audit = self.exchange.audit
        if audit is None:
            raise AuditUnavailable("this exchange keeps no audit log")
        if audit.error is not None:
            raise AuditUnavailable(f"the audit log stopped: {audit.error!r}")
        head = await asyncio.to_thread(audit.sign_head)
        if head is None:
            raise AuditUnavailable(f"no head signed: {audit.signer_problem}")
        return head

    async def state(self) -> dict[str, Any]:
        """Sequence numbers and the state digest that `bourse replay` reproduces."""
        ex = self.exchange
        last_seq, digest = ex.digest()
        return {
            "last_seq": last_seq,
            "durable_seq": ex.journal.durable_seq,
            "store_seq": ex.projection.applied_seq,
            "digest": digest,
        }

    async def engine_metrics(self) -> bytes:
        """The engine process's Prometheus exposition: this one's."""
        return self.metrics.exposition()

    async def caught_up(self) -> None:
        """Until this process's read model holds everything released so far: here, always."""

    async def released(self) -> int:
        """The last seq released (what a gateway process's `caught_up` waits for)."""
        return self.released_seq

    async def hurry_store(self) -> None:
        """A gateway's reader waits for the SQL store: it writes what is queued now."""
        self.exchange.projection.hurry()

    async def ask_every_process(self, name: str) -> list[Any]:
        """What every process that serves says to `name`: this one, and its gateways."""
        found = [self.answers[name]()] if name in self.answers else []
        if self.others is not None:
            found += [x for x in await self.others(name) if x is not None]
        return found

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether every route can be served now, and the body of /health."""
        ex = self.exchange
        readable, store = store_health(ex)
        journal = ex.journal.unavailable()  # e.g. its NATS unreachable: commands are refused
        ok = readable and journal is None
        status = "stopped" if ex.failure is not None else "ok" if ok else "degraded"
        return status == "ok", {
            "status": status,
            "process": self.process,
            "journal": {"ok": journal is None, "problem": journal},
            "last_seq": ex.last_seq,
            "durable_seq": ex.journal.durable_seq,
            "store_seq": ex.projection.applied_seq,
            "store_ok": ex.projection.error is None,
            "store": store,
        }

    async def preview(self, spec: PolicySpec, slice_size: int = PREVIEW_SLICE) -> Impact:
        """A policy change's impact, as of everything the engine has applied, once that is
        durable; counted `slice_size` customers at a time on the engine thread, with the
        commands waiting meanwhile run between slices."""
        await self._all_released()
        return await _driven(self.exchange.preview(spec, slice_size))

    async def cutoff_preview(self, spec: CutOffSpec) -> CutOffImpact:
        """A bank cut-off's impact, as of everything durable, counted in slices as `preview`."""
        await self._all_released()
        return await _driven(self.exchange.cutoff_preview(spec, self.clock()))

    async def partner_end_preview(self, spec: PartnerEndSpec) -> PartnerEndImpact:
        """A card partner's end, as of everything durable, counted in slices as `preview`."""
        await self._all_released()
        return await _driven(self.exchange.partner_end_preview(spec, self.clock()))

    async def offboarding(self, names: tuple[str, ...], reassign_to: str) -> Handover:
        """What offboarding `names` together would do, as of everything durable."""
        await self._all_released()
        return self.exchange.offboarding(names, reassign_to)

    async def traded_price(self, asset: str, quote: str) -> bool:
        """Whether a traded market values `asset` in `quote` (see Exchange.traded_price)."""
        return self.exchange.traded_price(asset, quote)

    async def _all_released(self) -> None:
        """Until every command the engine has applied so far is durable (the engine runs ahead
        of the journal by at most one group commit): what an answer read from the engine may
        show, since nothing a command caused leaves the process before its record is safe."""
        target = self.exchange.last_seq
        while self.released_seq < target and self._released is not None:
            if self.exchange.failure is not None:
                raise self.exchange.failure
            await self._released.wait()

    async def store_caught_up(self, seq: int | None = None, timeout: float = READ_WAIT_S) -> None:
        """Wait until the SQL store has applied up to `seq` (default: everything released)."""
        target = self.released_seq if seq is None else seq
        projection = self.exchange.projection
        deadline = time.monotonic() + timeout
        if projection.applied_seq < target:
            projection.hurry()  # no lingering for more while a reader waits
        while projection.applied_seq < target:
            if projection.error is not None:
                raise StoreUnavailable("the SQL store stopped; an operator must rebuild it")
            if projection.unreachable is not None:  # it retries; no use waiting for it here
                raise StoreUnavailable(
                    f"the SQL store cannot be written ({projection.unreachable}); reads resume "
                    "once it has caught up"
                )
            event = self._store_advanced
            remaining = deadline - time.monotonic()
            if event is None or remaining <= 0:
                raise StoreUnavailable(f"the SQL store is more than {timeout:.0f} s behind")
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                continue

    def _on_release(self, batch: list[Outcome]) -> None:  # the journal's writer thread
        if self._loop is None:  # before serving (e.g. `bourse run` creating the demo key)
            fold(self.view, batch)
            self.released_seq = batch[-1].seq
            return
        self._call_on_loop(self._resolve, batch)

    def _resolve(self, batch: list[Outcome]) -> None:
        fold(self.view, batch)  # before anyone reads the view for an outcome of this batch
        self.released_seq = batch[-1].seq
        released, self._released = self._released, asyncio.Event()
        if released is not None:
            released.set()
        for fn in self.on_release:
            try:
                fn(batch)
            except Exception:  # a reader's bug must not leave every order unanswered
                log.exception("release listener %r failed on seqs %d..%d", fn, batch[0].seq,
                              batch[-1].seq)  # fmt: skip
        callbacks = self._callbacks
        for outcome in batch:
            callback = callbacks.pop(outcome.seq, None) if callbacks else None
            if self._on_lost:
                self._on_lost.pop(outcome.seq, None)
            if callback is not None:
                done, started = callback
                self.metrics.answered(outcome, time.perf_counter() - started)
                try:
                    done(outcome)
                except Exception:
                    log.exception("answering seq %d failed", outcome.seq)

    def _on_store_applied(self, seq: int) -> None:  # the projection worker's thread
        self._call_on_loop(self._store_applied, seq)

    def _call_on_loop(self, fn: Callable[..., None], *args: object) -> None:
        if self._loop is None:
            return
        # a closed loop (shutdown) raises RuntimeError: no request is waiting any more
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(fn, *args)

    def _store_applied(self, seq: int) -> None:
        event, self._store_advanced = self._store_advanced, asyncio.Event()
        if event is not None:
            event.set()
        for fn in self.on_store_applied:
            fn(seq)


async def _driven(steps: Generator[None, None, _T]) -> _T:
    """Run a preview's steps on the engine thread, letting the engine run the commands waiting
    meanwhile between them."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: _T = done.value
            return result
        await asyncio.sleep(0)
