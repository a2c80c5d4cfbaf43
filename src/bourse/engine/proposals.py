"""Four eyes: a sensitive command takes effect only when a second, entitled person approves it.

Which command types need it is engine state (`SetFourEyes`, itself four-eyed while any are
named). A person (a staff member, or the data directory's operator token) who sends one directly
is refused by the gate (FOUR_EYES_REQUIRED); they propose it instead (`ProposeCommand`), which
checks it as if it ran now and records a digest of it and of the world it concerns. An approval
cites that digest, as a policy apply cites its preview, and is refused if it cites another, if
what the command concerns has changed since (PROPOSAL_STALE), if the proposal expired, if the
approver proposed it, or if their role does not approve that command within their scope. The
command then runs as the proposer's, with the approval's time, in the approval's outcome:
`ProposalDecided` first, then the command's own events. The exchange's own workers
("system:...") are not people and are not held to this.
"""

import hashlib
from collections.abc import Callable
from typing import get_args

import msgspec

from bourse import codec
from bourse.banking.rails import clear_hits
from bourse.commands import (
    AddStaff,
    ApproveProposal,
    ChangeStaff,
    Command,
    CutOffBank,
    OffboardStaff,
    Proposable,
    ProposeCommand,
    RejectProposal,
    SetFourEyes,
    WithdrawProposal,
)
from bourse.compliance.staff import ROLES, four_eyed, staff_name
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.output import Output
from bourse.engine.staff import scope_refusal
from bourse.engine.staff_state import Proposal
from bourse.engine.state import EngineState
from bourse.engine.work import approval_refusal
from bourse.events import FourEyesSet, ProposalDecided, ProposalMade

PROPOSABLE = frozenset(t.__struct_config__.tag for t in get_args(Proposable))
LIFETIME_MAX_MS = 14 * 86_400_000  # a proposal nobody decided within two weeks is stale anyway
EVIDENCE_MAX = 2000
Run = Callable[[Command], Refusal | None]


def needs_four_eyes(state: EngineState, cmd: Command) -> bool:
    """Whether `cmd`, sent directly, must be a proposal instead."""
    return four_eyed(state.four_eyes, type(cmd).__name__, cmd.actor)


def four_eyes_refusal(cmd: Command) -> Refusal:
    what = type(cmd).__name__
    return Refusal(
        RejectCode.FOUR_EYES_REQUIRED,
        f"{what} needs a second person's approval: propose it (ProposeCommand), and another "
        "entitled staff member approves it",
    )


def set_four_eyes(state: EngineState, out: Output, cmd: SetFourEyes) -> Refusal | None:
    unknown = sorted(set(cmd.commands) - PROPOSABLE)
    if unknown:
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            f"{', '.join(unknown)}: not commands a person proposes "
            f"({', '.join(sorted(PROPOSABLE))})",
        )
    wanted = set(cmd.commands)
    if wanted:
        wanted.add("SetFourEyes")  # a control one person could switch off alone would be none
    if state.four_eyes_set and wanted == state.four_eyes:
        return Refusal(RejectCode.NO_CHANGE, "four eyes already covers exactly these commands")
    state.four_eyes = wanted
    state.four_eyes_set = True
    out.events.append(
        FourEyesSet(commands=tuple(sorted(wanted)), actor=cmd.actor, reason=cmd.reason)
    )
    return None


def propose(state: EngineState, out: Output, cmd: ProposeCommand, check: Run) -> Refusal | None:
    """`check(command)`: what the engine's first stages would refuse the command for now, as
    if approved (well-formed numbers, the proposer's role and scope, the gate's rules)."""
    inner = cmd.command
    if inner.actor != cmd.actor:
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            f"a proposal is its proposer's command: {inner.actor!r} is not {cmd.actor!r}",
        )
    if not cmd.ts_ms < cmd.expires_ms <= cmd.ts_ms + LIFETIME_MAX_MS:
        return Refusal(
            RejectCode.INVALID_PARAMETER, "a proposal expires after it is made and within 14 days"
        )
    if len(cmd.evidence) > EVIDENCE_MAX:
        return Refusal(
            RejectCode.INVALID_PARAMETER, f"evidence is at most {EVIDENCE_MAX} characters"
        )
    refusal = check(inner)
    if refusal is not None:
        return refusal
    pid = state.next_proposal_id
    state.next_proposal_id = pid + 1
    world = world_of(state, inner)
    digest = proposal_digest(pid, inner, world)
    state.proposals[pid] = Proposal(
        pid, inner, cmd.actor, cmd.reason, cmd.evidence, cmd.ts_ms, cmd.expires_ms, world, digest
    )
    out.events.append(
        ProposalMade(
            proposal_id=pid,
            command=inner,
            digest=digest,
            world=world,
            proposer=cmd.actor,
            reason=cmd.reason,
            evidence=cmd.evidence,
            expires_ms=cmd.expires_ms,
        )
    )
    return None


def approve(state: EngineState, out: Output, cmd: ApproveProposal, run: Run) -> Refusal | None:
    """`run(command)`: the command through the engine's stages, as approved."""
    found = _decider(state, cmd.proposal_id, cmd.actor, "approve")
    if isinstance(found, Refusal):
        return found
    p = found
    if cmd.ts_ms >= p.expires_ms:
        return Refusal(
            RejectCode.PROPOSAL_EXPIRED,
            f"proposal {p.id} expired at {p.expires_ms} (ms since the epoch): propose it again",
        )
    if cmd.digest != p.digest:
        return Refusal(
            RejectCode.PREVIEW_MISMATCH,
            f"the approval cites {cmd.digest!r}, not proposal {p.id}'s digest",
        )
    if world_of(state, p.command) != p.world:
        return Refusal(
            RejectCode.PROPOSAL_STALE,
            f"what proposal {p.id} concerns has changed since it was proposed: look at it again "
            "and propose it anew",
        )
    start = len(out.events)
    refusal = run(msgspec.structs.replace(p.command, ts_ms=cmd.ts_ms))
    if refusal is not None:
        return Refusal(refusal.code, f"proposal {p.id} cannot run now: {refusal.reason}")
    del state.proposals[p.id]
    decided = ProposalDecided(
        proposal_id=p.id, decision="approved", actor=cmd.actor, reason=cmd.reason
    )
    out.events.insert(start, decided)
    return None


def reject(state: EngineState, out: Output, cmd: RejectProposal) -> Refusal | None:
    found = _decider(state, cmd.proposal_id, cmd.actor, "reject")
    if isinstance(found, Refusal):
        return found
    if isinstance(found.command, CutOffBank):  # screening's hits on a bank, found not to be it
        clear_hits(state.banking.cleared, found.command)
    return _close(state, out, found, "rejected", cmd.actor, cmd.reason)


def withdraw(state: EngineState, out: Output, cmd: WithdrawProposal) -> Refusal | None:
    p = state.proposals.get(cmd.proposal_id)
    if p is None:
        return _unknown(cmd.proposal_id)
    if cmd.actor != p.proposer:
        return Refusal(
            RejectCode.NOT_PERMITTED,
            f"only its proposer ({p.proposer}) withdraws proposal {p.id}; others reject it",
        )
    return _close(state, out, p, "withdrawn", cmd.actor, cmd.reason)


def withdraw_all_of(state: EngineState, out: Output, actor: str, by: str, reason: str) -> None:
    """Every pending proposal of `actor` (who is leaving), withdrawn."""
    for p in [p for p in state.proposals.values() if p.proposer == actor]:
        _close(state, out, p, "withdrawn", by, reason)


def world_of(state: EngineState, cmd: Command) -> str:
    """A digest of what `cmd` concerns, as it stands: the account (its flags, not its balances,
    which trading moves), its customer's record, the alert, the staff member, the scheduled
    change, the policy in force for the country, the four-eyes set."""
    parts: list[object] = [type(cmd).__name__]
    acct = state.accounts.get(getattr(cmd, "account_id", -1))
    customer_id = getattr(cmd, "customer_id", 0)
    if acct is not None:
        parts.append(
            (
                acct.id,
                acct.frozen,
                acct.manual_freeze,
                acct.can_trade,
                acct.can_deposit,
                acct.can_withdraw,
                acct.fee_tier,
                acct.customer_id,
            )
        )
        customer_id = customer_id or acct.customer_id
    cust = state.customers.get(customer_id)
    if cust is not None:
        parts.append(
            (
                cust.id,
                cust.legal_name,
                cust.date_of_birth,
                cust.nationality,
                cust.residence,
                cust.kyc_level,
                cust.risk_tier.value,
                cust.venue,
                sorted(cust.held_by),
            )
        )
    alert = state.alerts.get(getattr(cmd, "alert_id", -1))
    if alert is not None:
        parts.append((alert.id, alert.decision, alert.kind, codec.encode(alert.evidence).hex()))
    member = (
        state.staff.get(cmd.name)
        if isinstance(cmd, (AddStaff, ChangeStaff, OffboardStaff))
        else None
    )
    if member is not None:
        parts.append((member.name, member.role.value, member.venues, member.countries))
        parts.append((member.team, member.active))
    scheduled = state.scheduled.get(getattr(cmd, "schedule_id", -1))
    if scheduled is not None:
        parts.append((scheduled.id, scheduled.effective_ms, scheduled.preview_id))
    spec = getattr(cmd, "spec", None)
    country = getattr(spec, "country", None)
    if isinstance(country, str):
        in_force = state.residence_policies.get(country), state.nationality_policies.get(country)
        parts.append([p.change_id if p is not None else 0 for p in in_force])
    if isinstance(cmd, SetFourEyes):
        parts.append(sorted(state.four_eyes))
    withdrawal = state.withdrawals.get(getattr(cmd, "withdrawal_id", -1))
    if withdrawal is not None:
        parts.append((withdrawal.id, sorted(withdrawal.held_by)))
    return hashlib.sha256(msgspec.json.encode(parts)).hexdigest()[:20]


def proposal_digest(pid: int, cmd: Command, world: str) -> str:
    return hashlib.sha256(b"%d:" % pid + codec.encode(cmd) + world.encode()).hexdigest()[:20]


def _decider(state: EngineState, pid: int, actor: str, verb: str) -> Proposal | Refusal:
    """The proposal `actor` may approve or reject, or why not."""
    p = state.proposals.get(pid)
    if p is None:
        return _unknown(pid)
    if actor == p.proposer:
        return Refusal(
            RejectCode.SELF_APPROVAL,
            f"{actor} proposed {p.id}: a second person must {verb} it"
            + (" (the proposer withdraws it)" if verb == "reject" else ""),
        )
    name = staff_name(actor)
    member = state.staff.get(name or "")
    if member is None or not member.active:
        return Refusal(
            RejectCode.SELF_APPROVAL,
            f"a decision on a proposal is a named staff member's: {actor} cannot {verb} it",
        )
    what = type(p.command).__name__
    spec = ROLES[member.role]
    if what not in spec.approves:
        return Refusal(
            RejectCode.NOT_PERMITTED,
            f"{member.name} is a {spec.title.lower()}, whose role does not {verb} {what}",
        )
    if spec.scoped:
        refusal = scope_refusal(state, member, p.command)
        if refusal is not None:
            return refusal
    refusal = approval_refusal(state, p.id, member)
    return p if refusal is None else refusal


def _close(
    state: EngineState, out: Output, p: Proposal, decision: str, actor: str, reason: str
) -> Refusal | None:
    del state.proposals[p.id]
    out.events.append(
        ProposalDecided(proposal_id=p.id, decision=decision, actor=actor, reason=reason)
    )
    return None


def _unknown(pid: int) -> Refusal:
    return Refusal(
        RejectCode.UNKNOWN_PROPOSAL, f"proposal {pid} does not exist or was already decided"
    )
