"""Staff as engine state: roles permit command types, scopes limit whom a regional manager acts
on, tokens are kept as digests and end with offboarding; all of it replayed and snapshotted."""

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bourse.commands import (
    AddStaff,
    ChangeStaff,
    Command,
    CreateAsset,
    DefineVenue,
    Deposit,
    FreezeAccount,
    IssueStaffToken,
    OffboardStaff,
    OnboardCustomer,
    OpenAccount,
    OpenStaffSession,
    RevokeStaffToken,
    SetJurisdictionPolicy,
    SetStaffCredentials,
    UnfreezeAccount,
    UpdateCustomer,
)
from bourse.compliance.staff import CONSOLE, ROLES, Role, TokenKind
from bourse.domain.rejections import RejectCode
from bourse.engine import Engine, snapshot
from bourse.events import (
    AnyEvent,
    CommandRejected,
    StaffCredentialsSet,
    StaffRecorded,
    StaffTokenIssued,
    StaffTokenRevoked,
)
from tests.builders import Runner, of, onboard, one, policy_command, raw, suspension, world

DAY_MS = 86_400_000


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def refused(events: list[AnyEvent], code: RejectCode) -> str:
    rejection = one(events, CommandRejected)
    assert rejection.code is code, rejection
    return rejection.reason


def ok(events: list[AnyEvent]) -> list[AnyEvent]:
    assert not of(events, CommandRejected), events
    return events


def kz_world() -> tuple[Runner, int, int, int, int]:
    """Venues KZ (serving KZ) and GLOBAL (the rest); a KZ and a DE customer; staff: a global
    compliance officer `cora`, a KZ regional manager `kai`, support `sam`, operator `olga`.
    Returns the runner and the KZ customer, their account, the DE customer, their account."""
    r = world(accounts=1)
    ok(
        r.do(
            DefineVenue, venue="KZ", name="Kazakhstan", jurisdictions=("KZ",), symbols=("BTCUSDT",)
        )
    )
    ok(r.do(DefineVenue, venue="GLOBAL", name="Global", symbols=("BTCUSDT",)))
    kz_cust, kz_acct = onboard(r, "KZ")
    de_cust, de_acct = onboard(r, "DE")
    ok(r.do(AddStaff, name="cora", role=Role.COMPLIANCE_OFFICER))
    ok(r.do(AddStaff, name="kai", role=Role.REGIONAL_MANAGER, venues=("KZ",), countries=("KZ",)))
    ok(r.do(AddStaff, name="sam", role=Role.SUPPORT))
    ok(r.do(AddStaff, name="olga", role=Role.OPERATOR, team="ops"))
    return r, kz_cust, kz_acct, de_cust, de_acct


def as_staff(r: Runner, who: str, cls: type[Command], **fields: Any) -> list[AnyEvent]:
    return r.do(cls, actor=f"staff:{who}", **fields)


def test_a_role_permits_its_commands_and_refuses_the_rest_by_the_engine() -> None:
    r, _, kz_acct, _, de_acct = kz_world()
    ok(as_staff(r, "cora", FreezeAccount, account_id=de_acct))
    reason = refused(
        as_staff(r, "olga", UnfreezeAccount, account_id=de_acct), RejectCode.NOT_PERMITTED
    )
    assert reason == "olga is a operator, whose role does not permit UnfreezeAccount"
    refused(
        as_staff(r, "sam", Deposit, account_id=kz_acct, asset="USDT", amount_raw=raw("1")),
        RejectCode.NOT_PERMITTED,
    )
    # the operator runs the system: reference data, not customers
    ok(as_staff(r, "olga", CreateAsset, asset="SOL", precision=8))
    refused(as_staff(r, "cora", CreateAsset, asset="XRP", precision=8), RejectCode.NOT_PERMITTED)
    # someone who is not staff at all
    reason = refused(
        as_staff(r, "mallory", FreezeAccount, account_id=de_acct), RejectCode.NOT_PERMITTED
    )
    assert "'mallory' is not a staff member" in reason


def test_a_regional_manager_acts_on_their_venue_and_residents_only() -> None:
    r, kz_cust, kz_acct, de_cust, de_acct = kz_world()
    ok(as_staff(r, "kai", FreezeAccount, account_id=kz_acct))
    reason = refused(as_staff(r, "kai", FreezeAccount, account_id=de_acct), RejectCode.OUT_OF_SCOPE)
    assert (
        reason == f"kai acts within KZ, KZ only, and this concerns customer {de_cust} "
        "(resident in DE)"
    )
    # the house account and the whole exchange are nobody's region
    refused(as_staff(r, "kai", FreezeAccount, account_id=1), RejectCode.OUT_OF_SCOPE)
    refused(as_staff(r, "kai", OpenAccount), RejectCode.OUT_OF_SCOPE)
    # onboarding: a KZ resident, yes; a German one, no
    kz = {"legal_name": "Aigerim Bekova", "date_of_birth": "1990-04-12", "nationality": "KZ"}
    ok(as_staff(r, "kai", OnboardCustomer, residence="KZ", **kz))
    refused(as_staff(r, "kai", OnboardCustomer, residence="DE", **kz), RejectCode.OUT_OF_SCOPE)
    # moving their customer out of the region is out of scope too
    refused(
        as_staff(r, "kai", UpdateCustomer, customer_id=kz_cust, residence="DE"),
        RejectCode.OUT_OF_SCOPE,
    )
    # jurisdiction policies: their country only
    ok(r.execute(policy_command(r, SetJurisdictionPolicy, suspension("KZ"), actor="staff:kai")))
    refused(
        r.execute(policy_command(r, SetJurisdictionPolicy, suspension("RU"), actor="staff:kai")),
        RejectCode.OUT_OF_SCOPE,
    )


def test_scopes_and_roles_are_checked_when_staff_are_added_and_changed() -> None:
    r, *_ = kz_world()
    cases = [
        ({"name": "Bad Name", "role": Role.SUPPORT}, "staff name"),
        ({"name": "rm", "role": Role.REGIONAL_MANAGER}, "acts within a scope"),
        ({"name": "rm", "role": Role.REGIONAL_MANAGER, "venues": ("XX",)}, "venue 'XX'"),
        ({"name": "rm", "role": Role.REGIONAL_MANAGER, "countries": ("ZZ",)}, "'ZZ' is not"),
        ({"name": "co", "role": Role.COMPLIANCE_OFFICER, "countries": ("KZ",)}, "not scoped"),
        ({"name": "cora", "role": Role.SUPPORT}, "exists"),
    ]
    for fields, words in cases:
        rejection = one(r.do(AddStaff, **fields), CommandRejected)
        assert words in rejection.reason, (fields, rejection)
    # nobody changes their own role, even a senior officer granting themselves more
    ok(r.do(AddStaff, name="sid", role=Role.SENIOR_COMPLIANCE_OFFICER))
    reason = refused(
        as_staff(r, "sid", ChangeStaff, name="sid", role=Role.OPERATOR), RejectCode.NOT_PERMITTED
    )
    assert "cannot change their own role" in reason
    events = ok(
        as_staff(r, "sid", ChangeStaff, name="kai", role=Role.REGIONAL_MANAGER, countries=("KZ",))
    )
    assert one(events, StaffRecorded).venues == () and r.state.staff["kai"].countries == ("KZ",)
    refused(
        as_staff(r, "sid", ChangeStaff, name="kai", role=Role.REGIONAL_MANAGER, countries=("KZ",)),
        RejectCode.NO_CHANGE,
    )
    # a compliance officer does not manage staff
    refused(
        as_staff(r, "cora", ChangeStaff, name="sam", role=Role.COMPLIANCE_OFFICER),
        RejectCode.NOT_PERMITTED,
    )


def test_tokens_are_digests_with_an_expiry_and_offboarding_ends_them_all() -> None:
    r, *_ = kz_world()
    now = r.ts_ms + 1
    issue = {"name": "cora", "digest": digest("secret-1"), "expires_ms": now + 30 * DAY_MS}
    events = ok(r.do(IssueStaffToken, token_id="laptop", ts_ms=now, **issue))
    assert one(events, StaffTokenIssued).digest == digest("secret-1")
    assert r.view.staff_member(digest("secret-1"), now) is r.view.staff["cora"]
    assert r.view.staff_member(digest("secret-1"), now + 30 * DAY_MS) is None  # expired
    assert r.view.staff_member(digest("secret-2"), now) is None
    refused(r.do(IssueStaffToken, token_id="laptop", **issue), RejectCode.ALREADY_EXISTS)
    refused(r.do(IssueStaffToken, token_id="again", **issue), RejectCode.ALREADY_EXISTS)
    for bad in [
        {"token_id": "x", "expires_ms": now - 1},
        {"token_id": "x", "expires_ms": now + 400 * DAY_MS},
        {"token_id": "x", "digest": "not-hex"},
        {"token_id": "bad id!"},
    ]:
        refused(r.do(IssueStaffToken, **{**issue, **bad}), RejectCode.INVALID_PARAMETER)
    ok(r.do(IssueStaffToken, token_id="phone", **{**issue, "digest": digest("secret-3")}))
    ok(r.do(RevokeStaffToken, name="cora", token_id="phone"))
    assert r.view.staff_member(digest("secret-3"), now) is None

    events = ok(r.do(OffboardStaff, name="cora"))
    assert [e.token_id for e in of(events, StaffTokenRevoked)] == ["laptop"]
    assert one(events, StaffRecorded).active is False
    assert r.view.staff_member(digest("secret-1"), now) is None
    # gone at once: whatever she sends is refused by the engine itself
    refused(as_staff(r, "cora", FreezeAccount, account_id=1), RejectCode.NOT_PERMITTED)
    refused(r.do(OffboardStaff, name="cora"), RejectCode.UNKNOWN_STAFF)
    refused(r.do(IssueStaffToken, token_id="new", **issue), RejectCode.UNKNOWN_STAFF)
    refused(r.do(AddStaff, name="cora", role=Role.SUPPORT), RejectCode.ALREADY_EXISTS)
    assert r.state.staff["cora"].active is False  # her past actions stay hers


def test_staff_survive_a_snapshot_and_replay_to_the_same_digest() -> None:
    r, *_ = kz_world()
    ok(
        r.do(
            IssueStaffToken,
            name="kai",
            token_id="t1",
            digest=digest("a"),
            expires_ms=r.ts_ms + DAY_MS,
        )
    )
    ok(r.do(OffboardStaff, name="sam"))
    image = snapshot.dump(r.state)
    restored = snapshot.load(image)
    assert snapshot.dump(restored) == image
    replayed = Engine()
    for seq, cmd in enumerate(r.commands, start=1):
        replayed.execute(seq, cmd)
    assert snapshot.digest(replayed.state) == snapshot.digest(r.state)
    assert restored.staff["kai"].tokens["t1"].digest == digest("a")
    assert restored.staff["sam"].active is False


# --- property: nobody acts beyond their role or scope ----------------------------------------

STAFF = ["cora", "kai", "sam", "olga", "mallory"]


def _attempt(r: Runner, name: str, pick: int, accounts: list[int]) -> Command:
    acct = accounts[pick % len(accounts)]
    options: list[Command] = [
        r.stamp(FreezeAccount, account_id=acct, actor=f"staff:{name}"),
        r.stamp(UnfreezeAccount, account_id=acct, actor=f"staff:{name}"),
        r.stamp(Deposit, account_id=acct, asset="USDT", amount_raw=raw("5"), actor=f"staff:{name}"),
        r.stamp(CreateAsset, asset=f"A{pick}", precision=8, actor=f"staff:{name}"),
        r.stamp(AddStaff, name=f"n{pick}", role=Role.SUPPORT, actor=f"staff:{name}"),
        r.stamp(OffboardStaff, name=STAFF[pick % 4], actor=f"staff:{name}"),
        policy_command(
            r, SetJurisdictionPolicy, suspension(["KZ", "DE"][pick % 2]), actor=f"staff:{name}"
        ),
    ]
    return options[pick % len(options)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(STAFF), st.integers(0, 50)), min_size=1, max_size=25))
def test_no_staff_member_changes_state_beyond_their_role_and_scope(
    moves: list[tuple[str, int]],
) -> None:
    r, _, kz_acct, _, de_acct = kz_world()
    accounts = [kz_acct, de_acct, 1]
    for name, pick in moves:
        cmd = _attempt(r, name, pick, accounts)
        member = r.state.staff.get(name)
        allowed = (
            member is not None
            and member.active
            and type(cmd).__name__ in ROLES[member.role].commands
        )
        before = snapshot.dump(r.state)
        events = r.execute(cmd)
        rejection = of(events, CommandRejected)
        if not allowed:
            assert rejection and rejection[0].code is RejectCode.NOT_PERMITTED, (name, cmd)
        if rejection:
            after = snapshot.dump(r.state)
            # a refused command changes nothing but the seq it was given
            assert snapshot.load(after).last_seq == snapshot.load(before).last_seq + 1
            restored = snapshot.load(before)
            restored.last_seq += 1
            assert snapshot.dump(restored) == after, cmd
        elif member is not None and ROLES[member.role].scoped:
            # kai's only successes: on KZ's people and KZ's policies
            concerns = getattr(cmd, "account_id", None)
            assert concerns in (None, kz_acct), cmd
            spec = getattr(cmd, "spec", None)
            assert spec is None or spec.country == "KZ", cmd


@pytest.mark.parametrize("role", list(Role))
def test_every_role_is_in_the_table_and_scoped_roles_need_a_scope(role: Role) -> None:
    spec = ROLES[role]
    assert spec.title and spec.summary
    if role in (Role.SUPPORT, Role.AUDITOR):
        assert not spec.commands  # read-only roles


# --- console logins: setup links, credentials, sessions ---------------------------------------

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


def console(r: Runner, cls: type[Command], **fields: Any) -> list[AnyEvent]:
    return r.do(cls, actor=CONSOLE, **fields)


def test_a_setup_link_is_used_once_to_set_credentials_and_a_code_opens_one_session() -> None:
    r, *_ = kz_world()
    now = r.ts_ms + 1
    link = {"name": "cora", "token_id": "link", "digest": digest("setup"), "kind": TokenKind.SETUP}
    refused(
        r.do(IssueStaffToken, **link, expires_ms=now + 8 * DAY_MS), RejectCode.INVALID_PARAMETER
    )  # a setup link is for the coming days
    ok(r.do(IssueStaffToken, **link, expires_ms=now + 3 * DAY_MS))
    assert r.view.staff_member(digest("setup"), now) is None  # opens no admin API
    creds = {"name": "cora", "setup_token_id": "link", "password_hash": HASH, "totp_sealed": "v1:x"}
    # only the console's login desk sets credentials, with an unused, live link
    refused(r.do(SetStaffCredentials, **creds, totp_step=10), RejectCode.NOT_PERMITTED)
    refused(
        console(r, SetStaffCredentials, **{**creds, "password_hash": "plain"}, totp_step=10),
        RejectCode.INVALID_PARAMETER,
    )
    events = ok(console(r, SetStaffCredentials, **creds, totp_step=10))
    assert one(events, StaffCredentialsSet).password_hash == HASH
    assert one(events, StaffTokenRevoked).token_id == "link"
    assert r.view.staff["cora"].password_hash == HASH
    refused(console(r, SetStaffCredentials, **creds, totp_step=11), RejectCode.NOT_PERMITTED)

    session = {"name": "cora", "digest": digest("s1"), "expires_ms": now + 3_600_000}
    refused(
        r.do(IssueStaffToken, token_id="s", **session, kind=TokenKind.SESSION),
        RejectCode.NOT_PERMITTED,
    )  # a session is never issued, only opened by logging in
    refused(
        r.do(OpenStaffSession, token_id="s1", totp_step=11, **session), RejectCode.NOT_PERMITTED
    )
    refused(  # the code confirmed at setup was used
        console(r, OpenStaffSession, token_id="s1", totp_step=10, **session),
        RejectCode.NOT_PERMITTED,
    )
    refused(
        console(
            r,
            OpenStaffSession,
            token_id="s1",
            totp_step=11,
            **{**session, "expires_ms": now + 13 * 3_600_000},
        ),
        RejectCode.INVALID_PARAMETER,
    )
    ok(console(r, OpenStaffSession, token_id="s1", totp_step=11, **session))
    assert r.view.staff_token(digest("s1"), now, TokenKind.SESSION) is not None
    assert r.view.staff_member(digest("s1"), now) is None  # a session opens no admin API
    second = {**session, "digest": digest("s2")}
    refused(
        console(r, OpenStaffSession, token_id="s2", totp_step=11, **second),
        RejectCode.NOT_PERMITTED,
    )
    ok(console(r, OpenStaffSession, token_id="s2", totp_step=12, **second))
    # logging out: anyone may end their own session, nobody else's without the role
    ok(as_staff(r, "cora", RevokeStaffToken, name="cora", token_id="s1"))
    refused(
        as_staff(r, "cora", RevokeStaffToken, name="kai", token_id="x"), RejectCode.NOT_PERMITTED
    )
    # a new setup link's credentials end the sessions the old ones opened
    ok(r.do(IssueStaffToken, **{**link, "digest": digest("setup2")}, expires_ms=now + DAY_MS))
    events = ok(console(r, SetStaffCredentials, **creds, totp_step=13))
    assert {e.token_id for e in of(events, StaffTokenRevoked)} == {"link", "s2"}
    ok(
        console(
            r, OpenStaffSession, token_id="s3", totp_step=14, **{**session, "digest": digest("s3")}
        )
    )
    ok(r.do(OffboardStaff, name="cora"))
    assert r.view.staff_token(digest("s3"), now, TokenKind.SESSION) is None
    refused(
        console(
            r, OpenStaffSession, token_id="s4", totp_step=15, **{**session, "digest": digest("s4")}
        ),
        RejectCode.UNKNOWN_STAFF,
    )
    image = snapshot.dump(r.state)
    assert snapshot.dump(snapshot.load(image)) == image
    replayed = Engine()
    for seq, cmd in enumerate(r.commands, start=1):
        replayed.execute(seq, cmd)
    assert snapshot.digest(replayed.state) == snapshot.digest(r.state)
    assert snapshot.load(image).staff["cora"].password_hash == HASH
