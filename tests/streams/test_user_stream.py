"""User data streams against an in-process server: the listenKey endpoints and their 60 minutes,
`/ws/<listenKey>` delivering executionReport (equal to REST's order), outboundAccountPosition
(equal to REST's account) and balanceUpdate, compliance changes as account positions, and the
WebSocket API's userDataStream.subscribe; then real clients (python-binance's user socket and
listenKey calls, binance-sdk-spot's subscription) against a live `bourse run`. The demo book:
asks from 60010, bids from 59990."""

import asyncio
import base64
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import anyio
import pytest
import websockets
from binance.ws.streams import BinanceSocketManager
from binance_common.configuration import ConfigurationWebSocketAPI
from binance_sdk_spot.spot import Spot
from binance_sdk_spot.websocket_api.models import (
    ExecutionReport,
    OrderPlaceSideEnum,
    OrderPlaceTimeInForceEnum,
    OrderPlaceTypeEnum,
    OutboundAccountPosition,
)
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from bourse.commands import (
    Command,
    CompleteWithdrawal,
    Deposit,
    FailWithdrawal,
    FreezeAccount,
    RequestWithdrawal,
    RevokeApiKey,
    SetAccountPermissions,
    UnfreezeAccount,
)
from bourse.demo import MARKET_MAKER_ID
from bourse.domain.money import to_raw
from bourse.engine.listen_keys import KEY_LENGTH, LIFETIME_MS
from bourse.server.exchange import now_ms
from bourse.streams.hub import Hub, Subscriber
from bourse.streams.service import Realtime
from bourse.streams.user_feed import Tap, user_stream
from tests.api.conftest import Api, Signer, _keyed
from tests.api.test_ws_api import PATH, hmac_signature, payload
from tests.api.test_ws_api_trading import _ed25519
from tests.builders import BTC_ADDRESS
from tests.clients.conftest import Exchange, close, python_binance, running

Event = dict[str, Any]
LIMIT = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}
BUY, LIMIT_TYPE = OrderPlaceSideEnum.BUY, OrderPlaceTypeEnum.LIMIT
GTC = OrderPlaceTimeInForceEnum.GTC
_FLOAT_TIMEOUT = "ignore:parameter 'timeout' of type 'float':DeprecationWarning"


def client_test(test: Callable[..., None]) -> Callable[..., None]:
    """A real client against a live `bourse run` (slow). binance-common 4.6 passes aiohttp a
    float timeout, which aiohttp 3.14 deprecates."""
    marked: Callable[..., None] = pytest.mark.slow(pytest.mark.filterwarnings(_FLOAT_TIMEOUT)(test))
    return marked


def receive(ws: WebSocketTestSession, timeout: float = 10.0) -> Event:
    """The next frame, or a failure after `timeout` s (TestClient's own receive waits forever)."""

    async def next_message() -> Any:
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()

    message = ws.portal.call(next_message)
    ws._raise_on_close(message)
    event: Event = json.loads(message["text"])
    return event


def frames(ws: WebSocketTestSession, count: int) -> list[Event]:
    return [receive(ws) for _ in range(count)]


def listen_key(signer: Signer) -> str:
    r = signer.client.post("/api/v3/userDataStream", headers={"X-MBX-APIKEY": signer.key})
    assert r.status_code == 200, r.text
    key: str = r.json()["listenKey"]
    return key


def keep_alive(signer: Signer, key: str, method: str = "PUT") -> Any:
    headers = {"X-MBX-APIKEY": signer.key}
    return signer.client.request(method, "/api/v3/userDataStream", params={"listenKey": key},
                                 headers=headers)  # fmt: skip


def order(signer: Signer, **params: Any) -> dict[str, Any]:
    r = signer.signed("POST", "/api/v3/order", **params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def rest_order(signer: Signer, order_id: int, symbol: str = "BTCUSDT") -> dict[str, Any]:
    r = signer.signed("GET", "/api/v3/order", symbol=symbol, orderId=order_id)
    assert r.status_code == 200, r.text
    return dict(r.json())


def rest_balances(signer: Signer) -> dict[str, tuple[str, str]]:
    r = signer.signed("GET", "/api/v3/account")
    assert r.status_code == 200, r.text
    return {b["asset"]: (b["free"], b["locked"]) for b in r.json()["balances"]}


def run(api: Api, cmd: Command) -> None:
    api.client.portal.call(api.service.execute, cmd)  # type: ignore[union-attr]


def realtime(api: Api) -> Realtime:
    rt: Realtime = api.client.app.state.realtime  # type: ignore[attr-defined]
    return rt


def assert_same_as_rest(report: Event, rest: dict[str, Any]) -> None:
    """An executionReport's order fields are REST's GET order answer for the same order."""
    assert report["e"] == "executionReport"
    pairs = {
        "s": "symbol", "i": "orderId", "c": "clientOrderId", "S": "side", "o": "type",
        "f": "timeInForce", "q": "origQty", "p": "price", "P": "stopPrice", "F": "icebergQty",
        "X": "status", "z": "executedQty", "Z": "cummulativeQuoteQty", "Q": "origQuoteOrderQty",
        "O": "time", "V": "selfTradePreventionMode", "g": "orderListId",
    }  # fmt: skip
    assert {k: report[k] for k in pairs} == {k: rest[v] for k, v in pairs.items()}
    assert report.get("W", -1) == rest["workingTime"]


def assert_positions_are_rest_s(positions: list[Event], signer: Signer) -> None:
    """The balances the account positions last showed are REST's account balances."""
    shown: dict[str, tuple[str, str]] = {}
    for p in positions:
        assert p["e"] == "outboundAccountPosition" and p["u"] <= p["E"]
        shown.update({b["a"]: (b["f"], b["l"]) for b in p["B"]})
    rest = rest_balances(signer)
    assert shown and shown == {asset: rest[asset] for asset in shown}


def by_kind(events: list[Event]) -> tuple[list[Event], list[Event]]:
    reports = [e for e in events if e["e"] == "executionReport"]
    return reports, [e for e in events if e["e"] == "outboundAccountPosition"]


# --- the listenKey endpoints ------------------------------------------------------------------


def test_listen_key_endpoints_and_their_errors(live: Api) -> None:
    key = listen_key(live)
    assert len(key) == KEY_LENGTH and key.isalnum()
    assert listen_key(live) == key  # the API key's live key, extended, as on Binance
    other = listen_key(live.other)
    assert other != key  # one per API key: each account holds its own
    assert keep_alive(live, key).json() == {}
    # another API key cannot keep alive or close it: it does not exist for that key
    assert keep_alive(live.other, key).json() == {
        "code": -1125,
        "msg": "This listenKey does not exist.",
    }
    no_key = live.client.post("/api/v3/userDataStream")
    assert (no_key.status_code, no_key.json()["code"]) == (401, -2014)
    unknown = live.client.post("/api/v3/userDataStream", headers={"X-MBX-APIKEY": "x" * 64})
    assert (unknown.status_code, unknown.json()["code"]) == (401, -2015)
    missing = live.client.put("/api/v3/userDataStream", headers={"X-MBX-APIKEY": live.key})
    assert (missing.status_code, missing.json()["code"]) == (400, -1102)
    assert keep_alive(live, "a" * KEY_LENGTH).status_code == 400
    closed = keep_alive(live, key, "DELETE")
    assert (closed.status_code, closed.json()) == (200, {})
    for method in ("PUT", "DELETE"):
        gone = keep_alive(live, key, method)
        assert (gone.status_code, gone.json()["code"]) == (400, -1125)
    assert listen_key(live) != key  # a closed key is never handed out again


def test_a_key_expires_60_minutes_after_the_last_keepalive(live: Api) -> None:
    start = now_ms()
    clock = [start]
    live.service.clock = lambda: clock[0]
    key = listen_key(live)
    with live.client.websocket_connect(f"/ws/{key}") as ws:
        clock[0] = start + LIFETIME_MS - 1
        assert keep_alive(live, key).status_code == 200  # valid until start + 2 * LIFETIME - 1
        clock[0] = start + 2 * LIFETIME_MS - 2
        realtime(live).sweep()  # as the once-a-second sweep would (it runs on its own too)
        assert keep_alive(live, key).status_code == 200
        clock[0] += LIFETIME_MS  # an hour without keepalive
        expired = receive(ws)  # the sweep runs every second
        assert expired == {"e": "listenKeyExpired", "E": str(clock[0]), "listenKey": key}
        with pytest.raises(WebSocketDisconnect) as closed:
            receive(ws)
        assert (closed.value.code, closed.value.reason) == (1000, "listenKey expired")
    assert keep_alive(live, key).json()["code"] == -1125
    assert listen_key(live) != key


def test_an_unknown_listen_key_is_refused_and_a_closed_one_ends_its_stream(live: Api) -> None:
    with live.client.websocket_connect("/ws/" + "Z" * KEY_LENGTH) as ws:
        error = receive(ws)
        assert error == {"error": {"code": 2, "msg": "Invalid request: no such listenKey"},
                         "id": None}  # fmt: skip
        with pytest.raises(WebSocketDisconnect):
            receive(ws)
    key = listen_key(live)
    with live.client.websocket_connect(f"/ws/{key}") as ws:
        assert keep_alive(live, key, "DELETE").status_code == 200
        with pytest.raises(WebSocketDisconnect) as closed:
            receive(ws)  # no listenKeyExpired: the stream was closed, not expired (as Binance)
        assert (closed.value.code, closed.value.reason) == (1000, "listenKey closed")


# --- executionReport --------------------------------------------------------------------------


def test_execution_reports_follow_each_order_as_rest_shows_it(live: Api) -> None:
    with live.client.websocket_connect(f"/ws/{listen_key(live)}") as ws:
        # NEW above the demo's best bid, then two fills against another account's sells:
        # PARTIALLY_FILLED, then FILLED
        bid = order(live, **LIMIT, side="BUY", quantity="0.01", price="59995",
                    newClientOrderId="resting")  # fmt: skip
        new, locked = frames(ws, 2)
        assert (new["x"], new["X"], new["c"], new["w"], new["t"]) == ("NEW", "NEW", "resting",
                                                                       True, -1)  # fmt: skip
        assert (new["l"], new["n"], new["N"]) == ("0.00000000", "0", None)
        assert_same_as_rest(new, rest_order(live, bid["orderId"]))
        assert locked["B"] == [{"a": "USDT", "f": "999400.05000000", "l": "599.95000000"}]
        order(live.other, **LIMIT, side="SELL", quantity="0.004", price="59995")
        part, _ = frames(ws, 2)
        assert (part["x"], part["X"], part["m"], part["w"]) == ("TRADE", "PARTIALLY_FILLED",
                                                                True, True)  # fmt: skip
        assert (part["l"], part["L"], part["Y"], part["z"]) == (
            "0.00400000", "59995.00000000", "239.98000000", "0.00400000",
        )  # fmt: skip
        assert part["N"] == "BTC" and part["t"] > 0
        order(live.other, **LIMIT, side="SELL", quantity="0.006", price="59995")
        done, position = frames(ws, 2)
        assert (done["x"], done["X"], done["z"], done["Z"], done["w"]) == (
            "TRADE", "FILLED", "0.01000000", "599.95000000", False,
        )  # fmt: skip
        assert done["t"] == part["t"] + 1 and done["I"] > part["I"]
        assert_same_as_rest(done, rest_order(live, bid["orderId"]))
        assert Decimal(part["l"]) + Decimal(done["l"]) == Decimal(done["z"])
        assert_positions_are_rest_s([locked, position], live)

        # canceled by its owner: the order's client id in both c and C
        resting = order(live, **LIMIT, side="BUY", quantity="0.01", price="40000",
                        newClientOrderId="to-cancel")  # fmt: skip
        r = live.signed("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=resting["orderId"])
        assert r.status_code == 200
        reports, positions = by_kind(frames(ws, 4))
        assert [(e["x"], e["X"]) for e in reports] == [("NEW", "NEW"), ("CANCELED", "CANCELED")]
        assert (reports[1]["c"], reports[1]["C"]) == ("to-cancel", "to-cancel")
        assert_same_as_rest(reports[1], rest_order(live, resting["orderId"]))
        assert_positions_are_rest_s(positions, live)

        # an IOC remainder expires; a MARKET order by quoteOrderQty fills at the demo's asks
        ioc = order(live, **{**LIMIT, "timeInForce": "IOC"}, side="BUY", quantity="0.01",
                    price="59000")  # fmt: skip
        reports, positions = by_kind(frames(ws, 3))
        assert [(e["x"], e["X"], e["w"]) for e in reports] == [
            ("NEW", "NEW", False), ("EXPIRED", "EXPIRED", False),
        ]  # fmt: skip
        assert_same_as_rest(reports[-1], rest_order(live, ioc["orderId"]))
        bought = order(live, symbol="BTCUSDT", side="BUY", type="MARKET", quoteOrderQty="1000")
        reports, positions = by_kind(frames(ws, 3))
        assert [(e["x"], e["X"]) for e in reports] == [("NEW", "NEW"), ("TRADE", "FILLED")]
        assert reports[0]["q"] == "0.00000000" and reports[0]["Q"] == "1000.00000000"
        assert (reports[1]["L"], reports[1]["m"]) == ("60010.00000000", False)
        assert_same_as_rest(reports[1], rest_order(live, bought["orderId"]))
        assert_positions_are_rest_s(positions, live)


def test_self_trade_prevention_and_a_triggered_stop(live: Api) -> None:
    with live.client.websocket_connect(f"/ws/{listen_key(live)}") as ws:
        mine = order(live, **LIMIT, side="BUY", quantity="0.01", price="59995")  # the best bid
        frames(ws, 2)
        taker = order(live, **LIMIT, side="SELL", quantity="0.01", price="59995",
                      selfTradePreventionMode="EXPIRE_TAKER")  # fmt: skip
        reports, _ = by_kind(frames(ws, 3))
        assert [(e["i"], e["x"], e["X"]) for e in reports] == [
            (taker["orderId"], "NEW", "NEW"),
            (taker["orderId"], "TRADE_PREVENTION", "EXPIRED_IN_MATCH"),
        ]  # fmt: skip
        assert_same_as_rest(reports[1], rest_order(live, taker["orderId"]))
        live.signed("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=mine["orderId"])
        frames(ws, 2)

        # a buy stop at 60020 waits (not working, no W); another account's buy lifts the last
        # price to 60020: the stop triggers (NEW again, now working) and fills at 60020
        stop = order(live, symbol="BTCUSDT", side="BUY", type="STOP_LOSS_LIMIT",
                     timeInForce="GTC", quantity="0.01", price="60100",
                     stopPrice="60020")  # fmt: skip
        waiting, _ = frames(ws, 2)
        assert (waiting["x"], waiting["w"], "W" in waiting) == ("NEW", False, False)
        assert_same_as_rest(waiting, rest_order(live, stop["orderId"]))
        order(live.other, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.06")
        reports, positions = by_kind(frames(ws, 3))
        assert [(e["x"], e["X"]) for e in reports] == [("NEW", "NEW"), ("TRADE", "FILLED")]
        assert reports[0]["W"] >= reports[0]["O"] and reports[1]["L"] == "60020.00000000"
        assert (reports[1]["z"], reports[1]["m"]) == ("0.01000000", False)
        rest = rest_order(live, stop["orderId"])
        assert_same_as_rest(reports[1], rest)  # triggered and filled by one outcome
        assert_positions_are_rest_s(positions, live)


def test_orders_open_when_the_server_started_are_followed_too(live: Api) -> None:
    # the demo maker (account 2) quoted before this server started: its asks are seeded
    maker = _keyed(live.exchange, live.service.box, MARKET_MAKER_ID)
    maker.client = live.client
    with live.client.websocket_connect(f"/ws/{listen_key(maker)}") as ws:
        order(live.other, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.06")
        reports, positions = by_kind(frames(ws, 3))  # two fills, then the maker's position
        assert [(e["X"], e["z"], e["q"], e["m"]) for e in reports] == [
            ("FILLED", "0.05000000", "0.05000000", True),
            ("PARTIALLY_FILLED", "0.01000000", "0.05000000", True),
        ]  # fmt: skip
        for report in reports:
            assert_same_as_rest(report, rest_order(maker, report["i"]))
        assert_positions_are_rest_s(positions, maker)


# --- balances and compliance --------------------------------------------------------------------


def test_transfers_send_balance_updates_and_positions_equal_rest(live: Api) -> None:
    signer = live.other
    account = signer.account_id
    btc = to_raw("1", 8)
    with live.client.websocket_connect(f"/ws/{listen_key(signer)}") as ws:
        run(live, Deposit(actor="t", ts_ms=now_ms(), account_id=account, asset="USDT",
                          amount_raw=to_raw("100", 8)))  # fmt: skip
        update, position = frames(ws, 2)
        assert {k: update[k] for k in "ead"} == {"e": "balanceUpdate", "a": "USDT",
                                                  "d": "100.00000000"}  # fmt: skip
        assert update["T"] == update["E"]
        assert position["B"] == [{"a": "USDT", "f": "5000100.00000000", "l": "0.00000000"}]
        assert_positions_are_rest_s([position], signer)

        withdraw = RequestWithdrawal(actor="t", ts_ms=now_ms(), account_id=account, asset="BTC",
                                     amount_raw=btc, destination=BTC_ADDRESS)  # fmt: skip
        run(live, withdraw)
        update, held = frames(ws, 2)
        assert (update["a"], update["d"]) == ("BTC", "-1.00000000")
        assert held["B"] == [{"a": "BTC", "f": "49.00000000", "l": "1.00000000"}]
        (pending,) = live.exchange.engine.state.withdrawals.values()
        run(live, FailWithdrawal(actor="t", ts_ms=now_ms(), reason="t", withdrawal_id=pending.id))
        update, returned = frames(ws, 2)
        assert (update["a"], update["d"]) == ("BTC", "1.00000000")
        assert returned["B"] == [{"a": "BTC", "f": "50.00000000", "l": "0.00000000"}]
        run(live, withdraw)
        frames(ws, 2)
        (pending,) = live.exchange.engine.state.withdrawals.values()
        run(live, CompleteWithdrawal(actor="t", ts_ms=now_ms(), withdrawal_id=pending.id))
        (paid,) = frames(ws, 1)  # free did not move: a position only
        assert paid["B"] == [{"a": "BTC", "f": "49.00000000", "l": "0.00000000"}]
        assert_positions_are_rest_s([position, paid], signer)


def test_a_freeze_and_permissions_reach_the_account_as_positions(live: Api) -> None:
    signer = live.other
    account = signer.account_id
    with live.client.websocket_connect(f"/ws/{listen_key(signer)}") as ws:
        resting = order(signer, **LIMIT, side="BUY", quantity="0.01", price="50000")
        frames(ws, 2)
        run(live, FreezeAccount(actor="ops:t", ts_ms=now_ms(), reason="t", account_id=account))
        canceled, frozen = frames(ws, 2)  # its open order ends, then the account's position
        assert (canceled["i"], canceled["X"]) == (resting["orderId"], "CANCELED")
        rest = signer.signed("GET", "/api/v3/account").json()
        assert (frozen["T"], frozen["W"], frozen["D"]) == (
            rest["canTrade"], rest["canWithdraw"], rest["canDeposit"],
        ) == (False, False, True)  # fmt: skip
        assert_positions_are_rest_s([frozen], signer)
        run(live, UnfreezeAccount(actor="ops:t", ts_ms=now_ms(), reason="t", account_id=account))
        (thawed,) = frames(ws, 1)
        assert (thawed["B"], thawed["T"], thawed["W"], thawed["D"]) == ([], True, True, True)
        run(live, SetAccountPermissions(actor="ops:t", ts_ms=now_ms(), reason="t",
                                        account_id=account, can_trade=False, can_deposit=True,
                                        can_withdraw=False))  # fmt: skip
        (restricted,) = frames(ws, 1)
        rest = signer.signed("GET", "/api/v3/account").json()
        assert (restricted["T"], restricted["W"], restricted["D"]) == (
            rest["canTrade"], rest["canWithdraw"], rest["canDeposit"],
        ) == (False, False, True)  # fmt: skip


# --- one connection, several streams ------------------------------------------------------------


def test_a_listen_key_among_market_streams_and_by_subscribe(live: Api) -> None:
    key = listen_key(live)
    realtime(live).messages_per_s = 100
    with live.client.websocket_connect(f"/stream?streams=btcusdt@trade/{key}") as ws:
        order(live, **LIMIT, side="BUY", quantity="0.01", price="50000")
        new, _ = frames(ws, 2)
        assert new["stream"] == key and new["data"]["e"] == "executionReport"
        ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 1})
        assert receive(ws) == {"result": ["btcusdt@trade", key], "id": 1}
        ws.send_json({"method": "UNSUBSCRIBE", "params": [key], "id": 2})
        assert receive(ws) == {"result": None, "id": 2}
        order(live, **LIMIT, side="SELL", quantity="0.01", price="50000")  # its own bid: a trade
        trade = receive(ws)
        assert trade["stream"] == "btcusdt@trade"  # and no user event any more
    with live.client.websocket_connect("/ws") as ws:
        ws.send_json({"method": "SUBSCRIBE", "params": [key], "id": 1})
        assert receive(ws) == {"result": None, "id": 1}
        order(live, **LIMIT, side="BUY", quantity="0.01", price="40000")
        assert receive(ws)["e"] == "executionReport"


def test_a_user_stream_subscriber_that_stops_reading_is_cut_off() -> None:
    async def publish() -> tuple[Subscriber, Subscriber, Hub]:  # the hub runs on a loop
        hub = Hub()
        slow, fast = Subscriber(False, limit=3), Subscriber(False, limit=100)
        for out in (slow, fast):
            hub.add(Tap(out, 7, "k", "key"), user_stream(7))
        for i in range(5):
            hub.publish("user:7", {"e": "executionReport", "i": i})
        return slow, fast, hub

    slow, fast, hub = asyncio.run(publish())
    assert slow.cut_reason.startswith("slow consumer") and not slow.queue
    assert len(fast.queue) == 5 and hub.cut_off == 1
    assert hub.counts() == {"user:7": 1}  # the slow one's tap left the stream


# --- the WebSocket API ----------------------------------------------------------------------------


class WsApi:
    """A WebSocket API connection: each call returns its response; the user data events that
    arrive meanwhile are kept, in order, in `events`."""

    def __init__(self, conn: WebSocketTestSession) -> None:
        self.conn = conn
        self.n = 0
        self.events: list[Event] = []

    def call(self, method: str, **params: Any) -> Event:
        self.n += 1
        request: Event = {"id": self.n, "method": method}
        if params:
            request["params"] = params
        self.conn.send_text(json.dumps(request))
        while True:
            frame = receive(self.conn)
            if "event" in frame:
                self.events.append(frame)
                continue
            assert frame["id"] == self.n, frame
            return frame

    def signed(self, method: str, signer: Signer, **params: Any) -> Event:
        full = {**params, "apiKey": signer.key, "timestamp": now_ms()}
        return self.call(method, **full, signature=hmac_signature(signer.secret, full))

    def next_events(self, count: int) -> list[Event]:
        while len(self.events) < count:
            frame = receive(self.conn)
            assert "event" in frame, frame
            self.events.append(frame)
        taken, self.events = self.events[:count], self.events[count:]
        return taken


def test_ws_api_subscriptions_by_signature(live: Api) -> None:
    with live.client.websocket_connect(PATH) as conn:
        ws = WsApi(conn)
        mine = ws.signed("userDataStream.subscribe.signature", live)
        assert (mine["status"], mine["result"]) == (200, {"subscriptionId": 0})
        assert mine["rateLimits"] == []  # the live fixture runs without rate limits
        again = ws.signed("userDataStream.subscribe.signature", live)
        assert (again["status"], again["error"]["code"]) == (400, -1020)  # one per account
        theirs = ws.signed("userDataStream.subscribe.signature", live.other)
        assert theirs["result"] == {"subscriptionId": 1}
        forged = ws.call("userDataStream.subscribe.signature", apiKey=live.key,
                         timestamp=now_ms(), signature="0" * 64)  # fmt: skip
        assert forged["error"]["code"] == -1022
        assert ws.call("session.subscriptions")["result"] == [
            {"subscriptionId": 0}, {"subscriptionId": 1},
        ]  # fmt: skip
        assert ws.call("session.status")["result"]["userDataStream"] is True

        # each account's events under its own subscriptionId, on this one connection
        bid = order(live, **LIMIT, side="BUY", quantity="0.01", price="59995")
        placed = ws.signed("order.place", live.other, **LIMIT, side="SELL", quantity="0.01",
                           price="59995")  # fmt: skip
        assert placed["result"]["status"] == "FILLED"
        events = ws.next_events(
            7
        )  # mine: NEW, position, TRADE, position; theirs: NEW, TRADE, position
        for frame in events:
            assert set(frame) == {"subscriptionId", "event"}
        own = [f["event"] for f in events if f["subscriptionId"] == 0]
        other = [f["event"] for f in events if f["subscriptionId"] == 1]
        own_reports, own_positions = by_kind(own)
        assert [(e["x"], e["X"]) for e in own_reports] == [("NEW", "NEW"), ("TRADE", "FILLED")]
        assert_same_as_rest(own_reports[-1], rest_order(live, bid["orderId"]))
        assert_positions_are_rest_s(own_positions, live)
        other_reports, _ = by_kind(other)
        assert other_reports[-1]["i"] == placed["result"]["orderId"]
        assert_same_as_rest(other_reports[-1],
                            rest_order(live.other, placed["result"]["orderId"]))  # fmt: skip

        # unsubscribing one ends it with eventStreamTerminated; the other goes on
        gone = ws.call("userDataStream.unsubscribe", subscriptionId=0)
        assert gone["result"] == {}
        (terminated,) = ws.next_events(1)
        assert terminated["subscriptionId"] == 0
        assert terminated["event"]["e"] == "eventStreamTerminated"
        assert isinstance(terminated["event"]["E"], int)
        order(live, **LIMIT, side="BUY", quantity="0.01", price="40000")  # no event for it now
        order(live.other, **LIMIT, side="BUY", quantity="0.01", price="40000")
        new, _ = ws.next_events(2)
        assert new["subscriptionId"] == 1 and new["event"]["S"] == "BUY"
        assert ws.call("userDataStream.unsubscribe")["result"] == {}  # all of them
        (last,) = ws.next_events(1)
        assert (last["subscriptionId"], last["event"]["e"]) == (1, "eventStreamTerminated")
        assert ws.call("session.subscriptions")["result"] == []
        assert ws.call("session.status")["result"]["userDataStream"] is False


def test_ws_api_subscribe_on_a_logged_on_session(live: Api) -> None:
    key, private = _ed25519(live, live.account_id)
    with live.client.websocket_connect(PATH) as conn:
        ws = WsApi(conn)
        refused = ws.call("userDataStream.subscribe")
        assert (refused["status"], refused["error"]["code"]) == (401, -1002)
        params = {"apiKey": key, "timestamp": now_ms()}
        signature = base64.b64encode(private.sign(payload(params).encode())).decode()
        assert ws.call("session.logon", **params, signature=signature)["status"] == 200
        assert ws.call("userDataStream.subscribe")["result"] == {"subscriptionId": 0}
        # the session signs for the account: .signature without a signature is the same account
        assert ws.call("userDataStream.subscribe.signature", timestamp=now_ms())["error"][
            "code"
        ] == -1020  # fmt: skip
        placed = ws.call("order.place", **LIMIT, side="BUY", quantity="0.01", price="40000",
                         timestamp=now_ms())  # fmt: skip
        new, position = ws.next_events(2)
        assert_same_as_rest(new["event"], rest_order(live, placed["result"]["orderId"]))
        assert_positions_are_rest_s([position["event"]], live)
        out = ws.call("session.logout")  # ends the subscription the session made
        assert out["result"]["userDataStream"] is False
        (terminated,) = ws.next_events(1)
        assert terminated["event"]["e"] == "eventStreamTerminated"


def test_ws_api_subscription_of_a_revoked_key_ends(live: Api) -> None:
    key, private = _ed25519(live, live.other.account_id)
    with live.client.websocket_connect(PATH) as conn:
        ws = WsApi(conn)
        params = {"apiKey": key, "timestamp": now_ms()}
        signature = base64.b64encode(private.sign(payload(params).encode())).decode()
        subscribed = ws.call("userDataStream.subscribe.signature", **params, signature=signature)
        assert subscribed["result"] == {"subscriptionId": 0}
        run(live, RevokeApiKey(actor="ops:t", ts_ms=now_ms(), reason="t", api_key=key))
        (terminated,) = ws.next_events(1)  # the once-a-second sweep
        assert terminated["event"]["e"] == "eventStreamTerminated"
        assert ws.call("session.status")["result"]["userDataStream"] is False


def test_ws_api_listen_key_requests(live: Api) -> None:
    with live.client.websocket_connect(PATH) as conn:
        ws = WsApi(conn)
        started = ws.call("userDataStream.start", apiKey=live.key)["result"]
        key = started["listenKey"]
        assert key == listen_key(live)  # the same key REST hands out
        assert ws.call("userDataStream.ping", apiKey=live.key, listenKey=key)["result"] == {}
        wrong = ws.call("userDataStream.ping", apiKey=live.other.key, listenKey=key)
        assert (wrong["status"], wrong["error"]) == (
            400, {"code": -1125, "msg": "This listenKey does not exist."},
        )  # fmt: skip
        assert ws.call("userDataStream.start")["error"]["code"] == -1102
        assert ws.call("userDataStream.stop", apiKey=live.key, listenKey=key)["result"] == {}
        assert keep_alive(live, key).json()["code"] == -1125


# --- real clients against a live `bourse run` -------------------------------------------------


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, stream_shape: tuple[str, ...]
) -> Iterator[Exchange]:
    with running(tmp_path_factory, "user-streams", "--no-rate-limits", *stream_shape) as exchange:
        yield exchange


@client_test
def test_python_binance_user_socket_gets_its_execution_reports(server: Exchange) -> None:
    trader = server.trader(USDT="100000")

    async def session() -> list[Any]:
        client = python_binance(server, trader)
        try:
            async with BinanceSocketManager(client).user_socket() as stream:
                placed = await client.order_limit_buy(symbol="BTCUSDT", quantity="0.01",
                                                      price="50000")  # fmt: skip
                got = [await asyncio.wait_for(stream.recv(), 10) for _ in range(2)]
                canceled = await client.cancel_order(symbol="BTCUSDT", orderId=placed["orderId"])
                got += [await asyncio.wait_for(stream.recv(), 10) for _ in range(2)]
                status = await client.get_order(symbol="BTCUSDT", orderId=placed["orderId"])
                return [placed, canceled, status, *got]
        finally:
            await close(client)

    placed, canceled, status, new, locked, ended, released = asyncio.run(session())
    assert (new["e"], new["x"], new["i"], new["c"]) == (
        "executionReport", "NEW", placed["orderId"], placed["clientOrderId"],
    )  # fmt: skip
    assert locked["B"] == [{"a": "USDT", "f": "99500.00000000", "l": "500.00000000"}]
    assert (ended["x"], ended["X"], canceled["status"]) == ("CANCELED", "CANCELED", "CANCELED")
    assert_same_as_rest(ended, status)
    assert released["B"] == [{"a": "USDT", "f": "100000.00000000", "l": "0.00000000"}]
    assert "Traceback" not in server.server.output()  # nothing failed inside the server


@client_test
def test_python_binance_listen_key_calls_and_the_raw_stream(server: Exchange) -> None:
    trader = server.trader(BTC="1")

    async def session() -> tuple[str, Any, list[Any]]:
        client = python_binance(server, trader)
        try:
            key = await client.stream_get_listen_key()
            kept = await client.stream_keepalive(key)
            url = server.stream_url + f"/ws/{key}"
            async with websockets.connect(url) as stream:
                await client.order_limit_sell(symbol="BTCUSDT", quantity="0.01", price="70000")
                got = [json.loads(await asyncio.wait_for(stream.recv(), 10)) for _ in range(2)]
                await client.stream_close(key)
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(stream.recv(), 10)
                got.append(closed.value.rcvd.reason if closed.value.rcvd else None)
            return key, kept, got
        finally:
            await close(client)

    key, kept, (new, held, reason) = asyncio.run(session())
    assert len(key) == KEY_LENGTH and kept == {}
    assert (new["e"], new["S"], new["q"]) == ("executionReport", "SELL", "0.01000000")
    assert held["B"] == [{"a": "BTC", "f": "0.99000000", "l": "0.01000000"}]
    assert reason == "listenKey closed"
    assert "Traceback" not in server.server.output()


@client_test
def test_binance_sdk_spot_user_data_subscription(server: Exchange) -> None:
    trader = server.trader(USDT="100000")
    seller = server.trader(BTC="1")
    config = ConfigurationWebSocketAPI(
        api_key=trader.key,
        api_secret=trader.secret,
        stream_url=server.stream_url + PATH,
    )
    api = Spot(config_ws_api=config).websocket_api

    async def session() -> list[Any]:
        received: list[Any] = []
        enough = asyncio.Event()
        conn = await api.create_connection()
        try:
            subscribed = await conn.user_data_stream_subscribe_signature()

            def on_event(event: Any) -> None:
                received.append(event.actual_instance)
                if len(received) >= 4:
                    enough.set()

            subscribed.stream.on("message", on_event)
            client = python_binance(server, seller)
            try:
                await conn.order_place(symbol="BTCUSDT", side=BUY, type=LIMIT_TYPE,
                                       time_in_force=GTC, price=59995.0,
                                       quantity=0.01)  # fmt: skip
                await client.order_limit_sell(symbol="BTCUSDT", quantity="0.01", price="59995")
            finally:
                await close(client)
            await asyncio.wait_for(enough.wait(), 10)
        finally:
            await api.close_connection()
        return received

    new, _, fill, position = asyncio.run(session())
    assert isinstance(new, ExecutionReport) and isinstance(fill, ExecutionReport)
    assert isinstance(position, OutboundAccountPosition) and position.B is not None
    assert (new.x, new.X) == ("NEW", "NEW")
    assert (fill.x, fill.X, fill.z, fill.m) == ("TRADE", "FILLED", "0.01000000", True)
    balances = {b.a: (b.f, b.l) for b in position.B}
    assert balances == {k: server.ledger(trader.account_id)[k] for k in balances}
    assert "Traceback" not in server.server.output()
