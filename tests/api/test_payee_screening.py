"""Fiat withdrawals through the admin API: the beneficiary and its bank are screened against the
lists in force; a hit holds the payment until a compliance officer decides, and bad bank details
are refused with what is wrong."""

from decimal import Decimal
from typing import Any

import httpx2 as httpx

from tests.api.conftest import Api
from tests.api.test_screening_flow import SDN, answered, call, load, onboard
from tests.builders import BTC_ADDRESS

IBAN = "DE89 3704 0044 0532 0130 00"  # a valid German IBAN (Commerzbank's bank code)
GB_IBAN = "GB82WEST12345698765432"
WHY = {"reason": "customer's signed request"}  # every admin action names why


def _customer(api: Api) -> int:
    account = int(onboard(api, "Anna Schmidt")["accountId"])
    answered(
        call(
            api,
            "POST",
            "/deposits",
            {"account_id": account, "asset": "EUR", "amount": "1000", **WHY},
        )
    )
    return account


def _withdraw(api: Api, account: int, **fields: Any) -> httpx.Response:
    body = {"account_id": account, "asset": "EUR", "amount": "100", "destination": IBAN, **WHY}
    body.update(fields)
    return call(api, "POST", "/withdrawals", body)


def _complete(api: Api, withdrawal_id: int) -> httpx.Response:
    body = {"type": "CompleteWithdrawal", "withdrawal_id": withdrawal_id, "tx_ref": "SEPA-1", **WHY}
    return call(api, "POST", "/commands", body)


def _balance(api: Api, account: int) -> tuple[Decimal, Decimal]:
    """EUR (free, locked)."""
    balances = answered(call(api, "GET", f"/accounts/{account}"))["balances"]
    eur = next(b for b in balances if b["asset"] == "EUR")
    return Decimal(eur["free"]), Decimal(eur["locked"])


def test_without_lists_a_payment_is_pending_and_names_its_payee(api: Api) -> None:
    account = _customer(api)
    paid = answered(_withdraw(api, account, beneficiary="Jane Roe"))
    assert paid["status"] == "PENDING" and paid["heldBy"] == []
    assert paid["destination"] == "DE89370400440532013000"  # compact, as the bank needs it
    assert paid["beneficiary"] == "Jane Roe" and paid["screenedAgainst"] == []
    answered(_complete(api, paid["withdrawalId"]))
    assert _balance(api, account) == (900, 0)


def test_a_listed_payee_is_held_and_a_confirmation_keeps_the_money(api: Api) -> None:
    account = _customer(api)
    sha = load(api, SDN, "2021-08-18")  # no rescreen yet: the route hands the engine the version
    held = answered(_withdraw(api, account, beneficiary="Havin Bank Ltd"))
    assert held["status"] == "HELD_FOR_REVIEW" and len(held["heldBy"]) == 1
    assert held["screenedAgainst"] == [{"source": "ofac_sdn", "sha256": sha}]
    (alert_id,) = held["heldBy"]
    alerts = answered(call(api, "GET", "/alerts", params={"status": "open"}))["alerts"]
    alert = next(a for a in alerts if a["alertId"] == alert_id)
    assert (alert["kind"], alert["withdrawalId"]) == ("beneficiary", held["withdrawalId"])
    assert alert["evidence"]["entryId"] == "906" and alert["evidence"]["listSha256"] == sha

    refused = _complete(api, held["withdrawalId"])
    assert refused.status_code == 409 and refused.json()["error"] == "WITHDRAWAL_HELD"
    assert _balance(api, account) == (900, 100)

    reason = {"reason": "the payee is the listed bank"}
    confirmed = answered(call(api, "POST", f"/alerts/{alert_id}/confirm", reason))
    assert confirmed["withdrawalsFailed"] == [held["withdrawalId"]] and confirmed["frozen"] == []
    assert _balance(api, account) == (1000, 0)


def test_a_listed_bank_code_holds_the_payment_whatever_the_name(api: Api) -> None:
    account = _customer(api)
    load(api, SDN, "2021-08-18")
    held = answered(
        _withdraw(
            api, account, destination=GB_IBAN, beneficiary="Ana Cruz", beneficiary_bic="HAVIGB2L"
        )
    )
    assert held["status"] == "HELD_FOR_REVIEW"
    (alert_id,) = held["heldBy"]
    alert = answered(call(api, "GET", "/alerts"))["alerts"][-1]
    assert alert["alertId"] == alert_id and "HAVIGB2L" in alert["evidence"]["explanation"]
    reason = {"reason": "a correspondent account, cleared by the bank"}
    answered(call(api, "POST", f"/alerts/{alert_id}/dismiss", reason))
    answered(_complete(api, held["withdrawalId"]))

    clean = answered(_withdraw(api, account, beneficiary="Ana Cruz"))  # another bank
    assert clean["status"] == "PENDING"


def test_bad_bank_details_are_refused_with_what_is_wrong(api: Api) -> None:
    account = _customer(api)
    cases = [
        ({"beneficiary": "Jane Roe", "destination": "DE89370400440532013001"}, "not a valid IBAN"),
        ({"beneficiary": "Jane Roe", "destination": "bc1qxyz"}, "not a valid IBAN"),
        ({"beneficiary": " "}, "names its beneficiary"),
        ({"beneficiary": "Jane Roe", "beneficiary_bic": "NOTABIC"}, "BIC 'NOTABIC'"),
        ({"beneficiary": "Jane Roe", "amount": "0.000000001"}, "EUR amount"),
        ({"beneficiary": "Jane Roe", "unknown": 1}, "unknown"),
    ]
    for fields, needle in cases:
        r = _withdraw(api, account, **fields)
        assert r.status_code == 400, (fields, r.text)
        assert r.headers["content-type"].startswith("application/json")
        assert needle in r.json()["message"], (fields, r.json())
    crypto = {"asset": "BTC", "destination": BTC_ADDRESS, "beneficiary_bic": "HAVIGB2L"}
    r = _withdraw(api, account, **crypto)
    assert r.status_code == 400 and "not a fiat asset" in r.json()["message"]
    assert _balance(api, account) == (1000, 0)


def test_a_crypto_withdrawal_through_the_route_is_checked_against_listed_addresses(
    api: Api,
) -> None:
    account = _customer(api)
    answered(
        call(
            api, "POST", "/deposits", {"account_id": account, "asset": "BTC", "amount": "1", **WHY}
        )
    )
    load(api, SDN, "2021-08-18")
    answered(call(api, "POST", "/screening/rescreen"))
    body = {"account_id": account, "asset": "BTC", "amount": "0.1", **WHY}
    refused = call(
        api, "POST", "/withdrawals", {**body, "destination": "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"}
    )
    assert refused.status_code == 409 and refused.json()["error"] == "SANCTIONED_DESTINATION"
    ok = answered(call(api, "POST", "/withdrawals", {**body, "destination": BTC_ADDRESS}))
    assert ok["status"] == "PENDING" and Decimal(ok["amount"]) == Decimal("0.1")


def test_alerts_page_and_filter_by_kind(api: Api) -> None:
    account = _customer(api)
    load(api, SDN, "2021-08-18")
    for _ in range(3):
        answered(_withdraw(api, account, amount="10", beneficiary="Havin Bank Ltd"))
    first = answered(call(api, "GET", "/alerts", params={"kind": "beneficiary", "limit": 2}))
    assert [a["alertId"] for a in first["alerts"]] == [1, 2] and first["nextFromId"] == 3
    rest = answered(call(api, "GET", "/alerts", params={"kind": "beneficiary", "fromId": 3}))
    assert [a["alertId"] for a in rest["alerts"]] == [3] and rest["nextFromId"] == 0
    none = answered(call(api, "GET", "/alerts", params={"kind": "delisting"}))
    assert none == {"alerts": [], "nextFromId": 0}
    for params in ({"kind": "payee"}, {"limit": 0}, {"fromId": 0}):
        r = call(api, "GET", "/alerts", params=params)
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/json")


def test_a_crypto_withdrawal_naming_a_listed_beneficiary_is_held_for_review(api: Api) -> None:
    account = _customer(api)
    deposit = {"account_id": account, "asset": "BTC", "amount": "1", **WHY}
    answered(call(api, "POST", "/deposits", deposit))
    load(api, SDN, "2021-08-18")
    body = {"account_id": account, "asset": "BTC", "amount": "0.1", "destination": BTC_ADDRESS}
    body |= WHY
    held = answered(call(api, "POST", "/withdrawals", {**body, "beneficiary": "Havin Bank Ltd"}))
    assert held["status"] == "HELD_FOR_REVIEW" and len(held["heldBy"]) == 1
    assert held["beneficiary"] == "Havin Bank Ltd" and held["screenedAgainst"]
    (alert_id,) = held["heldBy"]
    alert = answered(call(api, "GET", "/alerts", params={"kind": "beneficiary"}))["alerts"][-1]
    assert alert["alertId"] == alert_id and alert["evidence"]["entryId"] == "906"
    refused = _complete(api, held["withdrawalId"])
    assert refused.status_code == 409 and refused.json()["error"] == "WITHDRAWAL_HELD"

    clean = answered(call(api, "POST", "/withdrawals", {**body, "beneficiary": "Jane Roe"}))
    assert clean["status"] == "PENDING" and clean["heldBy"] == []
