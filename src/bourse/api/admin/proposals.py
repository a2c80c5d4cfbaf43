"""Proposal routes: what waits for a second person, and their decision on it.

A route whose command four eyes cover proposes it by itself (`four_eyes.execute_or_propose`:
202); here a proposal can also be made from any command as JSON, listed, approved (citing the
digest the approver was shown), rejected or withdrawn, each with a reason. The engine decides
who may approve what (engine/proposals.py).
"""

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter
from starlette.responses import Response

from bourse.api.admin.compliance import Reason, answered, body_doc, parse
from bourse.api.admin.errors import bad_request
from bourse.api.admin.four_eyes import (
    DEFAULT_HOURS,
    MAX_HOURS,
    execute_or_propose,
    proposal_json,
    propose,
    screen_approved,
)
from bourse.api.admin.scope import reader_scope, sees_command
from bourse.api.binance.replies import ok
from bourse.api.deps import Int64, OperatorDep, ServiceDep
from bourse.commands import (
    ApproveProposal,
    Proposable,
    RejectProposal,
    SetFourEyes,
    WithdrawProposal,
)
from bourse.events import Outcome, ProposalDecided

router = APIRouter(prefix="/admin/v1", tags=["four eyes"])
Hours = Annotated[int, msgspec.Meta(ge=1, le=MAX_HOURS)]


class ProposeBody(msgspec.Struct, forbid_unknown_fields=True):
    command: dict[str, Any]
    reason: Reason
    evidence: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    hours: Hours = DEFAULT_HOURS


class ApproveBody(msgspec.Struct, forbid_unknown_fields=True):
    digest: str
    reason: Reason


class ReasonBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class FourEyesBody(msgspec.Struct, forbid_unknown_fields=True):
    commands: list[str]
    reason: Reason


@router.get(
    "/proposals",
    summary="Proposals waiting for a decision",
    description="Every proposal no one has decided yet (`expired` ones can only be rejected or "
    "withdrawn), and `fourEyes`: the command types a person sends only as a proposal.",
)
async def list_proposals(service: ServiceDep, actor: OperatorDep) -> Response:
    view, now = service.view, service.clock()
    member = reader_scope(view, actor)  # a scoped reader: proposals about its scope only
    waiting = [
        proposal_json(p, now, view.owners.get(f"proposal:{pid}", ""))
        for pid, p in sorted(view.proposals.items())
        if sees_command(view, member, p.command)
    ]
    return ok({"fourEyes": sorted(view.four_eyes), "proposals": waiting})


@router.post(
    "/proposals",
    summary="Propose a command",
    description="Any command a person sends with a reason, as JSON (`type` and its fields, "
    "without `actor`, `ts_ms` and `reason`), to run once a second, entitled person approves "
    "it within `hours` (default 72, at most 336). `evidence`: what the approver should look at.",
)
async def make_proposal(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {
            "command": {"type": "FreezeAccount", "account_id": 7},
            "reason": "screening alert 12 confirmed by the officer",
            "evidence": "alert 12: OFAC SDN entry 31164, score 0.97",
        },
        ProposeBody,
    ),
) -> Response:
    req = parse(body, ProposeBody)
    fields = {**req.command, "actor": actor, "ts_ms": service.clock(), "reason": req.reason}
    try:
        cmd: Proposable = msgspec.convert(fields, Proposable)
    except msgspec.ValidationError as exc:
        raise bad_request(f"command: not a command a person proposes: {exc}") from None
    return await propose(service, cmd, evidence=req.evidence, hours=req.hours)


@router.post(
    "/proposals/{proposal_id}/approve",
    summary="Approve a proposal",
    description="Runs the proposed command now, as its proposer's, citing the `digest` you "
    "were shown. Refused if you proposed it, if your role does not approve that command (or it "
    "is outside your scope), if it expired, or if what it concerns has changed since.",
)
async def approve(
    service: ServiceDep,
    actor: OperatorDep,
    proposal_id: Int64,
    body: dict[str, Any] = body_doc(
        {"digest": "3f9a0c…", "reason": "evidence checked"}, ApproveBody
    ),
) -> Response:
    req = parse(body, ApproveBody)
    waiting = service.view.proposals.get(proposal_id)
    cmd = ApproveProposal(
        proposal_id=proposal_id,
        digest=req.digest,
        reason=req.reason,
        actor=actor,
        ts_ms=service.clock(),
    )
    outcome = await service.execute(cmd)
    if waiting is not None:
        await screen_approved(service, waiting.command, outcome)
    return answered(outcome, _decided)


@router.post(
    "/proposals/{proposal_id}/reject",
    summary="Reject a proposal",
    description="Turns it down for good, with a reason; the proposer withdraws instead.",
)
async def reject(
    service: ServiceDep,
    actor: OperatorDep,
    proposal_id: Int64,
    body: dict[str, Any] = body_doc({"reason": "the alert names another person"}, ReasonBody),
) -> Response:
    req = parse(body, ReasonBody)
    cmd = RejectProposal(
        proposal_id=proposal_id, reason=req.reason, actor=actor, ts_ms=service.clock()
    )
    return answered(await service.execute(cmd), _decided)


@router.post(
    "/proposals/{proposal_id}/withdraw",
    summary="Withdraw your proposal",
    description="Only its proposer takes a proposal back (others reject it), with a reason.",
)
async def withdraw(
    service: ServiceDep,
    actor: OperatorDep,
    proposal_id: Int64,
    body: dict[str, Any] = body_doc({"reason": "proposed on the wrong account"}, ReasonBody),
) -> Response:
    req = parse(body, ReasonBody)
    cmd = WithdrawProposal(
        proposal_id=proposal_id, reason=req.reason, actor=actor, ts_ms=service.clock()
    )
    return answered(await service.execute(cmd), _decided)


@router.put(
    "/four-eyes",
    summary="Set which commands need four eyes",
    description="The command types a person sends only as a proposal a second, entitled person "
    "approves. While any are set, this change is itself proposed (202).",
)
async def set_four_eyes(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {"commands": ["FreezeAccount", "UnfreezeAccount"], "reason": "board decision 2026-14"},
        FourEyesBody,
    ),
) -> Response:
    req = parse(body, FourEyesBody)
    cmd = SetFourEyes(
        commands=tuple(req.commands), reason=req.reason, actor=actor, ts_ms=service.clock()
    )
    shown = {"fourEyes": sorted(service.view.four_eyes)}
    return await execute_or_propose(
        service, cmd, lambda _: {**shown, "fourEyes": sorted(service.view.four_eyes)}
    )


def _decided(outcome: Outcome) -> dict[str, Any]:
    decided = next(e for e in outcome.events if isinstance(e, ProposalDecided))
    return {
        "proposalId": decided.proposal_id,
        "decision": decided.decision,
        "by": decided.actor,
        "reason": decided.reason,
        "seq": outcome.seq,
        "events": msgspec.to_builtins(outcome.events),
    }
