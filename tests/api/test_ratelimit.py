"""Binance's rate limits: weight per IP in aligned windows, 429 then 418 with escalating bans,
order counts per account, and GET /api/v3/rateLimit/order."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bourse.api.app import create_app
from bourse.api.binance.gateway import Gateway
from bourse.api.binance.params import Params
from bourse.api.binance.ratelimit import RATE_LIMITS, Limits, Policy, RateLimiter
from bourse.api.binance.weights import COSTS, depth, ticker_24hr
from bourse.domain.enums import OrderStatus, Side
from bourse.events import OrderCanceled, Outcome, TradeExecuted
from tests.api.conftest import Api, Signer

T0 = 1_800_000_000_000  # a minute boundary (and a 10 s one), in ms since the epoch
WEIGHT_MSG = (
    "Too much request weight used; current limit is {} request weight per 1 MINUTE. "
    "Please use WebSocket Streams for live updates to avoid polling the API."
)


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _limits(
    weight: int = 6000, orders_10s: int = 100, orders_day: int = 200000, raw: int = 61000
) -> list[dict[str, Any]]:
    return [
        {
            "rateLimitType": "REQUEST_WEIGHT",
            "interval": "MINUTE",
            "intervalNum": 1,
            "limit": weight,
        },
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": orders_10s},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": orders_day},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": raw},
    ]


@pytest.fixture
def clock(api: Api) -> Clock:
    """The gateway's clock, frozen at T0 until a test moves it."""
    clock = Clock(T0)
    _gateway(api).clock = clock
    return clock


def _gateway(api: Api) -> Gateway:
    gw: Gateway = api.client.app.state.gateway  # type: ignore[attr-defined]
    return gw


def _used(r: Any) -> int:
    assert r.headers["x-mbx-used-weight"] == r.headers["x-mbx-used-weight-1m"]
    return int(r.headers["x-mbx-used-weight-1m"])


def test_the_limiter_enforces_what_exchange_info_announces() -> None:
    limits = Limits(Clock(T0))
    kinds = [(r.kind, r.span_ms, r.limit) for r in (*limits.ip_rules, *limits.order_rules)]
    assert sorted(kinds) == sorted(
        [
            ("REQUEST_WEIGHT", 60_000, 6000),
            ("RAW_REQUESTS", 300_000, 61000),
            ("ORDERS", 10_000, 100),
            ("ORDERS", 86_400_000, 200000),
        ]
    )
    assert limits.policy.rate_limits is RATE_LIMITS


def test_weights_follow_the_binance_table() -> None:
    assert [depth({"limit": str(n)}) for n in (1, 100, 101, 500, 501, 1000, 1001, 5000)] == [
        5, 5, 25, 25, 50, 50, 250, 250,
    ]  # fmt: skip
    assert depth({}) == 5
    assert ticker_24hr({"symbol": "BTCUSDT"}) == 2 and ticker_24hr({}) == 80
    many = '["' + '","'.join(f"S{i}" for i in range(21)) + '"]'
    assert ticker_24hr({"symbols": '["A","B"]'}) == 2 and ticker_24hr({"symbols": many}) == 40
    weight = {path[len("/api/v3/") :]: c.weight for (m, path), c in COSTS.items() if m == "GET"}
    assert weight["exchangeInfo"] == 20 and weight["account"] == 20
    assert weight["rateLimit/order"] == 40 and weight["historicalTrades"] == 25
    assert COSTS[("POST", "/api/v3/order")].orders == 1
    assert COSTS[("POST", "/api/v3/order/test")].orders == 0


def test_every_api_response_reports_the_ips_weight_in_this_minute(api: Api, clock: Clock) -> None:
    assert _used(api.public("GET", "/api/v3/ping")) == 1
    assert _used(api.public("GET", "/api/v3/time")) == 2
    assert _used(api.public("GET", "/api/v3/exchangeInfo")) == 22
    assert _used(api.public("GET", "/api/v3/depth", symbol="BTCUSDT", limit=1000)) == 72
    assert _used(api.public("GET", "/api/v3/ticker/24hr")) == 152
    assert _used(api.public("GET", "/api/v3/ticker/price", symbol="BTCUSDT")) == 154
    r = api.signed("GET", "/api/v3/openOrders", timestamp=clock.now)
    assert _used(r) == 234  # without a symbol: 80
    r = api.public("GET", "/api/v3/depth", symbol="NOPE")  # refused requests weigh too
    assert _used(r) == 239
    assert "x-mbx-used-weight-1m" not in api.public("GET", "/health").headers

    clock.now = T0 + 59_999
    assert _used(api.public("GET", "/api/v3/ping")) == 240
    clock.now = T0 + 60_000  # the top of the next minute starts a new window
    assert _used(api.public("GET", "/api/v3/ping")) == 1


def test_429_with_retry_after_then_418_ban_that_escalates(api: Api, clock: Clock) -> None:
    limits = _gateway(api).rates.limits
    limits.configure(Policy(rate_limits=_limits(weight=50), strikes_before_ban=2))
    clock.now = T0 + 15_000
    for _ in range(2):
        assert api.public("GET", "/api/v3/exchangeInfo").headers["x-mbx-used-weight-1m"]
    r = api.public("GET", "/api/v3/exchangeInfo")  # 40 + 20 > 50
    assert r.status_code == 429
    assert r.json() == {"code": -1003, "msg": WEIGHT_MSG.format(50)}
    assert r.headers["retry-after"] == "45"
    assert r.headers["content-type"] == "application/json"
    assert _used(r) == 40  # a refused request is not counted
    assert _used(api.public("GET", "/api/v3/ping")) == 41  # a lighter one still fits

    clock.now = T0 + 20_000
    assert api.public("GET", "/api/v3/exchangeInfo").status_code == 429  # second strike
    r = api.public("GET", "/api/v3/exchangeInfo")  # kept sending after 429s: banned
    until = T0 + 20_000 + 120_000
    assert r.status_code == 418
    assert r.json() == {
        "code": -1003,
        "msg": f"Way too much request weight used; IP banned until {until}. "
        "Please use WebSocket Streams for live updates to avoid bans.",
    }
    assert r.headers["retry-after"] == "120"
    clock.now = until - 1_500
    r = api.public("GET", "/api/v3/ping")  # every request during the ban, however light
    assert (r.status_code, r.headers["retry-after"]) == (418, "2")
    assert api.public("GET", "/health").status_code == 200  # only the Binance API is limited

    clock.now = until
    assert api.public("GET", "/api/v3/exchangeInfo").status_code != 429
    for _ in range(3):
        api.public("GET", "/api/v3/exchangeInfo")
    r = api.public("GET", "/api/v3/exchangeInfo")  # banned again within a day: twice as long
    assert r.status_code == 418 and r.headers["retry-after"] == "240"


def test_strikes_expire_with_the_window_they_were_earned_in(api: Api, clock: Clock) -> None:
    _gateway(api).rates.limits.configure(
        Policy(rate_limits=_limits(weight=20), strikes_before_ban=1)
    )
    api.public("GET", "/api/v3/exchangeInfo")
    assert api.public("GET", "/api/v3/exchangeInfo").status_code == 429
    clock.now = T0 + 60_000
    api.public("GET", "/api/v3/exchangeInfo")
    assert api.public("GET", "/api/v3/exchangeInfo").status_code == 429  # a first strike again


def test_raw_requests_are_limited_over_five_minutes(api: Api, clock: Clock) -> None:
    _gateway(api).rates.limits.configure(Policy(rate_limits=_limits(raw=3)))
    for _ in range(3):
        api.public("GET", "/api/v3/ping")
    clock.now = T0 + 60_000  # a new minute, but the same 5-minute window
    r = api.public("GET", "/api/v3/ping")
    assert r.status_code == 429 and r.headers["retry-after"] == "240"
    assert r.json()["msg"].startswith(
        "Too many requests; current limit is 3 requests per 5 MINUTE."
    )


# --- orders --------------------------------------------------------------------------------


@pytest.fixture
def orders_app(api: Api, clock: Clock) -> Iterator[TestClient]:
    """The limiter in front of a stand-in POST /api/v3/order (refused with `?refuse=1`), sharing
    the real gateway: its keys and its counters."""
    app = FastAPI()

    @app.post("/api/v3/order")
    async def order(request: Request) -> Response:
        params = await Params.read(request)
        status = 400 if params.has("refuse") else 200
        return JSONResponse({"body": (await request.body()).decode()}, status_code=status)

    @app.post("/api/v3/order/test")
    async def order_test(request: Request) -> Response:
        return JSONResponse({"body": (await request.body()).decode()})

    app.add_middleware(RateLimiter, gateway=_gateway(api))
    _gateway(api).rates.limits.configure(Policy(rate_limits=_limits(orders_10s=3, orders_day=5)))
    with TestClient(app) as client:
        yield client


def _order(client: TestClient, who: Signer, **params: str) -> Any:
    return client.post("/api/v3/order", params=params, headers={"X-MBX-APIKEY": who.key})


def _counts(r: Any) -> tuple[int, int]:
    return int(r.headers["x-mbx-order-count-10s"]), int(r.headers["x-mbx-order-count-1d"])


def test_orders_count_per_account_with_headers(
    api: Api, orders_app: TestClient, clock: Clock
) -> None:
    assert [_counts(_order(orders_app, api)) for _ in range(3)] == [(1, 1), (2, 2), (3, 3)]
    assert _counts(_order(orders_app, api.other)) == (1, 1)  # another account, its own count
    r = _order(orders_app, api)
    assert r.status_code == 429
    assert r.json() == {
        "code": -1015,
        "msg": "Too many new orders; current limit is 3 orders per 10 SECOND.",
    }
    assert "retry-after" not in r.headers  # Binance: no Retry-After for order limits
    assert _used(r) == 5

    clock.now = T0 + 10_000  # a new 10 s window; the day goes on
    assert _counts(_order(orders_app, api)) == (1, 4)
    assert _counts(_order(orders_app, api, refuse="1")) == (1, 4)  # refused: not counted
    assert _counts(_order(orders_app, api)) == (2, 5)
    r = _order(orders_app, api)
    assert r.json()["msg"] == "Too many new orders; current limit is 5 orders per 1 DAY."

    clock.now = T0 - T0 % 86_400_000 + 86_400_000  # 00:00 UTC: a new day
    assert _counts(_order(orders_app, api)) == (1, 1)
    r = api.signed("GET", "/api/v3/rateLimit/order", timestamp=clock.now)
    assert r.status_code == 200 and _used(r) == 41
    assert r.json() == [
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": 3,
            "count": 1,
        },
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 5, "count": 1},
    ]
    r = api.other.signed("GET", "/api/v3/rateLimit/order", timestamp=clock.now)
    assert [e["count"] for e in r.json()] == [0, 0]  # account 2's orders were yesterday


def test_real_orders_count_until_their_first_fill(api: Api, clock: Clock) -> None:
    limit = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    resting = {**limit, "quantity": "0.001", "price": "40000"}
    r = api.signed("POST", "/api/v3/order", body=True, timestamp=T0, **resting)
    assert r.status_code == 200 and _counts(r) == (1, 1)
    market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    r = api.signed("POST", "/api/v3/order", body=True, timestamp=T0, **market)
    assert r.json()["status"] == "FILLED" and _counts(r) == (2, 2)  # as counted at placement
    bad = {**limit, "quantity": "0.00000001", "price": "40000"}
    r = api.signed("POST", "/api/v3/order", body=True, timestamp=T0, **bad)
    assert r.status_code == 400 and _counts(r) == (1, 1)  # the fill gave one back; refused: none
    r = api.signed("POST", "/api/v3/order", body=True, timestamp=T0, secret="wrong", **resting)
    assert r.json()["code"] == -1022
    r = api.signed("GET", "/api/v3/rateLimit/order", timestamp=T0)
    assert [e["count"] for e in r.json()] == [1, 1]


def test_order_without_a_known_key_is_left_to_the_route(api: Api, orders_app: TestClient) -> None:
    r = orders_app.post("/api/v3/order", headers={"X-MBX-APIKEY": "unknown"})
    assert r.status_code == 200 and "x-mbx-order-count-10s" not in r.headers
    assert r.headers["x-mbx-used-weight-1m"] == "1"


def test_test_orders_weigh_by_a_body_parameter_and_keep_their_body(
    orders_app: TestClient,
) -> None:
    body = "symbol=BTCUSDT&computeCommissionRates=true"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = orders_app.post("/api/v3/order/test", content=body, headers=form)
    assert r.json() == {"body": body} and r.headers["x-mbx-used-weight-1m"] == "20"
    r = orders_app.post("/api/v3/order/test", content="symbol=BTCUSDT", headers=form)
    assert r.headers["x-mbx-used-weight-1m"] == "21"
    assert "x-mbx-order-count-10s" not in r.headers  # test orders are not orders


def _trade(order: int, account: int, status: OrderStatus, maker: int, maker_acct: int) -> Any:
    return TradeExecuted(
        symbol="BTCUSDT", trade_id=order, price_raw=1, qty_raw=1, quote_qty_raw=1,
        taker_side=Side.BUY, maker_order_id=maker, taker_order_id=order,
        maker_account_id=maker_acct, taker_account_id=account, maker_fee_raw=0,
        taker_fee_raw=0, maker_status=OrderStatus.PARTIALLY_FILLED, taker_status=status,
    )  # fmt: skip


def test_a_first_fill_gives_the_order_count_back() -> None:
    limits = Limits(Clock(T0))
    limits.enabled = True
    usage = limits.place(7, 1, T0)
    limits.place(7, 1, T0)
    limits.place(7, 1, T0)
    assert usage.counts == [3, 3]

    def release(*events: Any) -> None:
        limits.on_release([Outcome(seq=1, ts_ms=T0, command="PlaceOrder", events=list(events))])

    release(_trade(1, 7, OrderStatus.PARTIALLY_FILLED, maker=100, maker_acct=8))
    assert usage.counts == [2, 2]  # order 1's first fill
    release(_trade(1, 7, OrderStatus.FILLED, maker=101, maker_acct=8))
    assert usage.counts == [2, 2]  # its second fill gives nothing back
    release(_trade(2, 7, OrderStatus.FILLED, maker=102, maker_acct=7))
    assert usage.counts == [0, 0]  # order 2 (taker) and order 102 (maker, same account)
    release(_trade(3, 7, OrderStatus.FILLED, maker=103, maker_acct=7))
    assert usage.counts == [0, 0]  # never below zero
    release(
        OrderCanceled(order_id=102, account_id=7, symbol="BTCUSDT", client_order_id="c", reason="x")
    )
    assert 102 not in limits._partly_filled  # forgotten once it can fill no more


def test_without_rate_limits_nothing_is_counted(api: Api) -> None:
    app = create_app(api.service, rate_limits=False)
    gw: Gateway = app.state.gateway
    try:
        client = TestClient(app)  # no lifespan: the fixture's client keeps the service
        r = client.get("/api/v3/ping")
        assert "x-mbx-used-weight-1m" not in r.headers
        signer = Signer(client, api.account_id, api.key, api.secret)
        r = signer.signed("GET", "/api/v3/rateLimit/order")
        assert (r.status_code, r.json()) == (200, [])
    finally:
        gw.close()
