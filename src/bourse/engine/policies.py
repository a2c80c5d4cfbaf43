"""Jurisdiction policy changes: apply (citing a preview), schedule, run what is due, and the work a
change does in batches (cancel the orders of the people it stops trading; report what remains when
an exit window closes).

A change takes effect for the gate at once and in full: from its command on, everyone it names is
refused. Only the follow-up work is spread over ContinuePolicySweep commands of `batch` customers
each, which the runtime submits between other commands, so a country of 100,000 customers never
pauses matching for everyone else.
"""

import msgspec

from bourse.commands import (
    CancelScheduledChange,
    ContinuePolicySweep,
    RunDuePolicies,
    SchedulePolicyChange,
    SetJurisdictionPolicy,
)
from bourse.compliance.countries import country_problem
from bourse.compliance.policy import (
    CANCEL_ORDERS,
    CLOSURE_REPORT,
    Access,
    Basis,
    Fingerprint,
    PolicySpec,
    preview_id,
    spec_problem,
)
from bourse.domain.calendar import utc_text
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine import cards, cutoff
from bourse.engine.cancels import cancel_account_orders
from bourse.engine.impact import fingerprint, members, unpriced_held
from bourse.engine.output import Output
from bourse.engine.state import EngineState, Policy, ScheduledChange, Sweep
from bourse.events import (
    ClosureBalance,
    ClosureBalancesReported,
    ExitWindowClosed,
    PolicyApplied,
    PolicyScheduled,
    PolicySweepProgressed,
    ScheduledChangeCanceled,
)

MAX_BATCH = 10_000
CLOSURE_BATCH = 1000


def policies_for(state: EngineState, basis: Basis) -> dict[str, Policy]:
    return state.residence_policies if basis is Basis.RESIDENCE else state.nationality_policies


def set_policy(state: EngineState, out: Output, cmd: SetJurisdictionPolicy) -> Refusal | None:
    refusal = _checked(state, cmd.spec, cmd.preview_id, cmd.previewed, cmd.ts_ms, cmd.sweep_batch)
    if refusal is not None:
        return refusal
    _apply(
        state,
        out,
        cmd.spec,
        cmd.preview_id,
        cmd.previewed,
        0,
        cmd.actor,
        cmd.reason,
        cmd.sweep_batch,
    )
    return None


def schedule(state: EngineState, out: Output, cmd: SchedulePolicyChange) -> Refusal | None:
    refusal = _checked(state, cmd.spec, cmd.preview_id, cmd.previewed, cmd.ts_ms, cmd.sweep_batch)
    if refusal is not None:
        return refusal
    if cmd.effective_ms <= cmd.ts_ms:
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            f"a scheduled change needs a time in the future, not {utc_text(cmd.effective_ms)}",
        )
    if cmd.spec.deadline_ms and cmd.spec.deadline_ms <= cmd.effective_ms:
        return Refusal(
            RejectCode.INVALID_PARAMETER, "the exit window's deadline must come after the change"
        )
    sid = state.next_schedule_id
    state.next_schedule_id = sid + 1
    state.scheduled[sid] = ScheduledChange(
        sid,
        cmd.spec,
        cmd.effective_ms,
        cmd.preview_id,
        cmd.previewed,
        cmd.actor,
        cmd.reason,
        cmd.sweep_batch,
    )
    out.events.append(
        PolicyScheduled(
            schedule_id=sid,
            spec=cmd.spec,
            effective_ms=cmd.effective_ms,
            preview_id=cmd.preview_id,
            previewed=cmd.previewed,
            actor=cmd.actor,
            reason=cmd.reason,
        )
    )
    return None


def cancel_scheduled(state: EngineState, out: Output, cmd: CancelScheduledChange) -> Refusal | None:
    if state.scheduled.pop(cmd.schedule_id, None) is None:
        return Refusal(RejectCode.INVALID_PARAMETER, f"no change {cmd.schedule_id} is scheduled")
    out.events.append(
        ScheduledChangeCanceled(schedule_id=cmd.schedule_id, actor=cmd.actor, reason=cmd.reason)
    )
    return None


def run_due(state: EngineState, out: Output, cmd: RunDuePolicies) -> Refusal | None:
    now = cmd.ts_ms
    due = [s for s in state.scheduled.values() if s.effective_ms <= now]
    closing = [
        p
        for policies in (state.residence_policies, state.nationality_policies)
        for p in policies.values()
        if p.spec.deadline_ms and p.spec.deadline_ms <= now
    ]
    # a partner bank's cut-off and a card partner's end, scheduled as these are
    cutoffs, ends = cutoff.due(state, now), cards.due_ends(state, now)
    if not due and not closing and not cutoffs and not ends:
        return Refusal(RejectCode.NO_CHANGE, f"nothing is due by {utc_text(now)}")
    for record in cutoffs:
        cutoff.apply(state, out, record)
    for end in ends:
        cards.apply_end(state, out, end)
    for policy in closing:
        _close_exit_window(state, out, policy, cmd.actor)
    for change in due:  # checked when scheduled (deadline after the effective time)
        del state.scheduled[change.id]
        refusal = _pricing_refusal(state, change.spec)  # holdings may have changed since
        if refusal is not None:
            out.events.append(
                ScheduledChangeCanceled(
                    schedule_id=change.id,
                    actor=cmd.actor,
                    reason=f"not applied at its effective time: {refusal.reason}",
                )
            )
            continue
        _apply(
            state,
            out,
            change.spec,
            change.preview_id,
            change.previewed,
            change.id,
            change.actor,
            change.reason,
            change.sweep_batch,
        )
    return None


def continue_sweep(state: EngineState, out: Output, cmd: ContinuePolicySweep) -> Refusal | None:
    sweep = state.sweeps.get(cmd.sweep_id)
    if sweep is None:
        return Refusal(RejectCode.NO_CHANGE, f"policy sweep {cmd.sweep_id} is finished")
    _advance(state, out, sweep)
    return None


def _checked(
    state: EngineState,
    spec: PolicySpec,
    cited: str,
    previewed: Fingerprint,
    ts_ms: int,
    batch: int,
) -> Refusal | None:
    problem = country_problem(spec.country) or spec_problem(spec, ts_ms)
    if problem is None and not 0 < batch <= MAX_BATCH:
        problem = f"a sweep batch is 1 to {MAX_BATCH} customers"
    if problem:
        return Refusal(RejectCode.INVALID_PARAMETER, problem)
    if cited != preview_id(spec, previewed):
        return Refusal(
            RejectCode.PREVIEW_MISMATCH,
            f"this change cites preview {cited or '(none)'}, which was not made for it: "
            "preview the change you mean to apply, then apply that preview",
        )
    now = fingerprint(state, spec.basis, spec.country)
    if now != previewed:
        return Refusal(
            RejectCode.PREVIEW_STALE,
            f"since preview {cited}, the people this change names have changed "
            f"({previewed.customers} customers with {previewed.accounts} accounts then, "
            f"{now.customers} with {now.accounts} now): preview it again",
        )
    current = policies_for(state, spec.basis).get(spec.country)
    if (current.spec if current is not None else None) == (None if spec.restores else spec):
        return Refusal(
            RejectCode.NO_CHANGE, f"{spec.country} already has exactly this policy in force"
        )
    return _pricing_refusal(state, spec)


def _pricing_refusal(state: EngineState, spec: PolicySpec) -> Refusal | None:
    """A holdings condition decides on prices, never on a silent zero: every asset the named
    accounts hold must have a price in the condition's asset, or be excluded with a reason."""
    for rule in spec.rules:
        cond = rule.condition
        if cond is None:
            continue
        for asset in [cond.asset, *(e.asset for e in cond.excluded)]:
            if asset not in state.assets:
                return Refusal(RejectCode.UNKNOWN_ASSET, f"asset {asset!r} does not exist")
    unpriced = unpriced_held(state, spec)
    if not unpriced:
        return None
    targets = sorted({r.condition.asset for r in spec.rules if r.condition is not None})
    held = ", ".join(
        f"{asset} (held by {n} named account{'s' * (n != 1)})" for asset, n in unpriced.items()
    )
    return Refusal(
        RejectCode.UNPRICED_HOLDINGS,
        f"policy '{spec.name}' values holdings in {', '.join(targets)}, but no trade or "
        f"reference price values {held}: set a reference price for each "
        "(`bourse prices set`), or exclude the asset from the condition with a reason and "
        "preview again",
    )


def _apply(
    state: EngineState,
    out: Output,
    spec: PolicySpec,
    cited: str,
    previewed: Fingerprint,
    schedule_id: int,
    actor: str,
    reason: str,
    batch: int,
    sweep: bool = True,
) -> None:
    policies = policies_for(state, spec.basis)
    old = policies.get(spec.country)
    change_id = state.next_change_id
    state.next_change_id = change_id + 1
    previous = old.spec if old is not None else None
    if spec.restores:
        policies.pop(spec.country, None)
    else:
        policies[spec.country] = Policy(spec, change_id, out.ts_ms, actor, reason, previous)
    out.events.append(
        PolicyApplied(
            change_id=change_id,
            spec=spec,
            previous=previous,
            preview_id=cited,
            previewed=previewed,
            affected=fingerprint(state, spec.basis, spec.country),
            schedule_id=schedule_id,
            actor=actor,
            reason=reason,
        )
    )
    if sweep and spec.sweeps_orders:
        note = f"trading stopped by policy '{spec.name}' (change {change_id}): {reason}"
        _start(state, out, change_id, CANCEL_ORDERS, spec, batch, note)


def _close_exit_window(state: EngineState, out: Output, policy: Policy, actor: str) -> None:
    old = policy.spec
    closed = msgspec.structs.replace(
        old,
        rules=tuple(
            msgspec.structs.replace(r, access=Access.CLOSED)
            if r.access is Access.WITHDRAW_ONLY
            else r
            for r in old.rules
        ),
        deadline_ms=0,
    )
    reason = f"the exit window of '{old.name}' ended at {utc_text(old.deadline_ms)}"
    seen = fingerprint(state, old.basis, old.country)  # automatic: nothing was previewed
    # the window already stopped trading and swept the orders: only the report is left to do
    _apply(state, out, closed, "", seen, 0, actor, reason, CLOSURE_BATCH, sweep=False)
    change_id = state.next_change_id - 1
    out.events.append(
        ExitWindowClosed(
            change_id=change_id,
            name=old.name,
            country=old.country,
            basis=old.basis,
            customers=seen.customers,
            accounts=seen.accounts,
        )
    )
    _start(state, out, change_id, CLOSURE_REPORT, closed, CLOSURE_BATCH, reason)


def _start(
    state: EngineState,
    out: Output,
    change_id: int,
    kind: str,
    spec: PolicySpec,
    batch: int,
    note: str,
) -> None:
    sid = state.next_sweep_id
    state.next_sweep_id = sid + 1
    sweep = Sweep(sid, change_id, kind, members(state, spec.basis, spec.country), batch, note)
    state.sweeps[sid] = sweep
    _advance(state, out, sweep)


def _advance(state: EngineState, out: Output, sweep: Sweep) -> None:
    part = sweep.customer_ids[sweep.done : sweep.done + sweep.batch]
    if sweep.kind == CANCEL_ORDERS:
        for cid in part:
            for account_id in state.customers[cid].accounts:
                cancel_account_orders(state, out, state.accounts[account_id], sweep.note)
    else:
        rows: list[ClosureBalance] = []
        for cid in part:
            for account_id in state.customers[cid].accounts:
                for asset, bal in sorted(state.accounts[account_id].balances.items()):
                    if bal.free or bal.locked:
                        rows.append(
                            ClosureBalance(
                                customer_id=cid,
                                account_id=account_id,
                                asset=asset,
                                free_raw=bal.free,
                                locked_raw=bal.locked,
                            )
                        )
        if rows:
            out.events.append(
                ClosureBalancesReported(change_id=sweep.change_id, balances=tuple(rows))
            )
    sweep.done += len(part)
    total = len(sweep.customer_ids)
    out.events.append(
        PolicySweepProgressed(
            sweep_id=sweep.id,
            change_id=sweep.change_id,
            kind=sweep.kind,
            done=sweep.done,
            total=total,
        )
    )
    if sweep.done >= total:
        del state.sweeps[sweep.id]
