"""Kline alignment against calendar arithmetic, time zones, and folding with gaps."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from bourse.marketdata.klines import (
    DAY_MS,
    FIXED_MS,
    INTERVALS,
    MONTH,
    bucket_open,
    candle_opens,
    fold,
    next_open,
    parse_time_zone,
)
from bourse.store.batch import Kline

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def reference_open(ts: int, interval: str, offset: int) -> int:
    """Calendar arithmetic with datetime: the local wall clock, floored, back to UTC."""
    local = EPOCH + timedelta(milliseconds=ts + offset)
    if interval == MONTH:
        start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif interval == "1w":
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        start = day - timedelta(days=day.weekday())  # Monday
    elif interval == "3d":
        days = (local - EPOCH).days
        start = EPOCH + timedelta(days=days - days % 3)
    else:
        size = FIXED_MS[interval]
        millis = (local - EPOCH) // timedelta(milliseconds=1)
        start = EPOCH + timedelta(milliseconds=millis - millis % size)
    return (start - EPOCH) // timedelta(milliseconds=1) - offset


@pytest.mark.parametrize("interval", INTERVALS)
def test_alignment_matches_the_calendar(interval: str) -> None:
    rnd = random.Random(interval)
    for _ in range(300):
        ts = rnd.randint(0, 4_102_444_800_000)  # up to 2100
        offset = rnd.choice([0, 0, 8 * 3_600_000, -3_600_000, 345 * 60_000, -12 * 3_600_000])
        start = bucket_open(ts, interval, offset)
        assert start == reference_open(ts, interval, offset), (ts, offset)
        after = next_open(start, interval, offset)
        assert start <= ts < after
        assert bucket_open(after - 1, interval, offset) == start
        assert bucket_open(after, interval, offset) == after


def test_known_candles() -> None:
    feb_29 = 1_709_208_000_000  # 2024-02-29T12:00Z
    assert bucket_open(feb_29, MONTH) == 1_706_745_600_000  # 2024-02-01
    assert next_open(1_706_745_600_000, MONTH) == 1_709_251_200_000  # 2024-03-01
    assert bucket_open(feb_29, "1w") == 1_708_905_600_000  # Monday 2024-02-26
    assert bucket_open(feb_29, "1d", 8 * 3_600_000) == 1_709_136_000_000  # 2024-02-28T16:00Z
    assert next_open(1_701_388_800_000, MONTH) == 1_704_067_200_000  # Dec 2023 → Jan 2024


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("0", 0),
        ("8", 480),
        ("+8", 480),
        ("-1:00", -60),
        ("05:45", 345),
        ("+14:00", 840),
        ("-12:00", -720),
        ("-12:30", None),
        ("14:01", None),
        ("15", None),
        ("5:60", None),
        ("5:7", None),
        ("abc", None),
        ("+", None),
        ("1:2:3", None),
    ],
)
def test_time_zone(text: str, minutes: int | None) -> None:
    expected = None if minutes is None else minutes * 60_000
    assert parse_time_zone(text) == expected
    assert parse_time_zone(None) == 0


def trade(price: int, qty: int, tid: int) -> Kline:
    return Kline(price, price, price, price, qty, price * qty, 1, qty, price * qty, tid, tid)


def test_fold_fills_gaps_at_the_previous_close() -> None:
    m = 60_000
    rows = [(0, trade(10, 1, 1)), (30_000, trade(12, 2, 2)), (3 * m + 5, trade(9, 1, 3))]
    opens = candle_opens("1m", 0, first_ts=0, high_ts=4 * m + 1, start=None, limit=10)
    assert opens == [0, m, 2 * m, 3 * m, 4 * m]
    candles = fold(iter(rows), opens, "1m", 0, prev_close=0)
    assert [c.open_ms for c in candles] == opens
    assert [c.close_ms for c in candles] == [o + m - 1 for o in opens]
    first = candles[0].k
    assert (first.open, first.high, first.low, first.close) == (10, 12, 10, 12)
    assert (first.volume, first.count, first.first_trade_id, first.last_trade_id) == (3, 2, 1, 2)
    flat = candles[1].k
    assert (flat.open, flat.close, flat.volume, flat.count) == (12, 12, 0, 0)
    assert candles[3].k.close == candles[4].k.open == 9 and candles[4].k.count == 0
    # limited from a start, or the latest ones
    assert candle_opens("1m", 0, first_ts=0, high_ts=4 * m, start=m + 1, limit=2) == [2 * m, 3 * m]
    assert candle_opens("1m", 0, first_ts=0, high_ts=4 * m, start=None, limit=2) == [3 * m, 4 * m]
    assert candle_opens("1M", 0, first_ts=DAY_MS, high_ts=40 * DAY_MS, start=0, limit=1) == [0]
    three_days = fold(iter(rows), [0], "3d", 0, prev_close=0)
    assert three_days[0].k.count == 3 and three_days[0].close_ms == 3 * DAY_MS - 1
