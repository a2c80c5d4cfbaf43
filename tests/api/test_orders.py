"""POST order / order/test / order/cancelReplace, DELETE order / openOrders: shapes, JSON types,
Binance's parameter rules and error messages, and what the engine did.

The demo book (account 2): BTCUSDT bids 59990, 59980, ... and asks 60010, 60020, ... 0.05 BTC
each; fees 0.1 %. Account 1 (`api`) holds 10 BTC / 100 ETH / 1,000,000 USDT.
"""

import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx
import pytest

from bourse.commands import Command, FreezeAccount, SetSymbolStatus
from bourse.domain.enums import SymbolStatus
from bourse.domain.money import to_str
from bourse.server.exchange import now_ms
from tests.api.conftest import Api, Signer

ORDER = "/api/v3/order"
LIMIT = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
ACK_KEYS = {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
RESULT_KEYS = ACK_KEYS | {
    "price", "origQty", "executedQty", "origQuoteOrderQty", "cummulativeQuoteQty", "status",
    "timeInForce", "type", "side", "workingTime", "selfTradePreventionMode",
}  # fmt: skip
CANCEL_KEYS = (RESULT_KEYS - {"workingTime"}) | {"origClientOrderId"}


def post(signer: Signer, **params: Any) -> httpx.Response:
    return signer.signed("POST", ORDER, **params)


def placed(signer: Signer, **params: Any) -> dict[str, Any]:
    r = post(signer, **params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def error(r: httpx.Response) -> tuple[int, int, str]:
    body = r.json()
    assert r.headers["content-type"].startswith("application/json")
    assert set(body) == {"code", "msg"}, body  # connectors parse exactly these two keys
    return r.status_code, body["code"], body["msg"]


def run(api: Api, cmd: Command) -> None:
    """An operator command, run on the server's loop like every command."""
    api.client.portal.call(api.service.execute, cmd)  # type: ignore[union-attr]


def ledger(api: Api, account_id: int, asset: str) -> tuple[str, str]:
    bal = api.exchange.engine.state.accounts[account_id].balances.get(asset)
    return (to_str(bal.free, 8), to_str(bal.locked, 8)) if bal else ("0.00000000",) * 2


def test_limit_order_in_ack_result_and_full(api: Api) -> None:
    ack = placed(api, **LIMIT, quantity="0.01", price="50000", newOrderRespType="ACK")
    assert set(ack) == ACK_KEYS and ack["orderListId"] == -1
    assert isinstance(ack["orderId"], int) and isinstance(ack["transactTime"], int)
    assert len(ack["clientOrderId"]) == 22  # generated, as Binance does

    result = placed(api, **LIMIT, quantity="0.01", price="50000", newOrderRespType="RESULT")
    assert set(result) == RESULT_KEYS
    assert result["price"] == "50000.00000000" and result["origQty"] == "0.01000000"
    assert (result["status"], result["executedQty"], result["type"]) == (
        "NEW",
        "0.00000000",
        "LIMIT",
    )
    assert result["workingTime"] == result["transactTime"]
    assert result["selfTradePreventionMode"] == "EXPIRE_MAKER"

    full = placed(api, **LIMIT, quantity="0.01", price="50000", newClientOrderId="mine-1")
    assert set(full) == RESULT_KEYS | {"fills"} and full["fills"] == []  # LIMIT defaults to FULL
    assert full["clientOrderId"] == "mine-1"
    assert len({ack["orderId"], result["orderId"], full["orderId"]}) == 3
    assert ledger(api, api.account_id, "USDT") == ("998500.00000000", "1500.00000000")


def test_market_buy_by_quantity_fills_two_levels(api: Api) -> None:
    body = placed(api, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.06")
    assert set(body) == RESULT_KEYS | {"fills"}
    assert (body["status"], body["executedQty"]) == ("FILLED", "0.06000000")
    assert body["cummulativeQuoteQty"] == "3600.70000000" and body["price"] == "0.00000000"
    assert [
        (f["price"], f["qty"], f["commission"], f["commissionAsset"]) for f in body["fills"]
    ] == [
        ("60010.00000000", "0.05000000", "0.00005000", "BTC"),
        ("60020.00000000", "0.01000000", "0.00001000", "BTC"),
    ]
    assert all(isinstance(f["tradeId"], int) for f in body["fills"])
    assert ledger(api, api.account_id, "BTC") == ("10.05994000", "0.00000000")
    assert ledger(api, api.account_id, "USDT") == ("996399.30000000", "0.00000000")


def test_market_by_quote_quantity_buy_and_sell(api: Api) -> None:
    buy = placed(api, symbol="BTCUSDT", side="BUY", type="MARKET", quoteOrderQty="1000")
    # 1000 USDT at 60010 buys 0.01666 BTC (whole steps of 0.00001)
    assert (buy["executedQty"], buy["cummulativeQuoteQty"]) == ("0.01666000", "999.76660000")
    assert (buy["origQuoteOrderQty"], buy["origQty"], buy["status"]) == (
        "1000.00000000",
        "0.01666000",  # what it bought, as Binance shows a quote-sized order
        "FILLED",
    )
    shown = api.signed("GET", ORDER, symbol="BTCUSDT", orderId=buy["orderId"]).json()
    assert (shown["origQty"], shown["origQuoteOrderQty"]) == ("0.01666000", "1000.00000000")
    sell = placed(api, symbol="BTCUSDT", side="SELL", type="MARKET", quoteOrderQty="599.9")
    assert (sell["executedQty"], sell["cummulativeQuoteQty"]) == ("0.01000000", "599.90000000")
    assert sell["fills"][0]["commission"] == "0.59990000"
    assert sell["fills"][0]["commissionAsset"] == "USDT"


def test_stop_orders_wait_then_fire(api: Api) -> None:
    stop = placed(
        api, symbol="BTCUSDT", side="SELL", type="STOP_LOSS", quantity="0.01", stopPrice="59990"
    )
    assert set(stop) == ACK_KEYS  # stop types default to ACK
    shown = api.signed("GET", ORDER, symbol="BTCUSDT", orderId=stop["orderId"]).json()
    assert (shown["isWorking"], shown["workingTime"], shown["status"]) == (False, -1, "NEW")
    assert shown["stopPrice"] == "59990.00000000" and shown["type"] == "STOP_LOSS"

    # the other account sells the whole 59990 bid: the last price reaches the stop, which sells
    # its 0.01 BTC into the next bid, 59980
    placed(api.other, symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.05")
    fired = api.signed("GET", ORDER, symbol="BTCUSDT", orderId=stop["orderId"]).json()
    assert (fired["status"], fired["isWorking"], fired["executedQty"]) == (
        "FILLED",
        True,
        "0.01000000",
    )
    assert fired["cummulativeQuoteQty"] == "599.80000000" and fired["workingTime"] > 0

    limits = [
        dict(side="BUY", type="STOP_LOSS_LIMIT", stopPrice="60100", price="60150"),
        dict(side="SELL", type="TAKE_PROFIT_LIMIT", stopPrice="60100", price="60100"),
    ]
    for extra in limits:
        body = placed(api, symbol="BTCUSDT", timeInForce="GTC", quantity="0.01",
                      newOrderRespType="RESULT", **extra)  # fmt: skip
        assert set(body) == RESULT_KEYS | {"stopPrice"}
        assert (body["status"], body["workingTime"]) == ("NEW", -1)
        assert body["stopPrice"] == to_str(int(extra["stopPrice"]) * 10**8, 8)
    tp = placed(api, symbol="BTCUSDT", side="BUY", type="TAKE_PROFIT", quantity="0.01",
                stopPrice="59000", newOrderRespType="FULL")  # fmt: skip
    assert tp["fills"] == [] and tp["stopPrice"] == "59000.00000000"
    late = post(
        api, symbol="BTCUSDT", side="SELL", type="STOP_LOSS", quantity="0.01", stopPrice="60000"
    )
    assert error(late) == (400, -2010, "Order would trigger immediately.")


def test_limit_maker_rests_or_is_refused(api: Api) -> None:
    maker = dict(symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity="0.01")
    assert set(placed(api, **maker, price="59000")) == ACK_KEYS  # ACK by default
    taking = post(api, **maker, price="60010")
    assert error(taking) == (400, -2010, "Order would immediately match and take.")


def _signed_text(api: Api, **params: Any) -> str:
    text = urlencode({**params, "timestamp": now_ms()})
    sig = hmac.new(api.secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    return f"{text}&signature={sig}"


@pytest.mark.parametrize("where", ["query", "form", "json-typed form", "connector", "sdk"])
def test_parameters_arrive_in_query_or_body(api: Api, where: str) -> None:
    text = _signed_text(api, **LIMIT, quantity=0.001, price=49000.0)  # SDK-style floats
    key = {"X-MBX-APIKEY": api.key}
    form = {**key, "Content-Type": "application/x-www-form-urlencoded"}
    json_typed = {**key, "Content-Type": "application/json"}
    url, content, headers = {
        "query": (f"{ORDER}?{text}", b"", key),
        "form": (ORDER, text.encode(), form),
        "json-typed form": (ORDER, text.encode(), json_typed),
        "connector": (f"{ORDER}?{text}", b"", json_typed),  # binance-connector: empty JSON body
        "sdk": (f"{ORDER}?{text}", b"", key),  # binance-sdk-spot: no Content-Type at all
    }[where]
    r = api.client.request("POST", url, content=content, headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["price"], r.json()["origQty"]) == ("49000.00000000", "0.00100000")


BAD_PARAMS = [
    ({"side": "BUY", "type": "MARKET", "quantity": "1"}, -1102,
     "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."),
    ({**LIMIT, "symbol": "NOPE"}, -1121, "Invalid symbol."),
    ({**LIMIT, "side": "UP", "quantity": "1", "price": "1"}, -1117, "Invalid side."),
    ({**LIMIT, "type": "FOO"}, -1116, "Invalid orderType."),
    ({**LIMIT, "timeInForce": "GTX"}, -1115, "Invalid timeInForce."),
    ({**LIMIT, "timeInForce": "", "quantity": "1", "price": "1"}, -1102,
     "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."),
    ({**LIMIT, "price": "50000"}, -1102,
     "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed."),
    ({**LIMIT, "quantity": "0.01"}, -1102,
     "Mandatory parameter 'price' was not sent, was empty/null, or malformed."),
    ({**LIMIT, "quantity": "0.01", "price": "50000", "quoteOrderQty": "5"}, -1106,
     "Parameter 'quoteOrderQty' sent when not required."),
    ({**LIMIT, "quantity": "0.01", "price": "50000", "stopPrice": "1"}, -1106,
     "Parameter 'stopPrice' sent when not required."),
    ({**LIMIT, "type": "MARKET", "quantity": "0.01"}, -1114,
     "TimeInForce parameter sent when not required."),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET"}, -1102,
     "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "1",
      "quoteOrderQty": "5"}, -1106, "Parameter 'quantity' sent when not required."),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "1", "price": "1"},
     -1106, "Parameter 'price' sent when not required."),
    ({**LIMIT, "type": "LIMIT_MAKER", "quantity": "0.01", "price": "1"}, -1114,
     "TimeInForce parameter sent when not required."),
    ({"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_LOSS", "quantity": "0.01"}, -1102,
     "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed."),
    ({"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_LOSS", "quantity": "0.01",
      "stopPrice": "1", "price": "1"}, -1106, "Parameter 'price' sent when not required."),
    ({**LIMIT, "type": "STOP_LOSS_LIMIT", "quantity": "0.01", "stopPrice": "1"}, -1102,
     "Mandatory parameter 'price' was not sent, was empty/null, or malformed."),
    ({**LIMIT, "quantity": "0.01", "price": "5", "newClientOrderId": ""}, -1118,
     "New client order ID was empty."),
    ({**LIMIT, "quantity": "0.01", "price": "5", "newClientOrderId": "a b"}, -1100,
     "Illegal characters found in parameter 'newClientOrderId'; legal range is "
     "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'."),
    ({**LIMIT, "quantity": "0.01", "price": "50000", "icebergQty": "0.001"}, -2010,
     "Iceberg orders are not supported for this symbol."),
    ({"symbol": "BTCUSDT", "side": "SELL", "type": "STOP_LOSS", "quantity": "0.01",
      "trailingDelta": "100"}, -2010, "Trailing stop orders are not supported for this symbol."),
    ({**LIMIT, "quantity": "0.01", "price": "5", "newOrderRespType": "XML"}, -1130,
     "Data sent for parameter 'newOrderRespType' is not valid."),
    ({**LIMIT, "quantity": "0.01", "price": "5", "selfTradePreventionMode": "X"}, -1130,
     "Data sent for parameter 'selfTradePreventionMode' is not valid."),
    ({**LIMIT, "quantity": "1e-05", "price": "5"}, -1100,
     "Illegal characters found in parameter 'quantity'; legal range is "
     "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'."),
    ({**LIMIT, "quantity": "0.000000001", "price": "5"}, -1111,
     "Parameter 'quantity' has too much precision."),
    ({**LIMIT, "quantity": "0.01", "price": "5", "strategyType": "5"}, -1134,
     "strategyType was less than 1000000."),
    # filters, checked by the engine
    ({**LIMIT, "quantity": "0.000015", "price": "50000"}, -1013, "Filter failure: LOT_SIZE"),
    # beyond 64 bits of raw units: exact, and refused by the filter, not the parser
    ({**LIMIT, "quantity": "99999999999999999999", "price": "5"}, -1013,
     "Filter failure: LOT_SIZE"),
    ({**LIMIT, "quantity": "0.01", "price": "50000.001"}, -1013, "Filter failure: PRICE_FILTER"),
    ({**LIMIT, "quantity": "0.00001", "price": "50000"}, -1013, "Filter failure: NOTIONAL"),
    ({"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.000015"}, -1013,
     "Filter failure: MARKET_LOT_SIZE"),
]  # fmt: skip


@pytest.mark.parametrize(("params", "code", "msg"), BAD_PARAMS)
def test_order_parameter_errors(api: Api, params: dict[str, str], code: int, msg: str) -> None:
    for path in (ORDER, f"{ORDER}/test"):
        assert error(api.signed("POST", path, **params)) == (400, code, msg)
    assert api.exchange.engine.state.accounts[api.account_id].open_orders == {}


def test_insufficient_balance_is_the_engine_s_to_find(api: Api) -> None:
    order = {**LIMIT, "quantity": "10", "price": "59000"}  # 590,000 USDT; it has 500,000
    assert error(post(api.other, **order)) == (
        400, -2010, "Account has insufficient balance for requested action.",
    )  # fmt: skip
    assert api.other.signed("POST", f"{ORDER}/test", **order).json() == {}  # not checked there


def test_ignored_parameters_and_duplicate_client_ids(api: Api) -> None:
    cid = "x-TKT5PX2F.a:b/c_d-e"
    extras = {"icebergQty": "0", "strategyId": "7", "strategyType": "1000000"}
    body = placed(api, **LIMIT, quantity="0.01", price="50000", **extras, newClientOrderId=cid)
    assert body["clientOrderId"] == "x-TKT5PX2F.a:b/c_d-e"
    again = post(
        api, **LIMIT, quantity="0.01", price="50000", newClientOrderId=body["clientOrderId"]
    )
    assert error(again) == (400, -2010, "Duplicate order sent.")


def test_order_test_places_nothing_and_computes_commission(api: Api) -> None:
    params = {**LIMIT, "quantity": "0.01", "price": "50000"}
    assert api.signed("POST", f"{ORDER}/test", **params).json() == {}
    rates = api.signed("POST", f"{ORDER}/test", **params, computeCommissionRates="true").json()
    assert rates["standardCommissionForOrder"] == {"maker": "0.00100000", "taker": "0.00100000"}
    assert rates["taxCommissionForOrder"] == {"maker": "0.00000000", "taker": "0.00000000"}
    assert rates["discount"]["enabledForAccount"] is False
    assert api.exchange.engine.state.accounts[api.account_id].open_orders == {}
    r = api.signed("POST", f"{ORDER}/test", **params, secret="wrong")
    assert error(r) == (400, -1022, "Signature for this request is not valid.")


def test_closed_market_and_frozen_account(api: Api) -> None:
    order = {**LIMIT, "quantity": "0.01", "price": "50000"}
    resting = placed(api, **order)
    halt = SetSymbolStatus(actor="ops:t", ts_ms=now_ms(), reason="t", symbol="BTCUSDT",
                           status=SymbolStatus.HALT)  # fmt: skip
    run(api, halt)
    assert error(post(api, **order)) == (400, -2010, "Market is closed.")
    run(api, FreezeAccount(actor="ops:t", ts_ms=now_ms(), reason="t", account_id=api.account_id))
    assert error(post(api, symbol="ETHUSDT", side="BUY", type="MARKET", quantity="1")) == (
        400, -2010, "This action is disabled on this account.",
    )  # fmt: skip
    cancel = api.signed("DELETE", ORDER, symbol="BTCUSDT", orderId=resting["orderId"])
    assert error(cancel) == (400, -2011, "This action is disabled on this account.")


# --- cancels -------------------------------------------------------------------------------------


def test_cancel_by_id_or_client_id(api: Api) -> None:
    first = placed(api, **LIMIT, quantity="0.01", price="50000", newClientOrderId="first")
    second = placed(api, **LIMIT, quantity="0.02", price="49000")
    r = api.signed("DELETE", ORDER, symbol="BTCUSDT", orderId=first["orderId"],
                   newClientOrderId="undo-1")  # fmt: skip
    body = r.json()
    assert set(body) == CANCEL_KEYS and body["status"] == "CANCELED"
    assert (body["origClientOrderId"], body["clientOrderId"]) == ("first", "undo-1")
    assert (body["orderId"], body["price"], body["origQty"]) == (
        first["orderId"],
        "50000.00000000",
        "0.01000000",
    )
    # python-binance sends DELETE parameters in a form body
    r = api.signed(
        "DELETE", ORDER, body=True, symbol="BTCUSDT", origClientOrderId=second["clientOrderId"]
    )
    assert r.json()["orderId"] == second["orderId"] and len(r.json()["clientOrderId"]) == 22
    assert ledger(api, api.account_id, "USDT") == ("1000000.00000000", "0.00000000")

    gone = api.signed("DELETE", ORDER, symbol="BTCUSDT", orderId=first["orderId"])
    assert error(gone) == (400, -2011, "Unknown order sent.")
    theirs = api.signed("DELETE", ORDER, symbol="BTCUSDT", orderId=1)  # the market maker's
    assert error(theirs) == (400, -2011, "Unknown order sent.")
    assert error(api.signed("DELETE", ORDER, symbol="BTCUSDT")) == (
        400,
        -1102,
        "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
    )


def test_cancel_restrictions_and_a_part_filled_order(api: Api) -> None:
    ask = placed(api, symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                 quantity="0.1", price="60005")  # fmt: skip
    placed(api.other, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.03")
    cancel = {"symbol": "BTCUSDT", "orderId": ask["orderId"]}
    refused = api.signed("DELETE", ORDER, **cancel, cancelRestrictions="ONLY_NEW")
    assert error(refused) == (400, -2011, "Order was not canceled due to cancel restrictions.")
    bad = api.signed("DELETE", ORDER, **cancel, cancelRestrictions="SOMETIMES")
    assert error(bad) == (400, -1145, "Invalid cancelRestrictions")
    body = api.signed("DELETE", ORDER, **cancel, cancelRestrictions="ONLY_PARTIALLY_FILLED").json()
    assert (body["status"], body["executedQty"], body["cummulativeQuoteQty"]) == (
        "CANCELED", "0.03000000", "1800.15000000",
    )  # fmt: skip
    assert ledger(api, api.account_id, "BTC") == ("9.97000000", "0.00000000")


def test_cancel_all_open_orders_on_a_symbol(api: Api) -> None:
    ids = [placed(api, **LIMIT, quantity="0.01", price=p)["orderId"] for p in ("50000", "49000")]
    eth = placed(api, **{**LIMIT, "symbol": "ETHUSDT"}, quantity="1", price="2900")
    body = api.signed("DELETE", "/api/v3/openOrders", symbol="BTCUSDT").json()
    assert [o["orderId"] for o in body] == ids and {o["status"] for o in body} == {"CANCELED"}
    assert all(set(o) == CANCEL_KEYS for o in body)
    assert list(api.exchange.engine.state.accounts[api.account_id].open_orders) == [eth["orderId"]]
    again = api.signed("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")
    assert error(again) == (400, -2011, "Unknown order sent.")


# --- cancel-replace ------------------------------------------------------------------------------

REPLACE = f"{ORDER}/cancelReplace"
UNKNOWN = {"code": -2011, "msg": "Unknown order sent."}
WOULD_TAKE = {"code": -2010, "msg": "Order would immediately match and take."}


def replace(api: Api, mode: str, **params: Any) -> tuple[int, dict[str, Any]]:
    r = api.signed("POST", REPLACE, symbol="BTCUSDT", side="BUY", cancelReplaceMode=mode, **params)
    return r.status_code, r.json()


def test_cancel_replace_success(api: Api) -> None:
    old = placed(api, **LIMIT, quantity="0.01", price="50000", newClientOrderId="quote")
    new_order = {"type": "LIMIT", "timeInForce": "GTC", "quantity": "0.02", "price": "50100"}
    ids = {"cancelOrigClientOrderId": "quote", "newClientOrderId": "quote"}
    status, body = replace(api, "STOP_ON_FAILURE", **new_order, **ids)
    assert status == 200 and (body["cancelResult"], body["newOrderResult"]) == (
        "SUCCESS",
        "SUCCESS",
    )
    canceled, new = body["cancelResponse"], body["newOrderResponse"]
    assert set(canceled) == CANCEL_KEYS and canceled["orderId"] == old["orderId"]
    assert set(new) == RESULT_KEYS | {"fills"} and new["clientOrderId"] == "quote"
    assert (new["price"], new["status"]) == ("50100.00000000", "NEW")
    assert ledger(api, api.account_id, "USDT") == ("998998.00000000", "1002.00000000")


def test_cancel_replace_failures_say_which_leg_failed(api: Api) -> None:
    maker = {"type": "LIMIT_MAKER", "quantity": "0.01"}
    assert replace(api, "STOP_ON_FAILURE", **maker, price="50000", cancelOrderId=999) == (400, {
        "code": -2022, "msg": "Order cancel-replace failed.",
        "data": {"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                 "cancelResponse": UNKNOWN, "newOrderResponse": None},
    })  # fmt: skip
    status, body = replace(api, "ALLOW_FAILURE", **maker, price="50000", cancelOrderId=999,
                           newOrderRespType="ACK")  # fmt: skip
    new = body["data"].pop("newOrderResponse")
    assert (status, body) == (409, {
        "code": -2021, "msg": "Order cancel-replace partially failed.",
        "data": {"cancelResult": "FAILURE", "newOrderResult": "SUCCESS", "cancelResponse": UNKNOWN},
    })  # fmt: skip
    assert set(new) == ACK_KEYS
    assert replace(api, "ALLOW_FAILURE", **maker, price="60010", cancelOrderId=999) == (400, {
        "code": -2022, "msg": "Order cancel-replace failed.",
        "data": {"cancelResult": "FAILURE", "newOrderResult": "FAILURE",
                 "cancelResponse": UNKNOWN, "newOrderResponse": WOULD_TAKE},
    })  # fmt: skip
    status, body = replace(
        api, "STOP_ON_FAILURE", **maker, price="60010", cancelOrderId=new["orderId"]
    )
    assert (status, body["code"], body["msg"]) == (
        409,
        -2021,
        "Order cancel-replace partially failed.",
    )
    data = body["data"]
    assert (data["cancelResult"], data["newOrderResult"], data["newOrderResponse"]) == (
        "SUCCESS", "FAILURE", WOULD_TAKE,
    )  # fmt: skip
    assert data["cancelResponse"]["orderId"] == new["orderId"]
    assert api.exchange.engine.state.accounts[api.account_id].open_orders == {}


def test_cancel_replace_refused_as_a_whole(api: Api) -> None:
    old = placed(api, **LIMIT, quantity="0.01", price="50000")
    limit = {"type": "LIMIT", "timeInForce": "GTC", "cancelOrderId": old["orderId"]}
    # the new order's filters are checked before anything is canceled, as on Binance
    status, body = replace(api, "STOP_ON_FAILURE", **limit, quantity="0.000015", price="50000")
    assert (status, body) == (400, {"code": -1013, "msg": "Filter failure: LOT_SIZE"})
    assert (
        replace(api, "STOP_ON_FAILURE", type="LIMIT", timeInForce="GTC", quantity="1", price="5")[
            1
        ]["code"]
        == -1102
    )  # fmt: skip  (no cancel id)
    status, body = replace(api, "SOMETIMES", **limit, quantity="0.01", price="5")
    assert body == {
        "code": -1130,
        "msg": "Data sent for parameter 'cancelReplaceMode' is not valid.",
    }
    # cancelRestrictions: the cancel leg fails on a NEW order; ALLOW_FAILURE still places
    only_partial = {
        **limit,
        "quantity": "0.01",
        "price": "49000",
        "cancelRestrictions": "ONLY_PARTIALLY_FILLED",
    }
    status, body = replace(api, "STOP_ON_FAILURE", **only_partial)
    assert (status, body["data"]["cancelResponse"]["msg"]) == (
        400, "Order was not canceled due to cancel restrictions.",
    )  # fmt: skip
    status, body = replace(api, "ALLOW_FAILURE", **only_partial)
    assert (status, body["data"]["newOrderResult"]) == (409, "SUCCESS")
    open_orders = api.exchange.engine.state.accounts[api.account_id].open_orders
    assert sorted(open_orders) == [old["orderId"], body["data"]["newOrderResponse"]["orderId"]]


def test_a_failing_release_listener_does_not_hold_orders_back(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in one reader of released outcomes (a stream, market data) is logged; the orders
    it saw are answered all the same."""

    def broken(batch: list[Any]) -> None:
        raise ValueError("a reader's bug")

    api.service.on_release.insert(0, broken)
    try:
        ack = placed(api, **LIMIT, quantity="0.01", price="50000", newOrderRespType="ACK")
    finally:
        api.service.on_release.remove(broken)
    assert isinstance(ack["orderId"], int)
    assert "release listener" in caplog.text and "a reader's bug" in caplog.text
