"""Public market data through the Binance API: shapes, numbers worked out by hand, paging and
every error code, with trades made by real commands (at chosen times) against the demo ladder.

Demo ladder (account 2): BTCUSDT asks 60010..60050 and bids 59990..59950, 0.05 BTC per level.
"""

from datetime import UTC, datetime
from typing import Any

import ccxt
import pytest

from bourse.commands import CancelOrder, PlaceOrder, SetSymbolStatus
from bourse.demo import SYMBOLS
from bourse.domain.enums import OrderType, Side, SymbolStatus, TimeInForce
from bourse.domain.money import to_raw
from bourse.events import OrderAccepted, Outcome, TradeExecuted
from bourse.server.exchange import now_ms
from tests.api.conftest import Api

MM = 2  # the demo market maker


def ms(text: str) -> int:
    """An ISO time (UTC) as epoch milliseconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def run(api: Api, cmd: Any) -> Outcome:
    """Execute a command on the server's loop and wait until it is durable."""
    outcome: Outcome = api.client.portal.call(api.service.execute, cmd)  # type: ignore[union-attr]
    return outcome


def order(
    api: Api,
    side: Side,
    qty: str,
    price: str,
    *,
    ts: int | None = None,
    account: int = 1,
    symbol: str = "BTCUSDT",
    tif: TimeInForce = TimeInForce.IOC,
) -> Outcome:
    return run(
        api,
        PlaceOrder(
            actor="test",
            ts_ms=now_ms() if ts is None else ts,
            account_id=account,
            symbol=symbol,
            side=side,
            order_type=OrderType.LIMIT,
            time_in_force=tif,
            qty_raw=to_raw(qty, 8),
            price_raw=to_raw(price, 8),
        ),
    )


def get(api: Api, path: str, **params: Any) -> Any:
    r = api.public("GET", f"/api/v3/{path}", **params)
    assert r.status_code == 200, r.text
    return r.json()


def error(api: Api, path: str, status: int = 400, **params: Any) -> int:
    r = api.public("GET", f"/api/v3/{path}", **params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"code", "msg"}
    code: int = body["code"]
    return code


def set_clock(api: Api, at: int) -> None:
    api.client.app.state.gateway.clock = lambda: at  # type: ignore[attr-defined]


# --- general and exchangeInfo ----------------------------------------------------------------


def test_ping_and_time(api: Api) -> None:
    assert get(api, "ping") == {}
    before = now_ms()
    assert before <= get(api, "time")["serverTime"] <= now_ms()


def test_exchange_info_shape(api: Api) -> None:
    info = get(api, "exchangeInfo")
    assert info["timezone"] == "UTC" and info["exchangeFilters"] == []
    assert {r["rateLimitType"] for r in info["rateLimits"]} >= {"REQUEST_WEIGHT", "ORDERS"}
    assert [s["symbol"] for s in info["symbols"]] == [s.name for s in SYMBOLS]
    btc = info["symbols"][0]
    for banned in ("contractType", "deliveryDate", "expiryDate", "underlying", "tradability"):
        assert banned not in btc
    assert btc["status"] == "TRADING" and btc["baseAsset"] == "BTC" and btc["quoteAsset"] == "USDT"
    assert btc["baseAssetPrecision"] == btc["quoteAssetPrecision"] == 8
    assert {"LIMIT", "MARKET", "LIMIT_MAKER"} <= set(btc["orderTypes"])
    assert btc["permissionSets"] == [["SPOT"]] and btc["permissions"] == []
    assert btc["defaultSelfTradePreventionMode"] == "EXPIRE_MAKER"
    assert "EXPIRE_BOTH" in btc["allowedSelfTradePreventionModes"]
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"] == {
        "filterType": "PRICE_FILTER",
        "minPrice": "0.01000000",
        "maxPrice": "1000000.00000000",
        "tickSize": "0.01000000",
    }
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters["MARKET_LOT_SIZE"]["maxQty"] == "9000.00000000"
    assert filters["NOTIONAL"] == {
        "filterType": "NOTIONAL",
        "minNotional": "5.00000000",
        "applyMinToMarket": True,
        "maxNotional": "9000000.00000000",
        "applyMaxToMarket": False,
        "avgPriceMins": 5,
    }
    # what ccxt's fetch_markets does with each symbol (margin pair lists normally come from sapi)
    ex = ccxt.binance({"options": {"crossMarginPairsData": [], "isolatedMarginPairsData": []}})
    market = ex.parse_market(btc)
    assert market["symbol"] == "BTC/USDT" and market["spot"] and market["active"]
    assert not market["contract"]
    assert market["precision"]["price"] == 0.01 and market["precision"]["amount"] == 0.00001
    assert market["limits"]["cost"]["min"] == 5


def test_exchange_info_selection(api: Api) -> None:
    def names(**params: Any) -> list[str]:
        return [s["symbol"] for s in get(api, "exchangeInfo", **params)["symbols"]]

    assert names(symbol="ethbtc") == ["ETHBTC"]
    assert names(symbols='["ETHBTC", "BTCUSDT"]') == ["ETHBTC", "BTCUSDT"]
    assert names(permissions="SPOT") == names(permissions='["MARGIN","SPOT"]') == names()
    assert names(permissions='["MARGIN"]') == []
    assert names(symbolStatus="TRADING") == names() and names(symbolStatus="HALT") == []
    shown = get(api, "exchangeInfo", symbol="BTCUSDT", showPermissionSets="false")
    assert shown["symbols"][0]["permissionSets"] == []
    assert error(api, "exchangeInfo", symbol="NOPE") == -1121
    assert error(api, "exchangeInfo", symbols='["BTCUSDT","NOPE"]') == -1121
    assert error(api, "exchangeInfo", symbols="BTCUSDT") == -1100
    assert error(api, "exchangeInfo", symbols='["BTCUSDT","BTCUSDT"]') == -1151
    assert error(api, "exchangeInfo", symbol="BTCUSDT", symbols='["BTCUSDT"]') == -1128
    assert error(api, "exchangeInfo", symbol="BTCUSDT", permissions="SPOT") == -1128
    assert error(api, "exchangeInfo", symbolStatus="SLEEPING") == -1122
    assert error(api, "exchangeInfo", showPermissionSets="maybe") == -1130


# --- depth and book ticker ------------------------------------------------------------------


def test_depth_after_trades_and_cancels(api: Api) -> None:
    book = get(api, "depth", symbol="BTCUSDT", limit=2)
    assert book["bids"] == [["59990.00000000", "0.05000000"], ["59980.00000000", "0.05000000"]]
    assert book["asks"] == [["60010.00000000", "0.05000000"], ["60020.00000000", "0.05000000"]]
    # takes 0.05 at 60010 and 0.05 at 60020; the rest (0.02) rests as the best bid
    order(api, Side.BUY, "0.12", "60020", tif=TimeInForce.GTC)
    book = get(api, "depth", symbol="BTCUSDT", limit=3)
    assert book["asks"][:2] == [["60030.00000000", "0.05000000"], ["60040.00000000", "0.05000000"]]
    assert book["bids"][0] == ["60020.00000000", "0.02000000"]
    assert book["lastUpdateId"] == api.service.released_seq
    # a second order at the same price adds to its level; a cancel takes it away again
    placed = order(
        api, Side.BUY, "0.03", "59990", account=api.other.account_id, tif=TimeInForce.GTC
    )
    assert get(api, "depth", symbol="BTCUSDT")["bids"][1] == ["59990.00000000", "0.08000000"]
    order_id = next(e.order_id for e in placed.events if isinstance(e, OrderAccepted))
    run(
        api,
        CancelOrder(
            actor="test",
            ts_ms=now_ms(),
            account_id=api.other.account_id,
            symbol="BTCUSDT",
            order_id=order_id,
        ),
    )
    full = get(api, "depth", symbol="BTCUSDT", limit=99999)
    assert full["bids"][1] == ["59990.00000000", "0.05000000"]
    assert len(full["bids"]) == 6 and len(full["asks"]) == 3
    assert full["lastUpdateId"] == api.service.released_seq
    ticker = get(api, "ticker/bookTicker", symbol="BTCUSDT")
    assert ticker == {
        "symbol": "BTCUSDT",
        "bidPrice": "60020.00000000",
        "bidQty": "0.02000000",
        "askPrice": "60030.00000000",
        "askQty": "0.05000000",
    }
    listed = get(api, "ticker/bookTicker")
    assert [t["symbol"] for t in listed] == [s.name for s in SYMBOLS]
    eth = get(api, "ticker/bookTicker", symbols='["ETHUSDT"]')
    assert eth == [
        {
            "symbol": "ETHUSDT",
            "bidPrice": "2999.00000000",
            "bidQty": "0.50000000",
            "askPrice": "3001.00000000",
            "askQty": "0.50000000",
        }
    ]


def test_depth_errors(api: Api) -> None:
    assert error(api, "depth") == -1102
    assert error(api, "depth", symbol="NOPE") == -1121
    assert error(api, "depth", symbol="BTCUSDT", limit=0) == -1130
    assert error(api, "depth", symbol="BTCUSDT", limit="ten") == -1100
    assert error(api, "depth", symbol="BTCUSDT", symbolStatus="HALT") == -1220
    assert get(api, "depth", symbol="BTCUSDT", symbolStatus="TRADING")["bids"]
    run(
        api,
        SetSymbolStatus(
            actor="ops", ts_ms=now_ms(), reason="t", symbol="ETHBTC", status=SymbolStatus.HALT
        ),
    )
    assert get(api, "depth", symbol="ETHBTC", symbolStatus="HALT")["asks"]
    halted = get(api, "ticker/bookTicker", symbolStatus="HALT")
    assert [t["symbol"] for t in halted] == ["ETHBTC"]
    assert get(api, "exchangeInfo", symbol="ETHBTC")["symbols"][0]["status"] == "HALT"
    assert error(api, "ticker/price", symbol="BTCUSDT", symbolStatus="HALT") == -1220
    assert error(api, "ticker/price", symbol="BTCUSDT", symbols='["ETHBTC"]') == -1128


# --- trades and aggregate trades ------------------------------------------------------------


def test_trades_and_historical_trades(api: Api) -> None:
    t0 = now_ms()
    # trade 1 is the demo's first trade, at the mid price; then 2 (60010) and 3 (60020)
    order(api, Side.BUY, "0.07", "60020", ts=t0)
    order(api, Side.SELL, "0.01", "59990", ts=t0 + 5, account=api.other.account_id)  # trade 4
    trades = get(api, "trades", symbol="BTCUSDT")
    genesis = trades[0]
    assert (genesis["id"], genesis["price"], genesis["qty"]) == (1, "60000.00000000", "0.00100000")
    assert trades[1:] == [
        {
            "id": 2,
            "price": "60010.00000000",
            "qty": "0.05000000",
            "quoteQty": "3000.50000000",
            "time": t0,
            "isBuyerMaker": False,
            "isBestMatch": True,
        },
        {
            "id": 3,
            "price": "60020.00000000",
            "qty": "0.02000000",
            "quoteQty": "1200.40000000",
            "time": t0,
            "isBuyerMaker": False,
            "isBestMatch": True,
        },
        {
            "id": 4,
            "price": "59990.00000000",
            "qty": "0.01000000",
            "quoteQty": "599.90000000",
            "time": t0 + 5,
            "isBuyerMaker": True,
            "isBestMatch": True,
        },
    ]
    assert [t["id"] for t in get(api, "trades", symbol="BTCUSDT", limit=2)] == [3, 4]
    assert len(get(api, "trades", symbol="BTCUSDT", limit=5000)) == 4  # cut to 1000
    assert [t["id"] for t in get(api, "trades", symbol="ETHUSDT")] == [1]  # the demo's own
    assert error(api, "trades", symbol="BTCUSDT", limit=-1) == -1130
    assert error(api, "trades", symbol="NOPE") == -1121

    headers = {"X-MBX-APIKEY": api.key}
    r = api.client.get("/api/v3/historicalTrades?symbol=BTCUSDT&fromId=3&limit=1", headers=headers)
    assert r.status_code == 200 and [t["id"] for t in r.json()] == [3]
    r = api.client.get("/api/v3/historicalTrades?symbol=BTCUSDT", headers=headers)
    assert r.json() == trades
    assert error(api, "historicalTrades", 401, symbol="BTCUSDT") == -2014
    r = api.client.get("/api/v3/historicalTrades?symbol=BTCUSDT", headers={"X-MBX-APIKEY": "x1"})
    assert r.status_code == 401 and r.json()["code"] == -2015


BEYOND_INT64 = "9999999999999999999"
INTEGER_PARAMS = [
    ("aggTrades", "fromId"),
    ("aggTrades", "startTime"),
    ("trades", "limit"),
    ("historicalTrades", "fromId"),
    ("klines", "startTime"),
    ("depth", "limit"),
]


@pytest.mark.parametrize(("path", "name"), INTEGER_PARAMS)
def test_an_integer_beyond_64_bits_is_refused_with_400(api: Api, path: str, name: str) -> None:
    params = {"symbol": "BTCUSDT", name: BEYOND_INT64}
    if path == "klines":
        params["interval"] = "1m"
    r = api.client.get(f"/api/v3/{path}", params=params, headers={"X-MBX-APIKEY": api.key})
    assert r.status_code == 400, r.text
    assert r.json() == {"code": -1108, "msg": f"Parameter '{name}' overflowed."}


def test_a_depth_limit_of_other_digits_is_refused_with_400(api: Api) -> None:
    r = api.public("GET", "/api/v3/depth", symbol="BTCUSDT", limit="\u00b2")
    assert r.status_code == 400 and r.json()["code"] == -1100, r.text


@pytest.mark.parametrize("zone", ["\u00b2", "1:\u00b2\u00b2", "99999999999999999999"])
def test_a_time_zone_of_other_digits_is_refused_with_400(api: Api, zone: str) -> None:
    r = api.public("GET", "/api/v3/klines", symbol="BTCUSDT", interval="1m", timeZone=zone)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == -1130


def test_agg_trades_grouping_and_paging(api: Api) -> None:
    t0 = now_ms() + 1000  # after the demo's first trade (trade 1, at the mid price)
    # two more asks at 60010 (other account), so one taker fills three makers at one price
    order(api, Side.SELL, "0.01", "60010", account=api.other.account_id, tif=TimeInForce.GTC)
    order(api, Side.SELL, "0.02", "60010", account=api.other.account_id, tif=TimeInForce.GTC)
    order(api, Side.BUY, "0.1", "60020", ts=t0)  # trades 2-4 at 60010, 5 at 60020
    order(api, Side.SELL, "0.01", "59990", ts=t0 + 10)  # trade 6
    order(api, Side.SELL, "0.01", "59990", ts=t0 + 20)  # trade 7: another taker, same price
    aggs = get(api, "aggTrades", symbol="BTCUSDT")
    fields = ("a", "p", "q", "f", "l", "T", "m", "M")
    assert [tuple(a[f] for f in fields) for a in aggs][1:] == [
        (2, "60010.00000000", "0.08000000", 2, 4, t0, False, True),
        (5, "60020.00000000", "0.02000000", 5, 5, t0, False, True),
        (6, "59990.00000000", "0.01000000", 6, 6, t0 + 10, True, True),
        (7, "59990.00000000", "0.01000000", 7, 7, t0 + 20, True, True),
    ]
    assert (aggs[0]["a"], aggs[0]["p"], aggs[0]["q"]) == (1, "60000.00000000", "0.00100000")
    assert all(set(a) == set(fields) for a in aggs)

    def ids(**params: Any) -> list[int]:
        return [a["a"] for a in get(api, "aggTrades", symbol="BTCUSDT", **params)]

    assert ids(limit=2) == [6, 7]  # the latest
    assert ids(fromId=0, limit=2) == [1, 2]
    assert ids(fromId=5 + 1, limit=2) == [6, 7]  # paging with the last `a` + 1
    assert ids(fromId=3) == [5, 6, 7]  # 3 is inside aggregate 2, which started before
    assert ids(fromId=8) == []
    assert ids(startTime=t0 + 10, endTime=t0 + 20) == [6, 7]
    assert ids(startTime=t0, endTime=t0 + 15, limit=1) == [2]
    assert ids(startTime=t0 + 11) == [7]
    assert ids(endTime=t0 + 10) == [1, 2, 5, 6]
    assert ids(endTime=t0 + 10, limit=1) == [6]
    assert error(api, "aggTrades", symbol="BTCUSDT", startTime=t0, endTime=t0 + 3_600_001) == -1127
    assert ids(startTime=t0, endTime=t0 + 3_600_000) == [2, 5, 6, 7]
    assert error(api, "aggTrades", symbol="BTCUSDT", fromId=1, startTime=t0) == -1128
    assert error(api, "aggTrades", symbol="BTCUSDT", startTime="soon") == -1100
    assert error(api, "aggTrades", symbol="BTCUSDT", startTime=-5) == -1130
    assert error(api, "aggTrades", symbol="BTCUSDT", startTime=10**19) == -1108
    assert error(api, "aggTrades") == -1102


def test_market_trades_show_up_everywhere(api: Api) -> None:
    """A fill seen by depth, trades, aggTrades, klines and tickers alike."""

    def kline_trades() -> int:
        return sum(k[8] for k in get(api, "klines", symbol="BTCUSDT", interval="1m", limit=1000))

    assert kline_trades() == get(api, "ticker/24hr", symbol="BTCUSDT")["count"] == 1  # the demo's
    outcome = order(api, Side.BUY, "0.05", "60010")
    trade = next(e for e in outcome.events if isinstance(e, TradeExecuted))
    assert get(api, "trades", symbol="BTCUSDT")[-1]["id"] == trade.trade_id
    assert get(api, "aggTrades", symbol="BTCUSDT")[-1]["a"] == trade.trade_id
    assert kline_trades() == 2
    assert get(api, "ticker/24hr", symbol="BTCUSDT")["count"] == 2
    assert get(api, "depth", symbol="BTCUSDT", limit=1)["asks"] == [
        ["60020.00000000", "0.05000000"]
    ]
