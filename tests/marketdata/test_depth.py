"""The depth projection against the engine's own book, after every command of random sessions.

Every order type, time in force and self-trade prevention mode, prices in a narrow band so that
orders cross, stops that trigger, cancels, cancel-replace, cancel-all, freezes (which cancel) and
symbol halts. A second projection seeded from the read model (the engine's export) half way
through must agree too (seeded again every 100 commands).
"""

import random

import pytest

from bourse.commands import FreezeAccount, SetSymbolStatus, UnfreezeAccount
from bourse.domain.enums import (
    LIMIT_PRICED_TYPES,
    STOP_TYPES,
    CancelReplaceMode,
    OrderType,
    SelfTradePrevention,
    Side,
    SymbolStatus,
    TimeInForce,
)
from bourse.engine.read_model import export
from bourse.engine.state import EngineState
from bourse.events import Outcome, TradeExecuted
from bourse.marketdata.depth import DepthBook
from tests.builders import Runner, raw, world

SYMBOLS = ("BTCUSDT", "ETHUSDT")
MID = {"BTCUSDT": 50000, "ETHUSDT": 3000}
QTYS = ("0.001", "0.002", "0.005", "0.01", "0.02", "0.05", "0.1", "0.3")


def engine_levels(state: EngineState, symbol: str, side: Side) -> list[tuple[int, int]]:
    return state.symbols[symbol].book.depth(side, 10**9)


def assert_same(book: DepthBook, state: EngineState) -> None:
    for symbol in SYMBOLS:
        for side in Side:
            assert book.levels(symbol, side, 10**9) == engine_levels(state, symbol, side), (
                symbol,
                side,
            )
    assert book.last_seq == state.last_seq


class Session:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.r: Runner = world(accounts=4, funds={"BTC": "20", "ETH": "300", "USDT": "2000000"})
        self.trades = 0

    def price(self, symbol: str, side: Side | None = None) -> str:
        """Buyers lean above the mid and sellers below it, so that orders cross often."""
        low, high = {Side.BUY: (-4, 8), Side.SELL: (-8, 4), None: (-8, 8)}[side]
        return str(MID[symbol] + self.rnd.randint(low, high) * 5)

    def place(self) -> list:  # type: ignore[type-arg]
        rnd, r = self.rnd, self.r
        symbol = rnd.choice(SYMBOLS)
        otype = rnd.choice([OrderType.LIMIT] * 6 + list(OrderType))
        side = rnd.choice(list(Side))
        kw = {
            "symbol": symbol,
            "tif": rnd.choice([TimeInForce.GTC] * 4 + [TimeInForce.IOC, TimeInForce.FOK]),
            "stp": rnd.choice(list(SelfTradePrevention)),
            "qty": rnd.choice(QTYS),
        }
        if otype in LIMIT_PRICED_TYPES:
            kw["price"] = self.price(symbol, side if rnd.random() < 0.2 else None)
        if otype in STOP_TYPES:
            kw["stop"] = self.price(symbol)
        if otype is OrderType.MARKET and rnd.random() < 0.3:
            kw["quote"], kw["qty"] = str(rnd.choice([50, 500, 5000])), None
        if otype not in (OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT):
            kw["tif"] = TimeInForce.GTC
        return r.execute(r.order(rnd.randint(1, 4), side, otype, **kw))

    def open_order(self) -> tuple[int, int, str] | None:
        orders = [o for a in self.r.state.accounts.values() for o in a.open_orders.values()]
        if not orders:
            return None
        o = self.rnd.choice(sorted(orders, key=lambda o: o.id))
        return o.account_id, o.id, o.symbol

    def step(self) -> list:  # type: ignore[type-arg]
        rnd, r = self.rnd, self.r
        roll = rnd.random()
        if roll < 0.85:
            return self.place()
        picked = self.open_order()
        if roll < 0.9 and picked:
            return r.cancel(picked[0], picked[1], symbol=picked[2])
        if roll < 0.93 and picked:
            new = r.order(
                picked[0],
                rnd.choice(list(Side)),
                OrderType.LIMIT,
                price=self.price(picked[2]),
                qty=rnd.choice(QTYS),
                symbol=picked[2],
            )
            mode = rnd.choice(list(CancelReplaceMode))
            return r.cancel_replace(picked[0], new, order_id=picked[1], mode=mode)
        if roll < 0.94:
            return r.cancel_all(rnd.randint(1, 4), rnd.choice(SYMBOLS))
        frozen = [a for a in range(1, 5) if r.state.accounts[a].frozen]
        if frozen:  # freezes and halts are short, so that most of the session trades
            return r.do(UnfreezeAccount, account_id=frozen[0])
        halted = [n for n in SYMBOLS if r.state.symbols[n].status is not SymbolStatus.TRADING]
        if halted:
            return r.do(SetSymbolStatus, symbol=halted[0], status=SymbolStatus.TRADING)
        if roll < 0.97:
            return r.do(FreezeAccount, account_id=rnd.randint(1, 4))
        status = rnd.choice([SymbolStatus.HALT, SymbolStatus.CANCEL_ONLY])
        return r.do(SetSymbolStatus, symbol=rnd.choice(SYMBOLS), status=status)


@pytest.mark.parametrize("seed", range(6))
def test_depth_follows_the_engine_book(seed: int) -> None:
    s = Session(seed)
    book = DepthBook.from_view(export(s.r.state))
    late: DepthBook | None = None
    steps = 600
    for i in range(steps):
        events = s.step()
        state = s.r.state
        outcome = Outcome(seq=state.last_seq, ts_ms=s.r.ts_ms, command="x", events=events)
        book.apply(outcome)
        if late is not None:
            late.apply(outcome)
            assert_same(late, state)
        assert_same(book, state)
        s.trades += sum(isinstance(e, TradeExecuted) for e in events)
        if i % 100 == 50:  # a fresh seed, with stops waiting and orders resting
            late = DepthBook.from_view(export(state))
            assert_same(late, state)
            assert book.apply(outcome) == {}  # an outcome already in the book is skipped
    assert s.trades > 50  # the session really traded


def test_changes_report_new_level_quantities() -> None:
    r = world(accounts=2)
    book = DepthBook.from_view(export(r.state))

    def run(events: list) -> dict:  # type: ignore[type-arg]
        out = book.apply(Outcome(seq=r.state.last_seq, ts_ms=0, command="x", events=events))
        return {s: (c.bids, c.asks) for s, c in out.items()}

    assert run(r.limit(1, Side.SELL, "50000", "0.5")) == {
        "BTCUSDT": ({}, {raw("50000"): raw("0.5")})
    }
    assert run(r.limit(1, Side.SELL, "50000", "0.25")) == {
        "BTCUSDT": ({}, {raw("50000"): raw("0.75")})
    }
    # a buy crossing both: takes 0.75, rests 0.25 at its own price
    assert run(r.limit(2, Side.BUY, "50010", "1")) == {
        "BTCUSDT": ({raw("50010"): raw("0.25")}, {raw("50000"): 0})
    }
    assert run(r.market(1, Side.SELL, "0.1")) == {"BTCUSDT": ({raw("50010"): raw("0.15")}, {})}
    assert book.best("BTCUSDT", Side.BUY) == (raw("50010"), raw("0.15"))
    assert book.best("BTCUSDT", Side.SELL) is None
    assert book.levels("NOPE", Side.BUY, 5) == []
