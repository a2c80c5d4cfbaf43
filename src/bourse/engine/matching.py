"""Matching: a taker order against the book, price-time priority, self-trade prevention, fills.

Each fill settles through the ledger at once (buyer pays quote from its hold, seller delivers base
from its hold, each pays its fee in what it receives, to the fee account) and emits TradeExecuted.
"""

from bourse.domain.enums import OrderStatus, OrderType, SelfTradePrevention, Side
from bourse.domain.symbols import PPM, quote_amount
from bourse.engine import ledger
from bourse.engine.jurisdiction import trading_stopped
from bourse.engine.order_status import advance
from bourse.engine.orders import close, release_hold, unlink
from bourse.engine.output import Output
from bourse.engine.state import FEE_ACCOUNT_ID, EngineState, Order, SymbolState
from bourse.events import TradeExecuted

_BUY = Side.BUY
_MARKET = OrderType.MARKET
_FILLED = OrderStatus.FILLED
_PARTIAL = OrderStatus.PARTIALLY_FILLED
_IN_MATCH = OrderStatus.EXPIRED_IN_MATCH
_CANCELED = OrderStatus.CANCELED
_STP_NONE = SelfTradePrevention.NONE
_EXPIRE_TAKER = SelfTradePrevention.EXPIRE_TAKER
_EXPIRE_MAKER = SelfTradePrevention.EXPIRE_MAKER


def match(state: EngineState, out: Output, sym: SymbolState, taker: Order, market: bool) -> bool:
    """Trade `taker` against the opposite side until it is done, blocked or out of price.

    Returns False if the taker was expired in the match (self-trade prevention); the caller then
    must not rest or expire it again. `market` means no limit price (MARKET and triggered
    STOP_LOSS/TAKE_PROFIT orders), sized by quantity or, when `taker.quote_qty`, by quote amount.
    """
    spec = sym.spec
    scale = 10**spec.base_precision
    step = spec.lot_size.step_size_raw
    buying = taker.side is _BUY
    levels = sym.book.asks if buying else sym.book.bids
    limit = taker.price
    by_quote = taker.quote_qty > 0
    accounts = state.accounts
    taker_acct = accounts[taker.account_id]
    policed = bool(state.residence_policies or state.nationality_policies)
    while levels:
        key, level = levels.peekitem(0)
        price = key if buying else -key
        if not market and (price > limit if buying else price < limit):
            return True
        while level:
            maker: Order = next(iter(level.values()))
            if policed and _stopped_maker(state, out, sym, maker):
                continue  # close() took the maker off the book (and the level, if emptied)
            if maker.account_id == taker.account_id and taker.stp is not _STP_NONE:
                mode = taker.stp
                if mode is not _EXPIRE_TAKER:  # EXPIRE_MAKER or EXPIRE_BOTH
                    close(
                        out,
                        taker_acct,
                        sym,
                        maker,
                        _IN_MATCH,
                        f"self-trade prevented by order {taker.id} ({mode})",
                        on_book=True,
                    )
                if mode is not _EXPIRE_MAKER:  # EXPIRE_TAKER or EXPIRE_BOTH
                    close(
                        out,
                        taker_acct,
                        sym,
                        taker,
                        _IN_MATCH,
                        f"self-trade with order {maker.id} prevented ({mode})",
                        on_book=False,
                    )
                    return False
                continue  # close() took the maker off the book (and the level, if emptied)
            maker_left = maker.qty - maker.executed
            if by_quote:
                if buying:
                    qty = (taker.quote_qty - taker.cum_quote) * scale // price
                else:
                    qty = min((taker.quote_qty - taker.cum_quote) * scale // price, taker.held)
                qty = min(qty - qty % step, maker_left)
            else:
                qty = min(taker.qty - taker.executed, maker_left)
                if market and buying and quote_amount(price, qty, spec.base_precision) > taker.held:
                    qty = taker.held * scale // price  # the budget reserved at acceptance
                    qty -= qty % step
            if qty <= 0:
                return True
            _fill(state, out, sym, maker, taker, price, qty, maker_left == qty)
            if maker_left == qty:  # filled: off the book (and its level, if emptied)
                unlink(accounts[maker.account_id], sym, maker, on_book=True)
            if taker.status is _FILLED:
                break
        if not level:
            levels.pop(key, None)
        if taker.status is _FILLED:
            return True
    return True


def _stopped_maker(state: EngineState, out: Output, sym: SymbolState, maker: Order) -> bool:
    """A policy applies at once: a resting order of an account it stops trading is canceled when
    a taker meets it, even before the policy's sweep reaches that account."""
    acct = state.accounts[maker.account_id]
    stopped = trading_stopped(state, acct, out.ts_ms)
    if stopped is None:
        return False
    close(out, acct, sym, maker, _CANCELED, stopped.reason, on_book=True)
    return True


def _fill(
    state: EngineState,
    out: Output,
    sym: SymbolState,
    maker: Order,
    taker: Order,
    price: int,
    qty: int,
    maker_done: bool,
) -> None:
    spec = sym.spec
    value = quote_amount(price, qty, spec.base_precision)
    accounts = state.accounts
    maker_acct = accounts[maker.account_id]
    taker_acct = accounts[taker.account_id]
    tiers = state.fee_tiers
    maker_fee_rate = tiers[maker_acct.fee_tier].maker_rate(spec)
    taker_fee_rate = tiers[taker_acct.fee_tier].taker_rate(spec)
    if taker.side is _BUY:
        buyer, buyer_acct, buyer_rate = taker, taker_acct, taker_fee_rate
        seller, seller_acct, seller_rate = maker, maker_acct, maker_fee_rate
    else:
        buyer, buyer_acct, buyer_rate = maker, maker_acct, maker_fee_rate
        seller, seller_acct, seller_rate = taker, taker_acct, taker_fee_rate
    buyer_fee = qty * buyer_rate // PPM  # in base
    seller_fee = value * seller_rate // PPM  # in quote
    touched = out.touched
    fees = accounts[FEE_ACCOUNT_ID]
    base, quote = spec.base, spec.quote
    buyer.held -= value
    ledger.spend_locked(touched, buyer_acct.balance(quote), value)
    ledger.credit(touched, buyer_acct.balance(base), qty - buyer_fee)
    seller.held -= qty
    ledger.spend_locked(touched, seller_acct.balance(base), qty)
    ledger.credit(touched, seller_acct.balance(quote), value - seller_fee)
    if buyer_fee:
        ledger.credit(touched, fees.balance(base), buyer_fee)
    if seller_fee:
        ledger.credit(touched, fees.balance(quote), seller_fee)

    maker.executed += qty
    maker.cum_quote += value
    maker.status = advance(maker.status, _FILLED if maker_done else _PARTIAL, maker.id)
    if maker_done and maker.held:
        release_hold(out, maker_acct, sym, maker, maker.held)
    taker.executed += qty
    taker.cum_quote += value
    if taker.quote_qty:
        done = taker.quote_qty - taker.cum_quote < quote_amount(
            price, spec.lot_size.step_size_raw, spec.base_precision
        )
    else:
        done = taker.executed == taker.qty
    taker.status = advance(taker.status, _FILLED if done else _PARTIAL, taker.id)

    trade_id = sym.next_trade_id
    sym.next_trade_id = trade_id + 1
    sym.last_price = price
    out.events.append(
        TradeExecuted(
            symbol=spec.name,
            trade_id=trade_id,
            price_raw=price,
            qty_raw=qty,
            quote_qty_raw=value,
            taker_side=taker.side,
            maker_order_id=maker.id,
            taker_order_id=taker.id,
            maker_account_id=maker.account_id,
            taker_account_id=taker.account_id,
            maker_fee_raw=buyer_fee if buyer is maker else seller_fee,
            taker_fee_raw=buyer_fee if buyer is taker else seller_fee,
            maker_status=maker.status,
            taker_status=taker.status,
        )
    )


def fillable(state: EngineState, sym: SymbolState, taker: Order, ts_ms: int) -> int:
    """How much of a limit taker the book could fill now (for FOK), as matching would go:
    its own orders are skipped or end the count as its self-trade prevention mode says, and
    orders of accounts a policy stops trading are skipped (matching cancels them)."""
    policed = state.residence_policies or state.nationality_policies
    accounts = state.accounts
    buying = taker.side is _BUY
    levels = sym.book.asks if buying else sym.book.bids
    want = taker.qty
    total = 0
    stp = taker.stp
    for key, level in levels.items():
        price = key if buying else -key
        if price > taker.price if buying else price < taker.price:
            break
        for order in level.values():
            if order.account_id == taker.account_id and stp is not _STP_NONE:
                if stp is _EXPIRE_MAKER:
                    continue  # expired in the match, the taker goes on
                return total  # the taker expires here
            if policed and trading_stopped(state, accounts[order.account_id], ts_ms):
                continue
            total += order.qty - order.executed
            if total >= want:
                return want
    return total
