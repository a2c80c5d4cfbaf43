"""Klines, rolling tickers and the average price through the Binance API, with trades made
by real commands at chosen times and the gateway's clock set, so every figure is worked out by
hand (helpers and the demo ladder as in tests/api/test_market.py), on the demo world before its
markets' first trades (`untraded_api`)."""

from decimal import Decimal
from typing import Any

import pytest

from bourse.demo import LADDERS, SYMBOLS
from bourse.domain.enums import Side, TimeInForce
from bourse.store import market_queries
from tests.api.conftest import Api
from tests.api.test_market import error, get, ms, order, set_clock

# --- klines ---------------------------------------------------------------------------------

T1 = ms("2024-01-31T23:59:30")  # a Wednesday
T2 = ms("2024-02-01T00:00:10.250")
T3 = ms("2024-02-05T12:00:00.500")  # a Monday
NOW = ms("2024-02-05T12:30:00")


@pytest.fixture
def history(untraded_api: Api) -> Api:
    api = untraded_api
    order(api, Side.BUY, "0.05", "60010", ts=T1)  # trade 1
    order(api, Side.BUY, "0.02", "60020", ts=T2)  # trade 2
    order(api, Side.BUY, "0.01", "60020", ts=T2 + 100)  # trade 3, same second
    order(api, Side.SELL, "0.05", "59990", ts=T3)  # trade 4
    set_clock(api, NOW)
    return api


def kl(api: Api, interval: str, **params: Any) -> list[list[Any]]:
    rows: list[list[Any]] = get(api, "klines", symbol="BTCUSDT", interval=interval, **params)
    assert get(api, "uiKlines", symbol="BTCUSDT", interval=interval, **params) == rows
    return rows


def test_monthly_weekly_and_daily_klines(history: Api) -> None:
    api = history
    jan, feb = ms("2024-01-01T00:00"), ms("2024-02-01T00:00")
    assert kl(api, "1M", startTime=0) == [
        [jan, "60010.00000000", "60010.00000000", "60010.00000000", "60010.00000000",
         "0.05000000", feb - 1, "3000.50000000", 1, "0.05000000", "3000.50000000", "0"],
        [feb, "60020.00000000", "60020.00000000", "59990.00000000", "59990.00000000",
         "0.08000000", ms("2024-03-01T00:00") - 1, "4800.10000000", 3, "0.03000000",
         "1800.60000000", "0"],
    ]  # fmt: skip
    weeks = kl(api, "1w", startTime=0)
    assert [w[0] for w in weeks] == [ms("2024-01-29T00:00"), ms("2024-02-05T00:00")]
    assert [w[8] for w in weeks] == [3, 1] and weeks[0][6] == ms("2024-02-05T00:00") - 1
    days = kl(api, "1d", startTime=0)
    dates = ("01-31", "02-01", "02-02", "02-03", "02-04", "02-05")
    assert [d[0] for d in days] == [ms(f"2024-{d}T00:00") for d in dates]
    assert [d[8] for d in days] == [1, 2, 0, 0, 0, 1]
    # a day without trades is flat at the previous close
    assert days[2][1:6] == ["60020.00000000"] * 4 + ["0.00000000"]
    three = kl(api, "3d", startTime=0)  # 3-day candles count from 1970-01-01
    assert [c[0] for c in three] == [ms(f"2024-{d}T00:00") for d in ("01-30", "02-02", "02-05")]
    assert all((c[0] // 86_400_000) % 3 == 0 for c in three)
    assert [c[8] for c in three] == [3, 0, 1]
    # in UTC+8 the first three trades fall on one local day (1 Feb), which opens at 16:00 UTC
    local = kl(api, "1d", startTime=0, timeZone="8", limit=2)
    assert [c[0] for c in local] == [ms("2024-01-31T16:00"), ms("2024-02-01T16:00")]
    assert [c[8] for c in local] == [3, 0]
    assert kl(api, "1d", startTime=0, timeZone="+08:00", limit=2) == local
    assert kl(api, "1M", startTime=0, timeZone="-1:00")[0][0] == ms("2024-01-01T01:00")


def test_klines_paging_and_latest(history: Api) -> None:
    api = history
    oldest = kl(api, "1m", startTime=0, limit=1)
    assert [k[0] for k in oldest] == [ms("2024-01-31T23:59")] and oldest[0][8] == 1
    for interval in ("1s", "3m", "1h", "1d", "1w", "1M"):
        assert len(kl(api, interval, startTime=0, limit=1)) == 1
    assert kl(api, "1s", startTime=0, limit=1)[0][0] == ms("2024-01-31T23:59:30")
    seconds = kl(api, "1s", startTime=ms("2024-02-01T00:00:09"), limit=3)
    assert [s[0] for s in seconds] == [ms(f"2024-02-01T00:00:{n}") for n in ("09", "10", "11")]
    assert [s[8] for s in seconds] == [0, 2, 0] and seconds[1][5] == "0.03000000"
    assert seconds[0][1:5] == ["60010.00000000"] * 4  # flat at the previous close
    assert kl(api, "1s", startTime=T2 - 1000, limit=1)[0][0] == ms("2024-02-01T00:00:10")
    # python-binance pages with the last open time + 1 interval
    first = kl(api, "1m", startTime=0, limit=2)
    second = kl(api, "1m", startTime=first[-1][0] + 60_000, limit=2)
    assert second[0][0] == first[-1][0] + 60_000
    # without startTime: the latest candles, the current (open) one last
    latest = kl(api, "1h", limit=3)
    assert [k[0] for k in latest] == [ms(f"2024-02-05T{h}:00") for h in ("10", "11", "12")]
    assert latest[-1][8] == 1 and latest[0][8] == 0
    assert len(kl(api, "1m")) == 500
    assert len(kl(api, "1m", limit=5000)) == 1000
    up_to = kl(api, "1d", endTime=ms("2024-02-01T12:00"))
    assert [k[0] for k in up_to] == [ms("2024-01-31T00:00"), ms("2024-02-01T00:00")]
    assert kl(api, "1d", startTime=ms("2024-02-01T00:00:01"), endTime=ms("2024-02-02T00:00")) == [
        kl(api, "1d", startTime=0)[2]
    ]
    assert kl(api, "1d", startTime=NOW, endTime=0) == []
    assert get(api, "klines", symbol="ETHUSDT", interval="1m") == []


def test_kline_errors(api: Api) -> None:
    assert error(api, "klines", symbol="BTCUSDT", interval="2m") == -1120
    assert error(api, "klines", symbol="BTCUSDT", interval="1m", timeZone="15") == -1130
    assert error(api, "klines", symbol="BTCUSDT", interval="1m", timeZone="+5:75") == -1130
    assert error(api, "klines", symbol="BTCUSDT") == -1102
    assert error(api, "uiKlines", symbol="NOPE", interval="1m") == -1121
    assert error(api, "klines", symbol="BTCUSDT", interval="1m", limit=0) == -1130


def test_reads_in_small_chunks_give_the_same_answers(
    history: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long ranges are read page by page (keyset pagination): pages of two rows must give what
    one page gives, for klines from minutes and from trades, and for every aggTrades mode."""
    api = history
    for _ in range(3):  # three asks at one price, below the ladder's
        order(api, Side.SELL, "0.01", "60015", account=api.other.account_id, tif=TimeInForce.GTC)
    order(api, Side.BUY, "0.03", "60015", ts=T3 + 60_000)  # trades 5-7: one aggregate
    order(api, Side.BUY, "0.01", "60020", ts=T3 + 120_000)  # trade 8, in the next minute
    queries: list[tuple[str, dict[str, Any]]] = [
        ("klines", {"interval": "1m", "startTime": 0, "limit": 1000}),
        ("klines", {"interval": "1s", "startTime": T3 - 5000, "limit": 30}),
        ("klines", {"interval": "1M", "startTime": 0}),
        ("aggTrades", {"fromId": 0}),
        ("aggTrades", {"fromId": 6, "limit": 2}),
        ("aggTrades", {}),
        ("aggTrades", {"limit": 2}),
        ("aggTrades", {"startTime": T2, "endTime": T2 + 3_600_000}),
        ("aggTrades", {"endTime": T3 + 120_000, "limit": 3}),
    ]
    whole = [get(api, path, symbol="BTCUSDT", **params) for path, params in queries]
    monkeypatch.setattr(market_queries, "CHUNK", 2)
    paged = [get(api, path, symbol="BTCUSDT", **params) for path, params in queries]
    assert paged == whole
    assert [a["a"] for a in whole[5]] == [1, 2, 3, 4, 5, 8]
    assert [(a["f"], a["l"]) for a in whole[8]] == [(4, 4), (5, 7), (8, 8)]
    assert [a["a"] for a in whole[4]] == [8]  # trade 6 is inside aggregate 5


# --- rolling tickers and average price ------------------------------------------------------

X = ms("2024-03-01T12:00:30")
HOUR = 3_600_000


def test_24hr_ticker_by_hand(untraded_api: Api) -> None:
    api = untraded_api
    set_clock(api, X)
    order(api, Side.BUY, "0.05", "60010", ts=X - 25 * HOUR)  # trade 1, before the window
    order(api, Side.BUY, "0.05", "60020", ts=X - 2 * HOUR)  # trade 2
    order(api, Side.SELL, "0.05", "59990", ts=X - HOUR)  # trade 3
    order(api, Side.BUY, "0.02", "60030", ts=X - 180_000)  # trade 4
    ticker = get(api, "ticker/24hr", symbol="BTCUSDT")
    assert ticker == {
        "symbol": "BTCUSDT",
        "priceChange": "10.00000000",
        "priceChangePercent": "0.016",  # 10 / 60020 = 0.01666 %
        "weightedAvgPrice": "60009.16666666",  # 7201.1 / 0.12
        "prevClosePrice": "60010.00000000",
        "lastPrice": "60030.00000000",
        "lastQty": "0.02000000",
        "bidPrice": "59980.00000000",
        "bidQty": "0.05000000",
        "askPrice": "60030.00000000",
        "askQty": "0.03000000",
        "openPrice": "60020.00000000",
        "highPrice": "60030.00000000",
        "lowPrice": "59990.00000000",
        "volume": "0.12000000",
        "quoteVolume": "7201.10000000",
        "openTime": ms("2024-02-29T12:00"),
        "closeTime": X,
        "firstId": 2,
        "lastId": 4,
        "count": 3,
    }
    assert get(api, "avgPrice", symbol="BTCUSDT") == {
        "mins": 5,
        "price": "60030.00000000",
        "closeTime": X - 180_000,
    }
    # a trade after the tickers loaded from the store arrives through the released outcome
    order(api, Side.SELL, "0.05", "59980", ts=X - 30_000)  # trade 5
    mini = get(api, "ticker/24hr", symbols='["BTCUSDT"]', type="MINI")
    assert mini == [
        {
            "symbol": "BTCUSDT",
            "openPrice": "60020.00000000",
            "highPrice": "60030.00000000",
            "lowPrice": "59980.00000000",
            "lastPrice": "59980.00000000",
            "volume": "0.17000000",
            "quoteVolume": "10200.10000000",
            "openTime": ms("2024-02-29T12:00"),
            "closeTime": X,
            "firstId": 2,
            "lastId": 5,
            "count": 4,
        }
    ]
    full = get(api, "ticker/24hr", symbol="BTCUSDT")
    assert full["priceChange"] == "-40.00000000" and full["priceChangePercent"] == "-0.066"
    # (0.02 × 60030 + 0.05 × 59980) / 0.07 over the last five minutes
    assert get(api, "avgPrice", symbol="BTCUSDT")["price"] == "59994.28571428"
    price = get(api, "ticker/price", symbol="BTCUSDT")
    assert price == {"symbol": "BTCUSDT", "price": "59980.00000000"}
    assert get(api, "ticker/price") == [
        {"symbol": s.name, "price": "59980.00000000" if s.name == "BTCUSDT" else "0.00000000"}
        for s in SYMBOLS
    ]
    # a day later nothing traded in the window: flat at the last price, no ids
    set_clock(api, X + 25 * HOUR)
    quiet = get(api, "ticker/24hr", symbol="BTCUSDT")
    assert quiet["count"] == 0 and quiet["firstId"] == quiet["lastId"] == -1
    assert quiet["openPrice"] == quiet["lastPrice"] == quiet["prevClosePrice"] == "59980.00000000"
    assert quiet["priceChange"] == "0.00000000" and quiet["volume"] == "0.00000000"
    assert get(api, "avgPrice", symbol="BTCUSDT")["price"] == "59980.00000000"
    all_tickers = get(api, "ticker/24hr")
    assert [t["symbol"] for t in all_tickers] == [s.name for s in SYMBOLS]
    assert all_tickers[1]["lastPrice"] == "0.00000000" and all_tickers[1]["count"] == 0


def test_a_fresh_demo_shows_a_last_price_on_every_market(api: Api) -> None:
    tickers = {t["symbol"]: t for t in get(api, "ticker/24hr")}
    assert set(tickers) == {s.name for s in SYMBOLS}
    for s in SYMBOLS:
        mid = LADDERS[s.name][0]
        ticker = tickers[s.name]
        assert Decimal(ticker["lastPrice"]) == Decimal(mid) and ticker["count"] == 1, ticker
        assert Decimal(get(api, "ticker/price", symbol=s.name)["price"]) == Decimal(mid)
        [candle] = get(api, "klines", symbol=s.name, interval="1m", limit=1)
        assert Decimal(candle[4]) == Decimal(mid) and candle[8] == 1


def test_ticker_errors(api: Api) -> None:
    assert error(api, "ticker/24hr", symbol="BTCUSDT", type="HUGE") == -1139
    assert error(api, "ticker/24hr", symbol="NOPE") == -1121
    assert error(api, "ticker/24hr", symbols='["NOPE"]') == -1121
    assert error(api, "ticker/24hr", symbols="[BTCUSDT]") == -1100
    assert error(api, "ticker/bookTicker", symbols='["ETHBTC","ETHBTC"]') == -1151
    assert error(api, "ticker/price", symbolStatus="OPEN") == -1122
    assert error(api, "avgPrice") == -1102
    assert error(api, "avgPrice", symbol="NOPE") == -1121
    genesis = get(api, "avgPrice", symbol="ETHBTC")  # the demo's first trade, at the mid price
    assert (genesis["mins"], genesis["price"]) == (5, "0.05000000") and genesis["closeTime"] > 0
    assert get(api, "ticker/price", symbols="[]") == []
