"""Jurisdiction policy routes: preview a change, apply or schedule the preview, reverse a change,
see what is in force, and the closure report of an exit window that ended.

A change is applied by sending back what its preview answered under "apply": the engine checks
that the spec is the one previewed and that the people it names have not changed since.
"""

from typing import Any

import msgspec
from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from bourse.api.admin.compliance import (
    REASON_MAX,
    REASON_PATTERN,
    Reason,
    body_doc,
    first,
    parse,
    utc_ms,
)
from bourse.api.admin.errors import AdminError, bad_request, not_found
from bourse.api.admin.four_eyes import execute_or_propose
from bourse.api.admin.preview import basis_of, rendered, spec_from, spec_view
from bourse.api.admin.scope import out_of_scope, reader_scope, sees_country
from bourse.api.binance.gateway import Gateway
from bourse.api.binance.replies import ok
from bourse.api.deps import Int64, OperatorDep, ServiceDep
from bourse.commands import CancelScheduledChange, SchedulePolicyChange, SetJurisdictionPolicy
from bourse.compliance.countries import country_problem
from bourse.compliance.policy import Fingerprint, PolicySpec, spec_problem
from bourse.events import Outcome, PolicyApplied, PolicyScheduled, PolicySweepProgressed
from bourse.store import compliance_queries
from bourse.view import ReadModel
from bourse.view.model import PolicyView

router = APIRouter(prefix="/admin/v1", tags=["compliance"])


class ApplyBody(msgspec.Struct, forbid_unknown_fields=True):
    spec: PolicySpec
    preview_id: str
    previewed: Fingerprint
    reason: Reason
    sweep_batch: int = 1000


class ScheduleBody(msgspec.Struct, forbid_unknown_fields=True):
    spec: PolicySpec
    preview_id: str
    previewed: Fingerprint
    reason: Reason
    effective: str | None = None  # ISO 8601 (UTC)
    effective_ms: int | None = None
    sweep_batch: int = 1000


_RULES = [{"capability": "TRADING", "access": "SUSPENDED"}]
_PREVIEW = {"name": "RU trading pause", "country": "RU", "rules": _RULES}
_SPEC = {**_PREVIEW, "basis": "RESIDENCE", "deadline_ms": 0}
_APPLY = {
    "spec": _SPEC,
    "preview_id": "3f1c…",
    "previewed": {"customers": 12, "accounts": 14, "version": 31},
    "reason": "regulator's instruction 2024/17",
}


@router.post(
    "/policies/preview",
    summary="Preview a jurisdiction policy change",
    description=(
        "Whom the change would name (customers, accounts) and what they hold (open orders, "
        "pending withdrawals, balances, accounts above a holdings condition), and the exact "
        "body to send to /policies/apply or /policies/schedule under `apply`. Conditions take "
        "decimal limits; a deadline is ISO 8601 (UTC) as `deadline` or milliseconds as "
        "`deadline_ms`. Changes nothing."
    ),
)
async def preview_change(
    service: ServiceDep, actor: OperatorDep, body: dict[str, Any] = body_doc(_PREVIEW)
) -> Response:
    spec = spec_from(service.view, body, service.clock())
    _check_scope(service.view, actor, spec.country)
    impact = await service.preview(spec)
    return ok(rendered(service.view, impact))


def _check_scope(view: ReadModel, actor: str, country: str) -> None:
    """A regional manager or an auditor previews and reads the policies of their scope only."""
    member = reader_scope(view, actor)
    if member is not None and not sees_country(view, member, country):
        raise out_of_scope(member, f"{country}'s policy")


@router.post(
    "/policies/apply",
    summary="Apply a previewed policy change now",
    description=(
        "The body is the preview's `apply` object plus a `reason`. Refused (400) with "
        "PREVIEW_MISMATCH if the spec is not the one previewed, PREVIEW_STALE if the people it "
        "names changed since the preview, NO_CHANGE if it is already in force. Open orders of "
        "those it stops trading are canceled in batches of `sweep_batch` customers."
    ),
)
async def apply_change(
    service: ServiceDep, actor: OperatorDep, body: dict[str, Any] = body_doc(_APPLY, ApplyBody)
) -> Response:
    req = parse(body, ApplyBody)
    cmd = SetJurisdictionPolicy(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        spec=req.spec,
        preview_id=req.preview_id,
        previewed=req.previewed,
        sweep_batch=req.sweep_batch,
    )
    return await execute_or_propose(service, cmd, lambda o: _applied(service.view, o))


def _applied(view: ReadModel, outcome: Outcome) -> dict[str, Any]:
    event = first(outcome, PolicyApplied)
    sweeps = [e for e in outcome.events if isinstance(e, PolicySweepProgressed)]
    return {
        "changeId": event.change_id,
        "seq": outcome.seq,
        "spec": spec_view(view, event.spec),
        "previous": spec_view(view, event.previous),
        "restored": event.spec.restores,
        "affected": msgspec.to_builtins(event.affected),
        "sweeps": [_sweep_progress(e) for e in sweeps],
    }


def _sweep_progress(e: PolicySweepProgressed) -> dict[str, Any]:
    return {
        "sweepId": e.sweep_id,
        "changeId": e.change_id,
        "kind": e.kind,
        "done": e.done,
        "total": e.total,
    }


@router.post(
    "/policies/schedule",
    summary="Schedule a previewed policy change",
    description=(
        "As /policies/apply, with the time it takes effect as `effective` (ISO 8601, UTC) or "
        "`effective_ms`. The preview is checked now; at the effective time the change applies "
        "to whoever the policy then names."
    ),
)
async def schedule_change(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc({**_APPLY, "effective": "2030-01-31T00:00:00Z"}, ScheduleBody),
) -> Response:
    req = parse(body, ScheduleBody)
    if (req.effective is None) == (req.effective_ms is None):
        raise bad_request("give the time once: either effective (ISO 8601) or effective_ms")
    effective_ms = utc_ms(req.effective, "effective") if req.effective else req.effective_ms
    cmd = SchedulePolicyChange(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        spec=req.spec,
        preview_id=req.preview_id,
        previewed=req.previewed,
        effective_ms=effective_ms or 0,
        sweep_batch=req.sweep_batch,
    )
    return await execute_or_propose(service, cmd, lambda o: _scheduled(service.view, o))


def _scheduled(view: ReadModel, outcome: Outcome) -> dict[str, Any]:
    event = first(outcome, PolicyScheduled)
    return {
        "scheduleId": event.schedule_id,
        "effectiveMs": event.effective_ms,
        "spec": spec_view(view, event.spec),
        "seq": outcome.seq,
    }


@router.delete(
    "/policies/schedule/{schedule_id}",
    summary="Cancel a scheduled policy change",
    description="The change will not apply. The `reason` is recorded with the cancellation.",
)
async def cancel_schedule(
    service: ServiceDep,
    actor: OperatorDep,
    schedule_id: Int64,
    reason: str = Query(min_length=1, max_length=REASON_MAX, pattern=REASON_PATTERN),
) -> Response:
    if schedule_id not in service.view.scheduled:
        raise not_found("scheduled change", schedule_id)
    cmd = CancelScheduledChange(
        actor=actor, ts_ms=service.clock(), reason=reason, schedule_id=schedule_id
    )
    return await execute_or_propose(
        service, cmd, lambda o: {"scheduleId": schedule_id, "canceled": True, "seq": o.seq}
    )


@router.get(
    "/policies",
    summary="Policies in force, scheduled changes and running sweeps",
    description=(
        "Each policy in force with who applied it, when and why, and whether it replaced "
        "another (then it can be reversed); changes scheduled for later; and the batched work "
        "(order cancellations, closure reports) still in progress."
    ),
)
async def list_policies(service: ServiceDep, actor: OperatorDep) -> Response:
    view = service.view
    member = reader_scope(view, actor)  # a scoped reader: its countries' policies only
    in_force = [
        _policy(view, p)
        for policies in (view.residence_policies, view.nationality_policies)
        for p in policies.values()
        if sees_country(view, member, p.spec.country)
    ]
    scheduled = [
        {
            "scheduleId": s.id,
            "effectiveMs": s.effective_ms,
            "spec": spec_view(view, s.spec),
            "previewId": s.preview_id,
            "actor": s.actor,
            "reason": s.reason,
        }
        for s in view.scheduled.values()
        if sees_country(view, member, s.spec.country)
    ]
    sweeps = [
        {
            "sweepId": s.id,
            "changeId": s.change_id,
            "kind": s.kind,
            "done": s.done,
            "total": s.total,
        }
        for s in view.sweeps.values()
        if member is None  # a sweep names only its change: exchange-wide work
    ]
    return ok({"inForce": in_force, "scheduled": scheduled, "sweeps": sweeps})


def _policy(view: ReadModel, p: PolicyView) -> dict[str, Any]:
    return {
        "basis": p.spec.basis.value,
        "country": p.spec.country,
        "spec": spec_view(view, p.spec),
        "changeId": p.change_id,
        "appliedMs": p.applied_ms,
        "actor": p.actor,
        "reason": p.reason,
        "hasPrevious": p.previous is not None,
    }


def _in_force(view: ReadModel, basis: str, country: str) -> PolicyView:
    problem = country_problem(country)
    if problem:
        raise bad_request(problem)
    policy = view.policies(basis_of(basis)).get(country)
    if policy is None:
        raise AdminError(
            404, "POLICY_NOT_FOUND", f"no {basis.upper()} policy is in force for {country}"
        )
    return policy


@router.post(
    "/policies/{basis}/{country}/reversal/preview",
    summary="Preview reversing the policy in force",
    description=(
        "A preview (same shape as /policies/preview) of going back to the policy the current "
        "one replaced, or of restoring the country to normal when it replaced none. Apply it "
        "through /policies/apply like any other preview."
    ),
)
async def preview_reversal(
    service: ServiceDep, actor: OperatorDep, basis: str, country: str
) -> Response:
    _check_scope(service.view, actor, country)
    policy = _in_force(service.view, basis, country)
    spec = policy.previous or PolicySpec(
        name=f"{policy.spec.name} (restored)", country=country, basis=policy.spec.basis
    )
    problem = spec_problem(spec, service.clock())
    if problem:
        raise bad_request(
            f"the policy this one replaced ('{spec.name}') cannot apply again: {problem}"
        )
    return ok(rendered(service.view, await service.preview(spec)))


@router.get(
    "/closures/{change_id}",
    summary="What remained when an exit window closed",
    description=(
        "`change_id` is the change that closed the window (`GET /policies` and `bourse policy "
        "show` list it, applied by system:policy-driver). Every customer the window named, "
        "with each account's nonzero balances as they stood at closure, and totals per asset, "
        "as the journal recorded them (ClosureBalancesReported, projected to SQL). The report "
        "is written 1,000 customers per command: `complete` is false until all are in."
    ),
)
async def closure_report(
    request: Request, service: ServiceDep, actor: OperatorDep, change_id: Int64
) -> Response:
    if not 1 <= change_id < service.view.next_change_id:  # ids are dense
        raise not_found("change", change_id)
    gw: Gateway = request.app.state.gateway
    report = await gw.read(compliance_queries.closure_report, change_id)
    if report is None:
        raise AdminError(
            404,
            "CLOSURE_NOT_FOUND",
            f"change {change_id} closed no exit window: the change that closed one is the "
            "policy in force applied by system:policy-driver (`bourse policy show`, "
            "GET /admin/v1/policies)",
        )
    _check_scope(service.view, actor, report["country"])
    return ok({"source": "journal", **report})
