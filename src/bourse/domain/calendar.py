"""Dates as integer arithmetic on the proleptic Gregorian calendar, for the pure core.

The engine may not import `datetime` (it also reads clocks); these few functions are all it needs:
read a YYYY-MM-DD date, and write a command's time as a date in a refusal's sentence.
"""

import re

DAY_MS = 86_400_000
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days: int) -> tuple[int, int, int]:
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, day


def parse_date(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) of a real YYYY-MM-DD date, or None."""
    found = _DATE.match(text)
    if found is None:
        return None
    year, month, day = (int(g) for g in found.groups())
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return None
    if civil_from_days(days_from_civil(year, month, day)) != (year, month, day):
        return None  # 31 April, 29 February of a common year
    return year, month, day


def utc_text(ms: int) -> str:
    """`ms` since the epoch as "YYYY-MM-DD HH:MM UTC" (with ":SS" when the seconds are not 0)."""
    days, rest = divmod(ms, DAY_MS)
    year, month, day = civil_from_days(days)
    seconds = rest // 1000
    clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"
    if seconds % 60:
        clock += f":{seconds % 60:02d}"
    return f"{year:04d}-{month:02d}-{day:02d} {clock} UTC"


def age_on(born: tuple[int, int, int], ms: int) -> int:
    """Whole years from `born` to the day of `ms`."""
    year, month, day = civil_from_days(ms // DAY_MS)
    return year - born[0] - ((month, day) < (born[1], born[2]))
