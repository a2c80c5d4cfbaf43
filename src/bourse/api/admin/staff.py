"""Staff routes of the admin API: who works here, in which role and scope, and their tokens.

Every change is an engine command stamped with the staff member who made it and their reason;
the engine decides whether their role allows it (a staff member never changes their own role).
A token is drawn here, shown once in the answer, and journaled only as its SHA-256.
"""

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from bourse.api.admin.compliance import (
    REASON_MAX,
    REASON_PATTERN,
    Reason,
    answered,
    body_doc,
    parse,
)
from bourse.api.admin.errors import bad_request
from bourse.api.admin.four_eyes import execute_or_propose
from bourse.api.binance.replies import ok
from bourse.api.deps import OperatorDep, ServiceDep
from bourse.commands import (
    AddStaff,
    AssignWork,
    ChangeStaff,
    OffboardMany,
    OffboardStaff,
    RevokeStaffToken,
)
from bourse.compliance.handover import Handover
from bourse.compliance.staff import ROLES, SETUP_LINK_DAYS_MAX, Role, TokenKind
from bourse.keys.staff_tokens import (
    DEFAULT_TOKEN_DAYS,
    SETUP_LINK_DAYS,
    issue,
    setup_link,
)
from bourse.view.model import StaffView

router = APIRouter(prefix="/admin/v1", tags=["staff"])
Days = Annotated[int, msgspec.Meta(ge=1, le=366)]


class StaffBody(msgspec.Struct, forbid_unknown_fields=True):
    role: Role
    reason: Reason
    venues: list[str] = []
    countries: list[str] = []
    team: str = ""


class NewStaffBody(StaffBody, forbid_unknown_fields=True):
    name: str = ""


class TokenBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    days: Days = DEFAULT_TOKEN_DAYS


class ReasonBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class OffboardBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    reason: Reason
    reassign_to: str = ""  # a colleague's name, or "team:NAME"; default: their team's queue


class GroupBody(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    names: list[str]
    reassign_to: str = ""


class GroupOffboardBody(GroupBody, forbid_unknown_fields=True, rename="camel", kw_only=True):
    preview_id: str
    reason: Reason


class AssignBody(msgspec.Struct, forbid_unknown_fields=True):
    item: str
    owner: str
    reason: Reason


def staff_json(member: StaffView) -> dict[str, Any]:
    spec = ROLES[member.role]
    return {
        "name": member.name,
        "role": member.role.value,
        "roleTitle": spec.title,
        "venues": list(member.venues),
        "countries": list(member.countries),
        "team": member.team,
        "active": member.active,
        "consoleLogin": bool(member.password_hash),
        "tokens": [
            {
                "tokenId": t.token_id,
                "kind": t.kind.value,
                "issuedMs": t.issued_ms,
                "expiresMs": t.expires_ms,
            }
            for t in sorted(member.tokens.values(), key=lambda t: t.issued_ms)
        ],
    }


def staff_fields(body: StaffBody) -> dict[str, Any]:
    """A role, scope and team as AddStaff and ChangeStaff take them (codes upper-cased)."""
    return {
        "role": body.role,
        "venues": tuple(v.strip().upper() for v in body.venues),
        "countries": tuple(c.strip().upper() for c in body.countries),
        "team": body.team,
        "reason": body.reason,
    }


@router.get(
    "/staff",
    summary="List staff",
    description="Every staff member, active or offboarded (past actions stay theirs), with "
    "their role, scope, team and live tokens (ids and expiry, never the tokens). `roles` is "
    "the table of what each role may do.",
)
async def list_staff(service: ServiceDep, actor: OperatorDep) -> Response:
    staff = sorted(service.view.staff.values(), key=lambda m: m.name)
    roles = {
        role.value: {
            "title": spec.title,
            "summary": spec.summary,
            "scoped": spec.scoped,
            "commands": sorted(spec.commands),
            "reads": sorted(r.value for r in spec.reads),
        }
        for role, spec in ROLES.items()
    }
    return ok({"staff": [staff_json(m) for m in staff], "roles": roles})


@router.post(
    "/staff",
    summary="Add a staff member",
    description="A new staff member in a role. A regional manager or an auditor acts within "
    "a scope: the venues and/or countries (ISO 3166-1 alpha-2) named. No token is issued: "
    "issue one with POST /staff/{name}/tokens.",
)
async def add_staff(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {
            "name": "aigerim",
            "role": "regional_manager",
            "venues": ["KZ"],
            "countries": ["KZ"],
            "team": "kz-compliance",
            "reason": "hired as regional manager, HR ticket 4411",
        },
        NewStaffBody,
    ),
) -> Response:
    req = parse(body, NewStaffBody)
    if not req.name:
        raise bad_request("name: a staff member needs a name")
    cmd = AddStaff(name=req.name, actor=actor, ts_ms=service.clock(), **staff_fields(req))
    return await execute_or_propose(
        service, cmd, lambda _: staff_json(service.view.staff[req.name])
    )


@router.put(
    "/staff/{name}",
    summary="Change a staff member's role, scope and team",
    description="All of them, as they are to be. Nobody changes their own.",
)
async def change_staff(
    service: ServiceDep,
    actor: OperatorDep,
    name: str,
    body: dict[str, Any] = body_doc(
        {"role": "compliance_officer", "reason": "promoted, HR ticket 4502"}, StaffBody
    ),
) -> Response:
    req = parse(body, StaffBody)
    cmd = ChangeStaff(name=name, actor=actor, ts_ms=service.clock(), **staff_fields(req))
    return await execute_or_propose(service, cmd, lambda _: staff_json(service.view.staff[name]))


@router.post(
    "/staff/{name}/tokens",
    summary="Issue an API token",
    description="A new token for the staff member, valid for `days` (1 to 366, default 90). "
    "The answer is the only time the token is shown: the exchange keeps its SHA-256 only.",
)
async def issue_token(
    service: ServiceDep,
    actor: OperatorDep,
    name: str,
    body: dict[str, Any] = body_doc({"days": 30, "reason": "new laptop"}, TokenBody),
) -> Response:
    req = parse(body, TokenBody)
    cmd, token = issue(name, req.days, actor=actor, reason=req.reason, ts_ms=service.clock())
    outcome = await service.execute(cmd)
    return answered(
        outcome,
        lambda _: {
            "name": name,
            "tokenId": cmd.token_id,
            "token": token,
            "expiresMs": cmd.expires_ms,
        },
    )


class SetupLinkBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    days: Annotated[int, msgspec.Meta(ge=1, le=SETUP_LINK_DAYS_MAX)] = SETUP_LINK_DAYS


@router.post(
    "/staff/{name}/setup-link",
    summary="Issue a one-time console setup link",
    description="A link (valid `days`, 1 to 7, default 3) where the person chooses their "
    "console password and second factor (TOTP) themselves: nobody else ever sees either. "
    "Using it replaces any earlier console login of theirs and ends its sessions. Shown once; "
    "the exchange keeps its SHA-256 only.",
)
async def issue_setup_link(
    request: Request,
    service: ServiceDep,
    actor: OperatorDep,
    name: str,
    body: dict[str, Any] = body_doc({"reason": "joined the KZ team"}, SetupLinkBody),
) -> Response:
    req = parse(body, SetupLinkBody)
    now = service.clock()
    cmd, token = issue(
        name, req.days, actor=actor, reason=req.reason, ts_ms=now, kind=TokenKind.SETUP
    )
    link = setup_link(str(request.base_url), token)
    outcome = await service.execute(cmd)
    return answered(
        outcome,
        lambda _: {
            "name": name,
            "tokenId": cmd.token_id,
            "link": link,
            "expiresMs": cmd.expires_ms,
        },
    )


@router.delete(
    "/staff/{name}/tokens/{token_id}",
    summary="Revoke an API token",
    description="The token stops working at once, in every gateway process.",
)
async def revoke_token(
    service: ServiceDep,
    actor: OperatorDep,
    name: str,
    token_id: str,
    reason: str = Query(min_length=1, max_length=REASON_MAX, pattern=REASON_PATTERN),
) -> Response:
    cmd = RevokeStaffToken(
        name=name, token_id=token_id, reason=reason, actor=actor, ts_ms=service.clock()
    )
    return await execute_or_propose(service, cmd, lambda _: {"name": name, "revoked": token_id})


@router.post(
    "/staff/{name}/offboard",
    summary="Offboard a staff member",
    description="Ends their access at once: every token stops working, in every gateway "
    "process, and what they proposed is withdrawn. What they own (alerts, proposals to decide, "
    "scheduled changes) moves to `reassignTo` (a colleague, or `team:NAME`), else to their "
    "team's queue; refused, naming the items, if anything would be left with no one entitled "
    "to decide it. They stay in the list, inactive, so their past actions stay attributed.",
)
async def offboard(
    service: ServiceDep,
    actor: OperatorDep,
    name: str,
    body: dict[str, Any] = body_doc(
        {"reason": "left the company, HR ticket 5120", "reassignTo": "olena"}, OffboardBody
    ),
) -> Response:
    req = parse(body, OffboardBody)
    cmd = OffboardStaff(
        name=name,
        reassign_to=req.reassign_to,
        reason=req.reason,
        actor=actor,
        ts_ms=service.clock(),
    )
    return await execute_or_propose(service, cmd, lambda _: staff_json(service.view.staff[name]))


@router.post(
    "/assignments",
    summary="Give open work to someone",
    description="`item`: `alert:ID`, `proposal:ID` or `schedule:ID`; `owner`: `staff:NAME` or "
    "`team:NAME`, who must be able to decide it. An assigned proposal is decided by its owner.",
)
async def assign(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {"item": "alert:12", "owner": "staff:olena", "reason": "KZ desk"}, AssignBody
    ),
) -> Response:
    req = parse(body, AssignBody)
    cmd = AssignWork(
        item=req.item, owner=req.owner, reason=req.reason, actor=actor, ts_ms=service.clock()
    )
    return answered(
        await service.execute(cmd), lambda o: {"item": req.item, "owner": req.owner, "seq": o.seq}
    )


def handover_json(handover: Handover) -> dict[str, Any]:
    return {
        "previewId": handover.digest(),
        "names": list(handover.names),
        "tokensEnded": [{"name": n, "tokenId": t} for n, t in handover.tokens],
        "proposalsWithdrawn": list(handover.withdrawn),
        "moves": [{"item": item, "to": owner} for item, owner in handover.moves],
        "stranded": [{"item": item, "to": owner} for item, owner in handover.stranded],
        "orphaned": list(handover.orphaned),
        "problem": handover.problem,
        "refused": (refusal := handover.refusal) is not None,
        "why": refusal.reason if refusal is not None else "",
    }


@router.post(
    "/staff/offboarding/preview",
    summary="Preview offboarding several people at once",
    description="A layoff, a region closed: whose access ends (tokens), which of their "
    "proposals are withdrawn, what work moves to whom (`reassignTo`, else each one's team "
    "queue), and what would be left with no one entitled to decide it (`stranded`, "
    "`orphaned`: then the offboarding is refused). Changes nothing; the apply cites "
    "`previewId`.",
)
async def preview_offboarding(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {"names": ["ivan", "olena"], "reassignTo": "team:kz"}, GroupBody
    ),
) -> Response:
    req = parse(body, GroupBody)
    if not req.names:
        raise bad_request("names: name at least one person")
    handover = await service.offboarding(tuple(req.names), req.reassign_to)
    return ok(handover_json(handover))


@router.post(
    "/staff/offboarding",
    summary="Offboard several people at once, as previewed",
    description="Cites the preview's `previewId`: refused if offboarding them would now do "
    "anything else (look again), or would leave work with no one to decide it.",
)
async def offboard_many(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {"names": ["ivan", "olena"], "previewId": "1f0c…", "reason": "EE region closed"},
        GroupOffboardBody,
    ),
) -> Response:
    req = parse(body, GroupOffboardBody)
    cmd = OffboardMany(
        names=tuple(req.names),
        reassign_to=req.reassign_to,
        preview_id=req.preview_id,
        reason=req.reason,
        actor=actor,
        ts_ms=service.clock(),
    )
    names = list(req.names)
    return answered(await service.execute(cmd), lambda o: {"offboarded": names, "seq": o.seq})
