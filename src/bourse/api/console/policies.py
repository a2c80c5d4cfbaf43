"""The console's jurisdiction policies: what is in force in each country (by residence and by
nationality), the changes scheduled, the history of every change with who made it and why, and
the form that previews a change's impact and then applies, proposes or schedules that preview.

The console reuses the admin API's code for each step: the same impact preview
(`Service.preview`, rendered by `admin.preview.rendered`), the same reversal preview (the admin
route itself), the same commands (`SetJurisdictionPolicy`, `SchedulePolicyChange`,
`CancelScheduledChange`) citing the preview the person was shown, and the same history query
(`store.compliance_queries.policy_history`). The engine checks what matters whatever sent it:
that the spec is the one previewed, that the people it names have not changed since (else
PREVIEW_STALE), the role, the scope and four eyes.
"""

from typing import Any

import msgspec
from fastapi import APIRouter, Request
from starlette.responses import Response

from bourse.api.admin import policies as admin_policies
from bourse.api.admin.compliance import utc_ms
from bourse.api.admin.errors import AdminError
from bourse.api.admin.preview import rendered, spec_view
from bourse.api.admin.scope import reader_scope, sees_customer
from bourse.api.binance.gateway import Gateway
from bourse.api.console.policy_form import (
    ACCESS_LABELS,
    CAPABILITIES,
    admin_message,
    blank_values,
    capability_rows,
    cited_preview,
    label,
    minute_text,
    parsed_form,
    rules_text,
    values_of,
    visible_countries,
)
from bourse.api.console.web import (
    PREFIX,
    Forbidden,
    NotFound,
    Officer,
    OfficerDep,
    form,
    parse_id,
    reason_problem,
    redirect,
    render,
    require,
    send,
)
from bourse.api.deps import ServiceDep
from bourse.commands import CancelScheduledChange, SchedulePolicyChange, SetJurisdictionPolicy
from bourse.compliance.countries import country_name, country_problem
from bourse.compliance.policy import (
    Basis,
    PolicySpec,
)
from bourse.compliance.staff import Read, four_eyed
from bourse.server.service import GatewayService
from bourse.store import compliance_queries
from bourse.view import ReadModel

router = APIRouter(prefix=PREFIX, include_in_schema=False)
PAGE = 25  # history rows per page
# --- who sees which countries -----------------------------------------------------------------


def _check_sees(view: ReadModel, who: Officer, country: str) -> None:
    countries = visible_countries(view, who)
    if countries is not None and country not in countries:
        scope = ", ".join(sorted(countries)) or "no country"
        raise Forbidden(f"{who.name} reads the policies of {scope} only, and not of {country}")


def _basis_in_path(text: str) -> Basis:
    try:
        return Basis(text.upper())
    except ValueError:
        raise NotFound(f"{text!r} is not a basis of a policy: residence or nationality") from None


def _country_in_path(text: str) -> str:
    if country_problem(text):
        raise NotFound(f"{text!r} is not an ISO 3166-1 alpha-2 country code (such as KZ or DE)")
    return text


def _page_in_query(request: Request) -> int:
    text = request.query_params.get("page", "1")
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise NotFound(f"page {text!r} is not a page number")
    return int(text)


def _link_basis(basis: str | Basis) -> str:
    return str(basis).lower()


# --- the policies in force, scheduled changes and history ---------------------------------------


def _in_force(view: ReadModel, countries: frozenset[str] | None) -> list[dict[str, Any]]:
    rows = []
    for basis in Basis:
        for country, p in sorted(view.policies(basis).items()):
            if countries is not None and country not in countries:
                continue
            shown = spec_view(view, p.spec) or {}
            rows.append(
                {
                    "country": country,
                    "country_name": country_name(country),
                    "basis": _link_basis(basis),
                    "name": p.spec.name,
                    "rules": rules_text(shown["rules"]),
                    "deadline_ms": p.spec.deadline_ms,
                    "actor": p.actor,
                    "reason": p.reason,
                    "applied_ms": p.applied_ms,
                    "change_id": p.change_id,
                }
            )
    return rows


def _scheduled(
    view: ReadModel, countries: frozenset[str] | None, only: tuple[Basis, str] | None = None
) -> list[dict[str, Any]]:
    rows = []
    for s in sorted(view.scheduled.values(), key=lambda s: (s.effective_ms, s.id)):
        if countries is not None and s.spec.country not in countries:
            continue
        if only is not None and (s.spec.basis, s.spec.country) != only:
            continue
        shown = spec_view(view, s.spec) or {}
        rows.append(
            {
                "id": s.id,
                "effective_ms": s.effective_ms,
                "country": s.spec.country,
                "basis": _link_basis(s.spec.basis),
                "name": s.spec.name,
                "rules": rules_text(shown["rules"]),
                "deadline_ms": s.spec.deadline_ms,
                "actor": s.actor,
                "reason": s.reason,
                "preview_id": s.preview_id,
                "previewed": s.previewed,
            }
        )
    return rows


async def _history(
    request: Request,
    countries: frozenset[str] | None,
    page: int,
    only: tuple[Basis, str] | None = None,
) -> tuple[list[dict[str, Any]], bool, bool]:
    """One page of policy changes, newest first; whether an older page follows; whether older
    changes exist beyond what the console lists (`policy_history` reads the newest MAX_LIMIT).

    `policy_history` reads newest first up to a limit: this reads the rows up to the end of the
    page (one more, to know whether more follow) and shows the page's."""
    gw: Gateway = request.app.state.gateway
    wanted = min(page * PAGE + 1, compliance_queries.MAX_LIMIT)
    if only is not None:  # one country and basis: every change of the country, then its basis
        basis, country = only
        rows = await gw.read(
            compliance_queries.policy_history, country, limit=compliance_queries.MAX_LIMIT
        )
        rows = [r for r in rows if r["basis"] == basis.value]
    elif countries is None:
        rows = await gw.read(compliance_queries.policy_history, limit=wanted)
    else:  # a scope's countries: each one's newest, merged
        rows = []
        for country in sorted(countries):
            rows += await gw.read(compliance_queries.policy_history, country, limit=wanted)
        rows.sort(key=lambda r: r["changeId"], reverse=True)
    start = (page - 1) * PAGE
    shown = [
        {
            **r,
            "basis_link": _link_basis(r["basis"]),
            "rules": rules_text(r["spec"]["rules"]),
            "before": rules_text(r["previous"]["rules"]) if r["previous"] else "no policy",
        }
        for r in rows[start : start + PAGE]
    ]
    older = len(rows) > start + PAGE
    capped = not older and len(rows) >= compliance_queries.MAX_LIMIT
    return shown, older, capped


@router.get("/policies")
async def policies(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.COMPLIANCE)
    view = service.view
    page = _page_in_query(request)
    countries = visible_countries(view, who)
    history, older, capped = await _history(request, countries, page)
    # a policy change's batched work (canceling orders, a closure report) still running; it
    # names no country, so only an unscoped reader sees it
    sweeps = sorted(view.sweeps.values(), key=lambda s: s.id) if countries is None else []
    return render(
        request,
        "policies.html",
        who,
        title="Jurisdiction policies",
        in_force=_in_force(view, countries),
        scheduled=_scheduled(view, countries),
        history=history,
        page=page,
        older=older,
        capped=capped,
        history_cap=compliance_queries.MAX_LIMIT,
        sweeps=sweeps,
        countries=None if countries is None else sorted(countries),
    )


@router.get("/policies/edit")
async def edit(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    """The form: blank for a new policy, or the policy in force of `basis` and `country`."""
    require(who, Read.COMPLIANCE)
    view = service.view
    basis_text = request.query_params.get("basis", "residence")
    basis = _basis_in_path(basis_text)
    country = request.query_params.get("country", "").strip().upper()
    values = blank_values(basis, country)
    if country:
        _country_in_path(country)
        _check_sees(view, who, country)
        current = view.policies(basis).get(country)
        if current is not None:
            values = values_of(current.spec)
    return _edit_page(request, service, who, values, {})


async def _country_page(
    request: Request,
    service: GatewayService,
    who: Officer,
    basis_text: str,
    country_text: str,
    errors: dict[str, str],
) -> Response:
    view = service.view
    basis, country = _basis_in_path(basis_text), _country_in_path(country_text)
    _check_sees(view, who, country)
    page = _page_in_query(request)
    policy = view.policies(basis).get(country)
    in_force = None
    if policy is not None:
        shown = spec_view(view, policy.spec) or {}
        before = spec_view(view, policy.previous)
        in_force = {
            "spec": policy.spec,
            "capabilities": capability_rows(shown["rules"]),
            "change_id": policy.change_id,
            "applied_ms": policy.applied_ms,
            "actor": policy.actor,
            "reason": policy.reason,
            "previous": None
            if before is None
            else {"name": before["name"], "rules": rules_text(before["rules"])},
        }
    history, older, capped = await _history(request, None, page, (basis, country))
    return render(
        request,
        "policies_country.html",
        who,
        status=400 if errors else 200,
        title=f"{country} {basis.value.lower()} policy",
        basis=_link_basis(basis),
        country=country,
        country_name=country_name(country),
        in_force=in_force,
        scheduled=_scheduled(view, None, (basis, country)),
        history=history,
        page=page,
        older=older,
        capped=capped,
        history_cap=compliance_queries.MAX_LIMIT,
        errors=errors,
    )


# --- the form: preview, then apply, propose or schedule the preview -------------------------------


def _edit_page(
    request: Request,
    service: GatewayService,
    who: Officer,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    shown: dict[str, Any] | None = None,
    entered: dict[str, str] | None = None,
    reversal: bool = False,
) -> Response:
    """The form, and beside it the preview `shown` (what `rendered` answers) with the form that
    applies, proposes or schedules it."""
    view = service.view
    context: dict[str, Any] = {}
    if shown is not None:
        scope = reader_scope(view, who.actor)
        sample = shown["impact"]["sample"]
        visible = [s for s in sample if sees_customer(view, scope, s["customerId"])]
        applied = shown["apply"]
        spec = applied["spec"]
        current = shown["current"]
        context["preview"] = {
            "id": applied["preview_id"],
            "as_of_seq": shown["asOfSeq"],
            "impact": shown["impact"],
            "warnings": shown["warnings"],
            "applicable": shown["applicable"],
            "sample": visible,
            "hidden_sample": len(sample) - len(visible),
            "name": spec["name"],
            "country": spec["country"],
            "basis": spec["basis"],
            "rules": rules_text(spec["rules"]),
            "deadline_ms": spec["deadline_ms"],
            "current": "no policy (all open)" if current is None else rules_text(current["rules"]),
            "spec_json": msgspec.json.encode(spec).decode(),
            "previewed_json": msgspec.json.encode(applied["previewed"]).decode(),
        }
    title = "Reverse a jurisdiction policy" if reversal else "Change a jurisdiction policy"
    return render(
        request,
        "policies_edit.html",
        who,
        status=400 if errors else 200,
        title=title,
        values=values,
        errors=errors,
        entered=entered or {"reason": "", "effective": "", "action": "apply"},
        capabilities=[(cap.value, label(cap.value)) for cap in CAPABILITIES],
        access_labels=[(a.value, text) for a, text in ACCESS_LABELS.items()],
        bases=[(b.value, label(b.value)) for b in Basis],
        reversal=reversal,
        may_apply=who.may("SetJurisdictionPolicy"),
        may_schedule=who.may("SchedulePolicyChange"),
        proposes_apply=four_eyed(view.four_eyes, "SetJurisdictionPolicy", who.actor),
        proposes_schedule=four_eyed(view.four_eyes, "SchedulePolicyChange", who.actor),
        **context,
    )


@router.post("/policies/preview")
async def preview(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    """The change the form describes, previewed: whom it names and what they hold."""
    require(who, Read.COMPLIANCE)
    fields = await form(request, who)
    values, spec, errors = parsed_form(service.view, who, fields, service.clock())
    if spec is None:
        return _edit_page(request, service, who, values, errors)
    shown = rendered(service.view, await service.preview(spec))
    return _edit_page(request, service, who, values, {}, shown=shown)


@router.post("/policies/apply")
async def apply(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    """Apply (or, under four eyes, propose) the previewed change, or schedule it
    (`action=schedule`, with the `effective` time), citing the preview's id: the engine
    refuses it if it is not the change previewed or the people it names changed since."""
    require(who, Read.COMPLIANCE)
    view = service.view
    fields = await form(request, who)
    spec, cited, previewed = cited_preview(fields)
    _check_sees(view, who, spec.country)
    reason = fields.get("reason", "").strip()
    effective_text = fields.get("effective", "").strip()
    action = fields.get("action", "")
    schedule = action == "schedule"
    entered = {"reason": reason, "effective": effective_text, "action": action}
    now = service.clock()
    errors: dict[str, str] = {}
    if action not in ("apply", "schedule"):
        errors["action"] = "choose to apply it now or to schedule it"
    if problem := reason_problem(reason):
        errors["reason"] = problem
    effective_ms = 0
    if schedule:
        if not effective_text:
            errors["effective"] = "choose when the change takes effect (UTC)"
        else:
            try:
                effective_ms = utc_ms(effective_text, "the effective time")
            except AdminError as exc:
                errors["effective"] = admin_message(exc)
            else:
                if effective_ms <= now:
                    errors["effective"] = "the effective time is in the past: choose one to come"
    cmd: SetJurisdictionPolicy | SchedulePolicyChange
    if not errors:
        if schedule:
            cmd = SchedulePolicyChange(
                actor=who.actor,
                ts_ms=now,
                reason=reason,
                spec=spec,
                preview_id=cited,
                previewed=previewed,
                effective_ms=effective_ms,
            )
            done = f"Scheduled '{spec.name}' for {minute_text(effective_ms).replace('T', ' ')} UTC."
        else:
            cmd = SetJurisdictionPolicy(
                actor=who.actor,
                ts_ms=now,
                reason=reason,
                spec=spec,
                preview_id=cited,
                previewed=previewed,
            )
            done = f"Applied '{spec.name}' to {spec.country} ({spec.basis.value.lower()})."
        sent = await send(service, cmd)
        if not sent.refusal:
            where = f"/policies/{_link_basis(spec.basis)}/{spec.country}"
            return redirect(where, sent.notice(done))
        errors["form"] = (
            f"Refused: {sent.refusal}. Nothing changed. The impact below is previewed afresh."
        )
    # shown again beside the form, as it stands now (a stale preview is previewed afresh)
    shown = rendered(view, await service.preview(spec))
    reversal = fields.get("reversal") == "1"
    return _edit_page(
        request,
        service,
        who,
        values_of(spec),
        errors,
        shown=shown,
        entered=entered,
        reversal=reversal,
    )


@router.post("/policies/{basis}/{country}/reversal/preview")
async def preview_reversal(
    request: Request, service: ServiceDep, who: OfficerDep, basis: str, country: str
) -> Response:
    """A preview of going back to the policy the one in force replaced (or of restoring the
    country), by the admin API's own route, then applied or proposed as any preview is."""
    require(who, Read.COMPLIANCE)
    await form(request, who)
    parsed, country = _basis_in_path(basis), _country_in_path(country)
    _check_sees(service.view, who, country)
    try:
        answer = await admin_policies.preview_reversal(service, who.actor, parsed.value, country)
    except AdminError as exc:
        errors = {"reversal": admin_message(exc)}
        return await _country_page(request, service, who, basis, country, errors)
    shown = msgspec.json.decode(bytes(answer.body))
    spec = msgspec.convert(shown["apply"]["spec"], PolicySpec)
    return _edit_page(request, service, who, values_of(spec), {}, shown=shown, reversal=True)


# --- a scheduled change, and canceling it ---------------------------------------------------------


def _scheduled_one(view: ReadModel, who: Officer, text: str) -> dict[str, Any]:
    if parse_id(text, "scheduled change") not in view.scheduled:
        raise NotFound(f"scheduled change {text} does not exist (applied or canceled?)")
    row = _scheduled(view, None)
    found = next(r for r in row if r["id"] == int(text))
    _check_sees(view, who, found["country"])
    return found


@router.get("/policies/scheduled/{schedule_id}")
async def scheduled_page(
    request: Request, service: ServiceDep, who: OfficerDep, schedule_id: str
) -> Response:
    require(who, Read.COMPLIANCE)
    found = _scheduled_one(service.view, who, schedule_id)
    return _scheduled_page(request, service, who, found, {}, "")


def _scheduled_page(
    request: Request,
    service: GatewayService,
    who: Officer,
    found: dict[str, Any],
    errors: dict[str, str],
    reason: str,
) -> Response:
    view = service.view
    spec = view.scheduled[found["id"]].spec
    return render(
        request,
        "policies_scheduled.html",
        who,
        status=400 if errors else 200,
        title=f"Scheduled change #{found['id']}",
        s=found,
        capabilities=capability_rows((spec_view(view, spec) or {})["rules"]),
        errors=errors,
        reason=reason,
        may_cancel=who.may("CancelScheduledChange"),
        proposes=four_eyed(view.four_eyes, "CancelScheduledChange", who.actor),
    )


@router.post("/policies/scheduled/{schedule_id}/cancel")
async def cancel_scheduled(
    request: Request, service: ServiceDep, who: OfficerDep, schedule_id: str
) -> Response:
    require(who, Read.COMPLIANCE)
    fields = await form(request, who)
    found = _scheduled_one(service.view, who, schedule_id)
    reason = fields.get("reason", "").strip()
    errors: dict[str, str] = {}
    if problem := reason_problem(reason):
        errors["reason"] = problem
    if not errors:
        cmd = CancelScheduledChange(
            actor=who.actor, ts_ms=service.clock(), reason=reason, schedule_id=found["id"]
        )
        sent = await send(service, cmd)
        if not sent.refusal:
            done = f"Scheduled change #{found['id']} ('{found['name']}') is canceled."
            return redirect("/policies", sent.notice(done))
        errors["form"] = f"Refused: {sent.refusal}"
    return _scheduled_page(request, service, who, found, errors, reason)


# registered last: "/policies/{basis}/{country}" would match the paths above
@router.get("/policies/{basis}/{country}")
async def country_page(
    request: Request, service: ServiceDep, who: OfficerDep, basis: str, country: str
) -> Response:
    require(who, Read.COMPLIANCE)
    return await _country_page(request, service, who, basis, country, {})
