"""The Remarks column of OFAC's CSV files: "; "-separated clauses that carry what the fixed
columns cannot (weak aliases, dates of birth, nationalities, documents, SWIFT/BIC codes,
digital currency addresses). Clauses we do not model stay in the full remarks text only.
"""

import re
from collections import Counter
from dataclasses import dataclass, field

from bourse.compliance.sanctions.country_names import resolve_country
from bourse.compliance.sanctions.entries import Identifier

# OFAC truncates the Remarks column at this many characters (the rest goes to a comments file
# that the SDN download here does not include): the last clause of a full column may be cut off.
REMARKS_LIMIT = 1000

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
_DATE = r"(?:(\d{1,2}) )?(?:([A-Z][a-z]{2}) )?(\d{4})"
_DATE_RE = re.compile(rf"^{_DATE}$")
_RANGE_RE = re.compile(rf"^{_DATE}(?: to |-){_DATE}$")
_ALIAS_RE = re.compile(r"^([afn])\.k\.a\. '(.*)'$")
_COUNTRY_IN_PARENS = re.compile(r"\(([^)]*)\)")
_CRYPTO_RE = re.compile(r"^Digital Currency Address - ([A-Za-z0-9]+) (\S+)$")
_MAX_RANGE_YEARS = 20


@dataclass
class RemarkFacts:
    """What one entry's remarks yield; lists keep the order the remarks give."""

    weak_aliases: list[str] = field(default_factory=list)
    dates_of_birth: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    identifiers: list[Identifier] = field(default_factory=list)
    unresolved_countries: Counter[str] = field(default_factory=Counter)

    def add_country(self, name: str) -> str:
        """Resolve and record a country; returns the code, or "" (then counted unresolved)."""
        code = resolve_country(name)
        if code is None:
            self.unresolved_countries[name.strip().rstrip(".")] += 1
            return ""
        if code and code not in self.countries:
            self.countries.append(code)
        return code


def _iso(day: str | None, month: str | None, year: str) -> str | None:
    if month is None:
        return year if day is None else None
    number = _MONTHS.get(month)
    if number is None:
        return None
    if day is None:
        return f"{year}-{number:02d}"
    return f"{year}-{number:02d}-{int(day):02d}"


def parse_dob(text: str) -> list[str]:
    """ "12 Oct 1952" → ["1952-10-12"]; "circa 1952" → ["1952"]; "1952 to 1954" → each year."""
    text = text.strip().rstrip(".").removeprefix("circa ").strip()
    single = _DATE_RE.match(text)
    if single:
        date = _iso(*single.groups())
        return [date] if date else []
    span = _RANGE_RE.match(text)
    if span is None:
        return []
    first, last = int(span.group(3)), int(span.group(6))
    if first <= last <= first + _MAX_RANGE_YEARS:
        return [str(year) for year in range(first, last + 1)]
    ends = [_iso(*span.groups()[:3]), _iso(*span.groups()[3:])]
    return [d for d in ends if d]


def _document(facts: RemarkFacts, kind: str, rest: str, label: str = "") -> None:
    """ "304555 (Egypt) issued 18 Jan 1984" → value 304555, country EG; no value → nothing."""
    value = re.split(r" \(| issued | expires ", " " + rest.strip().rstrip(".") + " ", maxsplit=1)
    number = value[0].strip()
    if not number or number.startswith(("issued", "expires")):
        return
    country = ""
    parens = _COUNTRY_IN_PARENS.match(rest.strip()[len(number) :].lstrip())
    if parens:
        country = facts.add_country(parens.group(1))
    identifier = Identifier(kind=kind, value=number, label=label, country=country)
    if identifier not in facts.identifiers:
        facts.identifiers.append(identifier)


# Clause prefix → identifier kind; "alt. " before any of them means another value of the same kind.
_DOCUMENTS: tuple[tuple[str, str], ...] = (
    ("Passport ", "PASSPORT"),
    ("National ID No. ", "NATIONAL_ID"),
    ("Tax ID No. ", "TAX_ID"),
    ("Registration ID ", "REGISTRATION"),
    ("Registration Number ", "REGISTRATION"),
    ("Vessel Registration Identification IMO ", "IMO"),
    ("IMO ", "IMO"),
    ("SWIFT/BIC ", "BIC"),
)


def split_clauses(remarks: str) -> list[str]:
    """The clauses of a remarks text as OFAC wrote it (unstripped: a full column keeps its
    length); a clause cut off by OFAC's column limit is dropped.

    A full column whose text ends with "." (the remarks' end) or ";" (a clause's end, the
    column cut just before the space that follows it) ends with a complete clause; any other
    end may be mid-clause, and a partial address or code would be a false identifier."""
    text = remarks.strip()
    cut = len(remarks) >= REMARKS_LIMIT and not text.endswith((".", ";"))
    clauses = [c.strip() for c in text.removesuffix(";").split("; ") if c.strip()]
    if clauses and cut:
        clauses.pop()
    if clauses:
        clauses[-1] = clauses[-1].removesuffix(".")
    return clauses


def parse_remarks(remarks: str) -> RemarkFacts:
    facts = RemarkFacts()
    for clause in split_clauses(remarks):
        _parse_clause(facts, clause.removeprefix("alt. ").removeprefix("Alt. "))
    return facts


def _parse_clause(facts: RemarkFacts, clause: str) -> None:
    alias = _ALIAS_RE.match(clause)
    if alias:
        # OFAC FAQ 123: the a.k.a.s in the CSV remarks are its "weak AKAs" (nicknames, noms de
        # guerre, common acronyms); strong aliases live in the alt file. f.k.a./n.k.a. likewise.
        name = alias.group(2).strip()
        if name and name not in facts.weak_aliases:
            facts.weak_aliases.append(name)
        return
    if clause.startswith("DOB "):
        for date in parse_dob(clause[4:]):
            if date not in facts.dates_of_birth:
                facts.dates_of_birth.append(date)
        return
    for prefix in ("nationality ", "citizen "):
        if clause.startswith(prefix):
            facts.add_country(clause[len(prefix) :])
            return
    crypto = _CRYPTO_RE.match(clause)
    if crypto:
        identifier = Identifier(
            kind="CRYPTO_ADDRESS", value=crypto.group(2), network=crypto.group(1).upper()
        )
        if identifier not in facts.identifiers:
            facts.identifiers.append(identifier)
        return
    for prefix, kind in _DOCUMENTS:
        if clause.startswith(prefix):
            _document(facts, kind, clause[len(prefix) :])
            return
