"""Reads of the SQL store for the API: each takes an open connection and returns typed rows.

Amounts come back as raw ints; the API formats them with the asset's precision (`to_str`).
Limits follow Binance: default 500, at most 1000.
"""

from typing import Any

import msgspec
import sqlalchemy as sa

from bourse.domain.enums import OrderStatus
from bourse.store import schema as s

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
OPEN_STATUSES = (OrderStatus.NEW.value, OrderStatus.PARTIALLY_FILLED.value)


class OrderRow(msgspec.Struct, frozen=True, kw_only=True):
    order_id: int
    account_id: int
    symbol: str
    client_order_id: str
    side: str
    order_type: str
    time_in_force: str
    price_raw: int
    qty_raw: int
    quote_qty_raw: int
    stop_price_raw: int
    stp: str
    status: str
    executed_qty_raw: int
    cum_quote_raw: int
    working: bool
    created_ms: int
    updated_ms: int
    created_seq: int


class TradeRow(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    trade_id: int
    price_raw: int
    qty_raw: int
    quote_qty_raw: int
    taker_side: str
    maker_order_id: int
    taker_order_id: int
    maker_account_id: int
    taker_account_id: int
    maker_fee_raw: int
    taker_fee_raw: int
    ts_ms: int
    seq: int


class AccountTrade(msgspec.Struct, frozen=True, kw_only=True):
    """A trade as one side of it saw it (Binance's myTrades entry)."""

    trade: TradeRow
    is_maker: bool

    @property
    def order_id(self) -> int:
        return self.trade.maker_order_id if self.is_maker else self.trade.taker_order_id

    @property
    def is_buyer(self) -> bool:
        return (self.trade.taker_side == "BUY") != self.is_maker

    @property
    def fee_raw(self) -> int:
        """In the base asset for the buyer, the quote asset for the seller."""
        return self.trade.maker_fee_raw if self.is_maker else self.trade.taker_fee_raw


class KlineRow(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    open_time_ms: int
    open_raw: int
    high_raw: int
    low_raw: int
    close_raw: int
    volume_raw: int
    quote_volume_raw: int
    trade_count: int
    taker_buy_volume_raw: int
    taker_buy_quote_volume_raw: int
    first_trade_id: int
    last_trade_id: int

    @property
    def close_time_ms(self) -> int:
        return self.open_time_ms + 59_999


class BalanceRow(msgspec.Struct, frozen=True, kw_only=True):
    account_id: int
    asset: str
    free_raw: int
    locked_raw: int
    updated_seq: int


class BalanceHistoryRow(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    ts_ms: int
    account_id: int
    asset: str
    free_raw: int
    locked_raw: int
    command: str


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


def _order(row: Any) -> OrderRow:
    return OrderRow(**row._mapping)


def trade_row(row: Any) -> TradeRow:
    return TradeRow(**row._mapping)


def orders_for(
    conn: sa.Connection,
    account_id: int,
    symbol: str | None,
    *,
    from_order_id: int | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    open_only: bool = False,
    limit: int = DEFAULT_LIMIT,
) -> list[OrderRow]:
    """An account's orders, oldest first (allOrders; `open_only` for openOrders).

    Without `from_order_id` or `start_ms`: the most recent `limit` orders, as on Binance.
    `symbol=None` spans every symbol (openOrders without a symbol).
    """
    o = s.orders.c
    stmt = sa.select(s.orders).where(o.account_id == account_id)
    if symbol is not None:
        stmt = stmt.where(o.symbol == symbol)
    if open_only:
        stmt = stmt.where(o.status.in_(OPEN_STATUSES))
    if from_order_id is not None:
        stmt = stmt.where(o.order_id >= from_order_id)
    if start_ms is not None:
        stmt = stmt.where(o.created_ms >= start_ms)
    if end_ms is not None:
        stmt = stmt.where(o.created_ms <= end_ms)
    if open_only:
        return [_order(r) for r in conn.execute(stmt.order_by(o.order_id))]
    if from_order_id is not None or start_ms is not None:
        stmt = stmt.order_by(o.order_id).limit(_limit(limit))
        return [_order(r) for r in conn.execute(stmt)]
    stmt = stmt.order_by(o.order_id.desc()).limit(_limit(limit))
    return [_order(r) for r in reversed(conn.execute(stmt).all())]


def order_by_id(conn: sa.Connection, order_id: int) -> OrderRow | None:
    row = conn.execute(sa.select(s.orders).where(s.orders.c.order_id == order_id)).first()
    return None if row is None else _order(row)


def order_by_client_id(
    conn: sa.Connection, account_id: int, symbol: str, client_order_id: str
) -> OrderRow | None:
    """The account's latest order with that client id (ids may be reused once an order is done)."""
    o = s.orders.c
    stmt = (
        sa.select(s.orders)
        .where(o.account_id == account_id, o.client_order_id == client_order_id, o.symbol == symbol)
        .order_by(o.order_id.desc())
        .limit(1)
    )
    row = conn.execute(stmt).first()
    return None if row is None else _order(row)


def trades_for_account(
    conn: sa.Connection,
    account_id: int,
    symbol: str,
    from_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    *,
    order_id: int | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
) -> list[AccountTrade]:
    """The account's fills in `symbol` by trade id (myTrades), optionally of one order and within
    [start_ms, end_ms]: from `from_id` or `start_ms` on, else the latest `limit`.

    A self-trade (only possible with STP NONE) appears twice, once per side, as on Binance.
    """
    t = s.trades.c
    n = _limit(limit)
    ascending = from_id is not None or start_ms is not None
    sides = []
    for is_maker, account_col, order_col in (
        (True, t.maker_account_id, t.maker_order_id),
        (False, t.taker_account_id, t.taker_order_id),
    ):
        stmt = sa.select(s.trades).where(account_col == account_id, t.symbol == symbol)
        if order_id is not None:
            stmt = stmt.where(order_col == order_id)
        if from_id is not None:
            stmt = stmt.where(t.trade_id >= from_id)
        if start_ms is not None:
            stmt = stmt.where(t.ts_ms >= start_ms)
        if end_ms is not None:
            stmt = stmt.where(t.ts_ms <= end_ms)
        stmt = stmt.order_by(t.trade_id if ascending else t.trade_id.desc()).limit(n)
        sides += [AccountTrade(trade=trade_row(r), is_maker=is_maker) for r in conn.execute(stmt)]
    # each side's query used its own index; merge the two and keep `limit` of them
    sides.sort(key=lambda a: (a.trade.trade_id, not a.is_maker))
    return sides[:n] if ascending else sides[-n:]


def recent_trades(conn: sa.Connection, symbol: str, limit: int = DEFAULT_LIMIT) -> list[TradeRow]:
    """The latest trades of a symbol, oldest first."""
    t = s.trades.c
    stmt = (
        sa.select(s.trades)
        .where(t.symbol == symbol)
        .order_by(t.trade_id.desc())
        .limit(_limit(limit))
    )
    return [trade_row(r) for r in reversed(conn.execute(stmt).all())]


def klines_1m(
    conn: sa.Connection,
    symbol: str,
    start_ms: int | None = None,
    end_ms: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[KlineRow]:
    """One-minute klines whose open time is in [start_ms, end_ms], oldest first.

    Without `start_ms` the latest `limit` minutes (up to `end_ms`), as Binance does. Minutes
    without trades have no row.
    """
    k = s.klines_1m.c
    stmt = sa.select(s.klines_1m).where(k.symbol == symbol)
    if start_ms is not None:
        stmt = stmt.where(k.open_time_ms >= start_ms)
    if end_ms is not None:
        stmt = stmt.where(k.open_time_ms <= end_ms)
    if start_ms is not None:
        rows = conn.execute(stmt.order_by(k.open_time_ms).limit(_limit(limit))).all()
    else:
        stmt = stmt.order_by(k.open_time_ms.desc()).limit(_limit(limit))
        rows = list(reversed(conn.execute(stmt).all()))
    return [KlineRow(**r._mapping) for r in rows]


def balances(conn: sa.Connection, account_id: int) -> list[BalanceRow]:
    """The account's current balances as of the store's last applied seq, by asset."""
    b = s.balances.c
    stmt = sa.select(s.balances).where(b.account_id == account_id).order_by(b.asset)
    return [BalanceRow(**r._mapping) for r in conn.execute(stmt)]


def balances_updated_ms(conn: sa.Connection, account_id: int) -> int:
    """When the account's balances last changed (Binance's account updateTime); 0 if never."""
    b, h = s.balances.c, s.balance_history.c
    last = conn.execute(
        sa.select(b.asset, b.updated_seq)
        .where(b.account_id == account_id)
        .order_by(b.updated_seq.desc())
        .limit(1)
    ).first()
    if last is None:
        return 0
    ts = conn.execute(
        sa.select(h.ts_ms)
        .where(h.account_id == account_id, h.asset == last.asset, h.seq == last.updated_seq)
        .limit(1)
    ).scalar()
    return int(ts or 0)


def balance_history(
    conn: sa.Connection,
    account_id: int,
    asset: str,
    *,
    from_seq: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[BalanceHistoryRow]:
    """Every balance the account held in `asset`, oldest first, from `from_seq` on."""
    h = s.balance_history.c
    stmt = sa.select(
        h.seq, h.ts_ms, h.account_id, h.asset, h.free_raw, h.locked_raw, h.command
    ).where(h.account_id == account_id, h.asset == asset)
    if from_seq is not None:
        stmt = stmt.where(h.seq >= from_seq)
    stmt = stmt.order_by(h.seq, h.id).limit(_limit(limit))
    return [BalanceHistoryRow(**r._mapping) for r in conn.execute(stmt)]
