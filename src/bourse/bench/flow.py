"""A deterministic mixed order flow on one symbol, for the engine and journal benchmarks.

1,000 funded accounts, about 1,000 resting orders, then a mix of passive limit adds, IOC and
market takers, cancels and cancel-replaces. Seeded, so every run measures the same commands.
Order ids are predicted (every placement in the flow is valid and funded, and cancel-replaces use
ALLOW_FAILURE so they always place), which lets cancels target orders that still rest.
"""

import random
from collections.abc import Iterator

import msgspec

from bourse.commands import (
    CancelOrder,
    CancelReplaceOrder,
    Command,
    CreateAsset,
    Deposit,
    ListSymbol,
    OpenAccount,
    PlaceOrder,
)
from bourse.demo import ASSETS, SYMBOLS
from bourse.domain.enums import CancelReplaceMode, OrderType, SelfTradePrevention, Side, TimeInForce

SYMBOL = SYMBOLS[0]  # BTCUSDT: tick 0.01 USDT, step 0.00001 BTC
TICK = SYMBOL.price_filter.tick_size_raw
STEP = SYMBOL.lot_size.step_size_raw
MID = 60_000 * 10**8
ACTOR = "bench"
REASON = "benchmark set-up"


def setup(accounts: int = 1000) -> list[Command]:
    """Assets, the symbol and funded accounts (not timed)."""
    cmds: list[Command] = [
        CreateAsset(actor=ACTOR, ts_ms=0, reason=REASON, asset=a, precision=p)
        for a, p in ASSETS.items()
    ]
    cmds.append(ListSymbol(actor=ACTOR, ts_ms=0, reason=REASON, spec=SYMBOL))
    for account_id in range(1, accounts + 1):
        cmds.append(OpenAccount(actor=ACTOR, ts_ms=0, reason=REASON))
        for asset, amount in (("BTC", 1_000 * 10**8), ("USDT", 100_000_000 * 10**8)):
            cmds.append(
                Deposit(actor=ACTOR, ts_ms=0, account_id=account_id, asset=asset, amount_raw=amount)
            )
    return cmds


def mixed(
    commands: int, accounts: int = 1000, resting: int = 1000, seed: int = 7
) -> Iterator[Command]:
    """`resting` seed orders, then `commands` flow commands; ts advances 1 ms per 50 commands."""
    rng = random.Random(seed)
    next_id = 1
    live: list[int] = []  # ids believed to rest (some will have been filled: cancels then miss)
    owner: dict[int, int] = {}

    def limit(i: int, side: Side, away: int, tif: TimeInForce = TimeInForce.GTC) -> PlaceOrder:
        account_id = rng.randint(1, accounts)
        price = MID - away * TICK if side is Side.BUY else MID + away * TICK
        return PlaceOrder(
            actor=ACTOR,
            ts_ms=i // 50,
            account_id=account_id,
            symbol=SYMBOL.name,
            side=side,
            order_type=OrderType.LIMIT,
            time_in_force=tif,
            price_raw=price,
            qty_raw=rng.randint(10, 200) * STEP,
            stp=SelfTradePrevention.NONE,
        )

    def placed(cmd: PlaceOrder, rests: bool) -> None:
        nonlocal next_id
        if rests:
            live.append(next_id)
            owner[next_id] = cmd.account_id
        next_id += 1

    for i in range(resting):
        cmd = limit(i, Side.BUY if i % 2 else Side.SELL, rng.randint(1, 500))
        placed(cmd, True)
        yield cmd
    for i in range(commands):
        roll = rng.random()
        if roll < 0.35 or not live:  # passive add
            cmd = limit(i, rng.choice((Side.BUY, Side.SELL)), rng.randint(1, 500))
            placed(cmd, True)
            yield cmd
        elif roll < 0.50:  # IOC limit that crosses a few levels
            cmd = limit(i, rng.choice((Side.BUY, Side.SELL)), -rng.randint(0, 50), TimeInForce.IOC)
            placed(cmd, False)
            yield cmd
        elif roll < 0.55:  # market by quantity
            cmd = PlaceOrder(
                actor=ACTOR,
                ts_ms=i // 50,
                account_id=rng.randint(1, accounts),
                symbol=SYMBOL.name,
                side=rng.choice((Side.BUY, Side.SELL)),
                order_type=OrderType.MARKET,
                qty_raw=rng.randint(10, 100) * STEP,
                stp=SelfTradePrevention.NONE,
            )
            placed(cmd, False)
            yield cmd
        elif roll < 0.90:  # cancel a resting order
            order_id = live.pop(rng.randrange(len(live)))
            yield CancelOrder(
                actor=ACTOR,
                ts_ms=i // 50,
                account_id=owner.pop(order_id),
                symbol=SYMBOL.name,
                order_id=order_id,
            )
        else:  # cancel-replace: move a resting order
            order_id = live.pop(rng.randrange(len(live)))
            account_id = owner.pop(order_id)
            new = limit(i, rng.choice((Side.BUY, Side.SELL)), rng.randint(1, 500))
            new = msgspec.structs.replace(new, account_id=account_id)
            placed(new, True)
            yield CancelReplaceOrder(
                actor=ACTOR,
                ts_ms=i // 50,
                account_id=account_id,
                symbol=SYMBOL.name,
                cancel_order_id=order_id,
                mode=CancelReplaceMode.ALLOW_FAILURE,
                new_order=new,
            )


RESTING = 1000


def prepared(commands: int) -> tuple[list[Command], list[Command]]:
    """(set-up, measured): the accounts, symbol and resting book a bench applies untimed,
    then the `commands` flow commands it times, all generated before timing starts."""
    flow = list(mixed(commands, resting=RESTING))
    return setup() + flow[:RESTING], flow[RESTING:]
