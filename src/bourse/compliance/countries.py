"""ISO 3166-1 alpha-2 country codes from pycountry's table (pinned: the journal replays with it)."""

import pycountry

ALPHA2: frozenset[str] = frozenset(c.alpha_2 for c in pycountry.countries)


def country_problem(code: str, what: str = "country") -> str | None:
    """Why `code` is not an ISO 3166-1 alpha-2 country code, or None."""
    if code in ALPHA2:
        return None
    return f"{what} {code!r} is not an ISO 3166-1 alpha-2 country code (such as KZ, RU or DE)"


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return str(country.name) if country is not None else code
