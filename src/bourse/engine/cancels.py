"""Cancel one order, all of an account's orders on a symbol, or cancel and replace in one step."""

from bourse.commands import CancelAllOrders, CancelOrder, CancelReplaceOrder
from bourse.domain.enums import CancelReplaceMode, CancelRestriction, OrderStatus
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine import risk
from bourse.engine.orders import close
from bourse.engine.output import Output
from bourse.engine.placement import place
from bourse.engine.state import Account, EngineState, Order, SymbolState
from bourse.events import CommandRejected

_CANCELED = OrderStatus.CANCELED
_RESTRICTED_TO = {
    CancelRestriction.ONLY_NEW: OrderStatus.NEW,
    CancelRestriction.ONLY_PARTIALLY_FILLED: OrderStatus.PARTIALLY_FILLED,
}


def find_open(acct: Account, symbol: str, order_id: int, client_order_id: str) -> Order | Refusal:
    if order_id:
        order = acct.open_orders.get(order_id)
        what = f"order {order_id}"
    elif client_order_id:
        found = acct.client_ids.get(client_order_id)
        order = acct.open_orders.get(found) if found is not None else None
        what = f"order with client order id {client_order_id!r}"
    else:
        return Refusal(RejectCode.INVALID_PARAMETER, "give an order id or a client order id")
    if order is None or order.symbol != symbol:
        return Refusal(
            RejectCode.UNKNOWN_ORDER, f"account {acct.id} has no open {what} on {symbol}"
        )
    if order_id and client_order_id and order.client_order_id != client_order_id:
        # Binance: given both, the order found by id must also carry that client order id.
        return Refusal(
            RejectCode.UNKNOWN_ORDER,
            f"order {order_id} has client order id {order.client_order_id!r}, "
            f"not {client_order_id!r}",
        )
    return order


def find_cancelable(
    acct: Account,
    symbol: str,
    order_id: int,
    client_order_id: str,
    restriction: CancelRestriction | None,
) -> Order | Refusal:
    """The open order a cancel names, if it is in the status `restriction` allows."""
    order = find_open(acct, symbol, order_id, client_order_id)
    if restriction is None or type(order) is Refusal:
        return order
    assert isinstance(order, Order)
    allowed = _RESTRICTED_TO[restriction]
    if order.status is not allowed:
        return Refusal(
            RejectCode.CANCEL_RESTRICTED,
            f"order {order.id} is {order.status}: the cancel was restricted to {allowed} "
            f"orders ({restriction})",
        )
    return order


def cancel(out: Output, cmd: CancelOrder, sym: SymbolState, acct: Account) -> Refusal | None:
    order = find_cancelable(acct, cmd.symbol, cmd.order_id, cmd.client_order_id, cmd.restriction)
    if type(order) is Refusal:
        return order
    assert isinstance(order, Order)
    close(out, acct, sym, order, _CANCELED, f"canceled by {cmd.actor}", on_book=order.working)
    return None


def cancel_all(
    out: Output, cmd: CancelAllOrders, sym: SymbolState, acct: Account
) -> Refusal | None:
    orders = [o for o in acct.open_orders.values() if o.symbol == cmd.symbol]
    if not orders:
        return Refusal(
            RejectCode.UNKNOWN_ORDER, f"account {acct.id} has no open orders on {cmd.symbol}"
        )
    cancel_orders(out, acct, sym, orders, f"canceled by {cmd.actor} (all open orders)")
    return None


def cancel_orders(
    out: Output, acct: Account, sym: SymbolState, orders: list[Order], reason: str
) -> None:
    for order in sorted(orders, key=lambda o: o.id):
        close(out, acct, sym, order, _CANCELED, reason, on_book=order.working)


def cancel_replace(
    state: EngineState, out: Output, cmd: CancelReplaceOrder, sym: SymbolState, acct: Account
) -> Refusal | None:
    new = cmd.new_order
    if new.account_id != cmd.account_id or new.symbol != cmd.symbol:
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            "the new order must be for the same account and symbol as the canceled one",
        )
    # Binance checks the new order's filters before anything is canceled: a malformed
    # replacement refuses the whole command instead of costing the customer the old order.
    refusal = risk.validate(sym, new)
    if refusal is not None:
        return refusal
    order = find_cancelable(
        acct, cmd.symbol, cmd.cancel_order_id, cmd.cancel_client_order_id, cmd.cancel_restriction
    )
    if type(order) is Refusal:
        if cmd.mode is CancelReplaceMode.STOP_ON_FAILURE:
            return order
        out.events.append(  # ALLOW_FAILURE: say the cancel failed, then place anyway
            CommandRejected(
                command="CancelReplaceOrder",
                account_id=acct.id,
                symbol=cmd.symbol,
                client_order_id=cmd.cancel_client_order_id,
                code=order.code,
                reason=order.reason,
            )
        )
    else:
        assert isinstance(order, Order)
        close(out, acct, sym, order, _CANCELED, f"replaced by {cmd.actor}", on_book=order.working)
    return place(state, out, new, sym, acct)


def cancel_account_orders(state: EngineState, out: Output, acct: Account, reason: str) -> None:
    """End every open order of `acct` (a freeze, a policy stopping its trading): holds return to
    the account's balances. Symbol by symbol in name order, so replay cancels in the same order."""
    if not acct.open_orders:
        return
    by_symbol: dict[str, list[Order]] = {}
    for order in acct.open_orders.values():
        by_symbol.setdefault(order.symbol, []).append(order)
    for symbol in sorted(by_symbol):
        cancel_orders(out, acct, state.symbols[symbol], by_symbol[symbol], reason)
