"""Risk: is the order well-formed for its symbol, and can the account fund it?

`validate` applies the symbol's filters; `required_hold` says which balance the order must lock
and how much. Both refuse with values; neither changes state.
"""

from bourse.commands import PlaceOrder
from bourse.domain.enums import (
    LIMIT_PRICED_TYPES,
    STOP_TYPES,
    OrderType,
    SelfTradePrevention,
    Side,
)
from bourse.domain.filters import notional_problem, price_problem, quantity_problem
from bourse.domain.money import to_plain
from bourse.domain.rejections import Refusal, RejectCode
from bourse.domain.symbols import quote_amount
from bourse.engine.state import Account, SymbolState

_MARKET = OrderType.MARKET


_BUY = Side.BUY


def validate(sym: SymbolState, cmd: PlaceOrder) -> Refusal | None:
    spec = sym.spec
    otype = cmd.order_type
    if otype not in spec.order_types:
        return Refusal(
            RejectCode.UNSUPPORTED_ORDER_TYPE, f"{spec.name} does not accept {otype} orders"
        )
    if otype in LIMIT_PRICED_TYPES:
        if cmd.price_raw == 0:
            return _invalid(f"a {otype} order needs a positive price")
        problem = price_problem(spec.price_filter, cmd.price_raw, spec.quote_precision, spec.name)
        if problem:
            return Refusal(RejectCode.PRICE_FILTER, problem)
    elif cmd.price_raw:
        return _invalid(f"a {otype} order takes no price")
    if otype in STOP_TYPES:
        if cmd.stop_price_raw == 0:
            return _invalid(f"a {otype} order needs a positive stop price")
        problem = price_problem(
            spec.price_filter, cmd.stop_price_raw, spec.quote_precision, spec.name
        )
        if problem:
            return Refusal(RejectCode.PRICE_FILTER, "stop " + problem)
    elif cmd.stop_price_raw:
        return _invalid(f"a {otype} order takes no stop price")
    if otype is _MARKET and cmd.quote_qty_raw:
        if cmd.qty_raw:
            return _invalid("a MARKET order takes either a quantity or a quote quantity, not both")
        problem = notional_problem(
            spec.notional, cmd.quote_qty_raw, spec.quote_precision, spec.name, market=True
        )
        return Refusal(RejectCode.NOTIONAL, problem) if problem else None
    if cmd.quote_qty_raw:
        return _invalid(f"a {otype} order takes no quote quantity")
    if cmd.qty_raw == 0:
        return _invalid(f"a {otype} order needs a positive quantity")
    priced = otype in LIMIT_PRICED_TYPES
    lot, lot_name = (
        (spec.lot_size, "LOT_SIZE") if priced else (spec.market_lot_size, "MARKET_LOT_SIZE")
    )
    problem = quantity_problem(lot, cmd.qty_raw, spec.base_precision, spec.name, lot_name)
    if problem:
        code = RejectCode.LOT_SIZE if priced else RejectCode.MARKET_LOT_SIZE
        return Refusal(code, problem)
    reference = cmd.price_raw if priced else (cmd.stop_price_raw or sym.last_price)
    if reference:
        notional = quote_amount(reference, cmd.qty_raw, spec.base_precision)
        problem = notional_problem(
            spec.notional, notional, spec.quote_precision, spec.name, market=not priced
        )
        if problem:
            return Refusal(RejectCode.NOTIONAL, problem)
    return None


def required_hold(sym: SymbolState, acct: Account, cmd: PlaceOrder) -> int | Refusal:
    """How much the order locks (quote for a buy, base for a sell), or a refusal for
    insufficient funds. Reads balances without creating one: a refused order must leave the
    account exactly as it was (an empty balance row would change the snapshot)."""
    spec = sym.spec
    otype = cmd.order_type
    if cmd.side is _BUY:
        asset, precision = spec.quote, spec.quote_precision
        if otype in LIMIT_PRICED_TYPES:
            need = quote_amount(cmd.price_raw, cmd.qty_raw, spec.base_precision)
        elif otype is _MARKET:
            need = cmd.quote_qty_raw or market_buy_cost(sym, cmd.qty_raw, acct.id, cmd.stp)
        else:  # STOP_LOSS / TAKE_PROFIT buy: reserved at the stop price, re-checked at trigger
            need = quote_amount(cmd.stop_price_raw, cmd.qty_raw, spec.base_precision)
    else:
        asset, precision = spec.base, spec.base_precision
        need = cmd.qty_raw
    bal = acct.balances.get(asset)
    free = bal.free if bal is not None else 0
    if otype is _MARKET and cmd.quote_qty_raw and cmd.side is not _BUY:
        # Selling for a quote amount: the base needed is unknown until matched, so the whole
        # free base is reserved for the instant of matching and the rest released.
        if free == 0:
            return insufficient(acct, asset, free, 1, precision)
        return free
    if need > free:
        return insufficient(acct, asset, free, need, precision)
    return need


def market_buy_cost(sym: SymbolState, qty: int, account_id: int, stp: SelfTradePrevention) -> int:
    """Quote needed to buy `qty` from the current asks (what is there, if less).

    Under EXPIRE_MAKER the buyer's own asks expire in the match instead of filling it, so they
    are skipped here: the budget must cover the asks behind them that the order will reach.
    """
    cost = 0
    base_precision = sym.spec.base_precision
    skip_own = stp is SelfTradePrevention.EXPIRE_MAKER
    for price, level in sym.book.asks.items():
        for order in level.values():
            if skip_own and order.account_id == account_id:
                continue
            take = min(qty, order.qty - order.executed)
            cost += quote_amount(price, take, base_precision)
            qty -= take
            if not qty:
                return cost
    return cost


def insufficient(
    acct: Account, asset: str, free: int, need: int, precision: int, what: str = "this order"
) -> Refusal:
    """The one sentence for funds that are not there, for orders and withdrawals alike."""
    return Refusal(
        RejectCode.INSUFFICIENT_BALANCE,
        f"account {acct.id} has {to_plain(free, precision)} {asset} free; "
        f"{what} needs {to_plain(need, precision)} {asset}",
    )


def _invalid(reason: str) -> Refusal:
    return Refusal(RejectCode.INVALID_PARAMETER, reason)
