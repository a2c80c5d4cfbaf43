"""The WebSocket API at /ws-api/v3: Binance's envelope, malformed frames, rateLimits counted by
the REST limiter, and market data that is REST's answer (test_ws_api_trading.py: signed
requests and sessions; test_ws_api_clients.py: real clients on a live server)."""

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from bourse.api.binance.gateway import Gateway
from bourse.api.binance.wsapi import frames
from bourse.server.exchange import now_ms
from tests.api.conftest import Api, Signer

PATH = "/ws-api/v3"
T0 = 1_800_000_000_000  # a minute boundary, in ms since the epoch
WEIGHT = "REQUEST_WEIGHT"


class Ws:
    """One WebSocket API connection: requests numbered 1, 2, ... unless an id is given."""

    def __init__(self, conn: WebSocketTestSession) -> None:
        self.conn = conn
        self.n = 0

    def frame(self, text: str) -> dict[str, Any]:
        self.conn.send_text(text)
        answer: dict[str, Any] = json.loads(self.conn.receive_text())
        return answer

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """The whole response envelope; the id must come back."""
        self.n += 1
        request: dict[str, Any] = {"id": self.n, "method": method}
        if params:
            request["params"] = params
        answer = self.frame(json.dumps(request))
        assert answer["id"] == self.n, answer
        return answer

    def ok(self, method: str, **params: Any) -> Any:
        answer = self.call(method, **params)
        assert answer["status"] == 200, answer
        return answer["result"]

    def signed(
        self, method: str, signer: Signer, *, secret: str | None = None, **params: Any
    ) -> dict[str, Any]:
        """Signed as web-socket-api.md shows: HMAC over the params sorted by name."""
        full = {**params, "apiKey": signer.key, "timestamp": params.get("timestamp", now_ms())}
        full["signature"] = hmac_signature(secret or signer.secret, full)
        return self.call(method, **full)

    def error(self, answer: dict[str, Any]) -> tuple[int, int, str]:
        assert "result" not in answer and set(answer["error"]) == {"code", "msg"}, answer
        return answer["status"], answer["error"]["code"], answer["error"]["msg"]


def payload(params: dict[str, Any]) -> str:
    """What is signed: `name=value` sorted by name, each value as its JSON text (true, 5)."""
    text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    return "&".join(f"{k}={v}" for k, v in sorted(text.items()))


def hmac_signature(secret: str, params: dict[str, Any]) -> str:
    return hmac.new(secret.encode(), payload(params).encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def ws(api: Api) -> Iterator[Ws]:
    with api.client.websocket_connect(PATH) as conn:
        yield Ws(conn)


def gateway(api: Api) -> Gateway:
    gw: Gateway = api.client.app.state.gateway  # type: ignore[attr-defined]
    return gw


def weight(answer: dict[str, Any]) -> int:
    (entry,) = [r for r in answer["rateLimits"] if r["rateLimitType"] == WEIGHT]
    assert (entry["interval"], entry["intervalNum"], entry["limit"]) == ("MINUTE", 1, 6000)
    return int(entry["count"])


# --- the envelope ----------------------------------------------------------------------------


def test_ids_come_back_and_every_request_reports_the_weight_rest_counts(api: Api) -> None:
    gateway(api).clock = lambda: T0 + 1_000  # one minute window for the whole test
    with api.client.websocket_connect(PATH) as conn:
        ws = Ws(conn)
        first = ws.call("ping")
        assert first == {
            "id": 1,
            "status": 200,
            "result": {},
            "rateLimits": [
                {
                    "rateLimitType": WEIGHT,
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 6000,
                    "count": 3,
                },
            ],
        }  # fmt: skip  (connecting weighs 2, ping 1)
        assert list(first) == ["id", "status", "result", "rateLimits"]
        assert ws.ok("time") == {"serverTime": T0 + 1_000}
        for request_id in ("a-uuid-4f94-8d5f", None, 2**40):
            sent = json.dumps({"id": request_id, "method": "ping"})
            assert ws.frame(sent)["id"] == request_id
        assert weight(ws.call("time")) == 8
        assert weight(ws.call("exchangeInfo")) == 28  # the REST route's weight: 20
        assert weight(ws.call("depth", symbol="BTCUSDT", limit=1000)) == 78  # 50
        # one limiter for REST and the WebSocket API: the same IP's counter
        rest = api.public("GET", "/api/v3/ticker/price", symbol="BTCUSDT")
        assert rest.headers["x-mbx-used-weight-1m"] == "80"
        assert weight(ws.call("ticker.price", symbol="BTCUSDT")) == 82
        assert weight(ws.call("ticker.price")) == 86  # all symbols: 4
        assert weight(ws.call("depth", symbol="NOPE")) == 91  # refused requests weigh too
        assert ws.call("v3/ping")["result"] == {}  # an explicit version prefix


MALFORMED = [
    ("not json", None, -1135, "Invalid JSON Request"),
    ('["ping"]', None, -1135, "Invalid JSON Request"),
    ('{"method":"ping"}', None, -1102,
     "Mandatory parameter 'id' was not sent, was empty/null, or malformed."),
    ('{"id":1.5,"method":"ping"}', None, -1135, "JSON sent for parameter 'id' is not valid."),
    ('{"id":true,"method":"ping"}', None, -1135, "JSON sent for parameter 'id' is not valid."),
    ('{"id":{},"method":"ping"}', None, -1135, "JSON sent for parameter 'id' is not valid."),
    ('{"id":7}', 7, -1102,
     "Mandatory parameter 'method' was not sent, was empty/null, or malformed."),
    ('{"id":7,"method":3}', 7, -1102,
     "Mandatory parameter 'method' was not sent, was empty/null, or malformed."),
    ('{"id":"x","method":"depth","params":["BTCUSDT"]}', "x", -1135,
     "JSON sent for parameter 'params' is not valid."),
    ('{"id":8,"method":"order.amend"}', 8, -1020,
     "This operation is not supported. Unknown method 'order.amend'."),
    ('{"id":9,"method":"depth","params":{"symbol":null}}', 9, -1102,
     "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."),
    ('{"id":9,"method":"depth","params":{"symbol":"BTCUSDT","limit":"1e3"}}', 9, -1100,
     "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'."),
    ('{"id":9,"method":"time","params":{"returnRateLimits":"maybe"}}', 9, -1130,
     "Data sent for parameter 'returnRateLimits' is not valid."),
]  # fmt: skip


def test_malformed_requests_get_binance_errors_and_the_connection_stays(ws: Ws) -> None:
    for frame, request_id, code, msg in MALFORMED:
        answer = ws.frame(frame)
        assert answer["id"] == request_id, frame
        assert ws.error(answer) == (400, code, msg), frame
        assert answer["rateLimits"][0]["rateLimitType"] == WEIGHT
    assert ws.ok("ping") == {}


def test_a_binary_frame_closes_the_connection(ws: Ws) -> None:
    ws.conn.send_bytes(b'{"id":1,"method":"ping"}')
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.conn.receive_text()
    assert closed.value.code == 1003


def test_rate_limits_are_left_out_when_asked(api: Api, ws: Ws) -> None:
    assert "rateLimits" not in ws.call("ping", returnRateLimits=False)
    assert "rateLimits" in ws.call("ping", returnRateLimits="true")
    with api.client.websocket_connect(PATH + "?returnRateLimits=false") as conn:
        quiet = Ws(conn)
        assert list(quiet.call("time")) == ["id", "status", "result"]
        assert "rateLimits" not in quiet.call("depth", symbol="NOPE")  # errors too
        assert "rateLimits" in quiet.call("time", returnRateLimits=True)
        assert quiet.ok("session.status")["returnRateLimits"] is False
    assert ws.ok("session.status")["returnRateLimits"] is True


# --- market data: REST's operations ----------------------------------------------------------

MARKET = [
    ("depth", {"symbol": "BTCUSDT", "limit": 5}, "depth", {}),
    ("trades.recent", {"symbol": "BTCUSDT", "limit": 3}, "trades", {}),
    ("trades.historical", {"symbol": "BTCUSDT", "fromId": 1}, "historicalTrades", {}),
    ("trades.aggregate", {"symbol": "BTCUSDT"}, "aggTrades", {}),
    ("klines", {"symbol": "BTCUSDT", "interval": "1h", "limit": 2}, "klines", {}),
    ("uiKlines", {"symbol": "BTCUSDT", "interval": "1d"}, "uiKlines", {}),
    ("avgPrice", {"symbol": "BTCUSDT"}, "avgPrice", {}),
    ("ticker.price", {"symbol": "BTCUSDT"}, "ticker/price", {}),
    ("ticker.price", {"symbols": ["BTCUSDT", "ETHUSDT"]}, "ticker/price",
     {"symbols": '["BTCUSDT","ETHUSDT"]'}),
    ("ticker.book", {}, "ticker/bookTicker", {}),
    ("ticker.24hr", {"symbol": "ETHUSDT", "type": "MINI"}, "ticker/24hr", {}),
    ("exchangeInfo", {"symbols": ["ETHUSDT"]}, "exchangeInfo", {"symbols": '["ETHUSDT"]'}),
    ("exchangeInfo", {"permissions": "SPOT", "showPermissionSets": False}, "exchangeInfo",
     {"showPermissionSets": "false"}),
]  # fmt: skip


def test_market_data_is_rest_s_answer(api: Api, ws: Ws) -> None:
    gateway(api).clock = lambda: T0 + 30_000  # both answers at the same server time
    buy = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.06"}
    assert api.signed("POST", "/api/v3/order", **buy, timestamp=T0 + 30_000).status_code == 200
    for method, params, route, rest_params in MARKET:
        query = {**{k: str(v) for k, v in params.items()}, **rest_params}
        # REST's historicalTrades wants a key (the method does not)
        key = {"X-MBX-APIKEY": api.key} if route == "historicalTrades" else {}
        rest = api.client.get(f"/api/v3/{route}", params=query, headers=key)
        assert rest.status_code == 200, (route, rest.text)
        assert ws.ok(method, **params) == rest.json(), method


def test_exchange_info_shows_the_venue_of_the_key_the_request_names(api: Api, ws: Ws) -> None:
    gateway(api).clock = lambda: T0
    listed = {s["symbol"] for s in ws.ok("exchangeInfo")["symbols"]}
    rest = api.client.get("/api/v3/exchangeInfo", headers={"X-MBX-APIKEY": api.key}).json()
    venue = ws.ok("exchangeInfo", apiKey=api.key)  # unsigned, as REST's header
    assert venue == rest
    assert {s["symbol"] for s in venue["symbols"]} < listed  # the demo customer's venue


def test_market_data_errors_are_rest_s(api: Api, ws: Ws) -> None:
    for method, params, route in [
        ("depth", {"symbol": "NOPE"}, "depth"),
        ("depth", {"limit": 5}, "depth"),
        ("klines", {"symbol": "BTCUSDT", "interval": "2m"}, "klines"),
        ("ticker.price", {"symbol": "BTCUSDT", "symbols": ["BTCUSDT"]}, "ticker/price"),
        ("trades.aggregate", {"symbol": "BTCUSDT", "startTime": 0, "endTime": 3_600_001},
         "aggTrades"),
        ("trades.aggregate", {"symbol": "BTCUSDT", "fromId": 9999999999999999999}, "aggTrades"),
        ("trades.recent", {"symbol": "BTCUSDT", "limit": 10**30}, "trades"),
    ]:  # fmt: skip
        query = {k: json.dumps(v, separators=(",", ":")) if isinstance(v, list) else str(v)
                 for k, v in params.items()}  # fmt: skip
        rest = api.public("GET", f"/api/v3/{route}", **query)
        assert rest.status_code == 400
        answer = ws.call(method, **params)
        assert answer["status"] == 400 and answer["error"] == rest.json(), method


def test_params_arrive_as_the_text_rest_would_carry() -> None:
    """Numbers keep the digits sent (a client signed them), arrays become compact JSON (REST's
    `symbols=["A","B"]`), booleans true/false, and null is absent."""
    sent = (
        b'{ "id" : 1 , "method" : "v3/ticker.price" , "params" : { "price" : 50000.10 ,'
        b' "symbols" : [ "BTCUSDT" , "ETHUSDT" ] , "flag" : true , "gone" : null , "n" : 5 } }'
    )
    request = frames.decode(sent)
    assert request == frames.Request(
        1,
        "ticker.price",
        {"price": "50000.10", "symbols": '["BTCUSDT","ETHUSDT"]', "flag": "true", "n": "5"},
    )
    assert frames.decode('{"id":"x","method":"ping","params":null}').params == {}
