"""Matching behaviour, mostly as tables: priority, fills, time in force, market and stop orders,
self-trade prevention, cancels, fees, freezes and the funds lifecycle.

Statuses are Binance's names. Most worlds are fee-free so balances can be checked to the unit;
the fee tests use the symbols' 0.1 % rates. Every test ends with the invariants of DESIGN.md.
"""

from collections.abc import Callable
from typing import NamedTuple

import pytest

from bourse.commands import (
    DefineFeeTier,
    FreezeAccount,
    SetAccountFeeTier,
    UnfreezeAccount,
)
from bourse.domain.enums import (
    CancelReplaceMode,
    CancelRestriction,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from bourse.domain.rejections import RejectCode
from bourse.engine.invariants import violations
from bourse.engine.state import FEE_ACCOUNT_ID
from bourse.events import (
    AccountFeeTierChanged,
    AccountFrozen,
    AccountUnfrozen,
    AnyEvent,
    BalanceChanged,
    CommandRejected,
    DepositCredited,
    FeeTierDefined,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderTriggered,
    TradeExecuted,
    WithdrawalCompleted,
    WithdrawalFailed,
    WithdrawalRequested,
)
from tests.builders import BTC_ADDRESS, Runner, accepted_id, of, one, raw, world

BUY, SELL = Side.BUY, Side.SELL
S = OrderStatus
GTC, IOC, FOK = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK
STP = SelfTradePrevention
ONLY_NEW, ONLY_PART = CancelRestriction.ONLY_NEW, CancelRestriction.ONLY_PARTIALLY_FILLED


def other(side: Side) -> Side:
    return SELL if side is BUY else BUY


def fills(events: list[AnyEvent]) -> list[tuple[int, int]]:
    """(price, qty) of each trade, raw."""
    return [(t.price_raw, t.qty_raw) for t in of(events, TradeExecuted)]


def pq(*pairs: tuple[str, str]) -> list[tuple[int, int]]:
    return [(raw(p), raw(q)) for p, q in pairs]


def status_of(r: Runner, order_id: int, events: list[AnyEvent]) -> OrderStatus:
    """The order's status after `events`: open orders from the state, closed ones from events."""
    for acct in r.state.accounts.values():
        if order_id in acct.open_orders:
            return acct.open_orders[order_id].status
    for e in reversed(events):
        if isinstance(e, OrderExpired) and e.order_id == order_id:
            return e.status
        if isinstance(e, OrderCanceled) and e.order_id == order_id:
            return S.CANCELED
        if isinstance(e, TradeExecuted) and e.taker_order_id == order_id:
            return e.taker_status
        if isinstance(e, TradeExecuted) and e.maker_order_id == order_id:
            return e.maker_status
    raise AssertionError(f"order {order_id} is neither open nor ended in {events}")


def held(r: Runner, order_id: int) -> int:
    for acct in r.state.accounts.values():
        if order_id in acct.open_orders:
            return acct.open_orders[order_id].held
    return 0


# --- priority and statuses -------------------------------------------------------------------


@pytest.mark.parametrize("taker_side", [BUY, SELL])
def test_better_price_first_then_arrival_order(taker_side: Side) -> None:
    r = world(accounts=4, fees=False)
    maker_side = other(taker_side)
    better = "49990" if maker_side is SELL else "50010"
    first = accepted_id(r.limit(1, maker_side, "50000", "0.1"))
    second = accepted_id(r.limit(2, maker_side, "50000", "0.1"))
    best = accepted_id(r.limit(3, maker_side, better, "0.1"))  # better price, arrives last

    events = r.limit(4, taker_side, "50000", "0.25")

    trades = of(events, TradeExecuted)
    assert [(t.maker_order_id, t.price_raw, t.qty_raw) for t in trades] == [
        (best, raw(better), raw("0.1")),
        (first, raw("50000"), raw("0.1")),
        (second, raw("50000"), raw("0.05")),
    ]
    assert [t.maker_status for t in trades] == [S.FILLED, S.FILLED, S.PARTIALLY_FILLED]
    assert [t.taker_status for t in trades] == [S.PARTIALLY_FILLED, S.PARTIALLY_FILLED, S.FILLED]
    assert [t.trade_id for t in trades] == [1, 2, 3]
    assert all(t.taker_side is taker_side for t in trades)
    assert r.book(maker_side) == [(second, raw("50000"), raw("0.05"))]
    assert r.book(taker_side) == []
    assert r.state.symbols["BTCUSDT"].last_price == raw("50000")
    assert violations(r.state) == []


def test_statuses_new_partially_filled_filled_canceled() -> None:
    r = world(accounts=2, fees=False)
    maker = accepted_id(r.limit(1, SELL, "50000", "0.3"))
    assert r.state.accounts[1].open_orders[maker].status is S.NEW

    t1 = r.limit(2, BUY, "50000", "0.1")
    trade = one(t1, TradeExecuted)
    assert (trade.maker_status, trade.taker_status) == (S.PARTIALLY_FILLED, S.FILLED)
    assert r.state.accounts[1].open_orders[maker].status is S.PARTIALLY_FILLED

    t2 = r.limit(2, BUY, "50000", "0.3")
    taker = accepted_id(t2)
    trade = one(t2, TradeExecuted)
    assert trade.qty_raw == raw("0.2")
    assert (trade.maker_status, trade.taker_status) == (S.FILLED, S.PARTIALLY_FILLED)
    assert maker not in r.state.accounts[1].open_orders
    assert r.book(BUY) == [(taker, raw("50000"), raw("0.1"))]
    assert r.state.accounts[2].open_orders[taker].status is S.PARTIALLY_FILLED

    canceled = one(r.cancel(2, taker), OrderCanceled)
    assert canceled.order_id == taker
    assert r.book(BUY) == [] and r.balance(2, "USDT")[1] == 0
    assert violations(r.state) == []


def test_trade_settles_both_sides_and_reports_balances() -> None:
    r = world(accounts=2, fees=False, funds={"BTC": "1", "USDT": "100000"})
    r.limit(1, SELL, "50000", "0.1")
    events = r.limit(2, BUY, "50000", "0.1")
    assert r.balance(1, "BTC") == (raw("0.9"), 0)
    assert r.balance(1, "USDT") == (raw("105000"), 0)
    assert r.balance(2, "BTC") == (raw("1.1"), 0)
    assert r.balance(2, "USDT") == (raw("95000"), 0)
    changes = of(events, BalanceChanged)
    assert events[-len(changes) :] == changes  # balances come last, once each
    keys = [(b.account_id, b.asset) for b in changes]
    assert len(keys) == len(set(keys))
    assert set(keys) == {(1, "BTC"), (1, "USDT"), (2, "BTC"), (2, "USDT")}
    for b in changes:
        assert (b.free_raw, b.locked_raw) == r.balance(b.account_id, b.asset)
    assert violations(r.state) == []


# --- time in force ---------------------------------------------------------------------------


class TifCase(NamedTuple):
    name: str
    tif: TimeInForce
    asks: tuple[tuple[str, str], ...]
    order: tuple[str, str]  # buy price, qty
    fills: tuple[tuple[str, str], ...]
    status: OrderStatus
    rests: str | None  # quantity left on the book, if it rests


TIF_CASES = [
    TifCase(
        "IOC remainder expires",
        IOC,
        (("50000", "0.1"),),
        ("50000", "0.3"),
        (("50000", "0.1"),),
        S.EXPIRED,
        None,
    ),
    TifCase(
        "IOC with nothing to take expires",
        IOC,
        (("50100", "0.1"),),
        ("50000", "0.3"),
        (),
        S.EXPIRED,
        None,
    ),
    TifCase(
        "FOK short of quantity expires untouched",
        FOK,
        (("50000", "0.1"), ("50010", "0.1")),
        ("50010", "0.3"),
        (),
        S.EXPIRED,
        None,
    ),
    TifCase(
        "FOK short within its price expires untouched",
        FOK,
        (("50000", "0.2"), ("50020", "0.2")),
        ("50010", "0.3"),
        (),
        S.EXPIRED,
        None,
    ),
    TifCase(
        "FOK fully fillable fills",
        FOK,
        (("50000", "0.1"), ("50010", "0.2")),
        ("50010", "0.3"),
        (("50000", "0.1"), ("50010", "0.2")),
        S.FILLED,
        None,
    ),
    TifCase(
        "GTC remainder rests",
        GTC,
        (("50000", "0.1"),),
        ("50000", "0.3"),
        (("50000", "0.1"),),
        S.PARTIALLY_FILLED,
        "0.2",
    ),
    TifCase(
        "GTC that does not cross rests NEW",
        GTC,
        (("50100", "0.1"),),
        ("50000", "0.3"),
        (),
        S.NEW,
        "0.3",
    ),
]


@pytest.mark.parametrize("case", TIF_CASES, ids=[c.name for c in TIF_CASES])
def test_time_in_force(case: TifCase) -> None:
    r = world(accounts=2, fees=False)
    ask_ids = [accepted_id(r.limit(1, SELL, p, q)) for p, q in case.asks]
    usdt_before = r.balance(2, "USDT")

    events = r.limit(2, BUY, *case.order, tif=case.tif)

    oid = accepted_id(events)
    assert fills(events) == pq(*case.fills)
    assert status_of(r, oid, events) is case.status
    if case.status is S.EXPIRED:
        assert one(events, OrderExpired).order_id == oid
    spent = sum(t.quote_qty_raw for t in of(events, TradeExecuted))
    price = raw(case.order[0])
    if case.rests is None:
        assert r.book(BUY) == []
        assert r.balance(2, "USDT") == (usdt_before[0] - spent, 0)
    else:
        assert r.book(BUY) == [(oid, price, raw(case.rests))]
        locked = price * raw(case.rests) // 10**8
        assert r.balance(2, "USDT") == (usdt_before[0] - spent - locked, locked)
    if not case.fills:
        assert [o for o, _, _ in r.book(SELL)] == ask_ids  # a refused FOK touches nothing
    assert violations(r.state) == []


def test_sell_ioc_remainder_expires_and_returns_the_base() -> None:
    r = world(accounts=2, fees=False)
    r.limit(1, BUY, "50000", "0.1")
    events = r.limit(2, SELL, "49000", "0.4", tif=IOC)
    assert fills(events) == pq(("50000", "0.1"))
    expired = one(events, OrderExpired)
    assert expired.status is S.EXPIRED
    assert r.balance(2, "BTC") == (raw("9.9"), 0)
    assert violations(r.state) == []


# --- price improvement -----------------------------------------------------------------------


def test_gtc_buy_crossing_at_a_better_price_releases_the_improvement() -> None:
    r = world(accounts=2, fees=False, funds={"BTC": "1", "USDT": "100000"})
    r.limit(1, SELL, "49000", "0.1")
    oid = accepted_id(r.limit(2, BUY, "50000", "0.3"))
    remaining_at_limit = raw("10000")  # 0.2 × 50000
    assert r.balance(2, "USDT") == (
        raw("100000") - raw("4900") - remaining_at_limit,
        remaining_at_limit,
    )
    assert held(r, oid) == remaining_at_limit
    assert r.book(BUY) == [(oid, raw("50000"), raw("0.2"))]
    assert violations(r.state) == []


def test_gtc_buy_filled_at_better_prices_keeps_nothing_locked() -> None:
    r = world(accounts=2, fees=False, funds={"BTC": "1", "USDT": "100000"})
    r.limit(1, SELL, "49000", "0.1")
    r.limit(1, SELL, "49500", "0.2")
    events = r.limit(2, BUY, "50000", "0.3")
    assert fills(events) == pq(("49000", "0.1"), ("49500", "0.2"))
    assert r.balance(2, "USDT") == (raw("100000") - raw("4900") - raw("9900"), 0)
    assert r.balance(2, "BTC") == (raw("1.3"), 0)
    assert violations(r.state) == []


def test_resting_buy_filled_later_at_its_own_price_spends_exactly_its_hold() -> None:
    r = world(accounts=2, fees=False, funds={"BTC": "1", "USDT": "100000"})
    oid = accepted_id(r.limit(2, BUY, "50000", "0.3"))
    r.limit(1, SELL, "49000", "0.1")  # the resting buy is the maker: trades at 50000
    assert held(r, oid) == raw("10000")
    r.limit(1, SELL, "50000", "0.2")
    assert r.balance(2, "USDT") == (raw("85000"), 0)
    assert violations(r.state) == []


# --- market orders ---------------------------------------------------------------------------


class MarketCase(NamedTuple):
    name: str
    side: Side
    qty: str | None
    quote: str | None
    fills: tuple[tuple[str, str], ...]
    status: OrderStatus


BOOK_ASKS = (("50000", "0.1"), ("50100", "0.1"))
BOOK_BIDS = (("49900", "0.1"), ("49800", "0.1"))
MARKET_CASES = [
    MarketCase(
        "buy by quantity", BUY, "0.15", None, (("50000", "0.1"), ("50100", "0.05")), S.FILLED
    ),
    MarketCase(
        "buy by quote quantity", BUY, None, "7505", (("50000", "0.1"), ("50100", "0.05")), S.FILLED
    ),
    MarketCase(
        "buy by quote, leftover below one step",
        BUY,
        None,
        "7505.3",
        (("50000", "0.1"), ("50100", "0.05")),
        S.FILLED,
    ),
    MarketCase(
        "buy beyond the book expires the rest",
        BUY,
        "0.5",
        None,
        (("50000", "0.1"), ("50100", "0.1")),
        S.EXPIRED,
    ),
    MarketCase(
        "buy by quote beyond the book expires the rest",
        BUY,
        None,
        "20000",
        (("50000", "0.1"), ("50100", "0.1")),
        S.EXPIRED,
    ),
    MarketCase(
        "sell by quantity", SELL, "0.15", None, (("49900", "0.1"), ("49800", "0.05")), S.FILLED
    ),
    MarketCase(
        "sell by quote quantity",
        SELL,
        None,
        "7480",
        (("49900", "0.1"), ("49800", "0.05")),
        S.FILLED,
    ),
    MarketCase(
        "sell beyond the book expires the rest",
        SELL,
        "0.5",
        None,
        (("49900", "0.1"), ("49800", "0.1")),
        S.EXPIRED,
    ),
    MarketCase(
        "sell by quote beyond the book expires the rest",
        SELL,
        None,
        "20000",
        (("49900", "0.1"), ("49800", "0.1")),
        S.EXPIRED,
    ),
]


@pytest.mark.parametrize("case", MARKET_CASES, ids=[c.name for c in MARKET_CASES])
def test_market_orders(case: MarketCase) -> None:
    r = world(accounts=2, fees=False)
    for p, q in BOOK_ASKS:
        r.limit(1, SELL, p, q)
    for p, q in BOOK_BIDS:
        r.limit(1, BUY, p, q)
    btc0, usdt0 = r.balance(2, "BTC")[0], r.balance(2, "USDT")[0]

    events = r.market(2, case.side, case.qty, quote=case.quote)

    oid = accepted_id(events)
    assert fills(events) == pq(*case.fills)
    assert status_of(r, oid, events) is case.status
    if case.status is S.EXPIRED:
        assert one(events, OrderExpired).reason == "no more liquidity"
    qty = sum(t.qty_raw for t in of(events, TradeExecuted))
    value = sum(t.quote_qty_raw for t in of(events, TradeExecuted))
    sign = 1 if case.side is BUY else -1
    assert r.balance(2, "BTC") == (btc0 + sign * qty, 0)
    assert r.balance(2, "USDT") == (usdt0 - sign * value, 0)
    assert oid not in r.state.accounts[2].open_orders
    if case.quote is not None:
        assert value <= raw(case.quote)
    assert violations(r.state) == []


@pytest.mark.parametrize(
    ("side", "qty", "quote"),
    [(BUY, "0.1", None), (BUY, None, "100"), (SELL, "0.1", None), (SELL, None, "100")],
    ids=["buy by quantity", "buy by quote", "sell by quantity", "sell by quote"],
)
def test_market_order_on_an_empty_book_expires(
    side: Side, qty: str | None, quote: str | None
) -> None:
    r = world(accounts=1, fees=False)
    before = {a: r.balance(1, a) for a in ("BTC", "USDT")}
    events = r.market(1, side, qty, quote=quote)
    oid = accepted_id(events)
    assert of(events, TradeExecuted) == []
    expired = one(events, OrderExpired)
    assert (expired.order_id, expired.status) == (oid, S.EXPIRED)
    assert {a: r.balance(1, a) for a in ("BTC", "USDT")} == before
    assert violations(r.state) == []


def test_limit_maker_rests_and_later_makes() -> None:
    r = world(accounts=2, fees=False)
    r.limit(1, SELL, "50100", "0.1")
    events = r.limit(2, BUY, "50000", "0.1", order_type=OrderType.LIMIT_MAKER)
    oid = accepted_id(events)
    assert of(events, TradeExecuted) == []
    assert r.book(BUY) == [(oid, raw("50000"), raw("0.1"))]
    assert r.state.accounts[2].open_orders[oid].status is S.NEW
    trade = one(r.market(1, SELL, "0.1"), TradeExecuted)
    assert (trade.maker_order_id, trade.maker_status) == (oid, S.FILLED)
    assert violations(r.state) == []


# --- stop orders -----------------------------------------------------------------------------


class StopCase(NamedTuple):
    name: str
    side: Side
    order_type: OrderType
    stop: str
    price: str | None
    move: str  # "down": the last price falls to 49500; "up": it rises to 50500
    fills: tuple[tuple[str, str], ...]
    status: OrderStatus
    rests_at: str | None


STOP_CASES = [
    StopCase(
        "sell STOP_LOSS",
        SELL,
        OrderType.STOP_LOSS,
        "49500",
        None,
        "down",
        (("49400", "0.05"),),
        S.FILLED,
        None,
    ),
    StopCase(
        "sell STOP_LOSS_LIMIT rests",
        SELL,
        OrderType.STOP_LOSS_LIMIT,
        "49500",
        "49450",
        "down",
        (),
        S.NEW,
        "49450",
    ),
    StopCase(
        "sell STOP_LOSS_LIMIT fills",
        SELL,
        OrderType.STOP_LOSS_LIMIT,
        "49500",
        "49400",
        "down",
        (("49400", "0.05"),),
        S.FILLED,
        None,
    ),
    StopCase(
        "sell TAKE_PROFIT",
        SELL,
        OrderType.TAKE_PROFIT,
        "50500",
        None,
        "up",
        (("49500", "0.01"), ("49400", "0.04")),
        S.FILLED,
        None,
    ),
    StopCase(
        "sell TAKE_PROFIT_LIMIT rests",
        SELL,
        OrderType.TAKE_PROFIT_LIMIT,
        "50500",
        "50550",
        "up",
        (),
        S.NEW,
        "50550",
    ),
    StopCase(
        "buy STOP_LOSS",
        BUY,
        OrderType.STOP_LOSS,
        "50500",
        None,
        "up",
        (("50600", "0.05"),),
        S.FILLED,
        None,
    ),
    StopCase(
        "buy STOP_LOSS_LIMIT rests",
        BUY,
        OrderType.STOP_LOSS_LIMIT,
        "50500",
        "50550",
        "up",
        (),
        S.NEW,
        "50550",
    ),
    StopCase(
        "buy TAKE_PROFIT",
        BUY,
        OrderType.TAKE_PROFIT,
        "49500",
        None,
        "down",
        (("50500", "0.01"), ("50600", "0.04")),
        S.FILLED,
        None,
    ),
    StopCase(
        "buy TAKE_PROFIT_LIMIT fills in part and rests",
        BUY,
        OrderType.TAKE_PROFIT_LIMIT,
        "49500",
        "50500",
        "down",
        (("50500", "0.01"),),
        S.PARTIALLY_FILLED,
        "50500",
    ),
]


def _stop_world() -> Runner:
    """Last price 50000; account 2 bids 0.01@49500, 0.1@49400 and asks 0.01@50500, 0.1@50600."""
    r = world(accounts=4, fees=False)
    r.limit(1, SELL, "50000", "0.01")
    r.limit(4, BUY, "50000", "0.01")
    r.limit(2, BUY, "49500", "0.01")
    r.limit(2, BUY, "49400", "0.1")
    r.limit(2, SELL, "50500", "0.01")
    r.limit(2, SELL, "50600", "0.1")
    return r


def _move(r: Runner, direction: str) -> list[AnyEvent]:
    """Account 4 trades 0.01 at the best bid (down) or the best ask (up)."""
    if direction == "down":
        return r.limit(4, SELL, "49500", "0.01")
    return r.limit(4, BUY, "50500", "0.01")


@pytest.mark.parametrize("case", STOP_CASES, ids=[c.name for c in STOP_CASES])
def test_stop_orders_trigger_on_the_last_trade_price(case: StopCase) -> None:
    r = _stop_world()
    placed = r.stop(3, case.side, case.order_type, case.stop, "0.05", case.price)
    accepted = one(placed, OrderAccepted)
    oid = accepted.order_id
    assert accepted.working is False
    assert of(placed, TradeExecuted) == []
    assert r.state.accounts[3].open_orders[oid].held > 0

    events = _move(r, case.move)

    trigger_price = raw("49500" if case.move == "down" else "50500")
    assert of(events, TradeExecuted)[0].price_raw == trigger_price  # the trade that triggers
    triggered = one(events, OrderTriggered)
    assert (triggered.order_id, triggered.last_price_raw) == (oid, trigger_price)
    after = events[events.index(triggered) :]
    assert fills(after) == pq(*case.fills)
    assert all(t.taker_order_id == oid for t in of(after, TradeExecuted))
    assert status_of(r, oid, events) is case.status
    if case.rests_at is None:
        assert oid not in r.state.accounts[3].open_orders
        assert r.balance(3, "BTC")[1] == 0 and r.balance(3, "USDT")[1] == 0
    else:
        assert oid in [o for o, _, _ in r.book(case.side)]
        assert [p for o, p, _ in r.book(case.side) if o == oid] == [raw(case.rests_at)]
    assert violations(r.state) == []


@pytest.mark.parametrize(
    ("side", "order_type", "stop", "move"),
    [
        (SELL, OrderType.STOP_LOSS, "49500", "up"),
        (SELL, OrderType.TAKE_PROFIT, "50500", "down"),
        (BUY, OrderType.STOP_LOSS, "50500", "down"),
        (BUY, OrderType.TAKE_PROFIT, "49500", "up"),
    ],
    ids=["sell stop-loss", "sell take-profit", "buy stop-loss", "buy take-profit"],
)
def test_stop_orders_ignore_a_move_the_other_way(
    side: Side, order_type: OrderType, stop: str, move: str
) -> None:
    r = _stop_world()
    oid = accepted_id(r.stop(3, side, order_type, stop, "0.05"))
    events = _move(r, move)
    assert of(events, OrderTriggered) == []
    order = r.state.accounts[3].open_orders[oid]
    assert (order.working, order.status) == (False, S.NEW)
    assert violations(r.state) == []


def test_stop_cascade_fires_in_turn() -> None:
    r = world(accounts=4, fees=False)
    r.limit(1, SELL, "50000", "0.01")
    r.limit(4, BUY, "50000", "0.01")
    for price, qty in (("49500", "0.01"), ("49400", "0.05"), ("49300", "0.1")):
        r.limit(2, BUY, price, qty)
    a = accepted_id(r.stop(3, SELL, OrderType.STOP_LOSS, "49500", "0.05"))
    b = accepted_id(r.stop(1, SELL, OrderType.STOP_LOSS, "49400", "0.05"))

    events = r.limit(4, SELL, "49500", "0.01")

    story = [
        (type(e).__name__, getattr(e, "order_id", getattr(e, "taker_order_id", None)))
        for e in events
        if isinstance(e, TradeExecuted | OrderTriggered)
    ]
    trigger_taker = one(events, OrderAccepted).order_id
    assert story == [
        ("TradeExecuted", trigger_taker),
        ("OrderTriggered", a),
        ("TradeExecuted", a),
        ("OrderTriggered", b),
        ("TradeExecuted", b),
    ]
    assert fills(events) == pq(("49500", "0.01"), ("49400", "0.05"), ("49300", "0.05"))
    assert [t.last_price_raw for t in of(events, OrderTriggered)] == [raw("49500"), raw("49400")]
    assert r.state.symbols["BTCUSDT"].last_price == raw("49300")
    assert violations(r.state) == []


def test_stops_reached_together_fire_oldest_first() -> None:
    r = _stop_world()
    # the older stop has the lower stop price, so stop-price order would fire it second
    older = accepted_id(r.stop(3, SELL, OrderType.STOP_LOSS_LIMIT, "49500", "0.01", "49000"))
    newer = accepted_id(r.stop(1, SELL, OrderType.STOP_LOSS_LIMIT, "49600", "0.01", "49000"))
    events = _move(r, "down")
    assert [t.order_id for t in of(events, OrderTriggered)] == [older, newer]
    assert violations(r.state) == []


def test_buy_market_stop_is_rebudgeted_at_trigger() -> None:
    r = _stop_world()
    oid = accepted_id(r.stop(3, BUY, OrderType.STOP_LOSS, "50500", "0.05"))
    assert held(r, oid) == raw("2525")  # reserved at the stop price
    events = _move(r, "up")
    trade = one(
        [e for e in events if isinstance(e, TradeExecuted) and e.taker_order_id == oid],
        TradeExecuted,
    )
    assert (trade.price_raw, trade.qty_raw) == (raw("50600"), raw("0.05"))
    assert r.balance(3, "USDT") == (raw("1000000") - raw("2530"), 0)
    assert violations(r.state) == []


# --- self-trade prevention -------------------------------------------------------------------


class StpCase(NamedTuple):
    mode: SelfTradePrevention
    trades_with: tuple[str, ...]  # "own" / "other" makers traded, in order
    expired: tuple[str, ...]  # orders expired in the match: "own" maker, "taker"
    taker_status: OrderStatus


STP_CASES = [
    StpCase(STP.NONE, ("own", "other"), (), S.FILLED),
    StpCase(STP.EXPIRE_TAKER, (), ("taker",), S.EXPIRED_IN_MATCH),
    StpCase(STP.EXPIRE_MAKER, ("other",), ("own",), S.PARTIALLY_FILLED),
    StpCase(STP.EXPIRE_BOTH, (), ("own", "taker"), S.EXPIRED_IN_MATCH),
]


@pytest.mark.parametrize("case", STP_CASES, ids=[c.mode.value for c in STP_CASES])
def test_self_trade_prevention(case: StpCase) -> None:
    r = world(accounts=2, fees=False)
    ids = {
        "own": accepted_id(r.limit(1, SELL, "50000", "0.1")),
        "other": accepted_id(r.limit(2, SELL, "50000", "0.1")),
    }
    events = r.limit(1, BUY, "50000", "0.15", stp=case.mode)
    ids["taker"] = accepted_id(events)

    trades = of(events, TradeExecuted)
    assert [t.maker_order_id for t in trades] == [ids[w] for w in case.trades_with]
    if case.mode is STP.NONE:
        assert trades[0].maker_account_id == trades[0].taker_account_id == 1
    expired = of(events, OrderExpired)
    assert [(e.order_id, e.status) for e in expired] == [
        (ids[w], S.EXPIRED_IN_MATCH) for w in case.expired
    ]
    assert all(e.reason for e in expired)
    assert status_of(r, ids["taker"], events) is case.taker_status
    if case.mode is STP.EXPIRE_MAKER:  # the rest of the taker rests at its limit
        assert r.book(BUY) == [(ids["taker"], raw("50000"), raw("0.05"))]
        assert r.balance(1, "USDT")[1] == raw("2500")
    else:
        assert r.book(BUY) == []
        assert r.balance(1, "USDT")[1] == 0
    assert r.balance(1, "BTC")[1] == (
        raw("0.1") if "own" not in case.expired + case.trades_with else 0
    )
    assert violations(r.state) == []


def test_fok_counts_only_what_self_trade_prevention_lets_it_take() -> None:
    r = world(accounts=2, fees=False)
    own = accepted_id(r.limit(1, SELL, "50000", "0.1"))
    r.limit(2, SELL, "50000", "0.1")
    events = r.limit(1, BUY, "50000", "0.15", tif=FOK, stp=STP.EXPIRE_MAKER)
    assert fills(events) == []  # only 0.1 is not its own
    assert one(events, OrderExpired).status is S.EXPIRED
    assert own in r.state.accounts[1].open_orders  # nothing was matched, so nothing expired
    assert violations(r.state) == []


@pytest.mark.parametrize("trigger", [False, True], ids=["market", "triggered stop-loss"])
def test_market_buy_expiring_its_own_asks_still_fills_in_full(trigger: bool) -> None:
    # EXPIRE_MAKER takes the buyer's own asks off the book and goes on matching; its budget must
    # not have been sized on those asks, or the order stops short with liquidity left.
    r = world(accounts=3, fees=False)
    own = accepted_id(r.limit(1, SELL, "50000", "0.1"))
    r.limit(2, SELL, "50100", "0.1")
    if trigger:
        r.limit(2, BUY, "49900", "0.01")
        r.limit(3, SELL, "49900", "0.01")  # last price 49900
        oid = accepted_id(r.stop(1, BUY, OrderType.STOP_LOSS, "49950", "0.1"))
        r.limit(3, BUY, "49950", "0.01")
        events = r.limit(2, SELL, "49950", "0.01")  # trades at 49950: the stop fires
        one(events, OrderTriggered)
    else:
        events = r.market(1, BUY, "0.1", stp=STP.EXPIRE_MAKER)
        oid = accepted_id(events)
    expired = [(e.order_id, e.status) for e in of(events, OrderExpired)]
    assert expired == [(own, S.EXPIRED_IN_MATCH)]
    mine = [t for t in of(events, TradeExecuted) if t.taker_order_id == oid]
    assert [(t.price_raw, t.qty_raw) for t in mine] == pq(("50100", "0.1"))
    assert status_of(r, oid, events) is S.FILLED
    assert r.balance(1, "USDT")[1] == 0
    assert violations(r.state) == []


# --- cancels ---------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["order id", "client order id", "both"])
def test_cancel_one_order(by: str) -> None:
    r = world(accounts=1, fees=False)
    oid = accepted_id(r.limit(1, BUY, "49000", "0.1", cid="mine"))
    assert r.balance(1, "USDT")[1] == raw("4900")
    events = {
        "order id": lambda: r.cancel(1, oid),
        "client order id": lambda: r.cancel(1, cid="mine"),
        "both": lambda: r.cancel(1, oid, cid="mine"),
    }[by]()
    canceled = one(events, OrderCanceled)
    assert (canceled.order_id, canceled.client_order_id) == (oid, "mine")
    assert "account:1" in canceled.reason
    assert r.book(BUY) == [] and r.balance(1, "USDT") == (raw("1000000"), 0)
    assert one(r.cancel(1, oid), CommandRejected).code is RejectCode.UNKNOWN_ORDER
    assert violations(r.state) == []


def test_cancel_a_waiting_stop() -> None:
    r = world(accounts=1, fees=False)
    oid = accepted_id(r.stop(1, SELL, OrderType.STOP_LOSS, "49000", "0.1"))
    assert r.balance(1, "BTC")[1] == raw("0.1")
    one(r.cancel(1, oid), OrderCanceled)
    sym = r.state.symbols["BTCUSDT"]
    assert len(sym.stops_falling) == len(sym.stops_rising) == 0
    assert r.balance(1, "BTC") == (raw("10"), 0)
    assert violations(r.state) == []


def test_a_cancel_event_says_what_the_order_was_when_it_ended() -> None:
    """A gateway renders a cancel's answer from its event alone: the order's terms and fills."""
    r = world(accounts=2, fees=False)
    oid = accepted_id(r.limit(1, SELL, "50000", "0.3", cid="mine", stp=STP.EXPIRE_BOTH))
    r.limit(2, BUY, "50000", "0.1")
    canceled = one(r.cancel(1, oid), OrderCanceled)
    assert (canceled.order_id, canceled.client_order_id, canceled.symbol) == (
        oid,
        "mine",
        "BTCUSDT",
    )
    assert (canceled.side, canceled.order_type, canceled.time_in_force, canceled.stp) == (
        SELL, OrderType.LIMIT, GTC, STP.EXPIRE_BOTH,
    )  # fmt: skip
    assert (canceled.price_raw, canceled.qty_raw, canceled.quote_qty_raw) == (
        raw("50000"), raw("0.3"), 0,
    )  # fmt: skip
    assert (canceled.executed_raw, canceled.cum_quote_raw) == (raw("0.1"), raw("5000"))
    assert canceled.stop_price_raw == 0

    stop = accepted_id(r.stop(1, SELL, OrderType.STOP_LOSS_LIMIT, "48000", "0.1", price="47900"))
    canceled = one(r.cancel(1, stop), OrderCanceled)
    assert (canceled.order_type, canceled.stop_price_raw, canceled.price_raw) == (
        OrderType.STOP_LOSS_LIMIT, raw("48000"), raw("47900"),
    )  # fmt: skip
    assert (canceled.executed_raw, canceled.cum_quote_raw) == (0, 0)
    assert violations(r.state) == []


def test_a_restricted_cancel_cancels_only_an_order_in_that_status() -> None:
    r = world(accounts=2, fees=False)
    new = accepted_id(r.limit(1, SELL, "51000", "0.1"))
    part = accepted_id(r.limit(1, SELL, "50000", "0.3"))
    r.limit(2, BUY, "50000", "0.1")
    assert r.state.accounts[1].open_orders[part].status is S.PARTIALLY_FILLED

    for oid, restriction in ((new, ONLY_PART), (part, ONLY_NEW)):
        refused = one(r.cancel(1, oid, restriction=restriction), CommandRejected)
        assert refused.code is RejectCode.CANCEL_RESTRICTED
        assert f"order {oid}" in refused.reason and restriction in refused.reason
    assert set(r.state.accounts[1].open_orders) == {new, part}  # both still open

    assert one(r.cancel(1, new, restriction=ONLY_NEW), OrderCanceled).order_id == new
    assert one(r.cancel(1, part, restriction=ONLY_PART), OrderCanceled).order_id == part
    # an unknown order stays unknown, restricted or not
    unknown = one(r.cancel(1, part, restriction=ONLY_PART), CommandRejected)
    assert unknown.code is RejectCode.UNKNOWN_ORDER
    assert r.state.accounts[1].open_orders == {}
    assert violations(r.state) == []


def test_cancel_replace_with_a_restriction_the_old_order_fails() -> None:
    """STOP_ON_FAILURE refuses the whole command; ALLOW_FAILURE reports the cancel leg's refusal
    and places the new order (Binance's -2022 and -2021)."""
    r = world(accounts=1, fees=False)
    old = accepted_id(r.limit(1, BUY, "49000", "0.1"))
    new_order = r.order(1, BUY, OrderType.LIMIT, price="49500", qty="0.2")
    stopped = r.cancel_replace(1, new_order, order_id=old, restriction=ONLY_PART)
    assert [type(e) for e in stopped] == [CommandRejected]
    assert one(stopped, CommandRejected).code is RejectCode.CANCEL_RESTRICTED

    events = r.cancel_replace(
        1, new_order, order_id=old, restriction=ONLY_PART, mode=CancelReplaceMode.ALLOW_FAILURE
    )
    assert one(events, CommandRejected).code is RejectCode.CANCEL_RESTRICTED
    assert of(events, OrderCanceled) == []
    new = accepted_id(events)
    assert set(r.state.accounts[1].open_orders) == {old, new}
    assert violations(r.state) == []


def test_cancel_all_of_a_symbol() -> None:
    r = world(accounts=2, fees=False)
    mine = [
        accepted_id(r.limit(1, BUY, "49000", "0.1")),
        accepted_id(r.limit(1, SELL, "51000", "0.1")),
        accepted_id(r.stop(1, SELL, OrderType.STOP_LOSS, "48000", "0.1")),
    ]
    eth = accepted_id(r.limit(1, BUY, "3000", "1", symbol="ETHUSDT"))
    theirs = accepted_id(r.limit(2, BUY, "49000", "0.1"))

    events = r.cancel_all(1)

    assert [c.order_id for c in of(events, OrderCanceled)] == mine
    assert set(r.state.accounts[1].open_orders) == {eth}
    assert [o for o, _, _ in r.book(BUY)] == [theirs]
    assert r.balance(1, "BTC")[1] == 0 and r.balance(1, "USDT")[1] == raw("3000")
    assert violations(r.state) == []


def test_cancel_replace_stop_on_failure_success() -> None:
    r = world(accounts=1, fees=False)
    old = accepted_id(r.limit(1, BUY, "49000", "0.1", cid="quote"))
    new_order = r.order(1, BUY, OrderType.LIMIT, price="49500", qty="0.2", cid="quote")
    events = r.cancel_replace(1, new_order, cid="quote")
    assert [type(e) for e in events[:2]] == [OrderCanceled, OrderAccepted]
    new = accepted_id(events)
    assert one(events, OrderCanceled).order_id == old
    assert r.book(BUY) == [(new, raw("49500"), raw("0.2"))]
    assert r.balance(1, "USDT")[1] == raw("9900")
    assert violations(r.state) == []


def test_cancel_replace_stop_on_failure_keeps_the_cancel_when_the_new_order_fails() -> None:
    # Binance answers -2021 "Order cancel-replace partially failed": the cancel stands.
    r = world(accounts=1, fees=False, funds={"USDT": "10000"})
    old = accepted_id(r.limit(1, BUY, "49000", "0.1"))
    new_order = r.order(1, BUY, OrderType.LIMIT, price="49000", qty="1")
    events = r.cancel_replace(1, new_order, order_id=old)
    assert one(events, OrderCanceled).order_id == old
    assert one(events, CommandRejected).code is RejectCode.INSUFFICIENT_BALANCE
    assert of(events, OrderAccepted) == []
    assert r.book(BUY) == [] and r.balance(1, "USDT") == (raw("10000"), 0)
    assert violations(r.state) == []


def test_cancel_replace_stop_on_failure_does_not_place_when_the_cancel_fails() -> None:
    r = world(accounts=1, fees=False)
    new_order = r.order(1, BUY, OrderType.LIMIT, price="49000", qty="0.1")
    events = r.cancel_replace(1, new_order, order_id=12345)
    assert one(events, CommandRejected).code is RejectCode.UNKNOWN_ORDER
    assert len(events) == 1 and r.book(BUY) == []
    assert violations(r.state) == []


def test_cancel_replace_allow_failure_places_even_when_the_cancel_fails() -> None:
    r = world(accounts=1, fees=False)
    new_order = r.order(1, BUY, OrderType.LIMIT, price="49000", qty="0.1")
    events = r.cancel_replace(1, new_order, cid="gone", mode=CancelReplaceMode.ALLOW_FAILURE)
    rejected = one(events, CommandRejected)
    assert (rejected.code, rejected.client_order_id) == (RejectCode.UNKNOWN_ORDER, "gone")
    assert events.index(rejected) < events.index(one(events, OrderAccepted))
    assert r.book(BUY) == [(accepted_id(events), raw("49000"), raw("0.1"))]
    assert violations(r.state) == []


def test_cancel_replace_allow_failure_when_both_fail_changes_nothing() -> None:
    r = world(accounts=1, fees=False, funds={"USDT": "100"})
    new_order = r.order(1, BUY, OrderType.LIMIT, price="49000", qty="0.1")
    events = r.cancel_replace(1, new_order, order_id=9, mode=CancelReplaceMode.ALLOW_FAILURE)
    assert [e.code for e in events if isinstance(e, CommandRejected)] == [
        RejectCode.UNKNOWN_ORDER,
        RejectCode.INSUFFICIENT_BALANCE,
    ]
    assert len(events) == 2
    assert violations(r.state) == []


# --- client order ids ------------------------------------------------------------------------


def _close_by_fill(r: Runner) -> None:
    r.limit(1, SELL, "50000", "0.1", cid="X")
    r.limit(2, BUY, "50000", "0.1")


def _close_as_filled_taker(r: Runner) -> None:
    r.limit(2, BUY, "50000", "0.1")
    r.limit(1, SELL, "50000", "0.1", cid="X")


def _close_by_cancel(r: Runner) -> None:
    r.limit(1, SELL, "50000", "0.1", cid="X")
    r.cancel(1, cid="X")


def _close_by_ioc_expiry(r: Runner) -> None:
    r.limit(1, SELL, "50000", "0.1", cid="X", tif=IOC)


def _close_in_match(r: Runner) -> None:
    r.limit(1, SELL, "50000", "0.1", cid="X")
    r.limit(1, BUY, "50000", "0.1", stp=STP.EXPIRE_MAKER)


def _close_by_freeze(r: Runner) -> None:
    r.limit(1, SELL, "50000", "0.1", cid="X")
    r.do(FreezeAccount, account_id=1)
    r.do(UnfreezeAccount, account_id=1)


REUSE_CASES = [
    _close_by_fill,
    _close_as_filled_taker,
    _close_by_cancel,
    _close_by_ioc_expiry,
    _close_in_match,
    _close_by_freeze,
]


@pytest.mark.parametrize("close", REUSE_CASES, ids=[f.__name__[1:] for f in REUSE_CASES])
def test_client_order_id_is_reusable_once_the_order_closes(close: Callable[[Runner], None]) -> None:
    r = world(accounts=2, fees=False)
    close(r)
    assert "X" not in r.state.accounts[1].client_ids
    events = r.limit(1, SELL, "52000", "0.1", cid="X")
    assert one(events, OrderAccepted).client_order_id == "X"
    assert one(r.limit(1, SELL, "53000", "0.1", cid="X"), CommandRejected).code is (
        RejectCode.DUPLICATE_CLIENT_ORDER_ID
    )
    assert violations(r.state) == []


# --- fees ------------------------------------------------------------------------------------


def test_fees_go_to_the_fee_account_and_tiers_discount_them() -> None:
    r = world(accounts=2, funds={"BTC": "10", "USDT": "1000000"})  # 0.1 % maker and taker
    r.limit(1, SELL, "50000", "1")
    trade = one(r.limit(2, BUY, "50000", "1"), TradeExecuted)
    # the buyer pays in base what it receives, the seller in quote
    assert (trade.maker_fee_raw, trade.taker_fee_raw) == (raw("50"), raw("0.001"))
    assert r.balance(FEE_ACCOUNT_ID, "USDT") == (raw("50"), 0)
    assert r.balance(FEE_ACCOUNT_ID, "BTC") == (raw("0.001"), 0)
    assert r.balance(1, "USDT") == (raw("1049950"), 0)
    assert r.balance(2, "BTC") == (raw("10.999"), 0)

    one(
        r.do(DefineFeeTier, tier=1, maker_multiplier_ppm=500_000, taker_multiplier_ppm=250_000),
        FeeTierDefined,
    )
    for acct in (1, 2):
        one(r.do(SetAccountFeeTier, account_id=acct, fee_tier=1), AccountFeeTierChanged)

    # now the buyer makes (0.05 % of 1 BTC) and the seller takes (0.025 % of 50000 USDT)
    r.limit(2, BUY, "50000", "1")
    trade = one(r.limit(1, SELL, "50000", "1"), TradeExecuted)
    assert (trade.maker_fee_raw, trade.taker_fee_raw) == (raw("0.0005"), raw("12.5"))
    assert r.balance(FEE_ACCOUNT_ID, "BTC") == (raw("0.0015"), 0)
    assert r.balance(FEE_ACCOUNT_ID, "USDT") == (raw("62.5"), 0)
    assert r.balance(2, "BTC") == (raw("11.9985"), 0)
    assert r.balance(1, "USDT") == (raw("1049950") + raw("49987.5"), 0)
    assert violations(r.state) == []


def test_fee_account_cannot_be_given_a_tier() -> None:
    r = world(accounts=1)
    rejected = one(r.do(SetAccountFeeTier, account_id=FEE_ACCOUNT_ID, fee_tier=0), CommandRejected)
    assert rejected.code is RejectCode.UNKNOWN_ACCOUNT
    assert violations(r.state) == []


# --- freezes ---------------------------------------------------------------------------------


def test_freeze_cancels_open_orders_and_releases_holds() -> None:
    r = world(accounts=2, fees=False)
    orders = [
        accepted_id(r.limit(1, BUY, "49000", "0.1")),
        accepted_id(r.limit(1, SELL, "51000", "0.1")),
        accepted_id(r.stop(1, SELL, OrderType.STOP_LOSS_LIMIT, "48000", "0.1", "47900")),
    ]
    eth = accepted_id(r.limit(1, SELL, "3100", "1", symbol="ETHUSDT"))
    r.withdraw(1, "USDT", "1000")
    other_order = accepted_id(r.limit(2, BUY, "48500", "0.1"))

    events = r.do(FreezeAccount, account_id=1, reason="sanctions hit", evidence="list v7 #42")

    frozen = one(events, AccountFrozen)
    assert (frozen.actor, frozen.reason, frozen.evidence) == (
        "ops:test",
        "sanctions hit",
        "list v7 #42",
    )
    assert isinstance(events[0], AccountFrozen)
    canceled = of(events, OrderCanceled)
    assert [c.order_id for c in canceled] == [*orders, eth]  # BTCUSDT then ETHUSDT
    assert all(c.reason == "account frozen: sanctions hit" for c in canceled)
    assert r.state.accounts[1].open_orders == {}
    assert r.balance(1, "BTC") == (raw("10"), 0)
    assert r.balance(1, "ETH") == (raw("100"), 0)
    assert r.balance(1, "USDT") == (raw("999000"), raw("1000"))  # the withdrawal stays pending
    assert [o for o, _, _ in r.book(BUY)] == [other_order]
    assert r.book(SELL) == []
    sym = r.state.symbols["BTCUSDT"]
    assert len(sym.stops_falling) == len(sym.stops_rising) == 0
    assert violations(r.state) == []

    assert one(r.limit(1, BUY, "49000", "0.1"), CommandRejected).code is RejectCode.ACCOUNT_FROZEN
    unfrozen = one(r.do(UnfreezeAccount, account_id=1, reason="cleared"), AccountUnfrozen)
    assert unfrozen.reason == "cleared"
    one(r.limit(1, BUY, "49000", "0.1"), OrderAccepted)
    assert violations(r.state) == []


# --- deposits and withdrawals ----------------------------------------------------------------


def test_deposit_and_withdrawal_lifecycle() -> None:
    r = world(accounts=1, funds={})
    credited = one(r.deposit(1, "BTC", "2"), DepositCredited)
    assert (credited.account_id, credited.asset, credited.amount_raw) == (1, "BTC", raw("2"))
    assert r.balance(1, "BTC") == (raw("2"), 0)

    requested = one(r.withdraw(1, "BTC", "0.5", to=BTC_ADDRESS), WithdrawalRequested)
    assert (requested.withdrawal_id, requested.destination) == (1, BTC_ADDRESS)
    assert r.balance(1, "BTC") == (raw("1.5"), raw("0.5"))
    assert violations(r.state) == []

    completed = one(r.complete_withdrawal(1), WithdrawalCompleted)
    assert (completed.amount_raw, completed.tx_ref) == (raw("0.5"), "chain-tx")
    assert r.balance(1, "BTC") == (raw("1.5"), 0)
    assert r.state.withdrawn["BTC"] == raw("0.5")
    assert violations(r.state) == []

    second = one(r.withdraw(1, "BTC", "1"), WithdrawalRequested).withdrawal_id
    assert second == 2
    assert r.balance(1, "BTC") == (raw("0.5"), raw("1"))
    failed = one(r.fail_withdrawal(second, reason="address on a blocklist"), WithdrawalFailed)
    assert (failed.amount_raw, failed.reason) == (raw("1"), "address on a blocklist")
    assert r.balance(1, "BTC") == (raw("1.5"), 0)
    assert r.state.withdrawn["BTC"] == raw("0.5")

    for settle in (r.complete_withdrawal, r.fail_withdrawal):
        for wid in (1, 2):
            rejected = one(settle(wid), CommandRejected)
            assert rejected.code is RejectCode.UNKNOWN_WITHDRAWAL
    assert r.state.deposited["BTC"] == raw("2")
    assert violations(r.state) == []


def test_funds_held_by_a_withdrawal_cannot_be_traded() -> None:
    r = world(accounts=1, fees=False, funds={"USDT": "1000"})
    r.withdraw(1, "USDT", "600")
    rejected = one(r.limit(1, BUY, "50000", "0.01"), CommandRejected)
    assert rejected.code is RejectCode.INSUFFICIENT_BALANCE
    assert "400 USDT free" in rejected.reason
    assert violations(r.state) == []
