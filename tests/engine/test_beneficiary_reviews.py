"""Fiat withdrawals to a screened beneficiary: a hit holds the payment for review; confirming
fails it (the money stays), dismissing releases it and is remembered for that customer and payee
until the listed entry changes. The customer's accounts are never frozen by a payee's match."""

import msgspec

from bourse.commands import (
    CompleteWithdrawal,
    ConfirmScreeningAlert,
    CreateAsset,
    DismissScreeningAlert,
    ForgetDismissals,
    ListedAddress,
    RequestWithdrawal,
    SetSanctionedAddresses,
)
from bourse.compliance.evidence import BeneficiaryScreening, Evidence, ListRef
from bourse.domain.rejections import RejectCode
from bourse.events import (
    CommandRejected,
    DismissalsForgotten,
    ScreeningAlertDecided,
    ScreeningAlertRaised,
    WithdrawalCompleted,
    WithdrawalFailed,
    WithdrawalRequested,
)
from tests.builders import BTC_ADDRESS, Runner, assert_sound, of, onboard, one, raw, world

SHA = "ab" * 32
VERSION = BeneficiaryScreening(lists=(ListRef(source="ofac_sdn", list_sha256=SHA),))
HIT = Evidence(
    source="ofac_sdn",
    list_sha256=SHA,
    entry_id="9647",
    listed_name="BANCO NACIONAL DE CUBA",
    score_bp=9_400,
    explanation="banco nacional de cuba ~ banco nacional cuba",
    entry_fingerprint="f1",
)
IBAN = "DE89370400440532013000"


def _world() -> tuple[Runner, int, int]:
    """A customer with 1000 EUR; the engine holds ofac_sdn version SHA."""
    r = world(accounts=1)
    r.do(CreateAsset, asset="EUR", precision=8, fiat=True, reason="demo fiat")
    r.do(SetSanctionedAddresses, source="ofac_sdn", list_sha256=SHA, addresses=(
        ListedAddress(address="bc1qlisted", entry_id="1"),
    ))  # fmt: skip
    cust, acct = onboard(r, "DE", name="Anna Schmidt")
    r.deposit(acct, "EUR", "1000")
    return r, cust, acct


def _pay(r: Runner, acct: int, payee: str, *hits: Evidence) -> list[object]:
    screening = msgspec.structs.replace(VERSION, hits=hits)
    return list(
        r.do(
            RequestWithdrawal,
            account_id=acct,
            asset="EUR",
            amount_raw=raw("100"),
            destination=IBAN,
            beneficiary=payee,
            screening=screening,
        )
    )


def _complete(r: Runner, withdrawal_id: int) -> list[object]:
    return list(r.do(CompleteWithdrawal, withdrawal_id=withdrawal_id, tx_ref="SEPA-1"))


def test_a_clean_payee_leaves_at_once() -> None:
    r, _, acct = _world()
    requested = one(_pay(r, acct, "Jane Roe"), WithdrawalRequested)  # type: ignore[arg-type]
    assert (requested.beneficiary, requested.held_by) == ("Jane Roe", ())
    assert one(_complete(r, requested.withdrawal_id), WithdrawalCompleted)  # type: ignore[arg-type]
    assert_sound(r)


def test_a_hit_holds_the_payment_and_a_confirmation_fails_it() -> None:
    r, cust, acct = _world()
    events = _pay(r, acct, "Banco Nacional de Cuba", HIT, HIT)  # one review per entry
    alert = one(events, ScreeningAlertRaised)  # type: ignore[arg-type]
    requested = one(events, WithdrawalRequested)  # type: ignore[arg-type]
    assert (alert.kind, alert.customer_id, alert.evidence) == ("beneficiary", cust, HIT)
    assert alert.withdrawal_id == requested.withdrawal_id
    assert requested.held_by == (alert.alert_id,)
    assert r.state.accounts[acct].balances["EUR"].locked == raw("100")
    refused = one(_complete(r, requested.withdrawal_id), CommandRejected)  # type: ignore[arg-type]
    assert refused.code is RejectCode.WITHDRAWAL_HELD and "Banco Nacional" in refused.reason
    assert_sound(r)  # a snapshot keeps the hold

    events = list(r.do(ConfirmScreeningAlert, alert_id=alert.alert_id, reason="listed bank"))
    assert one(events, ScreeningAlertDecided).decision == "confirmed"  # type: ignore[arg-type]
    failed = one(events, WithdrawalFailed)  # type: ignore[arg-type]
    assert failed.withdrawal_id == requested.withdrawal_id
    assert "listed bank" in failed.reason and "ofac_sdn entry 9647" in failed.reason
    balance = r.state.accounts[acct].balances["EUR"]
    assert (balance.free, balance.locked) == (raw("1000"), 0)
    assert not r.state.accounts[acct].frozen  # paying a listed party is reviewed, not a freeze
    assert_sound(r)


def test_a_dismissal_releases_the_payment_and_holds_for_that_payee_until_the_entry_changes() -> (
    None
):
    r, _, acct = _world()
    first = one(_pay(r, acct, "Banco Nacional", HIT), WithdrawalRequested)  # type: ignore[arg-type]
    (alert_id,) = first.held_by
    r.do(DismissScreeningAlert, alert_id=alert_id, reason="a Spanish bank of the same name")
    assert one(_complete(r, first.withdrawal_id), WithdrawalCompleted)  # type: ignore[arg-type]

    again = _pay(r, acct, "  banco   NACIONAL ", HIT)  # the same payee, spelled loosely
    assert not of(again, ScreeningAlertRaised)  # type: ignore[arg-type]
    assert one(again, WithdrawalRequested).held_by == ()  # type: ignore[arg-type]
    other_payee = _pay(r, acct, "Banco Nacional de Cuba", HIT)
    assert one(other_payee, ScreeningAlertRaised)  # type: ignore[arg-type]
    changed = msgspec.structs.replace(HIT, entry_fingerprint="f2")
    assert one(_pay(r, acct, "Banco Nacional", changed), ScreeningAlertRaised)  # type: ignore[arg-type]
    assert_sound(r)


def test_a_payee_dismissal_ends_when_its_entry_leaves_the_list() -> None:
    r, _, acct = _world()
    first = one(_pay(r, acct, "Banco Nacional", HIT), WithdrawalRequested)  # type: ignore[arg-type]
    (alert_id,) = first.held_by
    r.do(DismissScreeningAlert, alert_id=alert_id, reason="a Spanish bank of the same name")
    gone = (HIT.entry_id,)
    events = r.do(ForgetDismissals, source=HIT.source, list_sha256="ef" * 32, entry_ids=gone)
    (key,) = one(events, DismissalsForgotten).keys  # type: ignore[arg-type]
    assert key.endswith(":payee:banco nacional")
    assert one(_pay(r, acct, "Banco Nacional", HIT), ScreeningAlertRaised)  # type: ignore[arg-type]
    assert_sound(r)


def test_a_payment_held_by_two_entries_waits_for_both() -> None:
    r, _, acct = _world()
    second = msgspec.structs.replace(HIT, entry_id="9648")
    requested = one(_pay(r, acct, "Banco Nacional", HIT, second), WithdrawalRequested)  # type: ignore[arg-type]
    first_alert, second_alert = requested.held_by
    r.do(DismissScreeningAlert, alert_id=first_alert, reason="not this one")
    refused = one(_complete(r, requested.withdrawal_id), CommandRejected)  # type: ignore[arg-type]
    assert refused.code is RejectCode.WITHDRAWAL_HELD and str(second_alert) in refused.reason
    r.do(DismissScreeningAlert, alert_id=second_alert, reason="nor this one")
    assert one(_complete(r, requested.withdrawal_id), WithdrawalCompleted)  # type: ignore[arg-type]
    assert_sound(r)


def test_a_crypto_withdrawal_naming_its_beneficiary_is_screened_as_a_fiat_one_is() -> None:
    r, _, acct = _world()
    r.deposit(acct, "BTC", "1")
    crypto = {
        "account_id": acct,
        "asset": "BTC",
        "amount_raw": raw("0.1"),
        "destination": BTC_ADDRESS,
    }
    unscreened = one(
        r.do(RequestWithdrawal, **crypto, beneficiary="Banco Nacional de Cuba"), CommandRejected
    )
    assert unscreened.code is RejectCode.UNSCREENED_BENEFICIARY
    assert "'Banco Nacional de Cuba'" in unscreened.reason

    screening = msgspec.structs.replace(VERSION, hits=(HIT,))
    events = r.do(RequestWithdrawal, **crypto, beneficiary="Banco Nacional", screening=screening)
    review = one(events, ScreeningAlertRaised)
    requested = one(events, WithdrawalRequested)
    assert (review.kind, requested.held_by) == ("beneficiary", (review.alert_id,))
    held = one(_complete(r, requested.withdrawal_id), CommandRejected)  # type: ignore[arg-type]
    assert held.code is RejectCode.WITHDRAWAL_HELD

    anonymous = r.do(RequestWithdrawal, **crypto)  # naming nobody: as before, the address decides
    assert not of(anonymous, CommandRejected)
    assert_sound(r)
