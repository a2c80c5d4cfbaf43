"""USER_DATA endpoints: account, account/commission, order, openOrders, allOrders, myTrades.

Balances and fees are compared with the engine's ledger to the unit, after two accounts trade.
"""

from typing import Any

import pytest

from bourse.commands import DefineFeeTier, FreezeAccount, OpenAccount, SetAccountFeeTier
from bourse.demo import ASSETS
from bourse.keys.api_keys import hmac_key
from bourse.server.exchange import now_ms
from tests.api.conftest import Api, Signer
from tests.api.test_orders import LIMIT, error, ledger, placed, run

ACCOUNT_KEYS = {
    "makerCommission", "takerCommission", "buyerCommission", "sellerCommission",
    "commissionRates", "canTrade", "canWithdraw", "canDeposit", "brokered",
    "requireSelfTradePrevention", "preventSor", "updateTime", "accountType", "balances",
    "permissions", "uid",
}  # fmt: skip
ORDER_KEYS = {
    "symbol", "orderId", "orderListId", "clientOrderId", "price", "origQty", "executedQty",
    "cummulativeQuoteQty", "status", "timeInForce", "type", "side", "stopPrice", "icebergQty",
    "time", "updateTime", "isWorking", "workingTime", "origQuoteOrderQty",
    "selfTradePreventionMode",
}  # fmt: skip
TRADE_KEYS = {
    "symbol", "id", "orderId", "orderListId", "price", "qty", "quoteQty", "commission",
    "commissionAsset", "time", "isBuyer", "isMaker", "isBestMatch",
}  # fmt: skip


def get(signer: Signer, path: str, **params: Any) -> Any:
    r = signer.signed("GET", f"/api/v3/{path}", **params)
    assert r.status_code == 200, r.text
    return r.json()


def new_signer(api: Api, *, can_trade: bool = True, account_id: int | None = None) -> Signer:
    """A key for `account_id`, or for a new empty account."""
    if account_id is None:
        opened = OpenAccount(actor="t", ts_ms=now_ms(), reason="t")
        outcome = api.client.portal.call(api.service.execute, opened)  # type: ignore[union-attr]
        account_id = outcome.events[0].account_id
    cmd, secret = hmac_key(
        api.service.box, account_id=account_id, actor="t", ts_ms=now_ms(), reason="t",
        can_trade=can_trade,
    )  # fmt: skip
    run(api, cmd)
    return Signer(api.client, account_id, cmd.api_key, secret)


def balances_match_the_ledger(api: Api, signer: Signer) -> None:
    shown = get(signer, "account")["balances"]
    assert [b["asset"] for b in shown] == list(ASSETS)
    for b in shown:
        assert (b["free"], b["locked"]) == ledger(api, signer.account_id, b["asset"])


def test_account_shape_flags_and_balances(api: Api) -> None:
    placed(api, **LIMIT, quantity="0.01", price="50000")
    account = get(api, "account")
    assert set(account) == ACCOUNT_KEYS and account["uid"] == api.account_id
    assert (account["makerCommission"], account["takerCommission"]) == (10, 10)
    assert account["commissionRates"] == {
        "maker": "0.00100000", "taker": "0.00100000", "buyer": "0.00000000",
        "seller": "0.00000000",
    }  # fmt: skip
    assert (account["canTrade"], account["canWithdraw"], account["canDeposit"]) == (True,) * 3
    assert (account["accountType"], account["permissions"]) == ("SPOT", ["SPOT"])
    assert isinstance(account["updateTime"], int) and account["updateTime"] > 0
    assert account["balances"][2] == {
        "asset": "USDT", "free": "999500.00000000", "locked": "500.00000000",
    }  # fmt: skip
    balances_match_the_ledger(api, api)

    empty = new_signer(api)
    shown = get(empty, "account")
    assert {(b["free"], b["locked"]) for b in shown["balances"]} == {("0.00000000",) * 2}
    assert shown["updateTime"] == 0
    assert get(empty, "account", omitZeroBalances="true")["balances"] == []
    assert len(get(empty, "account", omitZeroBalances="false")["balances"]) == len(ASSETS)

    run(api, FreezeAccount(actor="ops:t", ts_ms=now_ms(), reason="t", account_id=empty.account_id))
    frozen = get(empty, "account")
    assert (frozen["canTrade"], frozen["canWithdraw"], frozen["canDeposit"]) == (False, False, True)


def test_read_only_key_reads_but_does_not_trade(api: Api) -> None:
    reader = new_signer(api, can_trade=False, account_id=api.account_id)
    assert get(reader, "account")["uid"] == api.account_id
    r = reader.signed("POST", "/api/v3/order", **LIMIT, quantity="0.01", price="50000")
    assert error(r) == (401, -2015, "Invalid API-key, IP, or permissions for action.")


def test_commission_follows_the_fee_tier(api: Api) -> None:
    run(api, DefineFeeTier(actor="ops:t", ts_ms=now_ms(), reason="t", tier=1,
                           maker_multiplier_ppm=500_000, taker_multiplier_ppm=800_000))  # fmt: skip
    run(api, SetAccountFeeTier(actor="ops:t", ts_ms=now_ms(), reason="t",
                               account_id=api.account_id, fee_tier=1))  # fmt: skip
    body = get(api, "account/commission", symbol="BTCUSDT")
    assert body["symbol"] == "BTCUSDT"
    assert body["standardCommission"] == {
        "maker": "0.00050000", "taker": "0.00080000", "buyer": "0.00000000",
        "seller": "0.00000000",
    }  # fmt: skip
    assert body["taxCommission"]["taker"] == "0.00000000"
    assert body["discount"]["enabledForAccount"] is False
    account = get(api, "account")
    assert (account["makerCommission"], account["takerCommission"]) == (5, 8)
    # the rate shown is the rate charged: 0.08 % of 0.01 BTC bought as taker
    bought = placed(api, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    assert bought["fills"][0]["commission"] == "0.00000800"
    r = api.signed("GET", "/api/v3/account/commission", symbol="NOPE")
    assert error(r) == (400, -1121, "Invalid symbol.")


def test_two_accounts_trade_and_every_view_agrees_with_the_ledger(api: Api) -> None:
    ask = placed(api.other, symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                 quantity="0.5", price="59995", newClientOrderId="ask")  # fmt: skip
    bid = placed(api, **LIMIT, quantity="0.3", price="59995")
    assert (bid["status"], bid["fills"][0]["commission"]) == ("FILLED", "0.00030000")

    mine, theirs = (
        get(api, "myTrades", symbol="BTCUSDT"),
        get(api.other, "myTrades", symbol="BTCUSDT"),
    )
    assert len(mine) == len(theirs) == 1 and set(mine[0]) == TRADE_KEYS
    assert mine[0]["id"] == theirs[0]["id"] and isinstance(mine[0]["time"], int)
    assert (mine[0]["orderId"], theirs[0]["orderId"]) == (bid["orderId"], ask["orderId"])
    assert (mine[0]["price"], mine[0]["qty"], mine[0]["quoteQty"]) == (
        "59995.00000000", "0.30000000", "17998.50000000",
    )  # fmt: skip
    assert (mine[0]["isBuyer"], mine[0]["isMaker"], mine[0]["isBestMatch"]) == (True, False, True)
    assert (mine[0]["commission"], mine[0]["commissionAsset"]) == ("0.00030000", "BTC")
    assert (theirs[0]["isBuyer"], theirs[0]["isMaker"]) == (False, True)
    assert (theirs[0]["commission"], theirs[0]["commissionAsset"]) == ("17.99850000", "USDT")
    assert mine[0]["orderListId"] == -1

    resting = get(api.other, "openOrders")  # every symbol
    assert len(resting) == 1 and set(resting[0]) == ORDER_KEYS
    assert (resting[0]["status"], resting[0]["executedQty"], resting[0]["cummulativeQuoteQty"]) == (
        "PARTIALLY_FILLED", "0.30000000", "17998.50000000",
    )  # fmt: skip
    assert resting[0]["isWorking"] is True and resting[0]["icebergQty"] == "0.00000000"
    assert get(api.other, "order", symbol="BTCUSDT", origClientOrderId="ask") == resting[0]
    assert get(api, "openOrders", symbol="BTCUSDT") == []
    done = get(api, "order", symbol="BTCUSDT", orderId=bid["orderId"])
    assert (done["status"], done["time"], done["workingTime"]) == (
        "FILLED", bid["transactTime"], bid["transactTime"],
    )  # fmt: skip
    assert [o["orderId"] for o in get(api, "allOrders", symbol="BTCUSDT")] == [bid["orderId"]]
    for signer in (api, api.other):
        balances_match_the_ledger(api, signer)

    # another account's order does not exist for this one
    theirs_by_me = api.signed("GET", "/api/v3/order", symbol="BTCUSDT", orderId=ask["orderId"])
    assert error(theirs_by_me) == (400, -2013, "Order does not exist.")
    by_both = get(api.other, "order", symbol="BTCUSDT", orderId=ask["orderId"],
                  origClientOrderId="ask")  # fmt: skip
    assert by_both["orderId"] == ask["orderId"]
    mismatch = api.other.signed("GET", "/api/v3/order", symbol="BTCUSDT", orderId=ask["orderId"],
                                origClientOrderId="other")  # fmt: skip
    assert error(mismatch)[1] == -2013

    # myTrades filters
    t = mine[0]["time"]
    assert get(api.other, "myTrades", symbol="BTCUSDT", orderId=ask["orderId"]) == theirs
    assert get(api, "myTrades", symbol="BTCUSDT", orderId=ask["orderId"]) == []
    assert get(api, "myTrades", symbol="BTCUSDT", fromId=mine[0]["id"] + 1) == []
    assert get(api, "myTrades", symbol="BTCUSDT", startTime=t, endTime=t) == mine
    assert get(api, "myTrades", symbol="BTCUSDT", endTime=t - 1) == []
    assert get(api, "myTrades", symbol="ETHUSDT") == []


BAD_READS = [
    ("order", {"symbol": "BTCUSDT"}, -1102,
     "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"),
    ("order", {"symbol": "BTCUSDT", "orderId": 424242}, -2013, "Order does not exist."),
    ("order", {"symbol": "BTCUSDT", "origClientOrderId": "nope"}, -2013, "Order does not exist."),
    ("order", {"symbol": "NOPE", "orderId": 1}, -1121, "Invalid symbol."),
    ("order", {"symbol": "BTCUSDT", "orderId": "99999999999999999999"}, -1108,
     "Parameter 'orderId' overflowed."),
    ("openOrders", {"symbol": "NOPE"}, -1121, "Invalid symbol."),
    ("allOrders", {}, -1102,
     "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."),
    ("allOrders", {"symbol": "BTCUSDT", "limit": 1001}, -1130,
     "Data sent for parameter 'limit' is not valid."),
    ("allOrders", {"symbol": "BTCUSDT", "startTime": 0, "endTime": 86_400_001}, -1127,
     "More than 24 hours between startTime and endTime."),
    ("myTrades", {"symbol": "BTCUSDT", "limit": 0}, -1130,
     "Data sent for parameter 'limit' is not valid."),
    ("myTrades", {"symbol": "BTCUSDT", "fromId": 1, "startTime": 1}, -1128,
     "Combination of optional parameters invalid."),
    ("myTrades", {"symbol": "BTCUSDT", "orderId": 1, "endTime": 1}, -1128,
     "Combination of optional parameters invalid."),
    ("myTrades", {"symbol": "BTCUSDT", "startTime": "x"}, -1100,
     "Illegal characters found in parameter 'startTime'; legal range is '^[0-9]{1,20}$'."),
]  # fmt: skip


@pytest.mark.parametrize(("path", "params", "code", "msg"), BAD_READS)
def test_read_errors(api: Api, path: str, params: dict[str, Any], code: int, msg: str) -> None:
    assert error(api.signed("GET", f"/api/v3/{path}", **params)) == (400, code, msg)


def test_all_orders_pages_by_id_and_time(api: Api) -> None:
    ids = [
        placed(api, **LIMIT, quantity="0.01", price=p)["orderId"]
        for p in ("50000", "50001", "50002")
    ]
    placed(api, **{**LIMIT, "symbol": "ETHUSDT"}, quantity="1", price="2900")
    every = get(api, "allOrders", symbol="BTCUSDT")
    assert [o["orderId"] for o in every] == ids and all(set(o) == ORDER_KEYS for o in every)
    assert [o["orderId"] for o in get(api, "allOrders", symbol="BTCUSDT", limit=2)] == ids[1:]
    from_first = get(api, "allOrders", symbol="BTCUSDT", orderId=ids[0], limit=2)
    assert [o["orderId"] for o in from_first] == ids[:2]
    start = every[0]["time"]
    assert (
        len(get(api, "allOrders", symbol="BTCUSDT", startTime=start, endTime=start + 60_000)) == 3
    )
    assert get(api, "allOrders", symbol="BTCUSDT", endTime=start - 1) == []
    assert len(get(api, "openOrders")) == 4
