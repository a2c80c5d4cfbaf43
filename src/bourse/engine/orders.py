"""Order lifecycle: an order opens (funds held, id and client id taken) and closes exactly once.

Closing releases whatever the order still holds, frees its client order id, takes it off the book
or the stop lists, and emits the one event that ends it.
"""

from sortedcontainers import SortedKeyList

from bourse.domain.enums import OrderStatus, OrderType, Side
from bourse.engine import ledger
from bourse.engine.order_status import advance
from bourse.engine.output import Output
from bourse.engine.state import Account, Order, SymbolState
from bourse.events import OrderCanceled, OrderExpired

_BUY = Side.BUY
_STOP_LOSS_TYPES = frozenset({OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT})


def triggers_on_rise(side: Side, order_type: OrderType) -> bool:
    """A buy stop-loss and a sell take-profit fire when the price rises to the stop price."""
    return (side is _BUY) == (order_type in _STOP_LOSS_TYPES)


def stop_list(sym: SymbolState, order: Order) -> SortedKeyList:
    return sym.stops_rising if triggers_on_rise(order.side, order.order_type) else sym.stops_falling


def held_balance_asset(sym: SymbolState, order: Order) -> str:
    return sym.spec.quote if order.side is _BUY else sym.spec.base


def release_hold(out: Output, acct: Account, sym: SymbolState, order: Order, amount: int) -> None:
    if amount:
        order.held -= amount
        ledger.release(out.touched, acct.balance(held_balance_asset(sym, order)), amount)


def unlink(acct: Account, sym: SymbolState, order: Order, *, on_book: bool) -> None:
    """Take an order out of every index that knows it as open."""
    if on_book:
        sym.book.remove(order)
    elif not order.working:
        stop_list(sym, order).remove(order)
    del acct.open_orders[order.id]
    if order.client_order_id:
        del acct.client_ids[order.client_order_id]


def close(
    out: Output,
    acct: Account,
    sym: SymbolState,
    order: Order,
    status: OrderStatus,
    reason: str,
    *,
    on_book: bool,
) -> None:
    """End an open order as CANCELED, EXPIRED or EXPIRED_IN_MATCH (FILLED ends in matching)."""
    order.status = advance(order.status, status, order.id)
    unlink(acct, sym, order, on_book=on_book)
    release_hold(out, acct, sym, order, order.held)
    if status is OrderStatus.CANCELED:
        out.events.append(
            OrderCanceled(
                order_id=order.id,
                account_id=acct.id,
                symbol=order.symbol,
                client_order_id=order.client_order_id,
                reason=reason,
                side=order.side,
                order_type=order.order_type,
                time_in_force=order.time_in_force,
                price_raw=order.price,
                qty_raw=order.qty,
                quote_qty_raw=order.quote_qty,
                stop_price_raw=order.stop_price,
                executed_raw=order.executed,
                cum_quote_raw=order.cum_quote,
                stp=order.stp,
            )
        )
    else:
        out.events.append(
            OrderExpired(
                order_id=order.id,
                account_id=acct.id,
                symbol=order.symbol,
                status=status,
                reason=reason,
            )
        )
