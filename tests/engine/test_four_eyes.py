"""Four eyes in the engine: a sensitive command runs only as a proposal a second, entitled
person approves, citing its digest, before it expires, in the world it was proposed in."""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bourse.commands import (
    AddStaff,
    ApproveProposal,
    Command,
    DefineVenue,
    FreezeAccount,
    OffboardStaff,
    ProposeCommand,
    RejectProposal,
    SetFourEyes,
    SetJurisdictionPolicy,
    UnfreezeAccount,
    WithdrawProposal,
)
from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role
from bourse.domain.rejections import RejectCode
from bourse.engine import Engine, snapshot
from bourse.events import (
    AccountFrozen,
    AnyEvent,
    CommandRejected,
    FourEyesSet,
    ProposalDecided,
    ProposalMade,
)
from tests.builders import Runner, of, onboard, one, policy_command, suspension, world

HOUR_MS = 3_600_000


def ok(events: list[AnyEvent]) -> list[AnyEvent]:
    assert not of(events, CommandRejected), events
    return events


def refused(events: list[AnyEvent], code: RejectCode) -> str:
    rejection = one(events, CommandRejected)
    assert rejection.code is code, rejection
    return rejection.reason


def office(four_eyes: frozenset[str] = DEFAULT_FOUR_EYES) -> Runner:
    """Two funded accounts; venues KZ and GLOBAL; compliance officer cora, senior officers sid
    and sue, KZ regional managers kai and kim, operator olga; four eyes on `four_eyes`."""
    r = world(accounts=2)
    ok(r.do(DefineVenue, venue="KZ", name="Kazakhstan", jurisdictions=("KZ",), symbols=()))
    ok(r.do(DefineVenue, venue="GLOBAL", name="Global", symbols=()))
    ok(r.do(AddStaff, name="cora", role=Role.COMPLIANCE_OFFICER))
    ok(r.do(AddStaff, name="sid", role=Role.SENIOR_COMPLIANCE_OFFICER))
    ok(r.do(AddStaff, name="sue", role=Role.SENIOR_COMPLIANCE_OFFICER))
    for name in ("kai", "kim"):
        ok(r.do(AddStaff, name=name, role=Role.REGIONAL_MANAGER, countries=("KZ",)))
    ok(r.do(AddStaff, name="olga", role=Role.OPERATOR))
    ok(r.do(SetFourEyes, commands=tuple(sorted(four_eyes))))
    return r


def by(who: str) -> str:
    return who if who == "operator" else f"staff:{who}"


def propose(r: Runner, who: str, cmd: Command, hours: int = 24, **fields: Any) -> list[AnyEvent]:
    return r.do(
        ProposeCommand,
        command=cmd,
        expires_ms=r.ts_ms + 1 + hours * HOUR_MS,
        actor=by(who),
        reason=cmd.reason,  # type: ignore[attr-defined]
        **fields,
    )


def freeze(r: Runner, who: str, acct: int = 2) -> FreezeAccount:
    return r.stamp(FreezeAccount, account_id=acct, actor=by(who), reason="alert 4 confirmed")


def approve(r: Runner, who: str, pid: int, digest: str | None = None) -> list[AnyEvent]:
    digest = r.state.proposals[pid].digest if digest is None else digest
    return r.do(ApproveProposal, proposal_id=pid, digest=digest, actor=by(who), reason="agreed")


def test_a_freeze_runs_only_once_a_second_officer_approves_it() -> None:
    r = office()
    reason = refused(r.execute(freeze(r, "cora")), RejectCode.FOUR_EYES_REQUIRED)
    assert "FreezeAccount needs a second person's approval" in reason
    made = one(ok(propose(r, "cora", freeze(r, "cora"), evidence="alert 4")), ProposalMade)
    assert (made.proposal_id, made.proposer, made.evidence) == (1, "staff:cora", "alert 4")
    assert not r.state.accounts[2].frozen and r.view.proposals[1].digest == made.digest
    # cora cannot approve it, nor can another compliance officer's role; a senior officer can
    assert "second person" in refused(approve(r, "cora", 1), RejectCode.SELF_APPROVAL)
    refused(approve(r, "olga", 1), RejectCode.NOT_PERMITTED)
    refused(approve(r, "sid", 1, digest="0" * 20), RejectCode.PREVIEW_MISMATCH)
    events = ok(approve(r, "sid", 1))
    decided, frozen = events[0], one(events, AccountFrozen)
    assert isinstance(decided, ProposalDecided) and (decided.decision, decided.actor) == (
        "approved",
        "staff:sid",
    )
    assert frozen.actor == "staff:cora" and frozen.reason == "alert 4 confirmed"
    assert r.state.accounts[2].frozen and 1 not in r.state.proposals and r.view.proposals == {}
    refused(approve(r, "sue", 1, digest=made.digest), RejectCode.UNKNOWN_PROPOSAL)


def test_the_operator_token_proposes_but_never_approves() -> None:
    r = office()
    refused(r.execute(freeze(r, "operator")), RejectCode.FOUR_EYES_REQUIRED)
    ok(propose(r, "operator", freeze(r, "operator")))
    assert "second person" in refused(approve(r, "operator", 1), RejectCode.SELF_APPROVAL)
    ok(propose(r, "sid", freeze(r, "sid", acct=1)))
    reason = refused(approve(r, "operator", 2), RejectCode.SELF_APPROVAL)
    assert "a named staff member's: operator cannot approve it" in reason
    ok(approve(r, "sue", 1))
    # the exchange's own workers are not people: four eyes do not hold them
    ok(r.do(FreezeAccount, account_id=1, actor="system:screening", reason="listed"))


def test_a_proposal_is_checked_when_made_and_the_world_it_names_is_held_to() -> None:
    r = office()
    refused(propose(r, "cora", freeze(r, "cora", acct=99)), RejectCode.UNKNOWN_ACCOUNT)
    # kai acts in KZ only: proposing beyond it is refused as sending it would be
    _, de_acct = onboard(r, "DE")
    _, kz_acct = onboard(r, "KZ")
    refused(propose(r, "kai", freeze(r, "kai", acct=de_acct)), RejectCode.OUT_OF_SCOPE)
    ok(propose(r, "kai", freeze(r, "kai", acct=kz_acct)))
    ok(propose(r, "cora", freeze(r, "cora", acct=de_acct)))
    # kim (KZ) approves kai's, not cora's German one
    refused(approve(r, "kim", 2), RejectCode.OUT_OF_SCOPE)
    ok(approve(r, "kim", 1))
    # the German account is frozen by hand meanwhile, through another proposal: cora's is stale
    ok(propose(r, "sue", freeze(r, "sue", acct=de_acct)))
    ok(approve(r, "sid", 3))
    assert "has changed" in refused(approve(r, "sid", 2), RejectCode.PROPOSAL_STALE)
    # expiry
    ok(propose(r, "cora", freeze(r, "cora", acct=1), hours=1))
    r.ts_ms += 2 * HOUR_MS
    refused(approve(r, "sid", 4), RejectCode.PROPOSAL_EXPIRED)
    # taking one back, or turning it down, both with a reason
    refused(r.do(WithdrawProposal, proposal_id=4, actor="staff:sid"), RejectCode.NOT_PERMITTED)
    ok(r.do(WithdrawProposal, proposal_id=4, actor="staff:cora"))
    refused(r.do(RejectProposal, proposal_id=2, actor="staff:cora"), RejectCode.SELF_APPROVAL)
    refused(
        r.do(RejectProposal, proposal_id=2, actor="staff:sid", reason=" "),
        RejectCode.REASON_REQUIRED,
    )
    decided = one(ok(r.do(RejectProposal, proposal_id=2, actor="staff:sid")), ProposalDecided)
    assert decided.decision == "rejected" and r.state.proposals == {}


def test_an_approved_command_the_engine_now_refuses_leaves_the_proposal_waiting() -> None:
    r = office()
    onboard(r, "KZ")
    spec = suspension("KZ")
    applied = policy_command(r, SetJurisdictionPolicy, spec, actor="staff:cora")
    ok(propose(r, "cora", applied))
    onboard(r, "KZ")  # a second KZ resident: the preview no longer names whom it would touch
    reason = refused(approve(r, "sid", 1), RejectCode.PREVIEW_STALE)
    assert reason.startswith("proposal 1 cannot run now: ")
    assert 1 in r.state.proposals


def test_changing_four_eyes_needs_four_eyes_and_it_cannot_be_switched_off_alone() -> None:
    r = office(frozenset({"FreezeAccount"}))
    assert r.state.four_eyes == {"FreezeAccount", "SetFourEyes"}
    cut = r.stamp(SetFourEyes, commands=(), actor="staff:sid")
    refused(r.execute(cut), RejectCode.FOUR_EYES_REQUIRED)
    refused(
        r.do(SetFourEyes, commands=("Nonsense",), actor="system:genesis"),
        RejectCode.INVALID_PARAMETER,
    )
    ok(propose(r, "sid", cut))
    event = one(ok(approve(r, "sue", 1)), FourEyesSet)
    assert event.commands == () and r.state.four_eyes == set()
    ok(r.execute(freeze(r, "cora")))  # none now: one person acts alone again


def test_offboarding_withdraws_what_the_person_proposed() -> None:
    r = office()
    ok(propose(r, "cora", freeze(r, "cora")))
    ok(propose(r, "sid", freeze(r, "sid", acct=1)))
    events = ok(r.do(OffboardStaff, name="cora", actor="staff:olga", reason="left"))
    withdrawn = one(events, ProposalDecided)
    assert (withdrawn.proposal_id, withdrawn.decision) == (1, "withdrawn")
    assert "cora offboarded" in withdrawn.reason and list(r.state.proposals) == [2]


def test_proposals_survive_a_snapshot_and_replay() -> None:
    r = office()
    ok(propose(r, "cora", freeze(r, "cora")))
    image = snapshot.dump(r.state)
    assert snapshot.dump(snapshot.load(image)) == image
    replayed = Engine()
    for seq, cmd in enumerate(r.commands, start=1):
        replayed.execute(seq, cmd)
    assert snapshot.digest(replayed.state) == snapshot.digest(r.state)
    restored = Runner(Engine(snapshot.load(image)))
    restored.ts_ms = r.ts_ms
    ok(approve(restored, "sid", 1))


# --- property: one person alone never completes a four-eyes action ----------------------------

PEOPLE = ["cora", "sid", "sue", "operator"]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(PEOPLE),
            st.sampled_from(
                [
                    "direct",
                    "propose",
                    "propose",
                    "approve",
                    "approve",
                    "approve",
                    "reject",
                    "withdraw",
                    "config",
                ]
            ),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_no_one_alone_completes_a_four_eyes_action(moves: list[tuple[str, str, int]]) -> None:
    r = office(frozenset({"FreezeAccount", "UnfreezeAccount"}))
    for who, move, pick in moves:
        pending = sorted(r.state.proposals)
        pid = pending[pick % len(pending)] if pending else pick + 1
        acct = 1 + pick % 2
        action = FreezeAccount if pick % 2 else UnfreezeAccount
        if move == "direct":
            cmd: Command = r.stamp(action, account_id=acct, actor=by(who))
        elif move == "propose":
            inner = r.stamp(action, account_id=acct, actor=by(who))
            cmd = r.stamp(
                ProposeCommand, command=inner, expires_ms=r.ts_ms + HOUR_MS, actor=by(who)
            )
        elif move == "approve":
            digest = r.state.proposals[pid].digest if pid in r.state.proposals else "x"
            cmd = r.stamp(ApproveProposal, proposal_id=pid, digest=digest, actor=by(who))
        elif move == "reject":
            cmd = r.stamp(RejectProposal, proposal_id=pid, actor=by(who))
        elif move == "withdraw":
            cmd = r.stamp(WithdrawProposal, proposal_id=pid, actor=by(who))
        else:
            cmd = r.stamp(SetFourEyes, commands=("FreezeAccount",) * (pick % 2), actor=by(who))
        proposer = {p.id: p.proposer for p in r.state.proposals.values()}
        before = set(r.state.four_eyes)
        events = r.execute(cmd)
        effects = [
            e
            for e in events
            if type(e).__name__ in ("AccountFrozen", "AccountUnfrozen", "FourEyesSet")
        ]
        if not effects:
            continue
        # an effect of a four-eyed command type came with an approval by someone other than
        # its proposer; without one, the command type was not four-eyed when it ran
        approval = [e for e in of(events, ProposalDecided) if e.decision == "approved"]
        if approval:
            assert approval[0].actor != proposer[approval[0].proposal_id], events
        else:
            assert type(cmd).__name__ not in before, (who, move, events)
