"""ISO 3166-1 alpha-2 country codes, from the checked-in table `bourse.domain.countries` (not
from pycountry at run time: the journal must replay the same whatever pycountry is installed)."""

from bourse.domain.countries import NAMES

ALPHA2: frozenset[str] = frozenset(NAMES)


def country_problem(code: str, what: str = "country") -> str | None:
    """Why `code` is not an ISO 3166-1 alpha-2 country code, or None."""
    if code in ALPHA2:
        return None
    return f"{what} {code!r} is not an ISO 3166-1 alpha-2 country code (such as KZ, RU or DE)"


def country_name(code: str) -> str:
    return NAMES.get(code, code)
