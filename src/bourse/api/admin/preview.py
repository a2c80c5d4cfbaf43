"""A policy change's impact preview, read from the engine's state in slices.

The members and their fingerprint are taken at once (that is what an apply must still match);
the tally then reads `SLICE` customers at a time, yielding to the event loop between slices so
that matching goes on while a country of many customers is counted. A customer who moves during
the count changes the fingerprint, so the apply of this preview is refused as stale, never wrong.
"""

import asyncio
from typing import Any

import msgspec

from bourse.api.admin.compliance import parse, utc_ms
from bourse.api.admin.errors import bad_request
from bourse.compliance.countries import country_problem
from bourse.compliance.policy import (
    Access,
    Basis,
    Capability,
    Exclusion,
    Fingerprint,
    HoldingsAbove,
    PolicySpec,
    Rule,
    preview_id,
    spec_problem,
)
from bourse.domain.money import PrecisionError, to_plain, to_raw, to_str
from bourse.engine import impact
from bourse.engine.policies import policies_for
from bourse.engine.state import EngineState

SLICE = 2000
SAMPLE = 10


class ExclusionBody(msgspec.Struct, forbid_unknown_fields=True):
    asset: str
    reason: str


class ConditionBody(msgspec.Struct, forbid_unknown_fields=True):
    asset: str
    limit: str  # a decimal amount of `asset`
    excluded: list[ExclusionBody] = []  # assets left out of the value, each with why


class RuleBody(msgspec.Struct, forbid_unknown_fields=True):
    capability: str
    access: str
    condition: ConditionBody | None = None


class PreviewBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    country: str
    basis: str = "RESIDENCE"
    rules: list[RuleBody] = []
    deadline: str | None = None  # ISO 8601 (UTC)
    deadline_ms: int | None = None


class Preview(msgspec.Struct, kw_only=True):
    spec: PolicySpec
    previewed: Fingerprint
    as_of_seq: int
    tally: impact.Tally


def _choice(value: str, kind: type[Basis] | type[Capability] | type[Access], field: str) -> Any:
    try:
        return kind(value.upper())
    except ValueError:
        allowed = ", ".join(kind)
        raise bad_request(f"{field} {value!r} is not one of {allowed}") from None


def basis_of(value: str, field: str = "basis") -> Basis:
    basis: Basis = _choice(value, Basis, field)
    return basis


def spec_from(state: EngineState, body: Any, now_ms: int) -> PolicySpec:
    """The PolicySpec a preview request describes (decimal limits, ISO deadline), or 400."""
    req = parse(body, PreviewBody)
    problem = country_problem(req.country)
    if problem:
        raise bad_request(problem)
    rules = []
    for i, rule in enumerate(req.rules):
        where = f"rules[{i}]"
        condition = None
        if rule.condition is not None:
            condition = _condition(state, rule.condition, f"{where}.condition")
        rules.append(
            Rule(
                capability=_choice(rule.capability, Capability, f"{where}.capability"),
                access=_choice(rule.access, Access, f"{where}.access"),
                condition=condition,
            )
        )
    if req.deadline is not None and req.deadline_ms is not None:
        raise bad_request("give the deadline once: either deadline (ISO 8601) or deadline_ms")
    deadline_ms = req.deadline_ms or 0
    if req.deadline is not None:
        deadline_ms = utc_ms(req.deadline, "deadline")
    spec = PolicySpec(
        name=req.name,
        country=req.country,
        basis=basis_of(req.basis),
        rules=tuple(rules),
        deadline_ms=deadline_ms,
    )
    problem = spec_problem(spec, now_ms)
    if problem:
        raise bad_request(problem)
    return spec


def _condition(state: EngineState, cond: ConditionBody, where: str) -> HoldingsAbove:
    precision = state.assets.get(cond.asset)
    if precision is None:
        raise bad_request(f"{where}.asset {cond.asset!r} does not exist")
    try:
        limit_raw = to_raw(cond.limit, precision, what=f"{where}.limit")
    except PrecisionError as exc:
        raise bad_request(str(exc)) from None
    for i, e in enumerate(cond.excluded):
        if e.asset not in state.assets:
            raise bad_request(f"{where}.excluded[{i}].asset {e.asset!r} does not exist")
    excluded = tuple(Exclusion(asset=e.asset, reason=e.reason) for e in cond.excluded)
    return HoldingsAbove(asset=cond.asset, limit_raw=limit_raw, excluded=excluded)


async def preview(state: EngineState, spec: PolicySpec, slice_size: int = SLICE) -> Preview:
    """Whom `spec` names and what they hold, counted without pausing matching for long."""
    as_of_seq = state.last_seq
    named = impact.members(state, spec.basis, spec.country)
    seen = impact.fingerprint(state, spec.basis, spec.country)
    total = impact.Tally(balances={}, sample=[], unpriced={})
    for start in range(0, len(named), slice_size):
        if start:
            await asyncio.sleep(0)  # let the engine run the commands waiting meanwhile
        total.add(impact.tally(state, spec, named[start : start + slice_size], SAMPLE), SAMPLE)
    return Preview(spec=spec, previewed=seen, as_of_seq=as_of_seq, tally=total)


def _warnings(spec: PolicySpec, tally: impact.Tally) -> list[str]:
    """What stops this preview from applying as it stands, in sentences an operator acts on."""
    if not tally.unpriced:
        return []
    targets = ", ".join(sorted({r.condition.asset for r in spec.rules if r.condition}))
    return [
        f"no trade or reference price values {asset} in {targets}, held by {n} named "
        f"account{'s' * (n != 1)}: apply and schedule are refused until a reference price "
        f"is set (`bourse prices set {asset} {targets.split(',')[0]} PRICE --reason ...`) or "
        f"the condition excludes {asset} with a reason"
        for asset, n in sorted(tally.unpriced.items())
    ]


def spec_view(state: EngineState, spec: PolicySpec | None) -> dict[str, Any] | None:
    """A spec as JSON for people: each condition also gives its `limit` as a decimal. (What is
    sent back to apply a change is the spec itself, `apply.spec`.)"""
    if spec is None:
        return None
    view: dict[str, Any] = msgspec.to_builtins(spec)
    for rule in view["rules"]:
        cond = rule.get("condition")
        if cond is not None:
            cond["limit"] = to_plain(cond["limit_raw"], state.assets.get(cond["asset"], 0))
    return view


def rendered(state: EngineState, result: Preview) -> dict[str, Any]:
    """The preview as the API answers it, with what to send back to apply it."""
    spec, seen, tally = result.spec, result.previewed, result.tally
    current = policies_for(state, spec.basis).get(spec.country)
    return {
        "previewId": preview_id(spec, seen),
        "asOfSeq": result.as_of_seq,
        "applicable": not tally.unpriced,
        "warnings": _warnings(spec, tally),
        "impact": {
            "customers": seen.customers,
            "accounts": seen.accounts,
            "accountsWithOrders": tally.accounts_with_orders,
            "openOrders": tally.open_orders,
            "pendingWithdrawals": tally.pending_withdrawals,
            "balances": {
                asset: to_str(amount, state.assets[asset])
                for asset, amount in sorted(tally.balances.items())
            },
            "aboveCondition": tally.above_condition,
            "unpricedAssets": sorted(tally.unpriced),
            "unpricedAccounts": dict(sorted(tally.unpriced.items())),
            "sample": [_sampled(s) for s in tally.sample],
        },
        "current": spec_view(state, current.spec) if current is not None else None,
        "apply": {
            "spec": msgspec.to_builtins(spec),
            "preview_id": preview_id(spec, seen),
            "previewed": msgspec.to_builtins(seen),
        },
    }


def _sampled(sample: dict[str, object]) -> dict[str, object]:
    return {
        "customerId": sample["customer_id"],
        "legalName": sample["legal_name"],
        "residence": sample["residence"],
        "nationality": sample["nationality"],
        "accounts": sample["accounts"],
    }
