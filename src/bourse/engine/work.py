"""Who owns open work: screening alerts, proposals waiting for a decision, scheduled policy
changes. An owner is a staff member ("staff:NAME") or a team's queue ("team:TEAM"), and only
someone who could decide the item may own it.

When a person leaves, everything they own moves to the colleague or queue named, or to their
team's queue; an offboarding that would leave an item with no one entitled to decide it, or a
proposal with no one entitled to approve it, is refused with the items named. Ownership is one
map, kept for every item ever assigned ("alert:4" → owner); an item that is closed is simply no
longer work.
"""

from bourse.commands import AssignWork, CancelScheduledChange, Command, ConfirmScreeningAlert
from bourse.compliance.handover import Handover
from bourse.compliance.staff import ROLES, STAFF_PREFIX, staff_name
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.output import Output
from bourse.engine.staff import scope_refusal
from bourse.engine.staff_state import StaffMember
from bourse.engine.state import EngineState
from bourse.events import WorkAssigned

TEAM = "team:"
STAFF = STAFF_PREFIX


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


def deciders(
    state: EngineState, item: str, owner: str, leaving: frozenset[str] = frozenset()
) -> list[StaffMember]:
    """The active staff members (other than those `leaving`) who could decide `item` were
    `owner` its owner ("": anyone entitled)."""
    return [
        member
        for member in state.staff.values()
        if member.active
        and member.name not in leaving
        and (not owner or _holds(owner, member))
        and _entitled(state, member, item)
    ]


def plan(state: EngineState, names: tuple[str, ...], reassign_to: str) -> Handover:
    """What offboarding `names` together, their work going to `reassign_to` (a name or
    "team:NAME"; "": each one's own team), would do: nothing changes here."""
    leaving = frozenset(names)
    problem = ""
    for name in names:
        member = state.staff.get(name)
        if member is None or not member.active:
            problem = problem or f"{name!r} is not an active staff member"
    target_of: dict[str, str] = {}
    if reassign_to:
        target = reassign_to if reassign_to.startswith(TEAM) else STAFF + reassign_to
        issue = _owner_problem(state, target)
        if reassign_to in leaving:
            issue = f"work cannot move to {reassign_to}, who is leaving too"
        problem = problem or (issue or "")
        target_of = dict.fromkeys(names, target)
    else:
        for name in names:
            member = state.staff.get(name)
            team = member.team if member is not None else ""
            target_of[name] = TEAM + team if team else ""
    items = open_items(state)
    withdrawn = tuple(
        pid for pid, p in sorted(state.proposals.items()) if staff_name(p.proposer) in leaving
    )
    for pid in withdrawn:
        items.pop(f"proposal:{pid}", None)  # withdrawn as they leave: nobody decides them
    moves: list[tuple[str, str]] = []
    stranded: list[tuple[str, str]] = []
    for item, owner in sorted(items.items(), key=lambda kv: _order(kv[0])):
        holder = staff_name(owner)
        if holder is None or holder not in leaving:
            continue
        target = target_of.get(holder, "")
        if not target:
            problem = problem or (
                f"{holder} owns {item} and has no team: name a colleague or a queue to take it"
            )
            continue
        moves.append((item, target))
        if not deciders(state, item, target, leaving):
            stranded.append((item, target))
    moved = {item for item, _ in moves}
    orphaned = tuple(
        item
        for item, owner in sorted(items.items(), key=lambda kv: _order(kv[0]))
        if item not in moved
        and not deciders(state, item, owner, leaving)
        and deciders(state, item, owner)  # it had someone: this offboarding takes them away
    )
    tokens = tuple(
        (name, token_id)
        for name in names
        if (member := state.staff.get(name)) is not None
        for token_id in sorted(member.tokens)
    )
    return Handover(
        names=names,
        tokens=tokens,
        withdrawn=withdrawn,
        moves=tuple(moves),
        stranded=tuple(stranded),
        orphaned=orphaned,
        problem=problem,
    )


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


def move_all(state: EngineState, out: Output, handover: Handover, actor: str, reason: str) -> None:
    """Apply `handover`'s moves (it was checked: nothing stranded or orphaned)."""
    who = ", ".join(handover.names)
    for item, owner in handover.moves:
        _move(state, out, item, owner, actor, f"{who} offboarded: {reason}")


def approval_refusal(state: EngineState, pid: int, approver: StaffMember) -> Refusal | None:
    """A proposal assigned to someone is decided by them (or their queue's members) only."""
    owner = state.owners.get(f"proposal:{pid}", "")
    if not owner or _holds(owner, approver):
        return None
    return Refusal(RejectCode.NOT_PERMITTED, f"proposal {pid} is assigned to {owner}")


def _holds(owner: str, member: StaffMember) -> bool:
    """Whether `member` is `owner` ("staff:NAME"), or in its queue ("team:NAME")."""
    if owner.startswith(TEAM):
        return member.team == owner[len(TEAM) :]
    return owner == STAFF + member.name


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
