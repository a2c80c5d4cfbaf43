"""Card partners through the admin API: a card scheme, a customer's card saved as a token (a
card number refused), card deposits pending until settled or reversed, and the scheme leaving:
previewed, applied citing the preview; card deposits refused from then on, what was pending
still settles."""

from decimal import Decimal
from typing import Any

import httpx2 as httpx
import pytest

from tests.api.conftest import Api
from tests.api.test_screening_flow import answered, call, onboard

WHY = {"reason": "card acquiring agreement"}


def _eur(api: Api, account: int) -> Decimal:
    balances = answered(call(api, "GET", f"/accounts/{account}"))["balances"]
    return sum((Decimal(b["free"]) for b in balances if b["asset"] == "EUR"), Decimal(0))


def _refused(response: httpx.Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    assert text in response.json()["message"], response.json()


@pytest.fixture
def card(api: Api) -> tuple[int, int]:
    """Mastercard, and Anna's saved card: (card id, Anna's account)."""
    body = {"name": "Mastercard", "kind": "CARD_SCHEME", "currencies": ["EUR"],
            "serves": ["DE"], **WHY}  # fmt: skip
    assert answered(call(api, "PUT", "/partners/MASTERCARD", body))["status"] == "ACTIVE"
    made = onboard(api, "Anna Schmidt")
    customer_id, account = int(made["customerId"]), int(made["accountId"])
    saved = answered(call(api, "POST", f"/customers/{customer_id}/cards",
                          {"partner": "MASTERCARD", "token": "tok_1Nv0xYz2abcd", "last4": "4444",
                           "expiry": "12/39", "holder": "Anna Schmidt", **WHY}))  # fmt: skip
    assert (saved["tokenEnd"], saved["last4"], saved["partner"]) == ("abcd", "4444", "MASTERCARD")
    assert "tok_1Nv0xYz2abcd" not in str(saved)  # the token is never answered in full
    return int(saved["id"]), account


def _pay(api: Api, card_id: int, amount: str, ref: str) -> httpx.Response:
    body = {"card_id": card_id, "currency": "EUR", "amount": amount, "partner_ref": ref, **WHY}
    return call(api, "POST", "/partners/MASTERCARD/deposits", body)


def test_a_card_number_is_never_taken(api: Api, card: tuple[int, int]) -> None:
    customer_id = answered(call(api, "GET", "/cards"))[0]["customerId"]
    body: dict[str, Any] = {"partner": "MASTERCARD", "token": "5555 5555 5555 4444",
                            "last4": "4444", "expiry": "12/39", "holder": "Anna Schmidt",
                            **WHY}  # fmt: skip
    _refused(call(api, "POST", f"/customers/{customer_id}/cards", body), 400,
             "that is a card number")  # fmt: skip
    with_pan = {**body, "token": "tok_abcdefgh12", "number": "5555555555554444"}
    _refused(call(api, "POST", f"/customers/{customer_id}/cards", with_pan), 400, "number")
    cards = answered(call(api, "GET", "/cards"))
    assert [c["tokenEnd"] for c in cards] == ["abcd"]


def test_card_deposits_settle_or_reverse_and_a_scheme_leaves(
    api: Api, card: tuple[int, int]
) -> None:
    card_id, account = card
    before = _eur(api, account)
    first = answered(_pay(api, card_id, "250.00", "pay_1"))
    assert first["status"] == "PENDING" and _eur(api, account) == before
    _refused(_pay(api, card_id, "250.00", "pay_1"), 409, "is card deposit")
    _refused(_pay(api, card_id, "1.001", "pay_x"), 400, "whole minor units")
    settled = answered(call(api, "POST", f"/card-deposits/{first['id']}/settlement",
                            {"settled": True, **WHY}))  # fmt: skip
    assert settled["status"] == "SETTLED" and _eur(api, account) == before + 250
    second = answered(_pay(api, card_id, "40", "pay_2"))
    preview = answered(call(api, "POST", "/partners/MASTERCARD/end/preview", {}))
    assert (preview["customers"], preview["cards"], preview["byCurrency"]) == (
        1, 1, {"EUR": "40.00000000"}
    )  # fmt: skip
    assert [d["id"] for d in preview["pending"]] == [second["id"]]
    third = answered(_pay(api, card_id, "5", "pay_3"))
    stale = call(api, "POST", "/partners/MASTERCARD/end", {**preview["apply"], **WHY})
    assert (stale.status_code, stale.json()["error"]) == (409, "PREVIEW_STALE"), stale.text
    preview = answered(call(api, "POST", "/partners/MASTERCARD/end/preview", {}))
    ended = answered(call(api, "POST", "/partners/MASTERCARD/end", {**preview["apply"], **WHY}))
    assert ended["status"] == "APPLIED"
    assert [d["id"] for d in ended["pending"]] == [second["id"], third["id"]]
    refused = _pay(api, card_id, "10", "pay_4")
    assert (refused.status_code, refused.json()["error"]) == (409, "PARTNER_ENDED")
    # the scheme's last settlement report: one settles, one is reversed; nothing is lost
    answered(call(api, "POST", f"/card-deposits/{second['id']}/settlement",
                  {"settled": True, **WHY}))  # fmt: skip
    answered(call(api, "POST", f"/card-deposits/{third['id']}/settlement",
                  {"settled": False, "reason": "chargeback"}))  # fmt: skip
    assert _eur(api, account) == before + 290
    [end] = answered(call(api, "GET", "/partner-ends"))
    assert [d["status"] for d in end["pending"]] == ["SETTLED", "REVERSED"]
    [partner] = answered(call(api, "GET", "/partners"))
    assert partner["status"] == "ENDED"
    assert answered(call(api, "GET", "/card-deposits", params={"status": "PENDING"})) == []


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/cards?customer=9999", 404, "CUSTOMER_NOT_FOUND"),
        ("/bank-accounts?customer=9999", 404, "CUSTOMER_NOT_FOUND"),
        ("/card-deposits?status=BOGUS", 400, "BAD_REQUEST"),
        ("/cut-offs/999", 404, "CUT_OFF_NOT_FOUND"),
    ],
)
def test_a_filter_or_id_that_names_nothing_is_never_answered_as_empty(
    api: Api, path: str, status: int, error: str
) -> None:
    r = call(api, "GET", path)
    assert (r.status_code, r.json()["error"]) == (status, error), r.text
