"""A withdrawal's destination must be valid on its asset's network: the admin routes answer 400
saying what is wrong before anything is journaled, and a raw command is refused by the engine."""

from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.test_screening_flow import answered, call, onboard
from tests.builders import DESTINATIONS

WHY = {"reason": "customer's signed request"}  # every admin action names why

CASES = [
    # (asset, destination, what the 400 says)
    (
        "USDT",
        "not an address at all!!",
        "USDT withdrawals go to an Ethereum address (ERC-20): 'not an address at all!!' is not "
        "a valid Ethereum address",
    ),
    ("BTC", "DE89 3704 0044 0532 0130 00", "BTC cannot be withdrawn to an IBAN"),
    ("BTC", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "testnet"),
    ("ETH", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "EIP-55 checksum"),
    ("EUR", DESTINATIONS["BTC"], "EUR cannot be withdrawn to a crypto address"),
]


def _funded(api: Api) -> int:
    account = int(onboard(api, "Anna Schmidt")["accountId"])
    for asset in ("BTC", "ETH", "USDT", "EUR"):
        body = {"account_id": account, "asset": asset, "amount": "10", **WHY}
        answered(call(api, "POST", "/deposits", body))
    return account


def _locked(api: Api, account: int) -> dict[str, str]:
    balances = answered(call(api, "GET", f"/accounts/{account}"))["balances"]
    return {b["asset"]: b["locked"] for b in balances}


@pytest.mark.parametrize(("asset", "destination", "says"), CASES)
def test_the_withdrawal_route_refuses_a_destination_off_the_network(
    api: Api, asset: str, destination: str, says: str
) -> None:
    account = _funded(api)
    body: dict[str, Any] = {"account_id": account, "asset": asset, "amount": "1", **WHY}
    body |= {"destination": destination, "beneficiary": "Anna Schmidt" if asset == "EUR" else ""}
    r = call(api, "POST", "/withdrawals", body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "BAD_REQUEST" and says in r.json()["message"]
    assert "seq" not in r.json()  # refused at the edge: nothing was journaled
    assert set(_locked(api, account).values()) == {"0.00000000"}


def test_a_raw_command_to_a_bad_destination_is_refused_by_the_engine(api: Api) -> None:
    account = _funded(api)
    body = {"type": "RequestWithdrawal", "account_id": account, "asset": "USDT"}
    body |= {"amount_raw": 100, "destination": "not an address at all!!", **WHY}
    r = call(api, "POST", "/commands", body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "INVALID_PARAMETER" and "seq" in r.json()  # the engine's word
    assert "is not a valid Ethereum address" in r.json()["message"]
    assert set(_locked(api, account).values()) == {"0.00000000"}


def test_a_payout_on_request_to_a_bad_destination_is_refused_at_the_edge(api: Api) -> None:
    account = _funded(api)
    payout = {"account_id": account, "asset": "BTC", "amount": "1", "request_ref": "ticket 9"}
    payout |= {"destination": "DE89 3704 0044 0532 0130 00", "reason": "customer's letter"}
    r = call(api, "POST", "/withdrawals/on-request", payout)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "BAD_REQUEST" and "seq" not in r.json()
    assert "BTC cannot be withdrawn to an IBAN" in r.json()["message"]


def test_valid_destinations_are_accepted_as_given(api: Api) -> None:
    account = _funded(api)
    for asset in ("BTC", "ETH", "USDT"):
        body = {"account_id": account, "asset": asset, "amount": "1", **WHY}
        done = answered(
            call(api, "POST", "/withdrawals", {**body, "destination": DESTINATIONS[asset]})
        )
        assert (done["status"], done["destination"]) == ("PENDING", DESTINATIONS[asset])
