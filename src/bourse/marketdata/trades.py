"""Aggregate trades (Binance's aggTrades): the consecutive fills of one taker order at one price.

A taker order trades within one command, so the fills of an aggregate are consecutive trade ids
with one time. The aggregate id is the id of its first trade: ids increase with time but are not
contiguous (an aggregate of three trades 7, 8, 9 is followed by aggregate 10). `fromId` selects
the aggregates whose first trade id is at least `fromId`, so paging with the last `a` + 1 works.
"""

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import msgspec
import sqlalchemy as sa

from bourse.domain.money import to_str
from bourse.store import market_queries as mq
from bourse.store.queries import TradeRow


class AggTrade(msgspec.Struct, frozen=True):
    """Raw figures of one aggregate; `buyer_maker` is Binance's `m`."""

    first_id: int
    last_id: int
    price_raw: int
    qty_raw: int
    ts_ms: int
    buyer_maker: bool

    def json(self, quote_precision: int, base_precision: int) -> dict[str, Any]:
        return {
            "a": self.first_id,
            "p": to_str(self.price_raw, quote_precision),
            "q": to_str(self.qty_raw, base_precision),
            "f": self.first_id,
            "l": self.last_id,
            "T": self.ts_ms,
            "m": self.buyer_maker,
            "M": True,
        }


def trade_json(t: TradeRow, quote_precision: int, base_precision: int) -> dict[str, Any]:
    """A public trade as trades and historicalTrades list it."""
    return {
        "id": t.trade_id,
        "price": to_str(t.price_raw, quote_precision),
        "qty": to_str(t.qty_raw, base_precision),
        "quoteQty": to_str(t.quote_qty_raw, quote_precision),
        "time": t.ts_ms,
        "isBuyerMaker": t.taker_side == "SELL",
        "isBestMatch": True,
    }


def _groups(trades: Iterable[TradeRow]) -> Iterator[list[TradeRow]]:
    """Runs of consecutive trades of one taker order at one price, in the order given (each run
    is yielded only once it is known to be complete)."""
    group: list[TradeRow] = []
    for t in trades:
        if group:
            prev = group[-1]
            same = (
                t.taker_order_id == prev.taker_order_id
                and t.price_raw == prev.price_raw
                and abs(t.trade_id - prev.trade_id) == 1
            )
            if not same:
                yield group
                group = []
        group.append(t)
    if group:
        yield group


def _aggregate(group: list[TradeRow]) -> AggTrade:
    trades = sorted(group, key=lambda t: t.trade_id)
    first = trades[0]
    return AggTrade(
        first_id=first.trade_id,
        last_id=trades[-1].trade_id,
        price_raw=first.price_raw,
        qty_raw=sum(t.qty_raw for t in trades),
        ts_ms=first.ts_ms,
        buyer_maker=first.taker_side == "SELL",
    )


def agg_trades(
    conn: sa.Connection,
    symbol: str,
    *,
    from_id: int | None,
    start_ms: int | None,
    end_ms: int | None,
    limit: int,
) -> list[AggTrade]:
    """Up to `limit` aggregates, oldest first: from `from_id`, or from `start_ms` (up to
    `end_ms`), or else the latest ones (at or before `end_ms` if given)."""
    if from_id is not None:
        # one trade earlier, to see whether the trade at from_id continues an older aggregate
        trades = mq.trades_up(conn, symbol, max(from_id - 1, 0))
        found = (g for g in _groups(trades) if g[0].trade_id >= from_id)
        return [_aggregate(g) for g in islice(found, limit)]
    if start_ms is not None:
        trades = mq.trades_between(conn, symbol, start_ms, end_ms)
        return [_aggregate(g) for g in islice(_groups(trades), limit)]
    if end_ms is not None:
        trades = mq.trades_between(conn, symbol, None, end_ms, descending=True)
    else:
        trades = mq.trades_down(conn, symbol)
    latest = islice(_groups(trades), limit)
    return [_aggregate(g) for g in reversed(list(latest))]
