"""Kline streams of every Binance interval against REST klines at the same (frozen) time: trades
made at chosen times before, inside and after the rolling tickers' 24 h, candles that open,
close, take in the hour's minutes and are read again after a jump of days."""

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import WebSocketTestSession

from bourse.domain.enums import Side
from bourse.marketdata.klines import INTERVALS
from tests.api.conftest import Api
from tests.api.test_market import get, ms, order

K = dict[str, Any]
NOW = ms("2024-02-07T12:30:00.900")  # a Wednesday
# (time, side, price): the demo maker's ladder buys at 59990 and sells at 60010 and up
TRADES = [
    (ms("2024-02-01T10:00"), Side.BUY, "60010"),  # only the 1M candle, from the store
    (ms("2024-02-05T12:00:00.500"), Side.SELL, "59990"),  # 3d, 1w, 1M: from the store
    (ms("2024-02-07T01:00"), Side.BUY, "60020"),  # in the rolling 24 h, from the store too
    (ms("2024-02-07T12:28"), Side.SELL, "59990"),  # rolling minutes
    (ms("2024-02-07T12:30:00.200"), Side.BUY, "60010"),  # this very second
]
COUNTS = {"1s": 1, "1m": 1, "3m": 1, "5m": 1, "15m": 1, "30m": 1, "1d": 3, "3d": 4, "1w": 4}
COUNTS |= {"1M": 5} | {i: 2 for i in ("1h", "2h", "4h", "6h", "8h", "12h")}


def at(api: Api, now: int) -> None:
    api.service.clock = lambda: now


def wired(api: Api) -> list[str]:
    """The feed reads the store through the gateway's reader (as app.py wires it), counted here:
    returns the names of the queries it runs, as it runs them."""
    assert api.client.app.state.realtime.feed.klines.read is not None  # type: ignore[attr-defined]
    app = api.client.app
    gateway_read = app.state.gateway.read  # type: ignore[attr-defined]
    reads: list[str] = []

    async def read(fn: Callable[..., Any], *args: Any) -> Any:
        reads.append(fn.__name__)
        return await gateway_read(fn, *args)

    app.state.realtime.feed.klines.read = read  # type: ignore[attr-defined]
    return reads


def rest(api: Api, interval: str, **params: Any) -> list[list[Any]]:
    rows: list[list[Any]] = get(api, "klines", symbol="BTCUSDT", interval=interval, **params)
    return rows


def same(k: K, row: list[Any]) -> bool:
    """The stream's candle is REST's row."""
    fields = [k[x] for x in ("t", "o", "h", "l", "c", "v", "T", "q", "n", "V", "Q", "B")]
    return fields == row


def until(
    ws: WebSocketTestSession,
    wanted: dict[str, Callable[[K], bool]],
    seen: dict[str, list[K]] | None = None,
) -> dict[str, K]:
    """Read the combined stream until each interval named has sent a candle that `wanted` says
    is the one; returns those candles (and appends every candle read to `seen`)."""
    got: dict[str, K] = {}
    while len(got) < len(wanted):
        message = ws.receive_json()
        interval = message["stream"].removeprefix("btcusdt@kline_")
        k = message["data"]["k"]
        if seen is not None:
            seen.setdefault(interval, []).append(k)
        if interval in wanted and interval not in got and wanted[interval](k):
            got[interval] = k
    return got


def holding(more: int, *intervals: str) -> dict[str, Callable[[K], bool]]:
    """For `until`: each interval's candle holds its trades in COUNTS and `more`."""

    def count(n: int) -> Callable[[K], bool]:
        return lambda k: k["n"] == n

    return {i: count(COUNTS[i] + more) for i in intervals}


def connect(api: Api, intervals: list[str]) -> Any:
    names = "/".join(f"btcusdt@kline_{i}" for i in intervals)
    return api.client.websocket_connect(f"/stream?streams={names}")


@pytest.fixture
def history(untraded_live: Api) -> Api:
    live = untraded_live
    at(live, NOW)  # before anything loads the rolling tickers: they hold 24 h up to NOW
    for ts, side, price in TRADES:
        order(live, side, "0.01", price, ts=ts)
    return live


def test_every_interval_streams_the_candle_rest_gives(history: Api) -> None:
    api = history
    reads = wired(api)
    assert set(COUNTS) == set(INTERVALS)
    with connect(api, list(INTERVALS)) as ws:
        got = until(ws, {i: lambda k: True for i in INTERVALS})
    for interval, k in got.items():
        (row,) = rest(api, interval, limit=1)
        assert same(k, row), interval
        assert (k["i"], k["s"], k["x"], k["n"]) == (interval, "BTCUSDT", False, COUNTS[interval])
        assert k["L"] - k["f"] == k["n"] - 1, interval  # trade ids 1..5, consecutive
    assert got["1M"]["t"] == ms("2024-02-01T00:00") and got["1w"]["t"] == ms("2024-02-05T00:00")
    assert got["3d"]["T"] == ms("2024-02-08T00:00") - 1
    # the candles that opened before the rolling 24 h, and the second subscribed in
    assert sorted(reads) == ["read_part"] * 3 + ["read_trades"]


def test_long_candles_fold_the_hour_close_and_are_read_again_after_days(history: Api) -> None:
    api = history
    reads = wired(api)
    long = ["1d", "3d", "1w", "1M"]
    with connect(api, long) as ws:
        until(ws, holding(0, *long))
        # 75 minutes on: the settled minutes move into each candle's part, one more trade
        later = ms("2024-02-07T13:45:00")
        at(api, later)
        order(api, Side.SELL, "0.01", "59990", ts=later - 60_000)
        got = until(ws, holding(1, *long))
        for interval, k in got.items():
            assert same(k, rest(api, interval, limit=1)[0]), interval
        # midnight: the day and the three days close; the next ones open flat at the last price
        midnight = ms("2024-02-08T00:00")
        at(api, midnight + 1_000)
        seen: dict[str, list[K]] = {}
        until(ws, {"1d": lambda k: k["t"] == midnight, "3d": lambda k: k["t"] == midnight}, seen)
        for interval in ("1d", "3d"):
            closed, opened = seen[interval]
            assert closed["x"] and not opened["x"], interval
            assert closed["n"] == COUNTS[interval] + 1, interval
            assert same(closed, rest(api, interval, startTime=closed["t"], limit=1)[0])
            assert opened["t"] == closed["T"] + 1 and opened["n"] == 0
            assert same(opened, rest(api, interval, limit=1)[0]), interval
            assert opened["o"] == opened["c"] == "59990.00000000"  # the last trade's price
        # a day on, the minutes read from the store at first have left the rolling window: the
        # hours since went into the candles in memory, nothing is read again
        day_on = ms("2024-02-08T13:00")
        at(api, day_on)
        order(api, Side.BUY, "0.01", "60010", ts=day_on - 60_000)
        got = until(ws, holding(2, "1w", "1M"))
        for interval, k in got.items():
            assert same(k, rest(api, interval, limit=1)[0]), interval
        assert reads == ["read_part"] * 3  # 3d, 1w and 1M, when first sent
        # days later, past the rolling window: the week and month are read from the store again
        jump = ms("2024-02-10T18:00")
        at(api, jump)
        order(api, Side.BUY, "0.01", "60010", ts=jump - 3_600_000)
        got = until(ws, holding(3, "1w", "1M"))
        for interval, k in got.items():
            assert same(k, rest(api, interval, limit=1)[0]), interval
        assert len(reads) > 3


def test_one_second_candles_follow_every_second_flat_without_trades(history: Api) -> None:
    api = history
    reads = wired(api)
    second = NOW - NOW % 1000
    with connect(api, ["1s"]) as ws:
        # in the second subscribed in: one trade released before (from the store), one after
        order(api, Side.SELL, "0.01", "59990", ts=NOW)
        first = until(ws, {"1s": lambda k: k["n"] >= 2})["1s"]
        assert (first["t"], first["n"], first["x"]) == (second, 2, False)
        assert same(first, rest(api, "1s", limit=1)[0])
        at(api, second + 3_500)  # a late tick: the seconds skipped go out closed too
        sent = [ws.receive_json()["data"]["k"] for _ in range(4)]
    rows = rest(api, "1s", startTime=second, limit=4)
    assert [k["t"] for k in sent] == [second + n * 1000 for n in range(4)]
    assert [k["x"] for k in sent] == [True, True, True, False]
    assert [k["n"] for k in sent] == [2, 0, 0, 0]
    for k, row in zip(sent, rows, strict=True):
        assert same(k, row), k["t"]
    assert sent[1]["o"] == sent[0]["c"] == "59990.00000000"
    assert reads == ["read_trades"]  # once, for the second subscribed in
