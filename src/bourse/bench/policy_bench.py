"""`bourse bench policy`: preview and apply a trading suspension for the residents of one country
among many customers while a steady order flow runs for everyone else, in memory.

The world is built through ordinary commands (not counted in the results): one global venue,
BTCUSDT, `accounts` customers onboarded over several countries so that the target country holds
`affected_share` of them, every account funded, and resting orders for a fifth of the target's
accounts (placed far from the mid, so the sweep has real work to do). Then:

- the preview reads exactly what the admin API reads: `impact.members` and `impact.fingerprint`
  in one step, then `impact.tally` over slices of `PREVIEW_SLICE` customers merged with
  `Tally.add`; each step is one hold of the engine, the longest is `preview_max_slice_ms`;
- the apply submits SetJurisdictionPolicy citing that preview, then interleaves one command at a
  time: `flow_between` commands of bench/flow.py's mixed flow (from accounts of other countries),
  then the sweep's next batch (ContinuePolicySweep), as the runtime's policy driver does, until
  the sweep's last batch. Every engine.execute is timed: the longest is `max_engine_pause_ms`.
  `others_orders_per_s` counts the flow's order commands (places, cancels, cancel-replaces) per
  second of wall time during `apply_s`: with `flow_between` commands per batch it measures the
  share of the engine the sweep leaves to the others, not the engine's top speed.

`max_gc_pause_ms` is the longest garbage collection during the preview and the apply: it falls
inside whichever command it interrupts, so it is part of `max_engine_pause_ms` when it happens.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import msgspec

from bourse.bench.flow import MID, STEP, SYMBOL, TICK, mixed
from bourse.bench.gc_watch import GcWatch
from bourse.commands import (
    CancelOrder,
    CancelReplaceOrder,
    Command,
    ContinuePolicySweep,
    CreateAsset,
    DefineVenue,
    Deposit,
    ListSymbol,
    OnboardCustomer,
    PlaceOrder,
    SetJurisdictionPolicy,
)
from bourse.compliance.policy import (
    Access,
    Capability,
    Fingerprint,
    PolicySpec,
    Rule,
    Tally,
    preview_id,
)
from bourse.demo import ASSETS
from bourse.domain.enums import OrderType, SelfTradePrevention, Side, TimeInForce
from bourse.domain.rejections import RejectCode
from bourse.engine import Engine
from bourse.engine.impact import fingerprint, members, tally
from bourse.engine.state import EngineState
from bourse.events import AccountOpened, CommandRejected, OrderCanceled, PolicySweepProgressed
from bourse.server.heap import settle_heap

ACTOR = "bench"
REASON = "policy benchmark set-up"
T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z: every customer is an adult by then
TARGET = "KZ"
OTHERS = ("DE", "FR", "GB", "JP", "BR", "IN", "NG", "AE", "SG")
PREVIEW_SLICE = 2000  # customers per tally slice, as the admin API reads them
RESTING_SHARE_PCT = 20  # of the target's accounts, given one resting order each
FLOW_RESTING = 1000  # the flow's own resting book, placed during the build
FUNDS = {"BTC": 1_000 * 10**8, "USDT": 100_000_000 * 10**8}
BUILD_TICK = 10_000  # customers between progress updates

# A progress factory: (description, total) → a context that yields an advance(n) callback.
ProgressFactory = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


def _no_progress(description: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
    return nullcontext(lambda n: None)


class _Timed:
    """Runs commands through the engine with consecutive sequence numbers, timing each one and
    counting refusals by a jurisdiction policy (none of the flow's accounts is named by one)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seq = engine.state.last_seq
        self.longest_ns = 0
        self.last_ns = 0
        self.policy_refusals = 0

    def __call__(self, cmd: Command) -> list[Any]:
        self.seq += 1
        t0 = time.perf_counter_ns()
        events = self.engine.execute(self.seq, cmd)
        took = self.last_ns = time.perf_counter_ns() - t0
        if took > self.longest_ns:
            self.longest_ns = took
        for e in events:
            if type(e) is CommandRejected and e.code is RejectCode.JURISDICTION_POLICY:
                self.policy_refusals += 1
        return events

    def set_up(self, cmd: Command) -> list[Any]:
        """A build command: the world is wrong if any is refused."""
        events = self(cmd)
        for e in events:
            if type(e) is CommandRejected:
                raise RuntimeError(f"the bench's {e.command} was refused: {e.reason}")
        return events


def in_target(i: int, share: float) -> bool:
    """Customer number `i` (from 0) lives in the target country: spread evenly, `share` of all
    (counted in millionths, so float rounding never shifts who is picked)."""
    return in_target_before(i + 1, share) != in_target_before(i, share)


def in_target_before(n: int, share: float) -> int:
    """How many of the first `n` customers live in the target country."""
    return n * round(share * 1_000_000) // 1_000_000


def _market() -> list[Command]:
    cmds: list[Command] = [
        CreateAsset(actor=ACTOR, ts_ms=T0_MS, reason=REASON, asset=a, precision=p)
        for a, p in ASSETS.items()
    ]
    cmds.append(ListSymbol(actor=ACTOR, ts_ms=T0_MS, reason=REASON, spec=SYMBOL))
    cmds.append(
        DefineVenue(
            actor=ACTOR,
            ts_ms=T0_MS,
            reason=REASON,
            venue="GLOBAL",
            name="bourse global",
            symbols=(SYMBOL.name,),
        )
    )
    return cmds


def _customer(i: int, country: str) -> OnboardCustomer:
    return OnboardCustomer(
        actor=ACTOR,
        ts_ms=T0_MS,
        reason=REASON,
        legal_name=f"Bench Customer {i}",
        date_of_birth=f"{1950 + i % 50}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        nationality=country,
        residence=country,
    )


def _resting(account_id: int, j: int) -> PlaceOrder:
    """A target account's order, 600 to 1,599 ticks from the mid: beyond the flow's reach."""
    side = Side.BUY if j % 2 else Side.SELL
    away = (600 + j % 1000) * TICK
    return PlaceOrder(
        actor=ACTOR,
        ts_ms=T0_MS,
        account_id=account_id,
        symbol=SYMBOL.name,
        side=side,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price_raw=MID - away if side is Side.BUY else MID + away,
        qty_raw=10 * STEP,
        stp=SelfTradePrevention.NONE,
    )


def _moved(cmd: Command, accounts: list[int], order_offset: int) -> Command:
    """A flow command (written for accounts 1..n and order ids from 1) for `accounts[n - 1]`,
    the order ids it cites shifted past the orders placed before it, at the bench's time."""
    replace = msgspec.structs.replace
    ts_ms = T0_MS + cmd.ts_ms
    if isinstance(cmd, PlaceOrder):
        return replace(cmd, ts_ms=ts_ms, account_id=accounts[cmd.account_id - 1])
    if isinstance(cmd, CancelOrder):
        return replace(
            cmd,
            ts_ms=ts_ms,
            account_id=accounts[cmd.account_id - 1],
            order_id=cmd.order_id + order_offset,
        )
    if isinstance(cmd, CancelReplaceOrder):
        account_id = accounts[cmd.account_id - 1]
        new = replace(cmd.new_order, ts_ms=ts_ms, account_id=account_id)
        return replace(
            cmd,
            ts_ms=ts_ms,
            account_id=account_id,
            cancel_order_id=cmd.cancel_order_id + order_offset,
            new_order=new,
        )
    raise TypeError(f"the flow has no {type(cmd).__name__}")


def _flow(commands: int, accounts: list[int], order_offset: int) -> Iterator[Command]:
    for cmd in mixed(commands, accounts=len(accounts), resting=FLOW_RESTING):
        yield _moved(cmd, accounts, order_offset)


def _problem(accounts: int, affected_share: float, flow_between: int, sweep_batch: int) -> str:
    if accounts < 100:
        return f"--accounts must be at least 100, not {accounts}"
    if not 0 < affected_share < 1:
        return f"--affected-share must be a fraction between 0 and 1, not {affected_share}"
    if flow_between < 1:
        return f"--flow-between must be at least 1, not {flow_between}"
    if not 0 < sweep_batch <= 10_000:
        return f"--sweep-batch must be 1 to 10000 customers, not {sweep_batch}"
    return ""


class _World(msgspec.Struct, kw_only=True):
    target: list[int]  # account ids of the target country's customers
    flow: list[Command]  # the measured flow, from the other countries' accounts
    commands: int
    seconds: float


def _build(
    execute: _Timed, accounts: int, share: float, flow_commands: int, progress: ProgressFactory
) -> _World:
    started = time.perf_counter()
    target: list[int] = []
    others: list[int] = []
    for cmd in _market():
        execute.set_up(cmd)
    with progress("onboarding and funding customers", accounts) as advance:
        for i in range(accounts):
            country = TARGET if in_target(i, share) else OTHERS[i % len(OTHERS)]
            events = execute.set_up(_customer(i, country))
            account_id = next(e.account_id for e in events if type(e) is AccountOpened)
            (target if country == TARGET else others).append(account_id)
            for asset, amount in FUNDS.items():
                execute.set_up(
                    Deposit(
                        actor=ACTOR,
                        ts_ms=T0_MS,
                        account_id=account_id,
                        asset=asset,
                        amount_raw=amount,
                    )
                )
            if i % BUILD_TICK == BUILD_TICK - 1:
                advance(BUILD_TICK)
        advance(accounts % BUILD_TICK)
    for j, account_id in enumerate(target[:: 100 // RESTING_SHARE_PCT]):
        execute.set_up(_resting(account_id, j))
    flow = _flow(flow_commands, others, execute.engine.state.next_order_id - 1)
    for _ in range(FLOW_RESTING):
        execute.set_up(next(flow))
    measured = list(flow)  # generated before any timing starts
    return _World(
        target=target,
        flow=measured,
        commands=execute.seq,
        seconds=time.perf_counter() - started,
    )


class _Preview(msgspec.Struct, kw_only=True):
    named: list[int]
    seen: Fingerprint
    tally: Tally
    seconds: float
    longest_step_ns: int


def _preview(state: EngineState, spec: PolicySpec, progress: ProgressFactory) -> _Preview:
    """What the admin API reads: one step for whom, then slices for what they hold."""
    steps_ns: list[int] = []
    t0 = time.perf_counter_ns()
    named = members(state, spec.basis, spec.country)
    seen = fingerprint(state, spec.basis, spec.country)
    steps_ns.append(time.perf_counter_ns() - t0)
    total = Tally(balances={}, sample=[])
    with progress("previewing", len(named)) as advance:
        for start in range(0, len(named), PREVIEW_SLICE):
            part = named[start : start + PREVIEW_SLICE]
            s0 = time.perf_counter_ns()
            total.add(tally(state, spec, part), 10)
            steps_ns.append(time.perf_counter_ns() - s0)
            advance(len(part))
    return _Preview(
        named=named,
        seen=seen,
        tally=total,
        seconds=(time.perf_counter_ns() - t0) / 1e9,
        longest_step_ns=max(steps_ns),
    )


def _apply(
    execute: _Timed,
    apply: SetJurisdictionPolicy,
    flow: list[Command],
    flow_between: int,
    progress: ProgressFactory,
) -> dict[str, Any]:
    """Apply, then `flow_between` flow commands and the sweep's next batch, until its last."""
    execute.longest_ns = 0
    execute.policy_refusals = 0
    canceled = flow_done = batches = swept = longest_batch_ns = 0
    with progress("applying", apply.previewed.customers) as advance:
        t0 = time.perf_counter_ns()
        events = execute(apply)
        apply_ns = execute.last_ns
        while True:
            sweep = None
            for e in events:
                if type(e) is OrderCanceled:
                    canceled += 1
                elif type(e) is PolicySweepProgressed:
                    sweep = e
                elif type(e) is CommandRejected and batches == 0:
                    raise RuntimeError(f"the apply was refused: {e.reason}")
            if sweep is None:
                raise RuntimeError("the apply started no sweep")
            batches += 1
            advance(sweep.done - swept)
            swept = sweep.done
            if sweep.done >= sweep.total:
                break
            for cmd in flow[flow_done : flow_done + flow_between]:
                execute(cmd)
                flow_done += 1
            events = execute(
                ContinuePolicySweep(actor=ACTOR, ts_ms=apply.ts_ms, sweep_id=sweep.sweep_id)
            )
            longest_batch_ns = max(longest_batch_ns, execute.last_ns)
        seconds = (time.perf_counter_ns() - t0) / 1e9
    return {
        "apply_s": round(seconds, 3),
        "max_engine_pause_ms": round(execute.longest_ns / 1e6, 2),
        "others_orders_per_s": round(flow_done / seconds),
        "apply_command_ms": round(apply_ns / 1e6, 2),
        "max_sweep_batch_ms": round(longest_batch_ns / 1e6, 2),
        "sweep_batches": batches,
        "canceled_orders": canceled,
        "others_orders": flow_done,
        "others_refused_by_policy": execute.policy_refusals,
    }


def run(
    accounts: int,
    affected_share: float = 0.10,
    flow_between: int = 20,
    sweep_batch: int = 1000,
    progress: ProgressFactory = _no_progress,
) -> dict[str, Any]:
    problem = _problem(accounts, affected_share, flow_between, sweep_batch)
    if problem:
        raise ValueError(problem)
    engine = Engine()
    execute = _Timed(engine)
    batches = -(-in_target_before(accounts, affected_share) // sweep_batch)
    world = _build(execute, accounts, affected_share, flow_between * batches, progress)
    settle_heap()  # as `bourse run` does after recovery
    spec = PolicySpec(
        name=f"bench: trading suspended for residents of {TARGET}",
        country=TARGET,
        rules=(Rule(capability=Capability.TRADING, access=Access.SUSPENDED),),
    )
    with GcWatch() as gc_watch:
        preview = _preview(engine.state, spec, progress)
        apply = SetJurisdictionPolicy(
            actor=ACTOR,
            ts_ms=T0_MS + 60_000,
            reason="benchmark: suspend trading for one country",
            spec=spec,
            preview_id=preview_id(spec, preview.seen),
            previewed=preview.seen,
            sweep_batch=sweep_batch,
        )
        applied = _apply(execute, apply, world.flow, flow_between, progress)
    left = sum(len(engine.state.accounts[a].open_orders) for a in world.target)
    execute.policy_refusals = 0
    execute(_resting(world.target[0], 0))  # a named customer's new order, after the change
    return {
        "accounts": accounts,
        "affected": preview.seen.customers,
        "preview_s": round(preview.seconds, 3),
        **applied,
        "build_s": round(world.seconds, 1),
        "build_commands_per_s": round(world.commands / world.seconds),
        "preview_max_slice_ms": round(preview.longest_step_ns / 1e6, 2),
        "preview_open_orders": preview.tally.open_orders,
        "max_gc_pause_ms": round(gc_watch.longest_ns / 1e6, 2),
        "open_orders_left_affected": left,
        "affected_order_refused": execute.policy_refusals == 1,
    }
