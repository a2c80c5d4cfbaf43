"""What a customer record must hold: the checks the engine runs on the KYC fields."""

from collections.abc import Iterable
from enum import StrEnum
from typing import Protocol

from bourse.compliance.countries import country_problem
from bourse.domain.calendar import age_on, parse_date

MAX_KYC_LEVEL = 3  # 0 none, 1 identity, 2 address, 3 enhanced due diligence


class RiskTier(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


def kyc_problem(
    legal_name: str, date_of_birth: str, nationality: str, residence: str, kyc_level: int
) -> str | None:
    """Why these KYC fields cannot describe a customer, or None."""
    if not legal_name.strip() or len(legal_name) > 200:
        return "a customer needs a legal name of 1 to 200 characters"
    born = parse_date(date_of_birth)
    if born is None:
        return f"date of birth {date_of_birth!r} is not a date in the form YYYY-MM-DD"
    if born[0] < 1900:
        return f"date of birth {date_of_birth} is before 1900"
    if not 0 <= kyc_level <= MAX_KYC_LEVEL:
        return f"KYC level {kyc_level} is not between 0 and {MAX_KYC_LEVEL}"
    return country_problem(nationality, "nationality") or country_problem(residence, "residence")


def adult_on(date_of_birth: str, ts_ms: int) -> bool:
    """Whether someone born on `date_of_birth` is 18 or older at `ts_ms` (the command's time)."""
    born = parse_date(date_of_birth)
    return born is not None and age_on(born, ts_ms) >= 18


class Venue(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def jurisdictions(self) -> tuple[str, ...]: ...


def serving_venue(venues: Iterable[Venue], residence: str) -> str:
    """The venue that serves `residence`: the one naming it, else the one serving the rest, else
    none ("": no venues are defined and every symbol is open to everyone). The engine routes an
    onboarding by it; a gateway asks it of the read model's venues to tell a scope."""
    rest = ""
    for venue in venues:
        if residence in venue.jurisdictions:
            return venue.code
        if not venue.jurisdictions:
            rest = venue.code
    return rest
