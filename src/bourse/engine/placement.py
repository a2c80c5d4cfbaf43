"""Placing, working and triggering orders: acceptance checks, holds, matching, resting, expiry."""

from bourse.commands import PlaceOrder
from bourse.domain.enums import (
    MARKET_EXECUTED_TYPES,
    STOP_TYPES,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from bourse.domain.money import to_plain
from bourse.domain.rejections import Refusal, RejectCode
from bourse.domain.symbols import quote_amount
from bourse.engine import ledger, risk
from bourse.engine.jurisdiction import trading_stopped
from bourse.engine.matching import fillable, match
from bourse.engine.orders import (
    close,
    held_balance_asset,
    release_hold,
    stop_list,
    triggers_on_rise,
    unlink,
)
from bourse.engine.output import Output
from bourse.engine.state import Account, EngineState, Order, SymbolState
from bourse.events import OrderAccepted, OrderTriggered

_BUY = Side.BUY
_GTC = TimeInForce.GTC
_FOK = TimeInForce.FOK
_FILLED = OrderStatus.FILLED
_EXPIRED = OrderStatus.EXPIRED
_LIMIT_MAKER = OrderType.LIMIT_MAKER


def place(
    state: EngineState, out: Output, cmd: PlaceOrder, sym: SymbolState, acct: Account
) -> Refusal | None:
    refusal = risk.validate(sym, cmd)
    if refusal is not None:
        return refusal
    cid = cmd.client_order_id
    if cid and cid in acct.client_ids:
        return Refusal(
            RejectCode.DUPLICATE_CLIENT_ORDER_ID,
            f"account {acct.id} already has an open order with client order id {cid!r}",
        )
    otype = cmd.order_type
    if otype is _LIMIT_MAKER:
        best = sym.book.best_ask() if cmd.side is _BUY else sym.book.best_bid()
        if best and (cmd.price_raw >= best if cmd.side is _BUY else cmd.price_raw <= best):
            return Refusal(
                RejectCode.WOULD_TAKE,
                f"LIMIT_MAKER {cmd.side} at {_price(sym, cmd.price_raw)} would take the best "
                f"{'ask' if cmd.side is _BUY else 'bid'} {_price(sym, best)}",
            )
    stop = otype in STOP_TYPES
    if stop and sym.last_price:
        rising = triggers_on_rise(cmd.side, otype)
        if cmd.stop_price_raw <= sym.last_price if rising else cmd.stop_price_raw >= sym.last_price:
            return Refusal(
                RejectCode.WOULD_TRIGGER_IMMEDIATELY,
                f"stop price {_price(sym, cmd.stop_price_raw)} is already reached by the last "
                f"price {_price(sym, sym.last_price)}",
            )
    amount = risk.required_hold(sym, acct, cmd)
    if isinstance(amount, Refusal):
        return amount

    order_id = state.next_order_id
    state.next_order_id = order_id + 1
    order = Order(
        order_id,
        acct.id,
        cmd.symbol,
        cmd.side,
        otype,
        cmd.time_in_force,
        cmd.price_raw,
        cmd.qty_raw,
        cmd.quote_qty_raw,
        cmd.stop_price_raw,
        cid,
        cmd.stp,
        out.ts_ms,
        working=not stop,
        held=amount,
    )
    if amount:
        ledger.hold(out.touched, acct.balance(held_balance_asset(sym, order)), amount)
    acct.open_orders[order_id] = order
    if cid:
        acct.client_ids[cid] = order_id
    out.events.append(
        OrderAccepted(
            order_id=order_id,
            account_id=acct.id,
            symbol=cmd.symbol,
            side=cmd.side,
            order_type=otype,
            time_in_force=cmd.time_in_force,
            price_raw=cmd.price_raw,
            qty_raw=cmd.qty_raw,
            quote_qty_raw=cmd.quote_qty_raw,
            stop_price_raw=cmd.stop_price_raw,
            client_order_id=cid,
            stp=cmd.stp,
            working=not stop,
        )
    )
    if stop:
        stop_list(sym, order).add(order)
        return None
    work(state, out, sym, acct, order)
    if sym.last_price and (sym.stops_rising or sym.stops_falling):
        run_triggers(state, out, sym)
    return None


def work(state: EngineState, out: Output, sym: SymbolState, acct: Account, order: Order) -> None:
    """Execute a working order: match it, then rest it, fill it or expire what is left."""
    market = order.order_type in MARKET_EXECUTED_TYPES
    if (
        not market
        and order.time_in_force is _FOK
        and fillable(state, sym, order, out.ts_ms) < order.remaining
    ):
        close(
            out, acct, sym, order, _EXPIRED, "FOK order could not be filled in full", on_book=False
        )
        return
    if (market or _crosses(sym, order)) and not match(state, out, sym, order, market):
        return  # expired in the match by self-trade prevention
    if order.status is _FILLED:
        unlink(acct, sym, order, on_book=False)
        if order.held:
            release_hold(out, acct, sym, order, order.held)  # price improvement, unused budget
        return
    if market or order.time_in_force is not _GTC:
        reason = "no more liquidity" if market else f"{order.time_in_force} remainder"
        close(out, acct, sym, order, _EXPIRED, reason, on_book=False)
        return
    if order.side is _BUY and order.executed:  # filled below the limit: free the difference
        needed = quote_amount(order.price, order.remaining, sym.spec.base_precision)
        release_hold(out, acct, sym, order, order.held - needed)
    sym.book.add(order)


def _crosses(sym: SymbolState, order: Order) -> bool:
    """Whether a limit order reaches the opposite side's best price (else matching is skipped)."""
    if order.side is _BUY:
        asks = sym.book.asks
        return bool(asks) and asks.peekitem(0)[0] <= order.price
    bids = sym.book.bids
    return bool(bids) and -bids.peekitem(0)[0] >= order.price


def run_triggers(state: EngineState, out: Output, sym: SymbolState) -> None:
    """Fire every stop order the last price has reached, oldest first, until none is left.

    Firing can trade and move the last price, so this loops; each stop fires at most once.
    """
    while True:
        last = sym.last_price
        fired: list[Order] = []
        rising, falling = sym.stops_rising, sym.stops_falling
        while rising and rising[0].stop_price <= last:
            fired.append(rising.pop(0))
        while falling and falling[-1].stop_price >= last:
            fired.append(falling.pop())
        if not fired:
            return
        fired.sort(key=_order_id)
        policed = state.residence_policies or state.nationality_policies
        for order in fired:
            acct = state.accounts[order.account_id]
            order.working = True  # out of the stop lists now
            stopped = trading_stopped(state, acct, out.ts_ms) if policed else None
            if stopped is not None:  # a policy stopped its trading: it must not fire
                close(out, acct, sym, order, OrderStatus.CANCELED, stopped.reason, on_book=False)
                continue
            out.events.append(
                OrderTriggered(
                    order_id=order.id,
                    account_id=order.account_id,
                    symbol=order.symbol,
                    last_price_raw=last,
                )
            )
            if order.side is _BUY and order.order_type in MARKET_EXECUTED_TYPES:
                # Reserved at the stop price; now a market buy: budget what the book asks, as
                # far as the free balance goes (what it cannot pay for expires).
                release_hold(out, acct, sym, order, order.held)
                bal = acct.balance(sym.spec.quote)
                cost = risk.market_buy_cost(sym, order.remaining, acct.id, order.stp)
                budget = min(cost, bal.free)
                order.held = budget
                if budget:
                    ledger.hold(out.touched, bal, budget)
            work(state, out, sym, acct, order)


def _order_id(order: Order) -> int:
    return order.id


def _price(sym: SymbolState, raw: int) -> str:
    return to_plain(raw, sym.spec.quote_precision)
