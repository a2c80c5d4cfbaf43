"""Card partners in the engine: saved cards are tokens, never numbers; a card deposit is pending
until the partner's settlement report settles it (credited through the deposit path) or
reverses it; a partner that leaves takes no card deposit from its effective time, and what was
pending then still settles or reverses: nothing is lost."""

from typing import Any

import pytest

from bourse.banking.cards import PartnerEndImpact, PartnerEndSpec, looks_like_a_card_number
from bourse.commands import (
    CreateAsset,
    DefinePaymentPartner,
    EndPaymentPartner,
    ReceiveCardDeposit,
    RunDuePolicies,
    SaveCard,
    SettleCardDeposit,
)
from bourse.compliance.policy import Capability
from bourse.domain.limits import RAW_MAX
from bourse.domain.rejections import RejectCode
from bourse.engine import cards
from bourse.events import (
    CardDepositReceived,
    CardDepositSettled,
    CardSaved,
    CommandRejected,
    DepositCredited,
    PaymentPartnerEnded,
    PaymentPartnerEndScheduled,
)
from tests.builders import Runner, apply_policy, assert_sound, drive, of, onboard, one, suspension

MC = "MASTERCARD"


def _ok(events: list[Any]) -> list[Any]:
    assert not of(events, CommandRejected), events
    return events


def _preview(r: Runner, **kw: Any) -> PartnerEndImpact:
    return drive(cards.end_preview(r.state, PartnerEndSpec(partner=MC, **kw), slice_size=1))


def _end(r: Runner, impact: PartnerEndImpact) -> list[Any]:
    return r.do(EndPaymentPartner, spec=impact.spec, preview_id=impact.preview_id,
                previewed=impact.previewed)  # fmt: skip


@pytest.fixture
def r() -> Runner:
    r = Runner()
    _ok(r.do(CreateAsset, asset="EUR", precision=2, fiat=True))
    _ok(r.do(DefinePaymentPartner, code=MC, name="Mastercard", kind="CARD_SCHEME",
             currencies=("EUR",), serves=("DE", "RU")))  # fmt: skip
    return r


def _card(r: Runner, customer_id: int, name: str, token: str, last4: str = "4444") -> int:
    events = _ok(r.do(SaveCard, customer_id=customer_id, partner=MC, token=token, last4=last4,
                      expiry="12/30", holder=name))  # fmt: skip
    return one(events, CardSaved).card_id


def _pay(r: Runner, card_id: int, cents: int, ref: str) -> list[Any]:
    return r.do(ReceiveCardDeposit, partner=MC, card_id=card_id, currency="EUR",
                amount_raw=cents, partner_ref=ref)  # fmt: skip


def test_a_card_is_saved_as_a_token_and_never_as_its_number(r: Runner) -> None:
    anna, _ = onboard(r, "DE", name="Anna Müller")
    assert looks_like_a_card_number("5555 5555 5555 4444")
    assert not looks_like_a_card_number("tok_5555555555554444x")
    pan = one(r.do(SaveCard, customer_id=anna, partner=MC, token="5555555555554444", last4="4444",
                   expiry="12/30", holder="Anna Müller"), CommandRejected)  # fmt: skip
    assert "that is a card number" in pan.reason
    other = one(r.do(SaveCard, customer_id=anna, partner=MC, token="tok_abcdefgh", last4="4444",
                     expiry="12/30", holder="Boris Other"), CommandRejected)  # fmt: skip
    assert "is not the customer 'Anna Müller'" in other.reason
    old = one(r.do(SaveCard, customer_id=anna, partner=MC, token="tok_abcdefgh", last4="4444",
                   expiry="01/20", holder="Anna Müller"), CommandRejected)  # fmt: skip
    assert "expired at the end of 01/20" in old.reason
    bad = one(r.do(SaveCard, customer_id=anna, partner=MC, token="tok_abcdefgh", last4="44a4",
                   expiry="13/30", holder="Anna Müller"), CommandRejected)  # fmt: skip
    assert "last4" in bad.reason
    card_id = _card(r, anna, "ANNA MUELLER", "tok_abcdefgh")
    twice = one(r.do(SaveCard, customer_id=anna, partner=MC, token="tok_abcdefgh", last4="4444",
                     expiry="12/30", holder="Anna Müller"), CommandRejected)  # fmt: skip
    assert twice.code == RejectCode.ALREADY_EXISTS
    assert r.state.banking.cards[card_id].token == "tok_abcdefgh"


def test_a_card_deposit_is_credited_when_it_settles_and_never_when_reversed(r: Runner) -> None:
    anna, acct = onboard(r, "DE", name="Anna Müller")
    card = _card(r, anna, "Anna Müller", "tok_anna_0001")
    first = one(_ok(_pay(r, card, 10_000, "pay-1")), CardDepositReceived)
    assert r.balance(acct, "EUR") == (0, 0)  # pending: nothing credited yet
    again = one(_pay(r, card, 10_000, "pay-1"), CommandRejected)
    assert again.code == RejectCode.ALREADY_EXISTS and "card deposit 1" in again.reason
    settled = _ok(r.do(SettleCardDeposit, deposit_id=first.deposit_id, settled=True))
    assert one(settled, DepositCredited).tx_ref == "card:MASTERCARD:pay-1"
    assert r.balance(acct, "EUR") == (10_000, 0)
    second = one(_ok(_pay(r, card, 5_000, "pay-2")), CardDepositReceived)
    reversed_ = _ok(r.do(SettleCardDeposit, deposit_id=second.deposit_id, settled=False,
                         reason="chargeback: cardholder dispute"))  # fmt: skip
    assert one(reversed_, CardDepositSettled).status == "REVERSED"
    assert not of(reversed_, DepositCredited)
    third = one(_ok(_pay(r, card, 2_000, "pay-3")), CardDepositReceived)
    _ok(apply_policy(r, suspension("DE", Capability.FIAT_DEPOSIT)))  # after it was received
    refunded = one(_ok(r.do(SettleCardDeposit, deposit_id=third.deposit_id, settled=True)),
                   CardDepositSettled)  # fmt: skip
    assert refunded.status == "REVERSED" and "refunded to the card" in refunded.reason
    assert r.balance(acct, "EUR") == (10_000, 0)
    done = one(r.do(SettleCardDeposit, deposit_id=first.deposit_id, settled=True), CommandRejected)
    assert "is not pending" in done.reason
    assert_sound(r)


def test_a_card_scheme_leaves_on_a_date_and_nothing_pending_is_lost(r: Runner) -> None:
    anna, anna_acct = onboard(r, "DE", name="Anna Müller")
    ivan, ivan_acct = onboard(r, "RU", name="Ivan Petrov")
    anna_card = _card(r, anna, "Anna Müller", "tok_anna_0001")
    _card(r, anna, "Anna Müller", "tok_anna_0002", last4="1111")
    ivan_card = _card(r, ivan, "Ivan Petrov", "tok_ivan_0001")
    paid = ((anna_card, 3000, "a-1"), (ivan_card, 7000, "i-1"))
    pending = [one(_ok(_pay(r, *p)), CardDepositReceived).deposit_id for p in paid]
    the_day = r.ts_ms + 10_000
    impact = _preview(r, effective_ms=the_day)
    assert (impact.customers, impact.cards) == (2, 3)
    assert [d["id"] for d in impact.pending] == pending and impact.by_currency == {"EUR": 10_000}
    _ok(_pay(r, ivan_card, 100, "i-2"))  # a deposit after the preview: it is stale
    stale = one(_end(r, impact), CommandRejected)
    assert stale.code == RejectCode.PREVIEW_STALE and "card deposits pending" in stale.reason
    impact = _preview(r, effective_ms=the_day)
    scheduled = one(_ok(_end(r, impact)), PaymentPartnerEndScheduled)
    assert scheduled.spec.effective_ms == the_day
    _ok(_pay(r, anna_card, 500, "a-2"))  # the day before: still taken
    r.ts_ms = the_day  # the day has come; the driver has not run yet
    refused = one(_pay(r, anna_card, 500, "a-3"), CommandRejected)
    assert refused.code == RejectCode.PARTNER_ENDED
    assert refused.reason == "Mastercard (MASTERCARD) has ended: no card payment goes through it"
    ended = one(_ok(r.do(RunDuePolicies)), PaymentPartnerEnded)
    assert (ended.cards, ended.customers, len(ended.pending)) == (3, 2, 4)
    # what was pending at the end settles or reverses as the scheme's report says
    for deposit_id in ended.pending:
        settled = deposit_id != pending[1]
        _ok(r.do(SettleCardDeposit, deposit_id=deposit_id, settled=settled))
    assert r.balance(anna_acct, "EUR") == (3500, 0)
    assert r.balance(ivan_acct, "EUR") == (100, 0)
    assert all(d.status != "PENDING" for d in r.state.banking.card_deposits.values())
    new_card = one(r.do(SaveCard, customer_id=anna, partner=MC, token="tok_anna_0003",
                        last4="2222", expiry="12/30", holder="Anna Müller"),
                   CommandRejected)  # fmt: skip
    assert new_card.code == RejectCode.PARTNER_ENDED
    assert_sound(r)


def test_a_deposit_a_policy_or_a_partner_does_not_take_is_refused_up_front(r: Runner) -> None:
    kz, _ = onboard(r, "KZ", name="Aidos Serik")
    refused = one(r.do(SaveCard, customer_id=kz, partner="VISA", token="tok_kz_00001", last4="1234",
                       expiry="12/30", holder="Aidos Serik"), CommandRejected)  # fmt: skip
    assert refused.reason == "VISA is not a payment partner"
    card = _card(r, kz, "Aidos Serik", "tok_kz_00001")
    unserved = one(_pay(r, card, 100, "k-1"), CommandRejected)
    assert unserved.reason == "Mastercard does not serve residents of KZ"
    de, _ = onboard(r, "DE", name="Dora Klein")
    dora = _card(r, de, "Dora Klein", "tok_de_00001")
    most = one(_ok(_pay(r, dora, RAW_MAX - 99, "d-1")), CardDepositReceived).deposit_id
    _ok(r.do(SettleCardDeposit, deposit_id=most, settled=True))
    huge = one(_pay(r, dora, 100, "d-2"), CommandRejected)  # never pending, never reversed
    assert "would take the EUR held on the exchange past" in huge.reason
    bad_partner = one(r.do(DefinePaymentPartner, code="mc", name="x", kind="CARD_SCHEME",
                           currencies=("EUR",), serves=("DE",)), CommandRejected)  # fmt: skip
    assert "a partner code is" in bad_partner.reason
