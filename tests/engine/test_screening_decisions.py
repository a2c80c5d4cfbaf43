"""Screening alerts in the engine: a confirmation freezes exactly the customer it names, citing
the evidence; a dismissal is remembered until the listed entry changes."""

import msgspec

from bourse.commands import (
    ConfirmScreeningAlert,
    DismissScreeningAlert,
    ForgetDismissals,
    FreezeAccount,
    OpenAccount,
    RaiseDelistingReview,
    RaiseScreeningAlert,
    RecordRescreen,
    UnfreezeAccount,
)
from bourse.compliance.evidence import Evidence, ListRef
from bourse.domain.enums import Side
from bourse.domain.rejections import RejectCode
from bourse.engine import snapshot
from bourse.events import (
    AccountFrozen,
    AccountUnfrozen,
    CommandRejected,
    CustomerHeld,
    CustomerReleased,
    DismissalsForgotten,
    OrderCanceled,
    RescreenRecorded,
    ScreeningAlertDecided,
    ScreeningAlertRaised,
)
from tests.builders import Runner, assert_sound, of, onboard, one, world

EVIDENCE = Evidence(
    source="ofac_sdn",
    list_sha256="ab" * 32,
    entry_id="15718",
    listed_name="BADEGE, Eric",
    score_bp=9_900,
    explanation="erik~eric (0.95), badege=badege",
    entry_fingerprint="f1",
)


def _raise(r: Runner, customer_id: int, evidence: Evidence = EVIDENCE) -> list[object]:
    return list(r.do(RaiseScreeningAlert, customer_id=customer_id, evidence=evidence))


def _rejected(events: list[object], code: RejectCode) -> str:
    rejected = one(events, CommandRejected)  # type: ignore[arg-type]
    assert rejected.code is code, rejected.reason
    return rejected.reason


def test_confirming_freezes_every_account_of_that_customer_and_no_other() -> None:
    r = world(accounts=1)
    listed, first = onboard(r, "CD", name="Erik Badege")
    _, neighbour = onboard(r, "CD", name="Someone Else")
    for acct in (first, neighbour):
        r.deposit(acct, "USDT", "1000")
        r.limit(acct, Side.BUY, "40000", "0.01")
    alert = one(_raise(r, listed), ScreeningAlertRaised)  # type: ignore[arg-type]
    assert alert.evidence == EVIDENCE
    assert "already open" in _rejected(_raise(r, listed), RejectCode.NO_CHANGE)

    events = r.do(ConfirmScreeningAlert, alert_id=alert.alert_id, reason="match confirmed")
    decided = one(events, ScreeningAlertDecided)
    assert (decided.decision, decided.customer_id) == ("confirmed", listed)
    frozen = one(events, AccountFrozen)
    assert frozen.account_id == first and "ofac_sdn entry 15718" in frozen.evidence
    assert "score 0.9900" in frozen.evidence and frozen.reason == "match confirmed"
    assert one(events, OrderCanceled).account_id == first
    assert r.state.accounts[first].frozen and not r.state.accounts[neighbour].frozen
    assert len(r.state.accounts[neighbour].open_orders) == 1
    assert "was confirmed" in _rejected(
        r.do(ConfirmScreeningAlert, alert_id=alert.alert_id, reason="again"), RejectCode.NO_CHANGE
    )
    assert_sound(r)


def test_a_dismissal_holds_until_the_listed_entry_changes() -> None:
    r = world(accounts=1)
    cust, acct = onboard(r, "CD", name="Eric Badeg")
    alert = one(_raise(r, cust), ScreeningAlertRaised)  # type: ignore[arg-type]
    events = r.do(DismissScreeningAlert, alert_id=alert.alert_id, reason="different person: DOB")
    assert one(events, ScreeningAlertDecided).decision == "dismissed"
    assert not r.state.accounts[acct].frozen
    assert "has not changed" in _rejected(_raise(r, cust), RejectCode.NO_CHANGE)
    changed = msgspec.structs.replace(EVIDENCE, entry_fingerprint="f2")
    again = one(_raise(r, cust, changed), ScreeningAlertRaised)  # type: ignore[arg-type]
    assert again.alert_id != alert.alert_id
    assert_sound(r)


def test_bad_alerts_and_decisions_are_refused_and_change_nothing() -> None:
    r = world(accounts=1)
    cust, _ = onboard(r, "CD")
    cases = [
        (
            RaiseScreeningAlert,
            {"customer_id": 999, "evidence": EVIDENCE},
            RejectCode.UNKNOWN_CUSTOMER,
        ),
        (
            RaiseScreeningAlert,
            {"customer_id": cust, "evidence": msgspec.structs.replace(EVIDENCE, score_bp=10_001)},
            RejectCode.INVALID_PARAMETER,
        ),
        (ConfirmScreeningAlert, {"alert_id": 7, "reason": "x"}, RejectCode.INVALID_PARAMETER),
        (DismissScreeningAlert, {"alert_id": 7, "reason": " "}, RejectCode.REASON_REQUIRED),
    ]
    for cls, fields, code in cases:
        before = snapshot.dump(r.state)
        _rejected(list(r.do(cls, **fields)), code)
        r.state.last_seq -= 1  # the refused command took a seq and nothing else
        assert snapshot.dump(r.state) == before
        r.state.last_seq += 1


def test_a_delisting_review_unfreezes_on_confirmation_or_keeps_the_freeze() -> None:
    r = world(accounts=1)
    cust, acct = onboard(r, "CD", name="Erik Badege")
    hit = one(_raise(r, cust), ScreeningAlertRaised)  # type: ignore[arg-type]
    r.do(ConfirmScreeningAlert, alert_id=hit.alert_id, reason="same person")
    assert r.state.accounts[acct].frozen
    not_a_hit = r.do(RaiseDelistingReview, alert_id=999, list_sha256="ef" * 32)
    assert "not a confirmed screening hit" in _rejected(
        list(not_a_hit), RejectCode.INVALID_PARAMETER
    )

    events = r.do(RaiseDelistingReview, alert_id=hit.alert_id, list_sha256="ef" * 32)
    review = one(events, ScreeningAlertRaised)
    assert (review.kind, review.reviews) == ("delisting", hit.alert_id)
    assert review.evidence.list_sha256 == "ef" * 32
    again = r.do(RaiseDelistingReview, alert_id=hit.alert_id, list_sha256="ef" * 32)
    assert "already covers" in _rejected(list(again), RejectCode.NO_CHANGE)

    events = r.do(ConfirmScreeningAlert, alert_id=review.alert_id, reason="delisted 2026-12-01")
    assert one(events, AccountUnfrozen).account_id == acct
    assert not r.state.accounts[acct].frozen
    assert_sound(r)


def test_dismissing_a_delisting_review_keeps_the_freeze_and_records_no_false_positive() -> None:
    r = world(accounts=1)
    cust, acct = onboard(r, "CD", name="Erik Badege")
    hit = one(_raise(r, cust), ScreeningAlertRaised)  # type: ignore[arg-type]
    r.do(ConfirmScreeningAlert, alert_id=hit.alert_id, reason="same person")
    review = one(
        r.do(RaiseDelistingReview, alert_id=hit.alert_id, list_sha256="ef" * 32),
        ScreeningAlertRaised,
    )
    r.do(DismissScreeningAlert, alert_id=review.alert_id, reason="still under EU measures")
    assert r.state.accounts[acct].frozen and r.state.dismissals == {}
    assert_sound(r)


def test_a_rescreen_record_is_what_the_next_rescreen_compares_against() -> None:
    r = world(accounts=1)
    lists = (ListRef(source="ofac_sdn", list_sha256="ab" * 32),)
    events = r.do(RecordRescreen, lists=lists, matcher="m1", customers=3, mode="incremental")
    recorded = one(events, RescreenRecorded)
    assert (recorded.lists, recorded.customers, recorded.mode) == (lists, 3, "incremental")
    assert (r.state.screened_lists, r.state.screened_matcher) == ({"ofac_sdn": "ab" * 32}, "m1")
    newer = (ListRef(source="un_sc", list_sha256="cd" * 32),)
    r.do(RecordRescreen, lists=newer, matcher="m2", customers=3, mode="full")
    assert r.state.screened_lists == {"un_sc": "cd" * 32}  # the last record replaces the first
    assert_sound(r)  # kept by snapshots and replay


UN_EVIDENCE = Evidence(
    source="un_sc",
    list_sha256="cd" * 32,
    entry_id="6907993",
    listed_name="ERIC BADEGE",
    score_bp=9_800,
    explanation="erik~eric (0.95), badege=badege",
    entry_fingerprint="u1",
)


def _frozen_on_both_lists(r: Runner) -> tuple[int, int, int, int]:
    """A customer frozen on an OFAC hit and a UN hit: (customer, account, ofac hit, un hit)."""
    cust, acct = onboard(r, "CD", name="Erik Badege")
    hits = []
    for ev in (EVIDENCE, UN_EVIDENCE):
        hit = one(_raise(r, cust, ev), ScreeningAlertRaised)  # type: ignore[arg-type]
        r.do(ConfirmScreeningAlert, alert_id=hit.alert_id, reason="same person")
        hits.append(hit.alert_id)
    assert r.state.accounts[acct].frozen
    return cust, acct, hits[0], hits[1]


def test_a_delisting_keeps_the_freeze_while_another_confirmed_listing_stands() -> None:
    r = world(accounts=1)
    _, acct, ofac_hit, un_hit = _frozen_on_both_lists(r)
    review = one(
        r.do(RaiseDelistingReview, alert_id=ofac_hit, list_sha256="ef" * 32),
        ScreeningAlertRaised,
    )
    events = r.do(ConfirmScreeningAlert, alert_id=review.alert_id, reason="delisted by OFAC")
    decided = one(events, ScreeningAlertDecided)
    assert decided.decision == "confirmed" and decided.standing == (un_hit,)
    assert not of(events, AccountUnfrozen) and r.state.accounts[acct].frozen

    # The UN entry goes too: now nothing stands, and its review unfreezes.
    un_review = one(
        r.do(RaiseDelistingReview, alert_id=un_hit, list_sha256="01" * 32),
        ScreeningAlertRaised,
    )
    events = r.do(ConfirmScreeningAlert, alert_id=un_review.alert_id, reason="delisted by UN")
    assert one(events, ScreeningAlertDecided).standing == ()
    assert one(events, AccountUnfrozen).account_id == acct
    assert not r.state.accounts[acct].frozen
    assert_sound(r)


def test_an_open_delisting_review_is_still_a_standing_listing() -> None:
    r = world(accounts=1)
    _, acct, ofac_hit, un_hit = _frozen_on_both_lists(r)
    reviews = [
        one(r.do(RaiseDelistingReview, alert_id=hit, list_sha256="ef" * 32), ScreeningAlertRaised)
        for hit in (ofac_hit, un_hit)
    ]
    events = r.do(ConfirmScreeningAlert, alert_id=reviews[0].alert_id, reason="delisted")
    assert one(events, ScreeningAlertDecided).standing == (un_hit,)  # not yet decided
    assert r.state.accounts[acct].frozen
    events = r.do(ConfirmScreeningAlert, alert_id=reviews[1].alert_id, reason="delisted")
    assert one(events, AccountUnfrozen).account_id == acct


def test_a_manual_unfreeze_names_the_standing_listing_it_overrides() -> None:
    r = world(accounts=1)
    _, acct, ofac_hit, un_hit = _frozen_on_both_lists(r)
    refused = _rejected(
        list(r.do(UnfreezeAccount, account_id=acct, reason="customer called")),
        RejectCode.LISTING_STANDS,
    )
    assert f"alert {ofac_hit} (ofac_sdn entry 15718" in refused
    assert f"alert {un_hit} (un_sc entry 6907993" in refused
    assert r.state.accounts[acct].frozen
    partial = r.do(UnfreezeAccount, account_id=acct, reason="licence", overrides=(ofac_hit,))
    _rejected(list(partial), RejectCode.LISTING_STANDS)

    events = r.do(
        UnfreezeAccount,
        account_id=acct,
        reason="mistaken identity: passport differs, both lists notified",
        overrides=(un_hit, ofac_hit),
    )
    unfrozen = one(events, AccountUnfrozen)
    assert unfrozen.overrides == (ofac_hit, un_hit) and "mistaken identity" in unfrozen.reason
    assert not r.state.accounts[acct].frozen
    assert_sound(r)


def test_a_manual_unfreeze_without_a_listing_needs_no_override() -> None:
    r = world(accounts=1)
    r.do(FreezeAccount, account_id=1, reason="fraud check", evidence="ticket 7")
    wrong = r.do(UnfreezeAccount, account_id=1, reason="cleared", overrides=(3,))
    assert "nothing to override" in _rejected(list(wrong), RejectCode.INVALID_PARAMETER)
    assert one(r.do(UnfreezeAccount, account_id=1, reason="cleared"), AccountUnfrozen)


def test_an_onboarding_hit_holds_the_customer_until_dismissed() -> None:
    r = world(accounts=1)
    cust, acct = onboard(r, "CD", name="Erik Badege")
    _, other = onboard(r, "CD", name="Someone Else")
    events = r.do(RaiseScreeningAlert, customer_id=cust, evidence=EVIDENCE, hold=True)
    alert = one(events, ScreeningAlertRaised)
    assert one(events, CustomerHeld).alert_id == alert.alert_id
    assert r.state.customers[cust].held_by == [alert.alert_id]

    for refused in (
        r.deposit(acct, "USDT", "1000"),
        r.limit(acct, Side.BUY, "40000", "0.01"),
        r.withdraw(acct, "USDT", "1"),
    ):
        reason = _rejected(list(refused), RejectCode.CUSTOMER_HELD)
        assert f"alert {alert.alert_id} (ofac_sdn entry 15718" in reason
    r.deposit(other, "USDT", "1000")  # the neighbour is not slowed
    assert not of(r.limit(other, Side.BUY, "40000", "0.01"), CommandRejected)
    assert_sound(r)  # the hold survives a snapshot and a replay

    events = r.do(DismissScreeningAlert, alert_id=alert.alert_id, reason="different person")
    released = one(events, CustomerReleased)
    assert (released.alert_id, released.held_by) == (alert.alert_id, ())
    assert not of(r.deposit(acct, "USDT", "1000"), CommandRejected)
    assert not of(r.limit(acct, Side.BUY, "40000", "0.01"), CommandRejected)
    assert_sound(r)


def test_an_onboarding_hit_confirmed_freezes_and_ends_the_hold() -> None:
    r = world(accounts=1)
    cust, acct = onboard(r, "CD", name="Erik Badege")
    first = one(
        r.do(RaiseScreeningAlert, customer_id=cust, evidence=EVIDENCE, hold=True),
        ScreeningAlertRaised,
    )
    second = one(
        r.do(RaiseScreeningAlert, customer_id=cust, evidence=UN_EVIDENCE, hold=True),
        ScreeningAlertRaised,
    )
    restored = snapshot.load(snapshot.dump(r.state))
    assert restored.customers[cust].held_by == [first.alert_id, second.alert_id]
    events = r.do(ConfirmScreeningAlert, alert_id=first.alert_id, reason="same person")
    assert one(events, AccountFrozen).account_id == acct
    assert one(events, CustomerReleased).held_by == (second.alert_id,)
    events = r.do(DismissScreeningAlert, alert_id=second.alert_id, reason="UN entry differs")
    assert one(events, CustomerReleased).held_by == ()
    assert r.state.accounts[acct].frozen  # the confirmed hit's freeze stays
    assert_sound(r)


def test_a_hit_raised_by_a_rescreen_holds_nobody() -> None:
    r = world(accounts=1)
    cust, acct = onboard(r, "CD", name="Erik Badege")
    events = _raise(r, cust)
    assert not of(events, CustomerHeld)  # type: ignore[arg-type]
    assert not of(r.deposit(acct, "USDT", "1000"), CommandRejected)


def test_a_dismissal_ends_when_its_entry_leaves_the_list() -> None:
    r = world(accounts=1)
    cust, _ = onboard(r, "CD", name="Eric Badeg")
    alert = one(_raise(r, cust), ScreeningAlertRaised)  # type: ignore[arg-type]
    r.do(DismissScreeningAlert, alert_id=alert.alert_id, reason="different person: DOB")
    other = one(_raise(r, cust, UN_EVIDENCE), ScreeningAlertRaised)  # type: ignore[arg-type]
    r.do(DismissScreeningAlert, alert_id=other.alert_id, reason="different person")
    assert "has not changed" in _rejected(_raise(r, cust), RejectCode.NO_CHANGE)

    events = r.do(ForgetDismissals, source="ofac_sdn", list_sha256="ef" * 32, entry_ids=("15718",))
    forgotten = one(events, DismissalsForgotten)
    assert (forgotten.entry_ids, forgotten.customers) == (("15718",), (cust,))
    assert list(r.state.dismissals) == [f"{cust}:un_sc:6907993"]  # the UN one stands
    again = r.do(ForgetDismissals, source="ofac_sdn", list_sha256="ef" * 32, entry_ids=("15718",))
    _rejected(list(again), RejectCode.NO_CHANGE)
    relisted = one(_raise(r, cust), ScreeningAlertRaised)  # type: ignore[arg-type]
    assert relisted.alert_id > other.alert_id
    assert_sound(r)


def test_a_delisting_does_not_lift_a_freeze_staff_made_by_hand() -> None:
    r = world(accounts=1)
    cust, first = onboard(r, "CD", name="Erik Badege")
    r.do(OpenAccount, customer_id=cust)
    second = r.state.customers[cust].accounts[1]
    r.do(FreezeAccount, account_id=second, reason="fraud ticket 81", evidence="ticket 81")
    hit = one(_raise(r, cust), ScreeningAlertRaised)  # type: ignore[arg-type]
    r.do(ConfirmScreeningAlert, alert_id=hit.alert_id, reason="same person")
    review = one(
        r.do(RaiseDelistingReview, alert_id=hit.alert_id, list_sha256="ef" * 32),
        ScreeningAlertRaised,
    )
    events = r.do(ConfirmScreeningAlert, alert_id=review.alert_id, reason="delisted")
    assert [e.account_id for e in of(events, AccountUnfrozen)] == [first]
    assert r.state.accounts[second].frozen
    assert r.state.accounts[second].manual_freeze == "fraud ticket 81"
    assert_sound(r)  # kept by snapshots
    assert one(r.do(UnfreezeAccount, account_id=second, reason="ticket closed"), AccountUnfrozen)
    assert r.state.accounts[second].manual_freeze == ""
