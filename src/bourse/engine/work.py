"""Who owns open work: screening alerts, proposals waiting for a decision, scheduled policy
changes. An owner is a staff member ("staff:NAME") or a team's queue ("team:TEAM"), and only
someone who could decide the item may own it.

When a person leaves, everything they own moves to the colleague or queue named, or to their
team's queue; an offboarding that would leave an item with no one entitled to decide it, or a
proposal with no one entitled to approve it, is refused with the items named. Ownership is one
map, kept for every item ever assigned ("alert:4" → owner); an item that is closed is simply no
longer work.
"""

from bourse.commands import (
    AssignWork,
    CancelScheduledChange,
    Command,
    ConfirmScreeningAlert,
    OffboardStaff,
)
from bourse.compliance.staff import ROLES, staff_name
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.output import Output
from bourse.engine.staff import scope_refusal
from bourse.engine.state import EngineState, StaffMember
from bourse.events import WorkAssigned

TEAM = "team:"
STAFF = "staff:"


def open_items(state: EngineState) -> dict[str, str]:
    """Every open item → its owner ("" for none): alerts undecided, proposals waiting,
    scheduled changes not yet run (owned by whoever scheduled them unless assigned)."""
    owners = state.owners
    items: dict[str, str] = {}
    for alert in state.alerts.values():
        if not alert.decision:
            items[f"alert:{alert.id}"] = owners.get(f"alert:{alert.id}", "")
    for pid in state.proposals:
        items[f"proposal:{pid}"] = owners.get(f"proposal:{pid}", "")
    for s in state.scheduled.values():
        key = f"schedule:{s.id}"
        items[key] = owners.get(key, s.actor if s.actor.startswith(STAFF) else "")
    return items


def deciders(state: EngineState, item: str, owner: str, leaving: str = "") -> list[StaffMember]:
    """The active staff members (other than `leaving`) who could decide `item` were `owner` its
    owner ("": anyone entitled)."""
    found = []
    for member in state.staff.values():
        if not member.active or member.name == leaving:
            continue
        if owner.startswith(STAFF) and owner != STAFF + member.name:
            continue
        if owner.startswith(TEAM) and member.team != owner[len(TEAM) :]:
            continue
        if _entitled(state, member, item):
            found.append(member)
    return found


def assign(state: EngineState, out: Output, cmd: AssignWork) -> Refusal | None:
    if cmd.item not in open_items(state):
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            f"{cmd.item!r} is no open work (an undecided alert:ID, a waiting proposal:ID or a "
            "scheduled schedule:ID)",
        )
    problem = _owner_problem(state, cmd.owner)
    if problem:
        return Refusal(RejectCode.INVALID_PARAMETER, problem)
    if not deciders(state, cmd.item, cmd.owner):
        return Refusal(
            RejectCode.NOT_PERMITTED, f"{cmd.owner} has no one entitled to decide {cmd.item}"
        )
    _move(state, out, cmd.item, cmd.owner, cmd.actor, cmd.reason)
    return None


def hand_over(state: EngineState, out: Output, cmd: OffboardStaff) -> Refusal | None:
    """Before `cmd.name` leaves: move what they own; refuse if anything would be orphaned."""
    member = state.staff.get(cmd.name)
    if member is None or not member.active:
        return None  # the offboarding itself says why
    target = cmd.reassign_to or (TEAM + member.team if member.team else "")
    if cmd.reassign_to:
        if not cmd.reassign_to.startswith(TEAM):
            target = STAFF + cmd.reassign_to
        problem = _owner_problem(state, target)
        if problem:
            return Refusal(RejectCode.INVALID_PARAMETER, problem)
        if target == STAFF + cmd.name:
            return Refusal(RejectCode.INVALID_PARAMETER, "work cannot move to the one leaving")
    items = open_items(state)
    leaving = STAFF + cmd.name
    for pid, p in state.proposals.items():
        if p.proposer == leaving:  # withdrawn as they leave: nobody needs to decide them
            items.pop(f"proposal:{pid}", None)
    mine = sorted((k for k, owner in items.items() if owner == STAFF + cmd.name), key=_order)
    if mine and not target:
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            f"{cmd.name} owns {', '.join(mine)} and has no team: name a colleague or a queue "
            "to take it (reassign_to)",
        )
    stranded = [k for k in mine if not deciders(state, k, target, leaving=cmd.name)]
    orphans = [
        k
        for k, owner in items.items()
        if k not in mine
        and not deciders(state, k, owner, leaving=cmd.name)
        and deciders(state, k, owner)  # it had someone: this offboarding takes them away
    ]
    if stranded or orphans:
        parts = []
        if stranded:
            parts.append(f"{target} cannot decide {', '.join(sorted(stranded, key=_order))}")
        if orphans:
            parts.append(f"no one else could decide {', '.join(sorted(orphans, key=_order))}")
        return Refusal(
            RejectCode.NOT_PERMITTED,
            f"offboarding {cmd.name} would leave work without anyone to decide it: "
            + "; ".join(parts),
        )
    for key in mine:
        _move(state, out, key, target, cmd.actor, f"{cmd.name} offboarded: {cmd.reason}")
    return None


def approval_refusal(state: EngineState, pid: int, approver: StaffMember) -> Refusal | None:
    """A proposal assigned to someone is decided by them (or their queue's members) only."""
    owner = state.owners.get(f"proposal:{pid}", "")
    if not owner or owner == STAFF + approver.name:
        return None
    if owner.startswith(TEAM) and approver.team == owner[len(TEAM) :]:
        return None
    return Refusal(RejectCode.NOT_PERMITTED, f"proposal {pid} is assigned to {owner}")


def _entitled(state: EngineState, member: StaffMember, item: str) -> bool:
    kind, _, ident = item.partition(":")
    spec = ROLES[member.role]
    if kind == "proposal":
        p = state.proposals.get(int(ident))
        if p is None or p.proposer == STAFF + member.name:
            return False
        subject: Command = p.command
        if type(subject).__name__ not in spec.approves:
            return False
    elif kind == "alert":
        alert = state.alerts.get(int(ident))
        if alert is None or "ConfirmScreeningAlert" not in spec.commands:
            return False
        subject = ConfirmScreeningAlert(
            alert_id=alert.id, actor=STAFF + member.name, ts_ms=0, reason="-"
        )
    else:
        s = state.scheduled.get(int(ident))
        if s is None or "CancelScheduledChange" not in spec.commands:
            return False
        subject = CancelScheduledChange(
            schedule_id=s.id, actor=STAFF + member.name, ts_ms=0, reason="-"
        )
    return not spec.scoped or scope_refusal(state, member, subject) is None


def _owner_problem(state: EngineState, owner: str) -> str | None:
    if owner.startswith(TEAM):
        team = owner[len(TEAM) :]
        if not any(m.active and m.team == team for m in state.staff.values()):
            return f"no one active is in team {team!r}"
        return None
    member = state.staff.get(staff_name(owner) or "")
    if member is None or not member.active:
        return f"{owner!r} is not an active staff member (staff:NAME) or a team (team:NAME)"
    return None


def _move(state: EngineState, out: Output, item: str, owner: str, actor: str, why: str) -> None:
    state.owners[item] = owner
    out.events.append(WorkAssigned(item=item, owner=owner, actor=actor, reason=why))


def _order(item: str) -> tuple[str, int]:
    kind, _, ident = item.partition(":")
    return kind, int(ident)
