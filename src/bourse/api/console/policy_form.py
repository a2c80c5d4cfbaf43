"""The jurisdiction policy form: a policy's fields as people fill them (a select per
capability, an exit deadline in UTC), read back into a PolicySpec with a message next to each
field that is wrong, and the preview an apply form cites."""

from datetime import UTC, datetime
from typing import Any

import msgspec

from bourse.api.admin.compliance import utc_ms
from bourse.api.admin.errors import AdminError
from bourse.api.admin.scope import reader_scope, scope_countries
from bourse.api.console.web import (
    Forbidden,
    Officer,
)
from bourse.compliance.countries import country_problem
from bourse.compliance.policy import (
    Access,
    Basis,
    Capability,
    Fingerprint,
    PolicySpec,
    Rule,
    spec_problem,
)
from bourse.view import ReadModel

NAME_MAX = 120  # spec_problem's limit on a policy's name
CAPABILITIES = tuple(Capability)
ACCESS_LABELS = {
    Access.OPEN: "Open",
    Access.SUSPENDED: "Suspended",
    Access.WITHDRAW_ONLY: "Withdraw only (exit window)",
    Access.CLOSED: "Closed",
}
_MINUTE = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


def label(value: str) -> str:
    """An enum value as people read it: "CRYPTO_DEPOSIT" → "Crypto deposit"."""
    return value.replace("_", " ").capitalize()


def rules_text(rules: list[dict[str, Any]]) -> str:
    """A policy's rules (as `spec_view` or `policy_history` give them) in one sentence: what is
    not open, and how, with any holdings condition's limit."""
    parts = []
    for rule in rules:
        if rule["access"] == Access.OPEN:
            continue
        text = f"{label(rule['capability'])} {label(rule['access']).lower()}"
        cond = rule.get("condition")
        if cond:
            text += f" above holdings of {cond['limit']} {cond['asset']}"
        parts.append(text)
    return "; ".join(parts) or "all open (restores the country)"


def capability_rows(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every capability with its access under these rules (a capability not named is open)."""
    named = {r["capability"]: r for r in rules}
    rows = []
    for cap in CAPABILITIES:
        rule = named.get(cap.value)
        access = Access(rule["access"]) if rule else Access.OPEN
        cond = rule.get("condition") if rule else None
        rows.append(
            {
                "capability": label(cap.value),
                "access": ACCESS_LABELS[access],
                "open": access is Access.OPEN,
                "condition": f"holdings above {cond['limit']} {cond['asset']}" if cond else "",
            }
        )
    return rows


def minute_text(ms: int) -> str:
    """A time as a datetime-local field shows it (UTC, to the minute); "" for none."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime(_MINUTE) if ms else ""


def blank_values(basis: Basis, country: str) -> dict[str, Any]:
    return {
        "country": country,
        "basis": basis.value,
        "name": "",
        "deadline": "",
        "access": {cap.value: Access.OPEN.value for cap in CAPABILITIES},
        "conditions": [],
    }


def values_of(spec: PolicySpec) -> dict[str, Any]:
    """The form's fields as `spec` fills them (its conditions are listed: the form sets none)."""
    return {
        "country": spec.country,
        "basis": spec.basis.value,
        "name": spec.name,
        "deadline": minute_text(spec.deadline_ms),
        "access": {cap.value: spec.access(cap).value for cap in CAPABILITIES},
        "conditions": [label(r.capability.value) for r in spec.rules if r.condition is not None],
    }


def parsed_form(
    view: ReadModel, who: Officer, fields: dict[str, str], now_ms: int
) -> tuple[dict[str, Any], PolicySpec | None, dict[str, str]]:
    """The form's values, the spec they describe (None if any is wrong), and what is wrong with
    each field, in words for the person who filled it."""
    errors: dict[str, str] = {}
    country = fields.get("country", "").strip().upper()
    name = fields.get("name", "").strip()
    deadline_text = fields.get("deadline", "").strip()
    basis_text = fields.get("basis", "")
    chosen = {cap.value: fields.get(f"cap_{cap.value}", "") for cap in CAPABILITIES}
    values: dict[str, Any] = {
        "country": country,
        "basis": basis_text,
        "name": name,
        "deadline": deadline_text,
        "access": chosen,
        "conditions": [],
    }
    problem = country_problem(country)
    if not country:
        errors["country"] = "enter the country's ISO 3166-1 alpha-2 code, such as RU"
    elif problem:
        errors["country"] = problem
    else:
        countries = visible_countries(view, who)
        if countries is not None and country not in countries:
            errors["country"] = f"{country} is outside your scope ({', '.join(sorted(countries))})"
    try:
        basis = Basis(basis_text)
    except ValueError:
        errors["basis"] = "choose residence or nationality"
    if not name:
        errors["name"] = "give the policy a name: refusals quote it to customers"
    elif len(name) > NAME_MAX:
        errors["name"] = f"at most {NAME_MAX} characters, not {len(name)}"
    rules = []
    for cap in CAPABILITIES:
        try:
            access = Access(chosen[cap.value])
        except ValueError:
            errors[f"cap_{cap.value}"] = "choose open, suspended, withdraw only or closed"
            continue
        if access is not Access.OPEN:
            rules.append(Rule(capability=cap, access=access))
    deadline_ms = 0
    if deadline_text:
        try:
            deadline_ms = utc_ms(deadline_text, "the deadline")
        except AdminError as exc:
            errors["deadline"] = admin_message(exc)
        else:
            if deadline_ms <= now_ms:
                errors["deadline"] = "the deadline is in the past: choose a time to come"
    if errors:
        return values, None, errors
    spec = PolicySpec(
        name=name, country=country, basis=basis, rules=tuple(rules), deadline_ms=deadline_ms
    )
    problem = spec_problem(spec, now_ms)
    if problem:
        errors["deadline" if "deadline" in problem else "form"] = problem
        return values, None, errors
    current = view.policies(basis).get(country)
    before = current.spec if current is not None else PolicySpec(name="", country=country)
    if same_rules(before, spec):
        errors["capabilities"] = (
            "no capability changed: "
            + (
                f"this is the policy in force ('{before.name}')"
                if current is not None
                else f"every capability is open in {country} already"
            )
            + "; change at least one"
        )
        return values, None, errors
    return values, spec, errors


def same_rules(a: PolicySpec, b: PolicySpec) -> bool:
    """Whether two specs give every capability the same access (and condition) and deadline."""
    rules_a = {r.capability: r for r in a.rules if r.access is not Access.OPEN}
    rules_b = {r.capability: r for r in b.rules if r.access is not Access.OPEN}
    return rules_a == rules_b and a.deadline_ms == b.deadline_ms


def cited_preview(fields: dict[str, str]) -> tuple[PolicySpec, str, Fingerprint]:
    """The preview the apply form cites: its spec, id and whom it counted."""
    try:
        spec = msgspec.json.decode(fields.get("spec", ""), type=PolicySpec)
        previewed = msgspec.json.decode(fields.get("previewed", ""), type=Fingerprint)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise Forbidden(
            "this form does not carry a preview the console made: preview the change again"
        ) from None
    return spec, fields.get("preview_id", ""), previewed


def visible_countries(view: ReadModel, who: Officer) -> frozenset[str] | None:
    """The countries whose policies `who` reads: None for everyone's (an unscoped role), else
    their scope's countries and those its venues serve."""
    return scope_countries(view, reader_scope(view, who.actor))


def admin_message(exc: AdminError) -> str:
    """What the admin API's helpers said, as a sentence for the form."""
    detail = exc.detail
    return str(detail.get("message", detail)) if isinstance(detail, dict) else str(detail)
