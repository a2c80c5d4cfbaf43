"""Four eyes at the admin API: a command the engine runs only as an approved proposal is
proposed instead of sent, in one place for every route.

`execute_or_propose` is what a route calls with the command it built: where four eyes apply to
that command type and that person (the read model's `four_eyes`, the same predicate the engine
holds them to), it sends `ProposeCommand` and answers 202 with the proposal, for a second person
to approve at /admin/v1/proposals/{id}/approve; otherwise it runs the command and renders its
outcome as the route would.
"""

from collections.abc import Callable
from typing import Any

import msgspec
from starlette.responses import Response

from bourse.api.admin.compliance import answered
from bourse.api.admin.errors import answer
from bourse.commands import Command, DefineBank, OnboardCustomer, UpdateCustomer, proposal_of
from bourse.compliance.staff import four_eyed
from bourse.events import CustomerRecorded, Outcome, ProposalMade
from bourse.server.service import GatewayService
from bourse.view.model import ProposalView
from bourse.workers.bank_screening import screen_banks
from bourse.workers.rescreen import screen_customers

HOUR_MS = 3_600_000
DEFAULT_HOURS = 72
MAX_HOURS = 14 * 24


def proposal_json(p: ProposalView | ProposalMade, now_ms: int, owner: str = "") -> dict[str, Any]:
    """A proposal as the admin API and the CLI show it: what, by whom, why, until when."""
    if isinstance(p, ProposalMade):
        pid, proposer, reason, evidence = p.proposal_id, p.proposer, p.reason, p.evidence
        expires, digest, command = p.expires_ms, p.digest, p.command
    else:
        pid, proposer, reason, evidence = p.id, p.proposer, p.reason, p.evidence
        expires, digest, command = p.expires_ms, p.digest, p.command
    fields = msgspec.to_builtins(command)
    return {
        "proposalId": pid,
        "type": fields.pop("type"),
        "command": {k: v for k, v in fields.items() if k not in ("actor", "ts_ms", "reason")},
        "proposer": proposer,
        "reason": reason,
        "evidence": evidence,
        "expiresMs": expires,
        "expired": now_ms >= expires,
        "digest": digest,
        "owner": owner,  # who decides it: staff:NAME, team:NAME, or any entitled person
    }


async def send_proposal(
    service: GatewayService, cmd: Command, *, evidence: str = "", hours: int = DEFAULT_HOURS
) -> Outcome:
    """Journal `cmd` as a proposal of its actor: the outcome (ProposalMade, or a refusal)."""
    proposal = proposal_of(cmd, expires_ms=cmd.ts_ms + hours * HOUR_MS, evidence=evidence)
    return await service.execute(proposal)


def made(outcome: Outcome) -> ProposalMade:
    return next(e for e in outcome.events if isinstance(e, ProposalMade))


def proposed_answer(service: GatewayService, outcome: Outcome) -> Response:
    """202 with the proposal `outcome` made, or the engine's refusal of it."""
    if outcome.refused:
        return answer(outcome)
    proposal = made(outcome)
    body = {
        "proposal": proposal_json(proposal, service.clock()),
        "message": f"{proposal.command.__struct_config__.tag} needs a second person's approval: "
        f"proposal {proposal.proposal_id} waits for it (POST /admin/v1/proposals/"
        f"{proposal.proposal_id}/approve citing its digest)",
        "seq": outcome.seq,
    }
    return Response(msgspec.json.encode(body), 202, media_type="application/json")


async def propose(
    service: GatewayService, cmd: Command, *, evidence: str = "", hours: int = DEFAULT_HOURS
) -> Response:
    """Send `cmd` as a proposal of its actor: 202 with the proposal, or the engine's refusal."""
    outcome = await send_proposal(service, cmd, evidence=evidence, hours=hours)
    return proposed_answer(service, outcome)


async def execute_or_propose(
    service: GatewayService,
    cmd: Command,
    render: Callable[[Outcome], Any] | None = None,
    *,
    evidence: str = "",
) -> Response:
    """Run `cmd` and answer its outcome (rendered by `render`, or as is), or, where four eyes
    apply to it, propose it (202)."""
    if is_four_eyed(service, cmd):
        return await propose(service, cmd, evidence=evidence)
    outcome = await service.execute(cmd)
    return answer(outcome) if render is None else answered(outcome, render)


def is_four_eyed(service: GatewayService, cmd: Command) -> bool:
    return four_eyed(service.view.four_eyes, type(cmd).__name__, cmd.actor)


async def screen_approved(service: GatewayService, command: Command, outcome: Outcome) -> None:
    """What a command that ran brings to screen, screened as its own route would: a customer
    onboarded or changed (an onboarding with a hit is held like any other), a partner bank
    defined (a hit proposes its cut-off). Whichever route ran or approved it calls this."""
    if outcome.refused:
        return
    if isinstance(command, OnboardCustomer | UpdateCustomer):
        recorded = next(e for e in outcome.events if isinstance(e, CustomerRecorded))
        hold = type(command) is OnboardCustomer
        await screen_customers(service, [recorded.customer_id], hold=hold)
    elif isinstance(command, DefineBank):
        await screen_banks(service, [command.bic])
