"""The demo world a fresh data directory starts with: three markets, a funded trader, liquidity.

Written as ordinary commands, so it goes through the journal like everything else.
"""

from bourse.commands import (
    Command,
    CreateAsset,
    Deposit,
    ListSymbol,
    OpenAccount,
    PlaceOrder,
)
from bourse.domain.enums import OrderType, Side
from bourse.domain.filters import LotSize, Notional, PriceFilter
from bourse.domain.money import to_raw
from bourse.domain.symbols import SymbolSpec

ACTOR = "system:genesis"
REASON = "demo markets for a new data directory"
ASSETS = {"BTC": 8, "ETH": 8, "USDT": 8}
DEMO_ACCOUNT_ID = 1  # the funded trader; account 2 provides the demo liquidity
MARKET_MAKER_ID = 2
DEMO_FUNDS = {"BTC": "10", "ETH": "100", "USDT": "1000000"}


def spec(
    name: str, base: str, quote: str, *, tick: str, step: str, min_notional: str, max_qty: str
) -> SymbolSpec:
    bp, qp = ASSETS[base], ASSETS[quote]
    lot = LotSize(
        min_qty_raw=to_raw(step, bp),
        max_qty_raw=to_raw(max_qty, bp),
        step_size_raw=to_raw(step, bp),
    )
    return SymbolSpec(
        name=name,
        base=base,
        quote=quote,
        base_precision=bp,
        quote_precision=qp,
        price_filter=PriceFilter(
            min_price_raw=to_raw(tick, qp),
            max_price_raw=to_raw("1000000", qp),
            tick_size_raw=to_raw(tick, qp),
        ),
        lot_size=lot,
        market_lot_size=lot,
        notional=Notional(
            min_notional_raw=to_raw(min_notional, qp), max_notional_raw=to_raw("9000000", qp)
        ),
        maker_fee_ppm=1000,
        taker_fee_ppm=1000,
    )


SYMBOLS = [
    spec("BTCUSDT", "BTC", "USDT", tick="0.01", step="0.00001", min_notional="5", max_qty="9000"),
    spec("ETHUSDT", "ETH", "USDT", tick="0.01", step="0.0001", min_notional="5", max_qty="90000"),
    spec(
        "ETHBTC",
        "ETH",
        "BTC",
        tick="0.00001",
        step="0.001",
        min_notional="0.0001",
        max_qty="100000",
    ),
]
# mid price, price step between ladder levels, quantity per level
LADDERS = {
    "BTCUSDT": ("60000", "10", "0.05"),
    "ETHUSDT": ("3000", "1", "0.5"),
    "ETHBTC": ("0.05", "0.0001", "0.5"),
}


def genesis(ts_ms: int) -> list[Command]:
    cmds: list[Command] = []
    for asset, precision in ASSETS.items():
        cmds.append(
            CreateAsset(asset=asset, precision=precision, reason=REASON, actor=ACTOR, ts_ms=ts_ms)
        )
    for s in SYMBOLS:
        cmds.append(ListSymbol(spec=s, reason=REASON, actor=ACTOR, ts_ms=ts_ms))
    for _ in (DEMO_ACCOUNT_ID, MARKET_MAKER_ID):
        cmds.append(OpenAccount(reason=REASON, actor=ACTOR, ts_ms=ts_ms))
    for asset, amount in DEMO_FUNDS.items():
        raw = to_raw(amount, ASSETS[asset])
        for account_id in (DEMO_ACCOUNT_ID, MARKET_MAKER_ID):
            cmds.append(
                Deposit(
                    account_id=account_id,
                    asset=asset,
                    amount_raw=raw,
                    tx_ref="genesis",
                    actor=ACTOR,
                    ts_ms=ts_ms,
                )
            )
    for s in SYMBOLS:
        mid, gap, qty = LADDERS[s.name]
        qp, bp = s.quote_precision, s.base_precision
        for level in range(1, 6):
            for side, sign in ((Side.BUY, -1), (Side.SELL, 1)):
                price = to_raw(mid, qp) + sign * level * to_raw(gap, qp)
                cmds.append(
                    PlaceOrder(
                        account_id=MARKET_MAKER_ID,
                        symbol=s.name,
                        side=side,
                        order_type=OrderType.LIMIT,
                        price_raw=price,
                        qty_raw=to_raw(qty, bp),
                        client_order_id=f"demo-{s.name}-{side.lower()}-{level}",
                        actor=ACTOR,
                        ts_ms=ts_ms,
                    )
                )
    return cmds
