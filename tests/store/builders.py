"""Outcomes built directly, without an engine (a `Tape` numbers them, helpers make the events),
or taken from a real engine's `Runner` (`outcomes_of`)."""

import random
from collections.abc import Sequence

import sqlalchemy as sa

from bourse.domain.enums import (
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    SymbolStatus,
    TimeInForce,
)
from bourse.domain.filters import LotSize, Notional, PriceFilter
from bourse.domain.rejections import RejectCode
from bourse.domain.symbols import SymbolSpec
from bourse.events import (
    AccountOpened,
    AnyEvent,
    BalanceChanged,
    CommandRejected,
    OrderAccepted,
    OrderCanceled,
    Outcome,
    SymbolListed,
    TradeExecuted,
)
from bourse.store import schema
from tests.builders import Runner

T0 = 1_700_000_040_000  # a minute boundary
MINUTE = 60_000
BIG = 2**64 + 12_345  # above every 64-bit integer type


class Tape:
    """Hands out consecutive seqs; time advances only when asked."""

    def __init__(self, ts_ms: int = T0) -> None:
        self.seq = 0
        self.ts_ms = ts_ms

    def __call__(self, command: str, *events: AnyEvent, at: int | None = None) -> Outcome:
        self.seq += 1
        if at is not None:
            self.ts_ms = at
        return Outcome(seq=self.seq, ts_ms=self.ts_ms, command=command, events=list(events))


def accepted(
    order_id: int,
    account_id: int = 1,
    *,
    symbol: str = "BTCUSDT",
    side: Side = Side.BUY,
    price: int = 100,
    qty: int = 10,
    client_order_id: str = "",
    order_type: OrderType = OrderType.LIMIT,
    stop_price: int = 0,
    working: bool = True,
) -> OrderAccepted:
    return OrderAccepted(
        order_id=order_id,
        account_id=account_id,
        symbol=symbol,
        side=side,
        order_type=order_type,
        time_in_force=TimeInForce.GTC,
        price_raw=price,
        qty_raw=qty,
        quote_qty_raw=0,
        stop_price_raw=stop_price,
        client_order_id=client_order_id or f"c{order_id}",
        stp=SelfTradePrevention.EXPIRE_MAKER,
        working=working,
    )


def trade(
    trade_id: int,
    *,
    maker: int,
    taker: int,
    price: int = 100,
    qty: int = 1,
    symbol: str = "BTCUSDT",
    taker_side: Side = Side.BUY,
    maker_account: int = 1,
    taker_account: int = 2,
    maker_status: OrderStatus = OrderStatus.PARTIALLY_FILLED,
    taker_status: OrderStatus = OrderStatus.FILLED,
) -> TradeExecuted:
    return TradeExecuted(
        symbol=symbol,
        trade_id=trade_id,
        price_raw=price,
        qty_raw=qty,
        quote_qty_raw=price * qty,
        taker_side=taker_side,
        maker_order_id=maker,
        taker_order_id=taker,
        maker_account_id=maker_account,
        taker_account_id=taker_account,
        maker_fee_raw=qty // 1000,
        taker_fee_raw=price * qty // 1000,
        maker_status=maker_status,
        taker_status=taker_status,
    )


def balance(account_id: int, asset: str, free: int, locked: int = 0) -> BalanceChanged:
    return BalanceChanged(account_id=account_id, asset=asset, free_raw=free, locked_raw=locked)


def canceled(order_id: int, account_id: int = 1, symbol: str = "BTCUSDT") -> OrderCanceled:
    return OrderCanceled(
        order_id=order_id,
        account_id=account_id,
        symbol=symbol,
        client_order_id=f"c{order_id}",
        reason="canceled by the user",
    )


def rejected(account_id: int, reason: str = "not enough USDT") -> CommandRejected:
    return CommandRejected(
        command="PlaceOrder",
        account_id=account_id,
        symbol="BTCUSDT",
        client_order_id="x",
        code=RejectCode.INSUFFICIENT_BALANCE,
        reason=reason,
    )


def listed(name: str = "BTCUSDT") -> SymbolListed:
    spec = SymbolSpec(
        name=name,
        base=name[:3],
        quote=name[3:],
        base_precision=8,
        quote_precision=2,
        price_filter=PriceFilter(min_price_raw=1, max_price_raw=10**12, tick_size_raw=1),
        lot_size=LotSize(min_qty_raw=1, max_qty_raw=10**12, step_size_raw=1),
        market_lot_size=LotSize(min_qty_raw=1, max_qty_raw=10**12, step_size_raw=1),
        notional=Notional(min_notional_raw=1, max_notional_raw=10**15),
    )
    return SymbolListed(spec=spec, status=SymbolStatus.TRADING)


def random_tape(rng: random.Random, commands: int) -> list[Outcome]:
    """A plausible stream: accounts, orders, fills across minutes, cancels, balances, rejections.

    Not financially consistent (the store does not check that); what matters is that it touches
    every table and updates orders accepted many batches earlier.
    """
    tape = Tape()
    outcomes = [tape("ListSymbol", listed())]
    outcomes += [tape("OpenAccount", AccountOpened(account_id=a, fee_tier=0)) for a in (1, 2, 3)]
    open_orders: dict[int, int] = {}  # order id -> remaining qty
    next_order = next_trade = 1
    for _ in range(commands):
        tape.ts_ms += rng.choice((0, 1, 7_000, 31_000))
        account = rng.randint(1, 3)
        roll = rng.random()
        if roll < 0.1:
            outcomes.append(tape("PlaceOrder", rejected(account)))
        elif roll < 0.2 and open_orders:
            order_id = rng.choice(sorted(open_orders))
            del open_orders[order_id]
            events: list[AnyEvent] = [canceled(order_id, account)]
            outcomes.append(
                tape("CancelOrder", *events, balance(account, "USDT", rng.randint(0, BIG)))
            )
        else:
            taker = next_order
            next_order += 1
            qty = rng.randint(1, 5)
            events = [accepted(taker, account, qty=qty, price=rng.randint(90, 110))]
            for maker in sorted(open_orders)[: rng.randint(0, 2)]:
                fill = min(qty, open_orders[maker])
                if fill == 0:
                    break
                qty -= fill
                open_orders[maker] -= fill
                maker_done = open_orders[maker] == 0
                if maker_done:
                    del open_orders[maker]
                events.append(
                    trade(
                        next_trade,
                        maker=maker,
                        taker=taker,
                        qty=fill * BIG,
                        price=rng.randint(90, 110),
                        taker_side=rng.choice((Side.BUY, Side.SELL)),
                        maker_status=OrderStatus.FILLED
                        if maker_done
                        else OrderStatus.PARTIALLY_FILLED,
                        taker_status=OrderStatus.FILLED
                        if qty == 0
                        else OrderStatus.PARTIALLY_FILLED,
                    )
                )
                next_trade += 1
            if qty:
                open_orders[taker] = qty
            events += [
                balance(a, asset, rng.randint(0, BIG), rng.randint(0, 99))
                for a in (1, 2)
                for asset in ("BTC", "USDT")
            ]
            outcomes.append(tape("PlaceOrder", *events))
    return outcomes


def outcomes_of(r: Runner) -> list[Outcome]:
    """What the runtime would hand the projector for everything `r` executed."""
    return [
        Outcome(seq=n, ts_ms=cmd.ts_ms, command=type(cmd).__name__, events=events)
        for n, (cmd, events) in enumerate(zip(r.commands, r.events, strict=True), start=1)
    ]


def split(outcomes: Sequence[Outcome], sizes: Sequence[int]) -> list[list[Outcome]]:
    """Cut outcomes into consecutive batches of the given sizes (cycled)."""
    batches, i, k = [], 0, 0
    while i < len(outcomes):
        n = sizes[k % len(sizes)]
        batches.append(list(outcomes[i : i + n]))
        i, k = i + n, k + 1
    return batches


def dump(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table in key order, without surrogate ids: comparable across stores."""
    out = {}
    with engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            cols = [c for c in table.columns if c.name != "id"]
            order = list(table.primary_key.columns) if "id" not in table.c else [table.c.id]
            out[table.name] = [tuple(r) for r in conn.execute(sa.select(*cols).order_by(*order))]
    return out
