"""The WebSocket API's signed requests: the same results, field for field, and the same errors
as the REST route of the same request; session.logon with an Ed25519 key; order counts shared
with REST. The demo book as in test_orders.py (asks from 60010, bids from 59990, 0.05 each)."""

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.websockets import WebSocketDisconnect

from bourse.api.binance.ratelimit import Policy
from bourse.commands import RevokeApiKey
from bourse.keys.api_keys import ed25519_key
from bourse.server.exchange import now_ms
from tests.api.conftest import Api
from tests.api.test_orders import ACK_KEYS, CANCEL_KEYS, RESULT_KEYS, run
from tests.api.test_ratelimit import _limits
from tests.api.test_ws_api import PATH, Ws, gateway, hmac_signature, payload

LIMIT = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}


@pytest.fixture
def ws(api: Api) -> Iterator[Ws]:
    with api.client.websocket_connect(PATH) as conn:
        yield Ws(conn)


def rest(api: Api, method: str, route: str, **params: Any) -> Any:
    r = api.signed(method, f"/api/v3/{route}", **params)
    assert r.status_code == 200, r.text
    return r.json()


def test_orders_and_account_are_rest_s_answers(api: Api, ws: Ws) -> None:
    placed = ws.signed("order.place", api, **LIMIT, quantity="0.01", price="50000")
    assert placed["status"] == 200 and set(placed["result"]) == RESULT_KEYS | {"fills"}
    order = placed["result"]
    assert (order["status"], order["price"], order["fills"]) == ("NEW", "50000.00000000", [])
    ack = ws.signed("order.place", api, **LIMIT, quantity="0.02", price="49000",
                    newOrderRespType="ACK", newClientOrderId="second")["result"]  # fmt: skip
    assert set(ack) == ACK_KEYS and ack["clientOrderId"] == "second"

    status = ws.signed("order.status", api, symbol="BTCUSDT", orderId=order["orderId"])
    assert status["result"] == rest(api, "GET", "order", symbol="BTCUSDT",
                                    orderId=order["orderId"])  # fmt: skip
    by_client_id = ws.signed("order.status", api, symbol="BTCUSDT", origClientOrderId="second")
    assert by_client_id["result"]["orderId"] == ack["orderId"]
    listed = ws.signed("openOrders.status", api, symbol="BTCUSDT")["result"]
    assert listed == rest(api, "GET", "openOrders", symbol="BTCUSDT")
    assert [o["orderId"] for o in listed] == [order["orderId"], ack["orderId"]]
    assert ws.signed("allOrders", api, symbol="BTCUSDT")["result"] == rest(
        api, "GET", "allOrders", symbol="BTCUSDT"
    )
    account = ws.signed("account.status", api, omitZeroBalances="true")["result"]
    assert account == rest(api, "GET", "account", omitZeroBalances="true")
    usdt = [b for b in account["balances"] if b["asset"] == "USDT"]
    assert usdt == [{"asset": "USDT", "free": "998520.00000000", "locked": "1480.00000000"}]
    assert ws.signed("account.commission", api, symbol="ETHBTC")["result"] == rest(
        api, "GET", "account/commission", symbol="ETHBTC"
    )

    canceled = ws.signed("order.cancel", api, symbol="BTCUSDT", orderId=order["orderId"])
    assert set(canceled["result"]) == CANCEL_KEYS and canceled["result"]["status"] == "CANCELED"
    rest_all = api.signed("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")  # nothing else left
    assert rest_all.status_code == 200 and [o["orderId"] for o in rest_all.json()] == [
        ack["orderId"]
    ]
    again = ws.signed("order.cancel", api, symbol="BTCUSDT", orderId=order["orderId"])
    assert ws.error(again) == (400, -2011, "Unknown order sent.")

    ws.signed("order.place", api, **LIMIT, quantity="0.01", price="50000", newClientOrderId="c")
    cancel_all = ws.signed("openOrders.cancelAll", api, symbol="BTCUSDT")["result"]
    assert [(o["origClientOrderId"], o["status"]) for o in cancel_all] == [("c", "CANCELED")]
    assert api.exchange.engine.state.accounts[api.account_id].open_orders == {}


def test_trades_and_test_orders_are_rest_s(api: Api, ws: Ws) -> None:
    market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.06"}
    filled = ws.signed("order.place", api, **market)["result"]
    assert (filled["status"], filled["cummulativeQuoteQty"]) == ("FILLED", "3600.70000000")
    assert [f["price"] for f in filled["fills"]] == ["60010.00000000", "60020.00000000"]
    mine = ws.signed("myTrades", api, symbol="BTCUSDT")["result"]
    assert mine == rest(api, "GET", "myTrades", symbol="BTCUSDT") and len(mine) == 2
    assert ws.signed("myTrades", api, symbol="BTCUSDT", orderId=filled["orderId"])["result"] == (
        mine
    )
    test = {**LIMIT, "quantity": "0.01", "price": "50000"}
    assert ws.signed("order.test", api, **test)["result"] == {}
    rates = ws.signed("order.test", api, **test, computeCommissionRates=True)["result"]
    assert rates == rest(api, "POST", "order/test", **test, computeCommissionRates="true")


ERRORS = [
    ({**LIMIT, "quantity": "0.01"}, -1102,
     "Mandatory parameter 'price' was not sent, was empty/null, or malformed."),
    ({**LIMIT, "quantity": "0.000015", "price": "50000"}, -1013, "Filter failure: LOT_SIZE"),
    ({**LIMIT, "quantity": "0.01", "price": "50000.000000001"}, -1111,
     "Parameter 'price' has too much precision."),
    ({**LIMIT, "symbol": "NOPE", "quantity": "1", "price": "1"}, -1121, "Invalid symbol."),
    ({**LIMIT, "quantity": "20", "price": "59000"}, -2010,
     "Account has insufficient balance for requested action."),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT_MAKER", "quantity": "0.01",
      "price": "60010"}, -2010,
     "Order would immediately match and take."),
    ({**LIMIT, "timeInForce": "GTD", "quantity": "0.01", "price": "50000"}, -1115,
     "Invalid timeInForce."),
]  # fmt: skip


@pytest.mark.parametrize(("params", "code", "msg"), ERRORS)
def test_order_errors_are_rest_s(api: Api, ws: Ws, params: dict[str, str], code: int,
                                 msg: str) -> None:  # fmt: skip
    r = api.signed("POST", "/api/v3/order", **params)
    assert (r.status_code, r.json()) == (400, {"code": code, "msg": msg})
    assert ws.error(ws.signed("order.place", api, **params)) == (400, code, msg)


def test_signatures_keys_and_time_as_rest_checks_them(api: Api, ws: Ws) -> None:
    query = {"symbol": "BTCUSDT"}
    assert ws.error(ws.signed("openOrders.status", api, **query, secret="wrong")) == (
        400, -1022, "Signature for this request is not valid.",
    )  # fmt: skip
    stale = ws.signed("openOrders.status", api, **query, timestamp=now_ms() - 6_000)
    assert ws.error(stale) == (
        400,
        -1021,
        "Timestamp for this request is outside of the recvWindow.",
    )
    widened = ws.signed("openOrders.status", api, **query, timestamp=now_ms() - 6_000,
                        recvWindow=60_000)  # fmt: skip
    assert widened["status"] == 200
    missing = ws.call("openOrders.status", **query, timestamp=now_ms())
    assert ws.error(missing) == (
        400, -1102, "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed.",
    )  # fmt: skip
    unsigned = ws.call("openOrders.status", **query, apiKey=api.key, timestamp=now_ms())
    assert ws.error(unsigned)[1:] == (-1102, "Mandatory parameter 'signature' was not sent, "
                                      "was empty/null, or malformed.")  # fmt: skip
    for key, code in (("x" * 64, -2015), ("bad key!", -2014)):
        answer = ws.call("openOrders.status", **query, apiKey=key, timestamp=now_ms(),
                         signature="00")  # fmt: skip
        assert ws.error(answer)[:2] == (401, code)
    # a signature over other params than those sent
    params = {**query, "apiKey": api.key, "timestamp": now_ms()}
    params["signature"] = hmac_signature(api.secret, {**params, "symbol": "ETHUSDT"})
    assert ws.error(ws.call("openOrders.status", **params))[1] == -1022


def test_the_sdk_s_percent_encoded_signature_is_accepted(api: Api, ws: Ws) -> None:
    """binance-sdk-spot and python-binance sign `urlencode(sorted params)`; Binance's text is
    the plain `name=value` join. They differ on characters such as '/', ':' or '"'."""
    order = {**LIMIT, "quantity": "0.01", "price": "50000", "newClientOrderId": "x-a/b:c"}
    params = {**order, "apiKey": api.key, "timestamp": now_ms()}
    assert urlencode(sorted(params.items())) != payload(params)
    encoded = urlencode(sorted(params.items())).encode()
    signature = hmac.new(api.secret.encode(), encoded, hashlib.sha256).hexdigest()
    answer = ws.call("order.place", **params, signature=signature)
    assert answer["status"] == 200 and answer["result"]["clientOrderId"] == "x-a/b:c"
    plain = ws.signed("order.place", api, **{**order, "newClientOrderId": "y-a/b:c"})
    assert plain["status"] == 200


def test_cancel_replace_reports_each_leg_as_rest_does(api: Api, ws: Ws) -> None:
    maker = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT_MAKER", "quantity": "0.01"}
    params = {**maker, "price": "50000", "cancelOrderId": 999}
    failed = ws.signed("order.cancelReplace", api, **params, cancelReplaceMode="STOP_ON_FAILURE")
    r = api.signed("POST", "/api/v3/order/cancelReplace", **params,
                   cancelReplaceMode="STOP_ON_FAILURE")  # fmt: skip
    assert (failed["status"], failed["error"]) == (r.status_code, r.json()) == (400, {
        "code": -2022, "msg": "Order cancel-replace failed.",
        "data": {"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                 "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
                 "newOrderResponse": None},
    })  # fmt: skip
    partly = ws.signed("order.cancelReplace", api, **params, cancelReplaceMode="ALLOW_FAILURE")
    assert (partly["status"], partly["error"]["code"]) == (409, -2021)
    new = partly["error"]["data"]["newOrderResponse"]
    replaced = ws.signed(
        "order.cancelReplace",
        api,
        **maker,
        price="50100",
        cancelOrderId=new["orderId"],
        cancelReplaceMode="STOP_ON_FAILURE",
        newOrderRespType="RESULT",
    )
    result = replaced["result"]  # fmt: skip
    assert (result["cancelResult"], result["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert result["cancelResponse"]["orderId"] == new["orderId"]
    assert result["newOrderResponse"]["price"] == "50100.00000000"


# --- sessions ---------------------------------------------------------------------------------


def _ed25519(api: Api, account_id: int) -> tuple[str, Ed25519PrivateKey]:
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    cmd = ed25519_key(pem.decode(), account_id=account_id, actor="t", ts_ms=now_ms(), reason="t")
    api.exchange.execute(cmd)
    return cmd.api_key, private


def _logon(ws: Ws, key: str, private: Ed25519PrivateKey, **extra: Any) -> dict[str, Any]:
    params = {"apiKey": key, "timestamp": now_ms(), **extra}
    signature = base64.b64encode(private.sign(payload(params).encode())).decode()
    return ws.call("session.logon", **params, signature=signature)


def test_session_logon_lets_requests_go_without_signature(api: Api, ws: Ws) -> None:
    key, private = _ed25519(api, api.account_id)
    before = ws.ok("session.status")
    assert (before["apiKey"], before["authorizedSince"], before["userDataStream"]) == (
        None, None, False,
    )  # fmt: skip
    logged_on = _logon(ws, key, private)
    assert logged_on["status"] == 200 and logged_on["rateLimits"][0]["rateLimitType"]
    session = logged_on["result"]
    assert session["apiKey"] == key and session["connectedSince"] == before["connectedSince"]
    assert session["authorizedSince"] >= session["connectedSince"]
    assert ws.ok("session.status")["apiKey"] == key

    order = {**LIMIT, "quantity": "0.01", "price": "50000"}
    placed = ws.call("order.place", **order, timestamp=now_ms())
    assert placed["status"] == 200
    assert placed["result"]["orderId"] in api.exchange.engine.state.accounts[
        api.account_id
    ].open_orders  # fmt: skip
    assert ws.error(ws.call("order.place", **order)) == (
        400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
    )  # fmt: skip
    # the session's key chooses exchangeInfo's venue, as the key would over REST
    venue = api.client.get("/api/v3/exchangeInfo", headers={"X-MBX-APIKEY": api.key}).json()
    assert ws.ok("exchangeInfo")["symbols"] == venue["symbols"]
    # an explicitly signed request acts for its own key
    other = ws.signed("order.place", api.other, **order)["result"]["orderId"]
    assert other in api.exchange.engine.state.accounts[api.other.account_id].open_orders
    named = ws.call("openOrders.status", apiKey=api.other.key, timestamp=now_ms())
    assert ws.error(named)[1:] == (-1102, "Mandatory parameter 'signature' was not sent, "
                                   "was empty/null, or malformed.")  # fmt: skip

    out = ws.ok("session.logout")
    assert (out["apiKey"], out["authorizedSince"]) == (None, None)
    assert ws.error(ws.call("order.place", **order, timestamp=now_ms()))[1] == -1102


def test_only_ed25519_keys_log_on_and_a_bad_signature_changes_nothing(api: Api, ws: Ws) -> None:
    params = {"apiKey": api.key, "timestamp": now_ms()}
    hmac_logon = ws.call("session.logon", **params, signature=hmac_signature(api.secret, params))
    assert ws.error(hmac_logon)[:2] == (401, -1002)
    key, private = _ed25519(api, api.account_id)
    forged = _logon(ws, key, Ed25519PrivateKey.generate())
    assert ws.error(forged) == (400, -1022, "Signature for this request is not valid.")
    late = _logon(ws, key, private, timestamp=now_ms() - 10_000)
    assert ws.error(late)[1] == -1021
    assert ws.ok("session.status")["apiKey"] is None


def test_a_revoked_key_ends_the_session(api: Api, ws: Ws) -> None:
    key, private = _ed25519(api, api.other.account_id)
    assert _logon(ws, key, private)["status"] == 200
    assert ws.call("account.status", timestamp=now_ms())["status"] == 200
    run(api, RevokeApiKey(actor="ops:t", ts_ms=now_ms(), reason="t", api_key=key))
    gone = ws.call("account.status", timestamp=now_ms())
    assert ws.error(gone) == (401, -2015, "Invalid API-key, IP, or permissions for action.")
    assert ws.ok("session.status")["apiKey"] is None


# --- order counts ----------------------------------------------------------------------------


def _orders(answer: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [
        (r["interval"], r["intervalNum"], r["count"])
        for r in answer["rateLimits"]
        if r["rateLimitType"] == "ORDERS"
    ]


def test_orders_count_against_the_accounts_rest_limits(api: Api, ws: Ws) -> None:
    gateway(api).rates.limits.configure(Policy(rate_limits=_limits(orders_10s=3, orders_day=5)))
    order = {**LIMIT, "quantity": "0.01", "price": "50000"}
    assert api.signed("POST", "/api/v3/order", **order).headers["x-mbx-order-count-10s"] == "1"
    second = ws.signed("order.place", api, **order)
    assert _orders(second) == [("SECOND", 10, 2), ("DAY", 1, 2)]
    assert second["rateLimits"][-1]["rateLimitType"] == "REQUEST_WEIGHT"
    assert _orders(ws.signed("order.status", api, symbol="BTCUSDT", orderId=1)) == []
    refused = ws.signed("order.place", api, **{**order, "quantity": "100"})  # no funds
    assert ws.error(refused)[1] == -2010
    assert _orders(refused) == [("SECOND", 10, 2), ("DAY", 1, 2)]  # a refused order is given back
    assert _orders(ws.signed("order.place", api, **order)) == [("SECOND", 10, 3), ("DAY", 1, 3)]
    over = ws.signed("order.place", api, **order)
    assert ws.error(over) == (
        429, -1015, "Too many new orders; current limit is 3 orders per 10 SECOND.",
    )  # fmt: skip
    counts = ws.signed("account.rateLimits.orders", api)["result"]
    assert counts == rest(api, "GET", "rateLimit/order")
    assert [c["count"] for c in counts] == [3, 3]


def test_too_much_weight_answers_429_then_a_ban_closes_the_connection(api: Api) -> None:
    now = [1_800_000_000_000]
    gateway(api).clock = lambda: now[0]
    gateway(api).rates.limits.configure(
        Policy(rate_limits=_limits(weight=50), strikes_before_ban=1)
    )
    with api.client.websocket_connect(PATH) as conn:
        ws = Ws(conn)
        ws.call("exchangeInfo")  # 2 + 20
        ws.call("exchangeInfo")  # 42
        over = ws.call("exchangeInfo")
        assert (over["status"], over["error"]["code"]) == (429, -1003)
        assert over["error"]["data"] == {"serverTime": now[0], "retryAfter": now[0] + 60_000}
        assert ws.ok("ping") == {}  # a lighter one still fits
        banned = ws.call("exchangeInfo")
        assert banned["status"] == 418 and banned["error"]["code"] == -1003
        assert banned["error"]["data"]["retryAfter"] == now[0] + 120_000
        with pytest.raises(WebSocketDisconnect) as closed:
            conn.receive_text()
        assert closed.value.code == 1008
    with api.client.websocket_connect(PATH) as conn:  # no new connection during the ban
        refused = json.loads(conn.receive_text())
        assert (refused["id"], refused["status"]) == (None, 418)
        with pytest.raises(WebSocketDisconnect):
            conn.receive_text()
