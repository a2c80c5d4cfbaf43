"""Public market-data reads of the SQL store: trades by id or time, one-minute rows and trades as
klines, and what the in-memory tickers start from.

Long ranges are read in chunks (keyset pagination) so that folding a year of minutes into monthly
candles never holds the year in memory. Amounts come back as raw ints; sums are made in Python.
"""

from collections.abc import Iterator

import msgspec
import sqlalchemy as sa

from bourse.store import schema as s
from bourse.store.batch import Kline
from bourse.store.queries import KlineRow, TradeRow, trade_row

CHUNK = 2000

_t = s.trades.c
_k = s.klines_1m.c


# --- trades -----------------------------------------------------------------------------------


def trades_from(conn: sa.Connection, symbol: str, from_id: int, limit: int) -> list[TradeRow]:
    """`limit` trades of `symbol` from trade id `from_id` on, oldest first (historicalTrades)."""
    stmt = (
        sa.select(s.trades)
        .where(_t.symbol == symbol, _t.trade_id >= from_id)
        .order_by(_t.trade_id)
        .limit(limit)
    )
    return [trade_row(r) for r in conn.execute(stmt)]


def trades_up(conn: sa.Connection, symbol: str, from_id: int = 0) -> Iterator[TradeRow]:
    """Trades of `symbol` by increasing id from `from_id` on."""
    after = from_id - 1
    while True:
        stmt = sa.select(s.trades).where(_t.symbol == symbol, _t.trade_id > after)
        rows = [trade_row(r) for r in conn.execute(stmt.order_by(_t.trade_id).limit(CHUNK))]
        yield from rows
        if len(rows) < CHUNK:
            return
        after = rows[-1].trade_id


def trades_down(conn: sa.Connection, symbol: str) -> Iterator[TradeRow]:
    """Trades of `symbol` by decreasing id, the latest first."""
    before: int | None = None
    while True:
        stmt = sa.select(s.trades).where(_t.symbol == symbol)
        if before is not None:
            stmt = stmt.where(_t.trade_id < before)
        rows = [trade_row(r) for r in conn.execute(stmt.order_by(_t.trade_id.desc()).limit(CHUNK))]
        yield from rows
        if len(rows) < CHUNK:
            return
        before = rows[-1].trade_id


def trades_between(
    conn: sa.Connection,
    symbol: str,
    start_ms: int | None,
    end_ms: int | None,
    *,
    descending: bool = False,
) -> Iterator[TradeRow]:
    """Trades of `symbol` with a time in [start_ms, end_ms], by (time, id), oldest first or
    (`descending`) newest first. Walks the (symbol, ts_ms) index, never the whole table."""
    after: tuple[int, int] | None = None
    order = (_t.ts_ms.desc(), _t.trade_id.desc()) if descending else (_t.ts_ms, _t.trade_id)
    while True:
        stmt = sa.select(s.trades).where(_t.symbol == symbol)
        if start_ms is not None:
            stmt = stmt.where(_t.ts_ms >= start_ms)
        if end_ms is not None:
            stmt = stmt.where(_t.ts_ms <= end_ms)
        if after is not None:
            ts, tid = after
            if descending:
                beyond = sa.or_(_t.ts_ms < ts, sa.and_(_t.ts_ms == ts, _t.trade_id < tid))
            else:
                beyond = sa.or_(_t.ts_ms > ts, sa.and_(_t.ts_ms == ts, _t.trade_id > tid))
            stmt = stmt.where(beyond)
        rows = [trade_row(r) for r in conn.execute(stmt.order_by(*order).limit(CHUNK))]
        yield from rows
        if len(rows) < CHUNK:
            return
        after = (rows[-1].ts_ms, rows[-1].trade_id)


# --- klines -----------------------------------------------------------------------------------


def minute_bounds(conn: sa.Connection, symbol: str) -> tuple[int, int] | None:
    """Open times of the symbol's first and last one-minute rows."""
    stmt = sa.select(sa.func.min(_k.open_time_ms), sa.func.max(_k.open_time_ms)).where(
        _k.symbol == symbol
    )
    first, last = conn.execute(stmt).one()
    return None if first is None else (int(first), int(last))


def trade_time_bounds(conn: sa.Connection, symbol: str) -> tuple[int, int] | None:
    """Times of the symbol's first and last trades."""
    stmt = sa.select(sa.func.min(_t.ts_ms), sa.func.max(_t.ts_ms)).where(_t.symbol == symbol)
    first, last = conn.execute(stmt).one()
    return None if first is None else (int(first), int(last))


def minute_close_before(conn: sa.Connection, symbol: str, ts_ms: int) -> int:
    """Close of the last minute that opened before `ts_ms` (0 if none)."""
    stmt = (
        sa.select(_k.close_raw)
        .where(_k.symbol == symbol, _k.open_time_ms < ts_ms)
        .order_by(_k.open_time_ms.desc())
        .limit(1)
    )
    close: int | None = conn.execute(stmt).scalar()
    return close or 0


def trade_price_before(conn: sa.Connection, symbol: str, ts_ms: int) -> int:
    """Price of the last trade before `ts_ms` (0 if none)."""
    stmt = (
        sa.select(_t.price_raw)
        .where(_t.symbol == symbol, _t.ts_ms < ts_ms)
        .order_by(_t.ts_ms.desc(), _t.trade_id.desc())
        .limit(1)
    )
    price: int | None = conn.execute(stmt).scalar()
    return price or 0


def minute_klines(
    conn: sa.Connection, symbol: str, lo_ms: int, hi_ms: int
) -> Iterator[tuple[int, Kline]]:
    """(open time, Kline) of the one-minute rows opening in [lo_ms, hi_ms], oldest first."""
    at = lo_ms
    while True:
        stmt = (
            sa.select(s.klines_1m)
            .where(_k.symbol == symbol, _k.open_time_ms >= at, _k.open_time_ms <= hi_ms)
            .order_by(_k.open_time_ms)
            .limit(CHUNK)
        )
        rows = conn.execute(stmt).all()
        for r in rows:
            yield r.open_time_ms, Kline.of_row(r)
        if len(rows) < CHUNK:
            return
        at = rows[-1].open_time_ms + 1


def trade_klines(
    conn: sa.Connection, symbol: str, lo_ms: int, hi_ms: int
) -> Iterator[tuple[int, Kline]]:
    """(time, Kline of one trade) of the trades in [lo_ms, hi_ms], by time then id."""
    for t in trades_between(conn, symbol, lo_ms, hi_ms):
        yield t.ts_ms, Kline.of_trade(t)


# --- what the rolling 24 h tickers start from -------------------------------------------------


class TickerSeed(msgspec.Struct, frozen=True, kw_only=True):
    """One symbol's minutes since `window_start`, the close before them and its last trade."""

    minutes: list[KlineRow]
    prev_close: int
    last: TradeRow | None


def ticker_seeds(
    conn: sa.Connection, symbols: list[str], window_start: int
) -> dict[str, TickerSeed]:
    seeds: dict[str, TickerSeed] = {}
    for symbol in symbols:
        stmt = (
            sa.select(s.klines_1m)
            .where(_k.symbol == symbol, _k.open_time_ms >= window_start)
            .order_by(_k.open_time_ms)
        )
        minutes = [KlineRow(**r._mapping) for r in conn.execute(stmt)]
        last_stmt = (
            sa.select(s.trades).where(_t.symbol == symbol).order_by(_t.trade_id.desc()).limit(1)
        )
        last = conn.execute(last_stmt).first()
        seeds[symbol] = TickerSeed(
            minutes=minutes,
            prev_close=minute_close_before(conn, symbol, window_start),
            last=None if last is None else trade_row(last),
        )
    return seeds
