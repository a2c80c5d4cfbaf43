"""The demo world a fresh data directory starts with: markets, two venues, funded customers and
liquidity.

Two venues: the global one (every residence no other venue serves) and a regulated Kazakhstan
venue serving residents of KZ with its own KZT markets and lower fees. Account 1 is a customer
resident in Germany (the key `make run` prints trades for it), account 2 the house market maker
(named by no policy, quoting every market), account 3 a customer resident in Kazakhstan, account
4 a second house liquidity account.

Every market has traded once, at its mid price (account 4 offers a small quantity there, the
market maker takes it), so from the first second tickers, klines and clients show a last price
and a holdings condition in EUR can value BTC (BTCEUR), USDT (via BTCUSDT and BTCEUR), ETH and KZT.

Written as ordinary commands, so it goes through the journal like everything else.
"""

from bourse.commands import (
    Command,
    CreateAsset,
    DefineFeeTier,
    DefineVenue,
    Deposit,
    ListSymbol,
    OnboardCustomer,
    OpenAccount,
    PlaceOrder,
)
from bourse.domain.enums import OrderType, Side, TimeInForce
from bourse.domain.filters import LotSize, Notional, PriceFilter
from bourse.domain.money import to_raw
from bourse.domain.symbols import SymbolSpec

ACTOR = "system:genesis"
REASON = "demo markets for a new data directory"
ASSETS = {"BTC": 8, "ETH": 8, "USDT": 8, "EUR": 8, "KZT": 8}
FIAT = frozenset({"EUR", "KZT"})
DEMO_ACCOUNT_ID = 1  # the funded trader (customer 1, resident in DE); account 2: the liquidity
MARKET_MAKER_ID = 2
KZ_ACCOUNT_ID = 3  # customer 2, resident in KZ, served by the KZ venue
DEMO_FUNDS = {"BTC": "10", "ETH": "100", "USDT": "1000000", "EUR": "50000"}
MAKER_FUNDS = {**DEMO_FUNDS, "EUR": "1000000", "KZT": "1000000000"}
KZ_FUNDS = {"KZT": "50000000", "USDT": "10000"}
LIQUIDITY_ID = 4  # a house account: the other side of each market's first trade
LIQUIDITY_FUNDS = {"BTC": "1", "ETH": "10", "USDT": "10000"}
KZ_FEE_TIER = 1  # the Kazakhstan venue's fee schedule: 80 % of the standard rates
GLOBAL_SYMBOLS = ("BTCUSDT", "ETHUSDT", "ETHBTC", "BTCEUR")
KZ_SYMBOLS = ("BTCUSDT", "ETHUSDT", "BTCKZT", "USDTKZT")


def spec(
    name: str,
    base: str,
    quote: str,
    *,
    tick: str,
    step: str,
    min_notional: str,
    max_qty: str,
    max_price: str = "1000000",
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
            max_price_raw=to_raw(max_price, qp),
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
    spec("BTCEUR", "BTC", "EUR", tick="0.01", step="0.00001", min_notional="5", max_qty="9000"),
    spec(
        "BTCKZT",
        "BTC",
        "KZT",
        tick="1",
        step="0.00001",
        min_notional="2500",
        max_qty="9000",
        max_price="1000000000",
    ),
    spec(
        "USDTKZT", "USDT", "KZT", tick="0.01", step="0.01", min_notional="2500", max_qty="9000000"
    ),
]
# mid price (where the first trade is), price step between ladder levels, quantity per level
LADDERS = {
    "BTCUSDT": ("60000", "10", "0.05"),
    "ETHUSDT": ("3000", "1", "0.5"),
    "ETHBTC": ("0.05", "0.0001", "0.5"),
    "BTCEUR": ("55000", "10", "0.05"),
    "BTCKZT": ("30000000", "5000", "0.05"),
    "USDTKZT": ("500", "0.5", "1000"),
}
FIRST_TRADES = {  # the quantity of each market's first trade, above its minimum notional
    "BTCUSDT": "0.001",
    "ETHUSDT": "0.01",
    "ETHBTC": "0.01",
    "BTCEUR": "0.001",
    "BTCKZT": "0.001",
    "USDTKZT": "10",
}


def genesis(ts_ms: int, *, first_trades: bool = True) -> list[Command]:
    """The demo world's commands. `first_trades=False` leaves every market untraded (for tests
    that work out market figures by hand from a market's very first trade)."""
    cmds: list[Command] = []
    for asset, precision in ASSETS.items():
        cmds.append(
            CreateAsset(
                asset=asset,
                precision=precision,
                fiat=asset in FIAT,
                reason=REASON,
                actor=ACTOR,
                ts_ms=ts_ms,
            )
        )
    for s in SYMBOLS:
        cmds.append(ListSymbol(spec=s, reason=REASON, actor=ACTOR, ts_ms=ts_ms))
    cmds += [
        DefineFeeTier(
            tier=KZ_FEE_TIER,
            maker_multiplier_ppm=800_000,
            taker_multiplier_ppm=800_000,
            reason=REASON,
            actor=ACTOR,
            ts_ms=ts_ms,
        ),
        DefineVenue(
            venue="GLOBAL",
            name="bourse",
            symbols=GLOBAL_SYMBOLS,
            reason=REASON,
            actor=ACTOR,
            ts_ms=ts_ms,
        ),
        DefineVenue(
            venue="KZ",
            name="bourse Kazakhstan (AIFC)",
            jurisdictions=("KZ",),
            symbols=KZ_SYMBOLS,
            fee_tier=KZ_FEE_TIER,
            reason=REASON,
            actor=ACTOR,
            ts_ms=ts_ms,
        ),
        _customer("Demo Trader", "DE", ts_ms),  # account 1
        OpenAccount(reason=REASON, actor=ACTOR, ts_ms=ts_ms),  # account 2, the house maker
        _customer("Demo Kazakhstan Trader", "KZ", ts_ms),  # account 3
        OpenAccount(reason=REASON, actor=ACTOR, ts_ms=ts_ms),  # account 4, house liquidity
    ]
    for account_id, funds in (
        (DEMO_ACCOUNT_ID, DEMO_FUNDS),
        (MARKET_MAKER_ID, MAKER_FUNDS),
        (KZ_ACCOUNT_ID, KZ_FUNDS),
        (LIQUIDITY_ID, LIQUIDITY_FUNDS),
    ):
        for asset, amount in funds.items():
            cmds.append(
                Deposit(
                    account_id=account_id,
                    asset=asset,
                    amount_raw=to_raw(amount, ASSETS[asset]),
                    tx_ref="genesis",
                    reason=REASON,
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
    if first_trades:
        for s in SYMBOLS:
            cmds += _first_trade(s, ts_ms)
    return cmds


def _first_trade(s: SymbolSpec, ts_ms: int) -> list[Command]:
    """Account 4 offers a small quantity at the mid price, inside the maker's spread, and the
    maker takes all of it (IOC): one trade at mid, and the ladders stay as they were."""
    price = to_raw(LADDERS[s.name][0], s.quote_precision)
    qty = to_raw(FIRST_TRADES[s.name], s.base_precision)
    return [
        PlaceOrder(
            account_id=account_id,
            symbol=s.name,
            side=side,
            order_type=OrderType.LIMIT,
            time_in_force=tif,
            price_raw=price,
            qty_raw=qty,
            client_order_id=f"demo-{s.name}-first-{side.lower()}",
            actor=ACTOR,
            ts_ms=ts_ms,
        )
        for account_id, side, tif in (
            (LIQUIDITY_ID, Side.SELL, TimeInForce.GTC),
            (MARKET_MAKER_ID, Side.BUY, TimeInForce.IOC),
        )
    ]


def _customer(name: str, country: str, ts_ms: int) -> OnboardCustomer:
    return OnboardCustomer(
        legal_name=name,
        date_of_birth="1990-01-01",
        nationality=country,
        residence=country,
        kyc_level=2,
        reason=REASON,
        actor=ACTOR,
        ts_ms=ts_ms,
    )
