"""Symbols: a base/quote pair with its filters and fees."""

import re

import msgspec

from bourse.domain.enums import OrderType
from bourse.domain.filters import LotSize, Notional, PriceFilter

SYMBOL_NAME = re.compile(r"^[A-Z0-9]{4,20}$")
PPM = 1_000_000  # fee rates are parts per million: 1000 ppm = 0.1 %
DEFAULT_ORDER_TYPES = tuple(OrderType)


class SymbolSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a symbol is. Its status is state, kept by the engine, not part of the spec."""

    name: str
    base: str
    quote: str
    base_precision: int
    quote_precision: int
    price_filter: PriceFilter
    lot_size: LotSize
    market_lot_size: LotSize
    notional: Notional
    maker_fee_ppm: int = 1000
    taker_fee_ppm: int = 1000
    order_types: tuple[OrderType, ...] = DEFAULT_ORDER_TYPES


def quote_amount(price_raw: int, qty_raw: int, base_precision: int) -> int:
    """Value in raw quote units of `qty_raw` base at `price_raw`, rounded down.

    Listing guarantees tick × step is a whole number of quote units, so for any valid price and
    quantity this division is exact; the floor only matters for market orders sized by quote.
    """
    scale: int = 10**base_precision
    return price_raw * qty_raw // scale


def symbol_problem(spec: SymbolSpec, base_precision: int, quote_precision: int) -> str | None:
    """Why a symbol spec cannot be listed, or None."""
    if not SYMBOL_NAME.match(spec.name):
        return f"symbol name {spec.name!r} must be 4 to 20 upper-case letters or digits"
    if spec.base == spec.quote:
        return f"symbol {spec.name} has the same base and quote asset {spec.base}"
    if (spec.base_precision, spec.quote_precision) != (base_precision, quote_precision):
        return (
            f"symbol {spec.name} states precisions {spec.base_precision}/{spec.quote_precision} "
            f"but its assets have {base_precision}/{quote_precision}"
        )
    pf, lots = spec.price_filter, (spec.lot_size, spec.market_lot_size)
    if pf.tick_size_raw <= 0 or not 0 < pf.min_price_raw <= pf.max_price_raw:
        return f"symbol {spec.name} needs a positive tick size and 0 < minPrice <= maxPrice"
    for lot in lots:
        if lot.step_size_raw <= 0 or not 0 < lot.min_qty_raw <= lot.max_qty_raw:
            return f"symbol {spec.name} needs a positive step size and 0 < minQty <= maxQty"
        if (pf.tick_size_raw * lot.step_size_raw) % 10**base_precision:
            return (
                f"symbol {spec.name}: tick size × step size must be a whole number of "
                f"{spec.quote} units so every trade's value is exact"
            )
    if not 0 <= spec.maker_fee_ppm < PPM or not 0 <= spec.taker_fee_ppm < PPM:
        return f"symbol {spec.name} fee rates must be between 0 and 1,000,000 ppm"
    for needed in (OrderType.LIMIT, OrderType.MARKET):
        if needed not in spec.order_types:
            return f"symbol {spec.name} must allow {needed} orders"
    return None


class FeeTier:
    """A fee tier's multipliers of every symbol's maker and taker rates (ppm of 1x). A value:
    redefining a tier replaces it, so the engine's state and the read model share it."""

    __slots__ = ("maker_multiplier_ppm", "taker_multiplier_ppm")

    def __init__(self, maker_multiplier_ppm: int = PPM, taker_multiplier_ppm: int = PPM) -> None:
        self.maker_multiplier_ppm = maker_multiplier_ppm
        self.taker_multiplier_ppm = taker_multiplier_ppm

    def maker_rate(self, spec: SymbolSpec) -> int:
        """What this tier pays as maker on `spec`, in ppm of the traded amount."""
        return spec.maker_fee_ppm * self.maker_multiplier_ppm // PPM

    def taker_rate(self, spec: SymbolSpec) -> int:
        return spec.taker_fee_ppm * self.taker_multiplier_ppm // PPM
