"""The smallest amount a bank transfer carries in a currency (ISO 4217's minor unit, as the
payment files bourse writes carry it): a payout of anything finer cannot be paid as asked."""

from bourse.domain.money import to_plain

# the ISO 4217 currencies without a minor unit; every other one is paid in hundredths (a
# three-decimal currency such as KWD in whole hundredths: what a pain.001 file carries here)
_NO_DECIMALS = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)


def decimals(currency: str) -> int:
    return 0 if currency in _NO_DECIMALS else 2


def unpayable(amount_raw: int, precision: int, currency: str) -> str | None:
    """Why `amount_raw` (at `precision`) cannot be paid by bank transfer; None if it can."""
    places = decimals(currency)
    if precision > places and amount_raw % 10 ** (precision - places):
        return (
            f"{to_plain(amount_raw, precision)} {currency} is not a whole number of "
            f"{to_plain(1, places)} {currency}, the smallest amount a bank transfer carries"
        )
    return None
