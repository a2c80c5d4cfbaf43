"""A policy change's impact preview: the request parsed into a PolicySpec, and the engine's
count of whom it names and what they hold (`Service.preview`) rendered for the operator.
"""

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
    HoldingsAbove,
    Impact,
    PolicySpec,
    Rule,
    Tally,
    preview_id,
    spec_problem,
)
from bourse.domain.money import PrecisionError, to_plain, to_raw, to_str
from bourse.view import ReadModel


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


def _choice(value: str, kind: type[Basis] | type[Capability] | type[Access], field: str) -> Any:
    try:
        return kind(value.upper())
    except ValueError:
        allowed = ", ".join(kind)
        raise bad_request(f"{field} {value!r} is not one of {allowed}") from None


def basis_of(value: str, field: str = "basis") -> Basis:
    basis: Basis = _choice(value, Basis, field)
    return basis


def spec_from(view: ReadModel, body: Any, now_ms: int) -> PolicySpec:
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
            condition = _condition(view, rule.condition, f"{where}.condition")
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


def _condition(view: ReadModel, cond: ConditionBody, where: str) -> HoldingsAbove:
    precision = view.assets.get(cond.asset)
    if precision is None:
        raise bad_request(f"{where}.asset {cond.asset!r} does not exist")
    try:
        limit_raw = to_raw(cond.limit, precision, what=f"{where}.limit")
    except PrecisionError as exc:
        raise bad_request(str(exc)) from None
    for i, e in enumerate(cond.excluded):
        if e.asset not in view.assets:
            raise bad_request(f"{where}.excluded[{i}].asset {e.asset!r} does not exist")
    excluded = tuple(Exclusion(asset=e.asset, reason=e.reason) for e in cond.excluded)
    return HoldingsAbove(asset=cond.asset, limit_raw=limit_raw, excluded=excluded)


def _warnings(spec: PolicySpec, tally: Tally) -> list[str]:
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


def spec_view(view: ReadModel, spec: PolicySpec | None) -> dict[str, Any] | None:
    """A spec as JSON for people: each condition also gives its `limit` as a decimal. (What is
    sent back to apply a change is the spec itself, `apply.spec`.)"""
    if spec is None:
        return None
    shown: dict[str, Any] = msgspec.to_builtins(spec)
    for rule in shown["rules"]:
        cond = rule.get("condition")
        if cond is not None:
            cond["limit"] = to_plain(cond["limit_raw"], view.assets.get(cond["asset"], 0))
    return shown


def rendered(view: ReadModel, result: Impact) -> dict[str, Any]:
    """The preview as the API answers it, with what to send back to apply it."""
    spec, seen, tally = result.spec, result.previewed, result.tally
    current = view.policies(spec.basis).get(spec.country)
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
                asset: to_str(amount, view.assets[asset])
                for asset, amount in sorted(tally.balances.items())
            },
            "aboveCondition": tally.above_condition,
            "unpricedAssets": sorted(tally.unpriced),
            "unpricedAccounts": dict(sorted(tally.unpriced.items())),
            "sample": [_sampled(s) for s in tally.sample],
        },
        "current": spec_view(view, current.spec) if current is not None else None,
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
