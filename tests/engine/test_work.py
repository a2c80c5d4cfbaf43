"""Who owns open work, and what happens to it when its owner leaves: moved to a colleague or
the team's queue, never left with no one entitled to decide it."""

from bourse.commands import (
    AddStaff,
    ApproveProposal,
    AssignWork,
    DefineVenue,
    Deposit,
    FreezeAccount,
    OffboardStaff,
    ProposeCommand,
    RaiseScreeningAlert,
    SchedulePolicyChange,
    SetFourEyes,
)
from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role
from bourse.domain.rejections import RejectCode
from bourse.events import AnyEvent, CommandRejected, ProposalDecided, WorkAssigned
from tests.builders import Runner, of, onboard, one, policy_command, raw, suspension, world
from tests.engine.test_screening_decisions import EVIDENCE

HOUR_MS = 3_600_000
EE = ("RU", "BY", "UA")


def ok(events: list[AnyEvent]) -> list[AnyEvent]:
    assert not of(events, CommandRejected), events
    return events


def refused(events: list[AnyEvent], code: RejectCode) -> str:
    rejection = one(events, CommandRejected)
    assert rejection.code is code, rejection
    return rejection.reason


def eastern_europe() -> tuple[Runner, int]:
    """The regional head for Eastern Europe (ivan) and a colleague (olena) in team ee, both
    scoped to RU, BY and UA; a compliance officer (cora, also in ee), a senior officer (sid);
    four eyes on; an RU customer with a screening alert. Returns the runner and their account."""
    r = world(accounts=1)
    ok(r.do(DefineVenue, venue="GLOBAL", name="Global", symbols=()))
    for name in ("ivan", "olena"):
        ok(r.do(AddStaff, name=name, role=Role.REGIONAL_MANAGER, countries=EE, team="ee"))
    ok(r.do(AddStaff, name="cora", role=Role.COMPLIANCE_OFFICER, team="ee"))
    ok(r.do(AddStaff, name="sid", role=Role.SENIOR_COMPLIANCE_OFFICER))
    ok(r.do(AddStaff, name="sam", role=Role.SUPPORT, team="desk"))
    cust, acct = onboard(r, "RU")
    ok(r.do(RaiseScreeningAlert, customer_id=cust, evidence=EVIDENCE, actor="system:screening"))
    ok(r.do(SetFourEyes, commands=tuple(sorted(DEFAULT_FOUR_EYES))))
    return r, acct


def propose(r: Runner, who: str, inner: object) -> int:
    events = ok(
        r.do(ProposeCommand, command=inner, expires_ms=r.ts_ms + 24 * HOUR_MS, actor=f"staff:{who}")
    )
    return r.state.next_proposal_id - 1 if events else 0


def test_the_regional_head_leaves_and_every_item_moves_to_the_team() -> None:
    r, acct = eastern_europe()
    ok(r.do(AssignWork, item="alert:1", owner="staff:ivan", actor="staff:sid"))
    mine = propose(r, "ivan", r.stamp(FreezeAccount, account_id=acct, actor="staff:ivan"))
    theirs = propose(r, "cora", r.stamp(FreezeAccount, account_id=acct, actor="staff:cora"))
    ok(r.do(AssignWork, item=f"proposal:{theirs}", owner="staff:ivan", actor="staff:sid"))
    scheduled = policy_command(
        r,
        SchedulePolicyChange,
        suspension("RU"),
        actor="staff:ivan",
        effective_ms=r.ts_ms + HOUR_MS,
    )
    schedule_pid = propose(r, "ivan", scheduled)
    events = ok(r.do(OffboardStaff, name="ivan", actor="staff:sid", reason="left the company"))
    moved = {e.item: e.owner for e in of(events, WorkAssigned)}
    assert moved == {"alert:1": "team:ee", f"proposal:{theirs}": "team:ee"}
    withdrawn = sorted(e.proposal_id for e in of(events, ProposalDecided))
    assert withdrawn == sorted([mine, schedule_pid])  # what he proposed waits for no one now
    # the next decision is the new owners': olena (in ee) approves; sid (not in ee) may not
    digest = r.state.proposals[theirs].digest
    reason = refused(
        r.do(ApproveProposal, proposal_id=theirs, digest=digest, actor="staff:sid"),
        RejectCode.NOT_PERMITTED,
    )
    assert reason == f"proposal {theirs} is assigned to team:ee"
    ok(r.do(ApproveProposal, proposal_id=theirs, digest=digest, actor="staff:olena"))
    assert r.state.accounts[acct].frozen


def test_nothing_is_orphaned_by_an_offboarding() -> None:
    r, acct = eastern_europe()
    deposit = r.stamp(
        Deposit,
        account_id=acct,
        asset="USDT",
        amount_raw=raw("5"),
        actor="staff:cora",
        reason="wire",
    )
    pid = propose(r, "cora", deposit)
    # ivan and olena (RU is theirs) and sid may approve it; once the two have left, sid is the
    # only one, and cannot leave while it waits
    for name in ("ivan", "olena"):
        ok(r.do(OffboardStaff, name=name, reassign_to="sid", actor="staff:sid", reason="layoff"))
    reason = refused(
        r.do(OffboardStaff, name="sid", reassign_to="cora", reason="layoff"),
        RejectCode.NOT_PERMITTED,
    )
    assert "no one else could decide" in reason and f"proposal:{pid}" in reason
    # work cannot go to someone who could not decide it, or to nobody
    ok(r.do(AssignWork, item="alert:1", owner="staff:sid", actor="staff:cora"))
    reason = refused(
        r.do(OffboardStaff, name="sid", reassign_to="sam", reason="x"),
        RejectCode.NOT_PERMITTED,
    )
    assert "staff:sam cannot decide alert:1" in reason
    refused(
        r.do(AssignWork, item="alert:1", owner="staff:sam", actor="staff:cora"),
        RejectCode.NOT_PERMITTED,
    )
    refused(
        r.do(AssignWork, item="alert:9", owner="staff:sid", actor="staff:cora"),
        RejectCode.INVALID_PARAMETER,
    )
    refused(
        r.do(AssignWork, item="alert:1", owner="team:nobody", actor="staff:cora"),
        RejectCode.INVALID_PARAMETER,
    )
