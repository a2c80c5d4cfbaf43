"""Integer money: amounts are integers scaled by a precision; decimal strings only at the edges.

A decimal that does not fit the precision is an error, never rounded: silently rounding a price
or a quantity changes what the customer asked for.
"""

import re

from bourse.domain.limits import AMOUNT_DIGITS, RAW_MAX, RangeError

# Plain digits with an optional point, as Binance takes them: no exponent ("1e5"), no "Infinity",
# "NaN", "1_000", ".5" or non-ASCII digits, all of which Decimal() would accept.
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


class PrecisionError(ValueError):
    """A decimal string that is no exact amount: malformed, with more decimals than its
    precision allows, or (AmountRangeError) too large to hold."""


class AmountRangeError(PrecisionError, RangeError):
    """A decimal whose raw units have more digits than any balance may (domain/limits.py)."""


def to_raw(text: str, precision: int, *, what: str = "amount") -> int:
    """Parse a decimal string exactly into an integer scaled by 10**precision: the one parser of
    amounts every edge (trading API, admin API, CLI through it) uses.

    >>> to_raw("49000.10", 2)
    4900010
    >>> to_raw("0.001", 8)
    100000
    """
    stripped = text.strip() if isinstance(text, str) else ""
    if not _DECIMAL.fullmatch(stripped):
        raise PrecisionError(
            f"{what} {text!r} is not a decimal number: digits with an optional decimal point, "
            "like 1000 or 0.25 (no exponent)"
        )
    # Integer arithmetic on the digits: Decimal's scaleb would round past 28 significant digits.
    whole, _, fraction = stripped.partition(".")
    fraction = fraction.rstrip("0")  # trailing zeros are not extra decimals
    if len(fraction) > precision:
        raise PrecisionError(
            f"{what} {stripped} has {len(fraction)} decimals; at most {precision} are allowed"
        )
    raw = int(whole + fraction.ljust(precision, "0"))
    if abs(raw) > RAW_MAX:
        raise AmountRangeError(
            f"{what} {stripped} is too large: at {precision} decimals it has more than "
            f"{AMOUNT_DIGITS} digits"
        )
    return raw


def to_str(raw: int, precision: int) -> str:
    """Format a scaled integer with exactly `precision` decimals, as Binance does ("0.00100000")."""
    if precision == 0:
        return str(raw)
    sign = "-" if raw < 0 else ""
    digits = str(abs(raw)).rjust(precision + 1, "0")
    return f"{sign}{digits[:-precision]}.{digits[-precision:]}"


def to_plain(raw: int, precision: int) -> str:
    """Format a scaled integer without trailing zeros ("0.001"), for human messages."""
    text = to_str(raw, precision)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def rescale(raw: int, from_precision: int, to_precision: int) -> int:
    """Move a scaled integer to another precision; refuses to lose digits."""
    if to_precision >= from_precision:
        up: int = 10 ** (to_precision - from_precision)
        return raw * up
    factor: int = 10 ** (from_precision - to_precision)
    if raw % factor:
        raise PrecisionError(
            f"{to_plain(raw, from_precision)} does not fit {to_precision} decimals"
        )
    return raw // factor
