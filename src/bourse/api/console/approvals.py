"""The approvals inbox: what waits for a second person (four eyes), and their decision on it.

A proposal is listed oldest first with what it would run, who proposed it and why, how long it
has waited, when it expires and who owns it. Its page shows the command's fields, the
proposer's evidence, and beside them what it would do, from the read model as it is now (the
account and its customer; the alert's evidence; the policy's preview, counted again; the staff
member's role now and as proposed). The decision cites the digest the page showed
(`ApproveProposal`): the engine refuses it if the world changed since, if it expired, if the
approver proposed it or is not entitled to approve it; the refusal is shown on the page and
nothing changes. Rejecting and withdrawing (the proposer only) need a reason too.
"""

from fastapi import APIRouter, Request
from starlette.responses import Response

from bourse.api.admin.four_eyes import proposal_json, screen_approved
from bourse.api.admin.scope import reader_scope, sees_command
from bourse.api.console.proposal_effects import effect
from bourse.api.console.proposal_summary import fields_of, summary
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
from bourse.commands import (
    ApproveProposal,
    RejectProposal,
    WithdrawProposal,
)
from bourse.compliance.staff import ROLES, Read
from bourse.server.service import GatewayService
from bourse.view.model import ProposalView

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SHOWS = ("all", "mine")
DECISIONS = ("approve", "reject", "withdraw")


# --- who sees and owns what ------------------------------------------------------------------


def holds(who: Officer, owner: str) -> bool:
    """Whether work owned by `owner` ("staff:NAME" or "team:NAME") is `who`'s to decide."""
    team = who.member.team
    return owner == who.actor or (bool(team) and owner == f"team:{team}")


def _visible(service: GatewayService, who: Officer, pid: str) -> ProposalView:
    """The proposal `pid` names, if it is waiting and in the reader's scope."""
    require(who, Read.PROPOSALS)
    view = service.view
    p = view.proposals.get(parse_id(pid, "proposal"))
    if p is None:
        raise NotFound(f"proposal {pid} does not exist or was already decided")
    if not sees_command(view, reader_scope(view, who.actor), p.command):
        raise Forbidden(f"proposal {p.id} concerns what is outside your scope")
    return p


# --- pages -----------------------------------------------------------------------------------


@router.get("/approvals")
async def inbox(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.PROPOSALS)
    view, now = service.view, service.clock()
    show = request.query_params.get("show", "all")
    show = show if show in SHOWS else "all"
    scope = reader_scope(view, who.actor)
    rows = []
    for p in sorted(view.proposals.values(), key=lambda p: (p.proposed_ms, p.id)):
        if not sees_command(view, scope, p.command):
            continue
        owner = view.owners.get(f"proposal:{p.id}", "")
        rows.append(
            {
                **proposal_json(p, now, owner),
                "summary": summary(view, p.command),
                "proposed_ms": p.proposed_ms,
                "mine": holds(who, owner),
            }
        )
    mine = [r for r in rows if r["mine"]]
    return render(
        request,
        "approvals.html",
        who,
        title="Approvals",
        show=show,
        rows=mine if show == "mine" else rows,
        counts={"all": len(rows), "mine": len(mine)},
        four_eyes=sorted(view.four_eyes),
    )


async def _page(
    request: Request,
    service: GatewayService,
    who: Officer,
    p: ProposalView,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    reason: str = "",
) -> Response:
    view, now = service.view, service.clock()
    owner = view.owners.get(f"proposal:{p.id}", "")
    proposal = proposal_json(p, now, owner)
    what = proposal["type"]
    own = p.proposer == who.actor
    assigned_elsewhere = bool(owner) and not holds(who, owner)
    decides = who.approves(what) and not own and not assigned_elsewhere
    actions = {
        "approve": decides and not proposal["expired"],
        "reject": decides,
        "withdraw": own,
    }
    if own:
        why_not = "You proposed it: a second person decides it; you may withdraw it."
    elif not who.approves(what):
        title = ROLES[who.member.role].title.lower()
        why_not = f"A {title} does not approve {what}: an entitled colleague decides it."
    elif assigned_elsewhere:
        why_not = f"It is assigned to {owner}: only they decide it."
    elif proposal["expired"]:
        why_not = "It has expired: it can only be rejected (or withdrawn by its proposer)."
    else:
        why_not = ""
    return render(
        request,
        "approvals_proposal.html",
        who,
        status=status,
        title=f"Proposal {p.id}",
        p=proposal,
        proposed_ms=p.proposed_ms,
        summary=summary(view, p.command),
        fields=fields_of(view, proposal),
        effect=await effect(service, p.command),
        actions=actions,
        why_not=why_not,
        errors=errors or {},
        reason=reason,
    )


@router.get("/approvals/{proposal_id}")
async def proposal_page(
    request: Request, service: ServiceDep, who: OfficerDep, proposal_id: str
) -> Response:
    p = _visible(service, who, proposal_id)
    return await _page(request, service, who, p)


@router.post("/approvals/{proposal_id}")
async def decide(
    request: Request, service: ServiceDep, who: OfficerDep, proposal_id: str
) -> Response:
    """Approve (citing the digest the page showed), reject or withdraw, with a reason."""
    p = _visible(service, who, proposal_id)
    fields = await form(request, who)
    decision = fields.get("decision", "")
    reason = fields.get("reason", "").strip()
    errors: dict[str, str] = {}
    if problem := reason_problem(reason):
        errors["reason"] = problem
    if decision not in DECISIONS:
        errors["form"] = "choose a decision: approve, reject or withdraw"
    if errors:
        return await _page(request, service, who, p, status=400, errors=errors, reason=reason)
    ts = service.clock()
    cmd: ApproveProposal | RejectProposal | WithdrawProposal
    if decision == "approve":
        digest = fields.get("digest", "")
        cmd = ApproveProposal(
            proposal_id=p.id, digest=digest, reason=reason, actor=who.actor, ts_ms=ts
        )
    elif decision == "reject":
        cmd = RejectProposal(proposal_id=p.id, reason=reason, actor=who.actor, ts_ms=ts)
    else:
        cmd = WithdrawProposal(proposal_id=p.id, reason=reason, actor=who.actor, ts_ms=ts)
    sent = await send(service, cmd)
    if sent.refusal:
        still = service.view.proposals.get(p.id)
        if still is None:  # decided by someone else meanwhile
            return redirect("/approvals", f"Refused: {sent.refusal}")
        errors["form"] = f"Refused, nothing changed: {sent.refusal}"
        return await _page(request, service, who, still, status=400, errors=errors, reason=reason)
    line = f"{type(p.command).__name__}: {summary(service.view, p.command)}"
    if decision == "approve":
        await screen_approved(service, p.command, sent.outcome)
        notice = f"Approved proposal {p.id} ({line}): it has taken effect."
    elif decision == "reject":
        notice = f"Rejected proposal {p.id} ({line})."
    else:
        notice = f"Withdrew proposal {p.id} ({line})."
    return redirect("/approvals", notice)
