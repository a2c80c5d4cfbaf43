"""Binance's symbol filters (filters.md), in raw integers, and the checks they make.

Each check returns a full sentence saying what is wrong, or None. Prices are scaled by the quote
asset's precision and quantities by the base asset's, so every check is exact integer arithmetic.
"""

import msgspec

from bourse.domain.money import to_plain


class PriceFilter(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    min_price_raw: int
    max_price_raw: int
    tick_size_raw: int


class LotSize(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    min_qty_raw: int
    max_qty_raw: int
    step_size_raw: int


class Notional(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    min_notional_raw: int
    max_notional_raw: int
    apply_min_to_market: bool = True
    apply_max_to_market: bool = False
    avg_price_mins: int = 5


def price_problem(f: PriceFilter, price_raw: int, precision: int, symbol: str) -> str | None:
    if price_raw < f.min_price_raw:
        return (
            f"price {to_plain(price_raw, precision)} is below {symbol}'s minimum price "
            f"{to_plain(f.min_price_raw, precision)}"
        )
    if price_raw > f.max_price_raw:
        return (
            f"price {to_plain(price_raw, precision)} is above {symbol}'s maximum price "
            f"{to_plain(f.max_price_raw, precision)}"
        )
    if (price_raw - f.min_price_raw) % f.tick_size_raw:
        return (
            f"price {to_plain(price_raw, precision)} is not a multiple of {symbol}'s tick size "
            f"{to_plain(f.tick_size_raw, precision)}"
        )
    return None


def quantity_problem(
    f: LotSize, qty_raw: int, precision: int, symbol: str, name: str = "LOT_SIZE"
) -> str | None:
    if qty_raw < f.min_qty_raw:
        return (
            f"quantity {to_plain(qty_raw, precision)} is below {symbol}'s {name} minimum "
            f"{to_plain(f.min_qty_raw, precision)}"
        )
    if qty_raw > f.max_qty_raw:
        return (
            f"quantity {to_plain(qty_raw, precision)} is above {symbol}'s {name} maximum "
            f"{to_plain(f.max_qty_raw, precision)}"
        )
    if (qty_raw - f.min_qty_raw) % f.step_size_raw:
        return (
            f"quantity {to_plain(qty_raw, precision)} is not a multiple of {symbol}'s {name} step "
            f"{to_plain(f.step_size_raw, precision)}"
        )
    return None


def notional_problem(
    f: Notional, notional_raw: int, precision: int, symbol: str, *, market: bool
) -> str | None:
    if (not market or f.apply_min_to_market) and notional_raw < f.min_notional_raw:
        return (
            f"order value {to_plain(notional_raw, precision)} is below {symbol}'s minimum "
            f"notional {to_plain(f.min_notional_raw, precision)}"
        )
    if (not market or f.apply_max_to_market) and notional_raw > f.max_notional_raw:
        return (
            f"order value {to_plain(notional_raw, precision)} is above {symbol}'s maximum "
            f"notional {to_plain(f.max_notional_raw, precision)}"
        )
    return None
