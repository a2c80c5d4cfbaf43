"""Numbers at the admin API: ids beyond 64 bits and amounts beyond 40 digits get a 400
`BAD_REQUEST`, decimals are parsed by the one parser (no exponent), malformed amounts are refused
before any rule, and amounts beyond 64 bits are credited exactly."""

from typing import Any

import msgspec
import pytest

from bourse.api.admin.compliance import answered
from bourse.commands import CreateAsset, SetAccountPermissions
from bourse.events import BalanceChanged, Outcome
from bourse.server.exchange import now_ms
from tests.api.conftest import Api

OPERATOR = {"Authorization": "Bearer operator-token"}
BIG = "99999999999999999999"  # 20 digits: beyond 64 bits

PATHS = [
    ("GET", f"/accounts/{BIG}"),
    ("GET", f"/accounts/{BIG}/keys"),
    ("GET", f"/customers/{BIG}"),
    ("POST", f"/customers/{BIG}/accounts"),
    ("GET", f"/customers?after={BIG}"),
    ("GET", f"/alerts?fromId={BIG}"),
    ("POST", f"/alerts/{BIG}/confirm"),
    ("POST", f"/alerts/{BIG}/dismiss"),
    ("DELETE", f"/policies/schedule/{BIG}?reason=x"),
    ("GET", f"/closures/{BIG}"),
]


def call(api: Api, method: str, path: str, body: Any = None) -> Any:
    return api.client.request(method, f"/admin/v1{path}", json=body, headers=OPERATOR)


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_an_id_beyond_64_bits_in_a_path_or_query_is_a_400(api: Api, method: str, path: str) -> None:
    r = call(api, method, path, {"reason": "x"} if method == "POST" else None)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "BAD_REQUEST" and "9223372036854775807" in r.json()["message"]


# each body carries a reason, so that the number is the only thing wrong with it
BODIES = [
    ("/commands", {"type": "Deposit", "account_id": int(BIG), "asset": "USDT", "amount_raw": 1}),
    ("/commands", {"type": "Deposit", "account_id": 1, "asset": "USDT", "amount_raw": 10**50}),
    ("/commands", {"type": "FreezeAccount", "account_id": -(2**64)}),
    ("/deposits", {"account_id": int(BIG), "asset": "USDT", "amount": "1"}),
    ("/withdrawals", {"account_id": int(BIG), "asset": "USDT", "amount": "1", "destination": "a"}),
    ("/keys", {"accountId": int(BIG)}),
]


@pytest.mark.parametrize(("path", "body"), BODIES)
def test_an_integer_out_of_range_in_a_body_is_a_400_and_nothing_is_journaled(
    api: Api, path: str, body: dict[str, Any]
) -> None:
    before = api.exchange.engine.state.last_seq
    r = call(api, "POST", path, {**body, "reason": "x"})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "BAD_REQUEST", r.text
    message = r.json()["message"]
    assert "out of range" in message or "9223372036854775807" in message, r.text
    assert api.exchange.engine.state.last_seq == before


AMOUNTS = [
    ("1e5", "no exponent"),
    ("1e30", "no exponent"),
    ("Infinity", "not a decimal number"),
    ("1_000", "not a decimal number"),
    ("1" * 40, "more than 40 digits"),
    ("-10", "must be positive"),
    ("0", "must be positive"),
    ("0.000000001", "9 decimals"),
]


@pytest.mark.parametrize(("amount", "words"), AMOUNTS)
def test_a_malformed_amount_is_refused_before_the_account_s_rules(
    api: Api, amount: str, words: str
) -> None:
    # deposits and withdrawals are disabled on the account: the amount is still what is wrong
    api.exchange.execute(
        SetAccountPermissions(
            actor="test",
            ts_ms=now_ms(),
            reason="t",
            account_id=api.account_id,
            can_trade=False,
            can_deposit=False,
            can_withdraw=False,
        )
    )
    before = api.exchange.engine.state.last_seq
    for path, extra in (("/deposits", {}), ("/withdrawals", {"destination": "addr-1"})):
        body = {"account_id": api.account_id, "asset": "USDT", "amount": amount, **extra}
        r = call(api, "POST", path, {**body, "reason": "t"})
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "BAD_REQUEST" and words in r.json()["message"], r.text
    assert api.exchange.engine.state.last_seq == before


def test_deposits_beyond_64_bits_are_credited_exactly(api: Api) -> None:
    api.exchange.execute(
        CreateAsset(actor="test", ts_ms=now_ms(), reason="t", asset="KZT", precision=8)
    )
    for _ in range(2):
        body = {"account_id": api.account_id, "asset": "KZT", "amount": "100000000000"}
        r = call(api, "POST", "/deposits", {**body, "reason": "t"})
        assert r.status_code == 200, r.text
    r = call(api, "GET", f"/accounts/{api.account_id}")
    kzt = next(b for b in r.json()["balances"] if b["asset"] == "KZT")
    assert kzt == {"asset": "KZT", "free": "200000000000.00000000", "locked": "0.00000000"}


def test_an_opened_account_is_answered_200_even_when_an_opening_deposit_is_refused(
    api: Api,
) -> None:
    # 32 digits of USDT is 40 digits of raw units: on top of what is already held, more than the
    # exchange can account for, so the engine refuses that deposit after the account opened
    deposits = {"BTC": "1", "USDT": "9" * 32}
    state = api.exchange.engine.state
    expected_id = state.next_account_id
    r = call(api, "POST", "/accounts", {"deposits": deposits, "reason": "t"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accountId"] == expected_id and expected_id in state.accounts
    assert body["balances"] == [{"asset": "BTC", "free": "1.00000000", "locked": "0.00000000"}]
    [refused] = body["refusedDeposits"]
    assert refused["asset"] == "USDT" and refused["code"] == -1102
    assert "would take the USDT held on the exchange past" in refused["msg"]


def test_a_command_that_ran_is_answered_200_even_if_rendering_its_answer_fails() -> None:
    change = BalanceChanged(account_id=1, asset="KZT", free_raw=2 * 10**19, locked_raw=0)
    outcome = Outcome(seq=7, ts_ms=1, command="Deposit", events=[change])

    def broken(o: Outcome) -> Any:
        raise KeyError("a renderer's bug")

    r = answered(outcome, broken)
    assert r.status_code == 200
    assert msgspec.json.decode(r.body)["events"][0]["free_raw"] == 2 * 10**19
