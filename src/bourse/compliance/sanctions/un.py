"""Loader for the UN Security Council Consolidated List (the official XML publication).

Choices the model leaves open, made here:
- REFERENCE_NUMBER (e.g. "QDi.001") opens `remarks` as "UN reference QDi.001", not an identifier:
  identifiers are matched exactly against customers' documents, and a list reference is not one.
- A BETWEEN date of birth gives every year of the range ("1955".."1958"); dates of birth given
  with an alias are kept too. Free-text birth notes ("Nov. 1973") are not parsed.
- Countries come from nationality and address; names that resolve to no ISO code are left out
  and counted (`parse_un_counting`).
"""

import collections
import datetime
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from bourse.compliance.sanctions.country_names import resolve_country
from bourse.compliance.sanctions.entries import (
    Identifier,
    ListEntry,
    ListFormatError,
    ListVersion,
    sha256_of,
)

SOURCE = "un_sc"
Counter = collections.Counter[str]


_PERSON_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
_STRONG_QUALITY = frozenset({"Good", "a.k.a."})
_WEAK_QUALITY = frozenset({"Low", "f.k.a.", "n.k.a."})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR = re.compile(r"\d{4}")
# LISTED_ON is sometimes written with a UTC offset: "2015-04-07-04:00".
_LISTED_ON = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[+-]\d{2}:\d{2}|Z)?")


def _text(element: ET.Element | None) -> str:
    """Element text with whitespace runs collapsed (the file wraps long values over lines)."""
    if element is None or element.text is None:
        return ""
    return " ".join(element.text.split())


class _Entry:
    """Reads one INDIVIDUAL or ENTITY; `where` names it by DATAID in every error."""

    def __init__(self, origin: str, element: ET.Element, where: str, unresolved: Counter) -> None:
        self.origin = origin
        self.element = element
        self.where = where
        self.unresolved = unresolved

    def fail(self, path: str, problem: str) -> ListFormatError:
        return ListFormatError(self.origin, f"{self.where}/{path}" if path else self.where, problem)

    def date(self, value: str, path: str) -> str:
        if not _DATE.fullmatch(value):
            raise self.fail(path, f"{value!r} is not a date (YYYY-MM-DD)")
        try:
            datetime.date.fromisoformat(value)
        except ValueError as exc:
            raise self.fail(path, f"{value!r} is not a date: {exc}") from None
        return value

    def year(self, value: str, path: str) -> str:
        if not _YEAR.fullmatch(value):
            raise self.fail(path, f"{value!r} is not a year (YYYY)")
        return value

    def countries(self, paths: tuple[str, ...]) -> tuple[str, ...]:
        found: list[str] = []
        for path in paths:
            for element in self.element.iterfind(path):
                name = _text(element)
                code = resolve_country(name)
                if code is None:
                    self.unresolved[name] += 1
                elif code and code not in found:
                    found.append(code)
        return tuple(found)

    def aliases(self, tag: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        strong: list[str] = []
        weak: list[str] = []
        for n, alias in enumerate(self.element.iterfind(tag), start=1):
            name = _text(alias.find("ALIAS_NAME"))
            quality = _text(alias.find("QUALITY"))
            if not name:  # the file carries empty alias elements (no name, no quality)
                continue
            if quality in _STRONG_QUALITY:
                strong.append(name)
            elif quality in _WEAK_QUALITY:
                weak.append(name)
            else:
                raise self.fail(f"{tag}[{n}]/QUALITY", f"unknown alias quality {quality!r}")
        return tuple(strong), tuple(weak)

    def dates_of_birth(self) -> tuple[str, ...]:
        found: list[str] = []
        for n, dob in enumerate(self.element.iterfind("INDIVIDUAL_DATE_OF_BIRTH"), start=1):
            path = f"INDIVIDUAL_DATE_OF_BIRTH[{n}]"
            kind = _text(dob.find("TYPE_OF_DATE"))
            if kind not in ("", "EXACT", "APPROXIMATELY", "BETWEEN"):
                raise self.fail(f"{path}/TYPE_OF_DATE", f"unknown type of date {kind!r}")
            date = _text(dob.find("DATE"))
            year = _text(dob.find("YEAR"))
            first, last = _text(dob.find("FROM_YEAR")), _text(dob.find("TO_YEAR"))
            if date:
                found.append(self.date(date, f"{path}/DATE"))
            if year:
                found.append(self.year(year, f"{path}/YEAR"))
            if first or last:
                start = int(self.year(first, f"{path}/FROM_YEAR"))
                end = int(self.year(last, f"{path}/TO_YEAR"))
                if end < start:
                    raise self.fail(path, f"TO_YEAR {end} is before FROM_YEAR {start}")
                found.extend(str(y) for y in range(start, end + 1))
        for n, alias in enumerate(self.element.iterfind("INDIVIDUAL_ALIAS"), start=1):
            value = _text(alias.find("DATE_OF_BIRTH"))
            if value:
                path = f"INDIVIDUAL_ALIAS[{n}]/DATE_OF_BIRTH"
                found.append(self.year(value, path) if len(value) == 4 else self.date(value, path))
        return tuple(dict.fromkeys(found))

    def identifiers(self) -> tuple[Identifier, ...]:
        found: list[Identifier] = []
        for document in self.element.iterfind("INDIVIDUAL_DOCUMENT"):
            number = _text(document.find("NUMBER"))
            if not number:  # documents described only in a NOTE identify nothing
                continue
            label = _text(document.find("TYPE_OF_DOCUMENT"))
            detail = _text(document.find("TYPE_OF_DOCUMENT2"))
            words = f"{label} {detail}".casefold()
            if "passport" in words or "pasaporte" in words or "passeport" in words:
                kind = "PASSPORT"
            elif label == "National Identification Number":
                kind = "NATIONAL_ID"
            else:
                kind = "OTHER"
            issuer = _text(document.find("ISSUING_COUNTRY")) or _text(
                document.find("COUNTRY_OF_ISSUE")
            )
            country = resolve_country(issuer) if issuer else ""
            if country is None:
                self.unresolved[issuer] += 1
            found.append(
                Identifier(
                    kind=kind,
                    value=number,
                    label=f"{label}: {detail}" if detail and detail != label else label,
                    country=country or "",
                )
            )
        return tuple(found)

    def listed_on(self) -> str:
        value = _text(self.element.find("LISTED_ON"))
        if not value:
            return ""
        match = _LISTED_ON.fullmatch(value)
        if match is None:
            raise self.fail("LISTED_ON", f"{value!r} is not a date (YYYY-MM-DD)")
        return self.date(match.group(1), "LISTED_ON")

    def remarks(self) -> str:
        reference = _text(self.element.find("REFERENCE_NUMBER"))
        comments = _text(self.element.find("COMMENTS1"))
        parts = [f"UN reference {reference}"] if reference else []
        if comments:
            parts.append(comments)
        return ". ".join(parts)


def _individual(reader: _Entry, entry_id: str) -> ListEntry:
    element = reader.element
    name = " ".join(p for p in (_text(element.find(t)) for t in _PERSON_NAME_PARTS) if p)
    if not name:
        raise reader.fail("FIRST_NAME", "individual has no name")
    aliases, weak = reader.aliases("INDIVIDUAL_ALIAS")
    return ListEntry(
        source=SOURCE,
        entry_id=entry_id,
        schema="Person",
        name=name,
        aliases=aliases,
        weak_aliases=weak,
        original_script_names=_original_script(element),
        dates_of_birth=reader.dates_of_birth(),
        countries=reader.countries(("NATIONALITY/VALUE", "INDIVIDUAL_ADDRESS/COUNTRY")),
        identifiers=reader.identifiers(),
        programs=_programs(element),
        listed_on=reader.listed_on(),
        remarks=reader.remarks(),
    )


def _entity(reader: _Entry, entry_id: str) -> ListEntry:
    element = reader.element
    name = _text(element.find("FIRST_NAME"))  # the UN schema keeps an entity's name there
    if not name:
        raise reader.fail("FIRST_NAME", "entity has no name")
    aliases, weak = reader.aliases("ENTITY_ALIAS")
    return ListEntry(
        source=SOURCE,
        entry_id=entry_id,
        schema="Organization",
        name=name,
        aliases=aliases,
        weak_aliases=weak,
        original_script_names=_original_script(element),
        countries=reader.countries(("ENTITY_ADDRESS/COUNTRY",)),
        programs=_programs(element),
        listed_on=reader.listed_on(),
        remarks=reader.remarks(),
    )


def _original_script(element: ET.Element) -> tuple[str, ...]:
    return tuple(n for n in (_text(e) for e in element.iterfind("NAME_ORIGINAL_SCRIPT")) if n)


def _programs(element: ET.Element) -> tuple[str, ...]:
    program = _text(element.find("UN_LIST_TYPE"))
    return (program,) if program else ()


def parse_un_counting(data: bytes, origin: str) -> tuple[ListVersion, Counter]:
    """The list, and how often each country name that resolved to no ISO code occurred."""
    # ElementTree (expat) fetches no external entities; the file is a local, trusted copy of an
    # official publication, so internal-entity expansion is not a concern here.
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        raise ListFormatError(origin, f"line {line}, column {column}", f"not XML: {exc}") from None
    if root.tag != "CONSOLIDATED_LIST":
        raise ListFormatError(origin, root.tag, "root element is not CONSOLIDATED_LIST")
    generated = root.get("dateGenerated", "")
    try:
        published = datetime.date.fromisoformat(generated[:10]).isoformat()
    except ValueError:
        where = "CONSOLIDATED_LIST@dateGenerated"
        raise ListFormatError(origin, where, f"{generated!r} is not a date") from None
    unresolved: Counter = collections.Counter()
    entries: list[ListEntry] = []
    seen: set[str] = set()
    for group, tag, build in (
        ("INDIVIDUALS", "INDIVIDUAL", _individual),
        ("ENTITIES", "ENTITY", _entity),
    ):
        for n, element in enumerate(root.iterfind(f"{group}/{tag}"), start=1):
            position = f"CONSOLIDATED_LIST/{group}/{tag}[{n}]"
            entry_id = _text(element.find("DATAID"))
            if not entry_id.isdigit():
                problem = f"DATAID {entry_id!r} is not a number" if entry_id else "no DATAID"
                raise ListFormatError(origin, position, problem)
            if entry_id in seen:
                raise ListFormatError(origin, f"{tag} DATAID={entry_id}", "DATAID listed twice")
            seen.add(entry_id)
            reader = _Entry(origin, element, f"{tag} DATAID={entry_id}", unresolved)
            entries.append(build(reader, entry_id))
    version = ListVersion(
        source=SOURCE,
        published=published,
        origin=origin,
        content_sha256=sha256_of(data),
        entries=tuple(entries),
    )
    return version, unresolved


def parse_un(data: bytes, origin: str) -> ListVersion:
    """The UN consolidated XML as a `ListVersion`; ListFormatError names the element at fault."""
    return parse_un_counting(data, origin)[0]


def load_un(path: str | Path) -> ListVersion:
    return parse_un(Path(path).read_bytes(), str(path))
