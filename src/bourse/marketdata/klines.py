"""Klines of every Binance interval, folded in Python from the store's one-minute rows (or, for
1s, from the trades themselves), aligned as Binance aligns them.

Alignment: fixed intervals from the epoch (so 3d candles open every third day counted from
1970-01-01), weeks on Monday 00:00, months on the 1st at 00:00; all in the requested time zone
(a whole number of minutes from UTC), while startTime/endTime stay in UTC, as on Binance.

Like Binance, a candle is produced for every interval from the symbol's first trade on, up to the
one that holds the latest of now and the last trade: an interval without trades is a flat candle at
the previous close with zero volume. `startTime` selects candles that open at or after it,
`endTime` those that open at or before it; without `startTime` the latest `limit` are returned.
"""

from collections.abc import Iterable, Iterator
from copy import copy
from datetime import date
from typing import Any, NamedTuple

import sqlalchemy as sa

from bourse.domain.money import to_str
from bourse.store import market_queries as mq
from bourse.store.batch import Kline

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
MONTH = "1M"
_MONDAY_MS = 4 * DAY_MS  # 1970-01-01 was a Thursday; the first Monday is four days later
_EPOCH_DAY = date(1970, 1, 1).toordinal()

FIXED_MS = {
    "1s": SECOND_MS,
    "1m": MINUTE_MS,
    "3m": 3 * MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "8h": 8 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": DAY_MS,
    "3d": 3 * DAY_MS,
    "1w": WEEK_MS,
}
INTERVALS = (*FIXED_MS, MONTH)


class Candle(NamedTuple):
    open_ms: int
    close_ms: int
    k: Kline

    def row(self, quote_precision: int, base_precision: int) -> list[Any]:
        """Binance's kline array: [open time, open, high, low, close, volume, close time,
        quote volume, trades, taker buy base volume, taker buy quote volume, "0"]."""
        k, qp, bp = self.k, quote_precision, base_precision
        return [
            self.open_ms,
            to_str(k.open, qp),
            to_str(k.high, qp),
            to_str(k.low, qp),
            to_str(k.close, qp),
            to_str(k.volume, bp),
            self.close_ms,
            to_str(k.quote_volume, qp),
            k.count,
            to_str(k.taker_buy_volume, bp),
            to_str(k.taker_buy_quote_volume, qp),
            "0",
        ]


def bucket_open(ts: int, interval: str, offset_ms: int = 0) -> int:
    """Open time (UTC ms) of the `interval` candle holding `ts`, in a zone `offset_ms` from UTC."""
    local = ts + offset_ms
    if interval == MONTH:
        day = date.fromordinal(_EPOCH_DAY + local // DAY_MS)
        return _day_ms(date(day.year, day.month, 1)) - offset_ms
    if interval == "1w":
        return (local - _MONDAY_MS) // WEEK_MS * WEEK_MS + _MONDAY_MS - offset_ms
    size = FIXED_MS[interval]
    return local // size * size - offset_ms


def next_open(open_ms: int, interval: str, offset_ms: int = 0) -> int:
    """Open time of the candle after the one opening at `open_ms`."""
    if interval != MONTH:
        return open_ms + FIXED_MS[interval]
    day = date.fromordinal(_EPOCH_DAY + (open_ms + offset_ms) // DAY_MS)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return _day_ms(date(year, month, 1)) - offset_ms


def _day_ms(day: date) -> int:
    return (day.toordinal() - _EPOCH_DAY) * DAY_MS


def parse_time_zone(text: str | None) -> int | None:
    """Binance's timeZone ("0", "8", "-1:00", "+05:45"; from -12:00 to +14:00) as an offset in
    ms, or None when it is not one."""
    if text is None:
        return 0
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    hours, _, minutes = body.partition(":")
    digits = hours.isascii() and hours.isdigit() and (not minutes or minutes.isascii())
    if not digits or len(hours) > 2 or (minutes and not minutes.isdigit()):
        return None
    total = int(hours) * 60 + (int(minutes) if minutes else 0)
    if (minutes and (len(minutes) != 2 or int(minutes) >= 60)) or not (
        -12 * 60 <= sign * total <= 14 * 60
    ):
        return None
    return sign * total * MINUTE_MS


def fold(
    rows: Iterable[tuple[int, Kline]],
    opens: list[int],
    interval: str,
    offset_ms: int,
    prev_close: int,
) -> list[Candle]:
    """Fold time-ordered (ts, Kline) rows into the candles opening at `opens` (consecutive),
    filling intervals without trades with a flat candle at the previous close."""
    if not opens:
        return []
    out: list[Candle] = []
    index = 0
    current: Kline | None = None
    for ts, row in rows:
        start = bucket_open(ts, interval, offset_ms)
        while opens[index] < start:  # the candles before this row's are complete
            prev_close = _close(out, opens[index], current, interval, offset_ms, prev_close)
            current = None
            index += 1
        if current is None:
            current = copy(row)  # the caller's rows stay as they were
        else:
            current.extend(row)
    for at in opens[index:]:
        prev_close = _close(out, at, current, interval, offset_ms, prev_close)
        current = None
    return out


def _close(
    out: list[Candle],
    open_ms: int,
    current: Kline | None,
    interval: str,
    offset_ms: int,
    prev_close: int,
) -> int:
    if current is None:
        p = prev_close
        current = Kline(p, p, p, p, 0, 0, 0, 0, 0, -1, -1)
    out.append(Candle(open_ms, next_open(open_ms, interval, offset_ms) - 1, current))
    return current.close


def candle_opens(
    interval: str,
    offset_ms: int,
    *,
    first_ts: int,
    high_ts: int,
    start: int | None,
    limit: int,
) -> list[int]:
    """Open times of the candles to return: from the first trade's candle to the one holding
    `high_ts`, `limit` of them from `start` on, or the latest `limit` without `start`."""
    if start is not None and start > high_ts:
        return []
    history = bucket_open(first_ts, interval, offset_ms)
    last = bucket_open(high_ts, interval, offset_ms)
    opens: list[int] = []
    if start is not None:
        at = bucket_open(start, interval, offset_ms)
        if at < start:
            at = next_open(at, interval, offset_ms)
        at = max(at, history)
        while at <= last and len(opens) < limit:
            opens.append(at)
            at = next_open(at, interval, offset_ms)
        return opens
    at = last
    while at >= history and len(opens) < limit:
        opens.append(at)
        at = bucket_open(at - 1, interval, offset_ms)
    opens.reverse()
    return opens


def read_klines(
    conn: sa.Connection,
    symbol: str,
    interval: str,
    *,
    start: int | None,
    end: int | None,
    limit: int,
    offset_ms: int,
    now_ms: int,
) -> list[Candle]:
    """The candles a klines request asks for (run on a store reader thread)."""
    seconds = interval == "1s"
    bounds = mq.trade_time_bounds(conn, symbol) if seconds else mq.minute_bounds(conn, symbol)
    if bounds is None:
        return []
    first_ts, last_ts = bounds
    high = max(now_ms, last_ts) if end is None else min(max(now_ms, last_ts), end)
    if high < first_ts or (start is not None and end is not None and start > end):
        return []
    opens = candle_opens(
        interval, offset_ms, first_ts=first_ts, high_ts=high, start=start, limit=limit
    )
    if not opens:
        return []
    lo, hi = opens[0], next_open(opens[-1], interval, offset_ms) - 1
    rows: Iterator[tuple[int, Kline]]
    if seconds:
        prev_close = mq.trade_price_before(conn, symbol, lo)
        rows = mq.trade_klines(conn, symbol, lo, hi)
    else:
        prev_close = mq.minute_close_before(conn, symbol, lo)
        rows = mq.minute_klines(conn, symbol, lo, hi)
    return fold(rows, opens, interval, offset_ms, prev_close)


def read_part(
    conn: sa.Connection, symbol: str, interval: str, open_ms: int, until_ms: int
) -> Kline:
    """The trades of the candle opening at `open_ms` before `until_ms` in one Kline (its count
    0 without any; run on a store reader thread): where a kline stream's candle that opened
    before the rolling tickers' 24 h starts from."""
    rows = mq.minute_klines(conn, symbol, open_ms, until_ms - 1)
    return fold(rows, [open_ms], interval, 0, 0)[0].k


def read_trades(
    conn: sa.Connection, symbol: str, start_ms: int, end_ms: int
) -> list[tuple[int, Kline]]:
    """(time, Kline of one trade) of the trades in [start_ms, end_ms), in order (run on a store
    reader thread): a 1s kline stream's first second, up to when it was subscribed to."""
    return list(mq.trade_klines(conn, symbol, start_ms, end_ms - 1))
