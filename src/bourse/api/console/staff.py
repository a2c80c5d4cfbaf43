"""The console's staff section: who works here, in which role and scope, their tokens and
console sessions, and the work each one owns; adding people, changing their role, giving them a
one-time setup link, revoking a token or session, and offboarding one person or several at once
after a preview of what moves to whom.

Every change is the command the admin API's staff routes build (`bourse.api.admin.staff`),
sent as the signed-in person with their reason; the engine checks role, scope and four eyes.
"""

import re
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from bourse.api.admin.staff import StaffBody, handover_json, staff_fields, staff_json
from bourse.api.console.web import (
    PREFIX,
    NotFound,
    Officer,
    OfficerDep,
    Sent,
    form,
    reason_problem,
    redirect,
    render,
    require,
    send,
)
from bourse.api.deps import ServiceDep
from bourse.commands import (
    AddStaff,
    ChangeStaff,
    OffboardMany,
    OffboardStaff,
    RevokeStaffToken,
)
from bourse.compliance.countries import country_problem
from bourse.compliance.handover import Handover
from bourse.compliance.staff import (
    ROLES,
    SETUP_LINK_DAYS_MAX,
    STAFF_PREFIX,
    Read,
    Role,
    StaffError,
    TokenKind,
    check_name,
)
from bourse.domain.rejections import RejectCode
from bourse.events import WorkAssigned
from bourse.keys.staff_tokens import SETUP_LINK_DAYS, issue, setup_link
from bourse.server.service import GatewayService
from bourse.view import ReadModel
from bourse.view.model import StaffView

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SETUP_DAYS_MAX = SETUP_LINK_DAYS_MAX  # what the engine allows a setup link
_SPLIT = re.compile(r"[\s,;]+")


# --- reading --------------------------------------------------------------------------------


def owned_work(view: ReadModel, name: str) -> list[str]:
    """The open work `name` owns: items assigned to "staff:NAME" that are still open (an alert
    undecided, a proposal waiting, a change still scheduled), and the changes they scheduled
    that nobody was assigned (the engine's `open_items` counts those as theirs too)."""
    me = STAFF_PREFIX + name
    items = [item for item, owner in view.owners.items() if owner == me and _open(view, item)]
    for s in view.scheduled.values():
        key = f"schedule:{s.id}"
        if s.actor == me and key not in view.owners:
            items.append(key)
    return sorted(items, key=_item_order)


def _open(view: ReadModel, item: str) -> bool:
    kind, _, ident = item.partition(":")
    if not ident.isdigit():
        return False
    if kind == "alert":
        alert = view.alerts.get(int(ident))
        return alert is not None and not alert.decision
    if kind == "proposal":
        return int(ident) in view.proposals
    return kind == "schedule" and int(ident) in view.scheduled


def _item_order(item: str) -> tuple[str, int]:
    kind, _, ident = item.partition(":")
    return kind, int(ident) if ident.isdigit() else 0


def _member(view: ReadModel, name: str) -> StaffView:
    member = view.staff.get(name)
    if member is None:
        raise NotFound(f"no staff member is named {name!r}")
    return member


def _active(view: ReadModel, name: str) -> StaffView:
    member = _member(view, name)
    if not member.active:
        raise NotFound(f"{name} has left (offboarded): their record is kept, unchanged")
    return member


def _people(view: ReadModel, now_ms: int) -> list[dict[str, Any]]:
    """Every staff member as the admin API lists them, with their live tokens only and the open
    work they own."""
    rows = []
    for member in sorted(view.staff.values(), key=lambda m: m.name):
        row = staff_json(member)
        row["tokens"] = [t for t in row["tokens"] if t["expiresMs"] > now_ms]
        row["work"] = owned_work(view, member.name)
        rows.append(row)
    return rows


@router.get("/staff")
async def staff_page(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.STAFF)
    return _list(request, service, who, {}, 200)


def _list(
    request: Request, service: GatewayService, who: Officer, errors: dict[str, str], status: int
) -> Response:
    people = _people(service.view, service.clock())
    return render(
        request, "staff.html", who, status=status, title="Staff", people=people, errors=errors
    )


# --- adding and changing ----------------------------------------------------------------------


def _listed(text: str) -> list[str]:
    return [part.upper() for part in _SPLIT.split(text.strip()) if part]


def _reason(fields: dict[str, str], errors: dict[str, str]) -> str:
    reason = fields.get("reason", "").strip()
    if problem := reason_problem(reason):
        errors["reason"] = problem
    return reason


def _staff_fields(
    view: ReadModel, fields: dict[str, str], name: str | None
) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    """The add/change form checked field by field: (values to show again, errors by field,
    the command's role/scope/team/reason as the admin API builds them). `name` None: adding."""
    shown = {
        k: fields.get(k, "").strip()
        for k in ("name", "role", "venues", "countries", "team", "reason")
    }
    errors: dict[str, str] = {}
    if name is None:
        try:
            check_name(shown["name"])
        except StaffError as exc:
            errors["name"] = str(exc)
        else:
            existing = view.staff.get(shown["name"])
            if existing is not None:
                left = "" if existing.active else " (who has left: names are not reused)"
                errors["name"] = f"a staff member named {shown['name']!r} exists{left}"
    role: Role | None = None
    try:
        role = Role(shown["role"])
    except ValueError:
        errors["role"] = "choose one of the roles"
    venues, countries = _listed(shown["venues"]), _listed(shown["countries"])
    unknown = [v for v in venues if v not in view.venues]
    if unknown:
        known = ", ".join(sorted(view.venues)) or "none"
        errors["venues"] = f"venue {unknown[0]!r} is not defined (venues: {known})"
    elif len(set(venues)) != len(venues):
        errors["venues"] = "name each venue once"
    problems = [p for c in countries if (p := country_problem(c))]
    if problems:
        errors["countries"] = problems[0]
    elif len(set(countries)) != len(countries):
        errors["countries"] = "name each country once"
    if role is not None and "venues" not in errors and "countries" not in errors:
        spec = ROLES[role]
        if spec.scoped and not (venues or countries):
            errors["venues"] = (
                f"a {spec.title.lower()} acts within a scope: name its venues or countries"
            )
        elif not spec.scoped and (venues or countries):
            where = "venues" if venues else "countries"
            errors[where] = (
                f"a {spec.title.lower()} is not scoped: leave venues and countries empty"
            )
    reason = _reason(fields, errors)
    if errors or role is None:
        return shown, errors, {}
    body = StaffBody(
        role=role, reason=reason, venues=venues, countries=countries, team=shown["team"]
    )
    return shown, errors, staff_fields(body)


def _staff_form(
    request: Request,
    view: ReadModel,
    who: Officer,
    member: StaffView | None,
    shown: dict[str, str],
    errors: dict[str, str],
    status: int,
) -> Response:
    title = "Add a staff member" if member is None else f"Change {member.name}'s role and scope"
    return render(
        request,
        "staff_form.html",
        who,
        status=status,
        title=title,
        member=member,
        form=shown,
        errors=errors,
        role_list=list(Role),
        venues=sorted(view.venues.values(), key=lambda v: v.code),
    )


@router.get("/staff/new")
async def new_staff_page(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.STAFF)
    shown = dict.fromkeys(("name", "venues", "countries", "team", "reason"), "")
    shown["role"] = Role.COMPLIANCE_OFFICER.value
    return _staff_form(request, service.view, who, None, shown, {}, 200)


@router.post("/staff")
async def add_staff(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.STAFF)
    fields = await form(request, who)
    shown, errors, scope = _staff_fields(service.view, fields, None)
    if errors:
        return _staff_form(request, service.view, who, None, shown, errors, 400)
    name = shown["name"]
    cmd = AddStaff(name=name, actor=who.actor, ts_ms=service.clock(), **scope)
    sent = await send(service, cmd)
    if sent.refusal:
        return _staff_form(request, service.view, who, None, shown, {"form": sent.refusal}, 400)
    role = ROLES[cmd.role].title.lower()
    return redirect("/staff", sent.notice(f"{name} is added as a {role}."))


@router.get("/staff/{name}/edit")
async def change_staff_page(
    request: Request, service: ServiceDep, who: OfficerDep, name: str
) -> Response:
    require(who, Read.STAFF)
    member = _active(service.view, name)
    shown = {
        "name": member.name,
        "role": member.role.value,
        "venues": ", ".join(member.venues),
        "countries": ", ".join(member.countries),
        "team": member.team,
        "reason": "",
    }
    return _staff_form(request, service.view, who, member, shown, {}, 200)


@router.post("/staff/{name}/edit")
async def change_staff(
    request: Request, service: ServiceDep, who: OfficerDep, name: str
) -> Response:
    require(who, Read.STAFF)
    member = _active(service.view, name)
    fields = await form(request, who)
    shown, errors, scope = _staff_fields(service.view, fields, member.name)
    shown["name"] = member.name
    if errors:
        return _staff_form(request, service.view, who, member, shown, errors, 400)
    cmd = ChangeStaff(name=member.name, actor=who.actor, ts_ms=service.clock(), **scope)
    sent = await send(service, cmd)
    if sent.refusal:
        return _staff_form(request, service.view, who, member, shown, {"form": sent.refusal}, 400)
    role = ROLES[cmd.role].title.lower()
    return redirect("/staff", sent.notice(f"{member.name} is now a {role}."))


# --- setup links and tokens -------------------------------------------------------------------


def _link_page(
    request: Request,
    who: Officer,
    member: StaffView,
    fields: dict[str, str],
    errors: dict[str, str],
    status: int,
    **shown: Any,
) -> Response:
    response = render(
        request,
        "staff_link.html",
        who,
        status=status,
        title=f"Setup link for {member.name}",
        member=member,
        form=fields,
        errors=errors,
        days_max=SETUP_DAYS_MAX,
        **{"link": "", "expires_ms": 0, **shown},
    )
    response.headers["Cache-Control"] = "no-store"  # the link is shown once: keep no copy
    return response


@router.get("/staff/{name}/setup-link")
async def setup_link_page(
    request: Request, service: ServiceDep, who: OfficerDep, name: str
) -> Response:
    require(who, Read.STAFF)
    member = _active(service.view, name)
    fields = {"reason": "", "days": str(SETUP_LINK_DAYS)}
    return _link_page(request, who, member, fields, {}, 200)


@router.post("/staff/{name}/setup-link")
async def issue_setup_link(
    request: Request, service: ServiceDep, who: OfficerDep, name: str
) -> Response:
    """The admin API's setup link, shown once on the page this answers (not in a notice)."""
    require(who, Read.STAFF)
    member = _active(service.view, name)
    fields = await form(request, who)
    shown = {"reason": fields.get("reason", "").strip(), "days": fields.get("days", "").strip()}
    errors: dict[str, str] = {}
    reason = _reason(fields, errors)
    days = int(shown["days"]) if shown["days"].isdigit() else 0
    if not 1 <= days <= SETUP_DAYS_MAX:
        errors["days"] = f"a whole number of days, 1 to {SETUP_DAYS_MAX}"
    if errors:
        return _link_page(request, who, member, shown, errors, 400)
    now = service.clock()
    kind = TokenKind.SETUP
    cmd, token = issue(member.name, days, actor=who.actor, reason=reason, ts_ms=now, kind=kind)
    sent = Sent(await service.execute(cmd))  # as the admin API: issued, or refused
    if sent.refusal:
        return _link_page(request, who, member, shown, {"form": sent.refusal}, 400)
    link = setup_link(str(request.base_url), token)
    return _link_page(request, who, member, shown, {}, 200, link=link, expires_ms=cmd.expires_ms)


@router.post("/staff/{name}/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request, service: ServiceDep, who: OfficerDep, name: str, token_id: str
) -> Response:
    require(who, Read.STAFF)
    member = _member(service.view, name)
    token = member.tokens.get(token_id)
    if token is None:
        raise NotFound(f"{name} has no token or session {token_id!r} (revoked or ended)")
    fields = await form(request, who)
    errors: dict[str, str] = {}
    reason = _reason(fields, errors)
    if errors:
        return _list(request, service, who, {f"revoke:{token_id}": errors["reason"]}, 400)
    cmd = RevokeStaffToken(
        name=name, token_id=token_id, reason=reason, actor=who.actor, ts_ms=service.clock()
    )
    sent = await send(service, cmd)
    if sent.refusal:
        return _list(request, service, who, {f"revoke:{token_id}": sent.refusal}, 400)
    what = "console session" if token.kind is TokenKind.SESSION else f"{token.kind.value} token"
    return redirect(
        "/staff", sent.notice(f"{name}'s {what} {token_id} is revoked: it stops working at once.")
    )


# --- offboarding --------------------------------------------------------------------------------


def _preview(view: ReadModel, handover: Handover) -> dict[str, Any]:
    """The admin API's preview, with what kind each ended token is (an API token, a console
    session, an unused setup link)."""
    shown = handover_json(handover)
    for ended in shown["tokensEnded"]:
        member = view.staff.get(ended["name"])
        token = None if member is None else member.tokens.get(ended["tokenId"])
        ended["kind"] = "" if token is None else token.kind.value
        ended["expiresMs"] = 0 if token is None else token.expires_ms
    return shown


async def _offboard_page(
    request: Request,
    service: GatewayService,
    who: Officer,
    member: StaffView,
    reassign_to: str,
    reason: str,
    errors: dict[str, str],
    status: int,
) -> Response:
    handover = await service.offboarding((member.name,), reassign_to)
    return render(
        request,
        "staff_offboard.html",
        who,
        status=status,
        title=f"Offboard {member.name}",
        member=member,
        preview=_preview(service.view, handover),
        form={"reassign_to": reassign_to, "reason": reason},
        errors=errors,
    )


@router.get("/staff/{name}/offboard")
async def offboard_page(
    request: Request, service: ServiceDep, who: OfficerDep, name: str
) -> Response:
    require(who, Read.STAFF)
    member = _active(service.view, name)
    reassign_to = request.query_params.get("reassign_to", "").strip()
    return await _offboard_page(request, service, who, member, reassign_to, "", {}, 200)


@router.post("/staff/{name}/offboard")
async def offboard(request: Request, service: ServiceDep, who: OfficerDep, name: str) -> Response:
    """Offboards one person as the preview they confirmed (`preview_id`) said: `OffboardMany`
    of that one name, which the engine refuses (PREVIEW_STALE) if it would now do anything
    else; then they are shown the new preview. Without a preview, `OffboardStaff`, as the admin
    API's single offboarding."""
    require(who, Read.STAFF)
    member = _active(service.view, name)
    fields = await form(request, who)
    reassign_to = fields.get("reassign_to", "").strip()
    errors: dict[str, str] = {}
    reason = _reason(fields, errors)
    if errors:
        return await _offboard_page(request, service, who, member, reassign_to, reason, errors, 400)
    seen = fields.get("preview_id", "")
    common = {"reassign_to": reassign_to, "reason": reason, "actor": who.actor}
    cmd: OffboardMany | OffboardStaff = (
        OffboardMany(names=(member.name,), preview_id=seen, ts_ms=service.clock(), **common)
        if seen
        else OffboardStaff(name=member.name, ts_ms=service.clock(), **common)
    )
    sent = await send(service, cmd)
    if sent.rejected is not None:
        errors["form"] = (
            f"what offboarding {member.name} would do has changed since the preview you saw: "
            "look at it again below, then confirm"
            if sent.rejected.code is RejectCode.PREVIEW_STALE
            else sent.refusal
        )
        return await _offboard_page(request, service, who, member, reassign_to, reason, errors, 400)
    moved = sum(isinstance(e, WorkAssigned) for e in sent.outcome.events)
    done = f"{member.name} is offboarded: their access has ended" + (
        f" and {moved} item(s) of their work moved." if moved else "."
    )
    return redirect("/staff", sent.notice(done))


def _names(text: str) -> list[str]:
    return sorted({part for part in _SPLIT.split(text.strip()) if part})


async def _many_page(
    request: Request,
    service: GatewayService,
    who: Officer,
    names: list[str],
    reassign_to: str,
    reason: str,
    errors: dict[str, str],
    status: int,
) -> Response:
    view = service.view
    preview = None
    if names:
        preview = _preview(view, await service.offboarding(tuple(names), reassign_to))
    active = sorted((m for m in view.staff.values() if m.active), key=lambda m: m.name)
    return render(
        request,
        "staff_offboarding.html",
        who,
        status=status,
        title="Offboard several people",
        people=active,
        chosen=names,
        preview=preview,
        form={"reassign_to": reassign_to, "reason": reason},
        errors=errors,
    )


@router.get("/staff/offboarding")
async def offboard_many_page(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    """Choose who leaves (checkboxes) and where their work goes; with a choice, the preview
    and the form that confirms it."""
    require(who, Read.STAFF)
    names = sorted(set(request.query_params.getlist("leave")))
    reassign_to = request.query_params.get("reassign_to", "").strip()
    errors: dict[str, str] = {}
    unknown = [n for n in names if n not in service.view.staff]
    if unknown:
        errors["leave"] = f"no staff member is named {unknown[0]!r}"
    elif request.query_params.get("look") and not names:
        errors["leave"] = "choose at least one person"
    if errors:
        return await _many_page(request, service, who, [], reassign_to, "", errors, 400)
    return await _many_page(request, service, who, names, reassign_to, "", errors, 200)


@router.post("/staff/offboarding")
async def offboard_many(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    """`OffboardMany` citing the preview id the person confirmed, as the admin API's."""
    require(who, Read.STAFF)
    fields = await form(request, who)
    names = _names(fields.get("names", ""))
    reassign_to = fields.get("reassign_to", "").strip()
    errors: dict[str, str] = {}
    reason = _reason(fields, errors)
    if not names:
        errors["form"] = "choose at least one person, then preview"
    if errors:
        return await _many_page(request, service, who, names, reassign_to, reason, errors, 400)
    cmd = OffboardMany(
        names=tuple(names),
        reassign_to=reassign_to,
        preview_id=fields.get("preview_id", ""),
        reason=reason,
        actor=who.actor,
        ts_ms=service.clock(),
    )
    sent = await send(service, cmd)
    if sent.refusal:
        errors["form"] = sent.refusal
        return await _many_page(request, service, who, names, reassign_to, reason, errors, 400)
    done = (
        f"Offboarded {', '.join(names)}: their access has ended and their work moved as previewed."
    )
    return redirect("/staff", sent.notice(done))
