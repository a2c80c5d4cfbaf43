"""Integer money: amounts are integers scaled by a precision; decimal strings only at the edges.

A decimal that does not fit the precision is an error, never rounded: silently rounding a price
or a quantity changes what the customer asked for.
"""

from decimal import Decimal, InvalidOperation


class PrecisionError(ValueError):
    """A decimal string that is malformed or has more decimals than its precision allows."""


def to_raw(text: str, precision: int, *, what: str = "amount") -> int:
    """Parse a decimal string exactly into an integer scaled by 10**precision.

    >>> to_raw("49000.10", 2)
    4900010
    >>> to_raw("0.001", 8)
    100000
    """
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise PrecisionError(f"{what} {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise PrecisionError(f"{what} {text!r} is not a finite decimal number")
    scaled: Decimal = value.scaleb(precision)
    if scaled != scaled.to_integral_value():
        places = -value.normalize().as_tuple().exponent  # type: ignore[operator]
        raise PrecisionError(
            f"{what} {text} has {places} decimals; at most {precision} are allowed"
        )
    return int(scaled)


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
