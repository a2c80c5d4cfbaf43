"""OFAC's CSV publications as `ListVersion`s: the SDN list (`sdn.csv`) and the consolidated
non-SDN list (`cons_prim.csv` with its `cons_alt`, `cons_add` and `cons_comments` companions).

The files have no header, one record per line (CRLF), "-0- " for an empty field and a final
0x1A end-of-file byte. We read line by line so every error names its line.
"""

import csv
import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bourse.compliance.sanctions.entries import (
    Identifier,
    ListEntry,
    ListFormatError,
    ListVersion,
    sha256_of,
)
from bourse.compliance.sanctions.ofac_remarks import RemarkFacts, parse_remarks

log = logging.getLogger(__name__)

SDN_SOURCE = "ofac_sdn"
CONS_SOURCE = "ofac_cons"
_EMPTY = "-0-"
_EOF = "\x1a"
_SCHEMAS = {"individual": "Person", "vessel": "Vessel", "aircraft": "Aircraft", "": "Organization"}
_PRIMARY_COLUMNS = 12  # ent_num, name, type, program, title, call sign, vessel type, tonnage,
# GRT, vessel flag, vessel owner, remarks
_ALT_COLUMNS = 5  # ent_num, alt_num, alt_type, alt_name, alt_remarks
_ADD_COLUMNS = 6  # ent_num, add_num, address, city/state/zip, country, add_remarks
_COMMENT_COLUMNS = 2  # ent_num, continued remarks


@dataclass(frozen=True)
class OfacLoad:
    """A parsed publication plus the country names no table resolved (kept out of `countries`)."""

    version: ListVersion
    unresolved_countries: Counter[str]


def _field(value: str) -> str:
    value = value.strip()
    return "" if value == _EMPTY else value


def _unstripped(value: str) -> str:
    """A remarks column as OFAC wrote it: its length, and a space where the 1,000-character
    limit cut it, say whether and where its last clause was cut."""
    return "" if value.strip() == _EMPTY else value


def _rows(data: bytes, origin: str, part: str, columns: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) for every record; the EOF byte and trailing blank lines end it."""
    lines = data.split(b"\n")
    while lines and lines[-1].strip(b"\r") in (b"", _EOF.encode()):
        lines.pop()
    for number, raw in enumerate(lines, 1):
        where = f"{part} line {number}"
        try:
            text = raw.removesuffix(b"\r").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ListFormatError(origin, where, f"not UTF-8 text ({exc.reason})") from exc
        try:
            parsed = list(csv.reader([text], strict=True))
        except csv.Error as exc:
            raise ListFormatError(origin, where, f"not a CSV record ({exc})") from exc
        if len(parsed) != 1 or len(parsed[0]) != columns:
            got = len(parsed[0]) if len(parsed) == 1 else 0
            raise ListFormatError(origin, where, f"{got} columns, expected {columns}")
        fields = parsed[0]
        if not fields[0].strip().isdigit():
            raise ListFormatError(origin, where, f"ent_num {fields[0]!r} is not a number")
        yield number, fields


def _programs(text: str) -> tuple[str, ...]:
    """ "SDGT] [IRGC" (OFAC's join of several programs) → ("SDGT", "IRGC")."""
    return tuple(p for p in (s.strip(" []") for s in text.split("] [")) if p)


def _natural_order(name: str) -> str:
    """ "LAST, First Middle" → "First Middle LAST"; names without the comma stay as they are."""
    last, comma, given = name.partition(", ")
    return f"{given} {last}" if comma and given else name


def _unique(names: list[str], exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    seen: list[str] = []
    for name in names:
        if name and name not in seen and name not in exclude:
            seen.append(name)
    return tuple(seen)


@dataclass
class _Draft:
    """One primary record while its companions (alt, add, comments) are joined onto it."""

    entry_id: str
    schema: str
    name: str
    programs: tuple[str, ...]
    remarks: str
    flag: str
    call_sign: str
    aliases: list[str]
    weak_aliases: list[str]
    address_countries: list[str]

    def finish(self, source: str, unresolved: Counter[str]) -> ListEntry:
        facts: RemarkFacts = parse_remarks(self.remarks)
        for name in [*self.address_countries, self.flag]:
            if name:
                facts.add_country(name)
        unresolved.update(facts.unresolved_countries)
        identifiers: list[Identifier] = list(facts.identifiers)
        if self.call_sign:
            identifiers.append(Identifier(kind="OTHER", value=self.call_sign, label="Call Sign"))
        aliases = list(self.aliases)
        if self.schema == "Person":
            aliases.insert(0, _natural_order(self.name))
            aliases += [_natural_order(a) for a in self.aliases]
        strong = _unique(aliases, exclude=(self.name,))
        return ListEntry(
            source=source,
            entry_id=self.entry_id,
            schema=self.schema,
            name=self.name,
            aliases=strong,
            weak_aliases=_unique(
                [*self.weak_aliases, *facts.weak_aliases], exclude=(self.name, *strong)
            ),
            dates_of_birth=tuple(facts.dates_of_birth),
            countries=tuple(facts.countries),
            identifiers=tuple(identifiers),
            programs=self.programs,
            remarks=self.remarks.strip(),
        )


def _primaries(data: bytes, origin: str, part: str) -> dict[str, _Draft]:
    drafts: dict[str, _Draft] = {}
    for number, fields in _rows(data, origin, part, _PRIMARY_COLUMNS):
        where = f"{part} line {number}"
        entry_id = fields[0].strip()
        if entry_id in drafts:
            raise ListFormatError(origin, where, f"ent_num {entry_id} listed twice")
        kind = _field(fields[2])
        schema = _SCHEMAS.get(kind)
        if schema is None:
            raise ListFormatError(origin, where, f"unknown SDN_Type {kind!r}")
        name = _field(fields[1])
        if not name:
            raise ListFormatError(origin, where, "empty SDN_Name")
        drafts[entry_id] = _Draft(
            entry_id=entry_id,
            schema=schema,
            name=name,
            programs=_programs(_field(fields[3])),
            remarks=_unstripped(fields[11]),
            flag=_field(fields[9]),
            call_sign=_field(fields[5]),
            aliases=[],
            weak_aliases=[],
            address_countries=[],
        )
    return drafts


def _finish(
    drafts: dict[str, _Draft], source: str, origin: str, published: str, sha: str
) -> OfacLoad:
    unresolved: Counter[str] = Counter()
    entries = tuple(d.finish(source, unresolved) for d in drafts.values())
    if unresolved:
        total = sum(unresolved.values())
        log.warning("%s: %d unresolved country names: %s", origin, total, dict(unresolved))
    version = ListVersion(
        source=source, published=published, origin=origin, content_sha256=sha, entries=entries
    )
    return OfacLoad(version=version, unresolved_countries=unresolved)


def parse_sdn_load(data: bytes, origin: str, published: str) -> OfacLoad:
    drafts = _primaries(data, origin, "sdn")
    return _finish(drafts, SDN_SOURCE, origin, published, sha256_of(data))


def parse_sdn(data: bytes, origin: str, published: str) -> ListVersion:
    """OFAC's `sdn.csv` → one entry per record, source "ofac_sdn"."""
    return parse_sdn_load(data, origin, published).version


def _draft_for(drafts: dict[str, _Draft], fields: list[str], origin: str, where: str) -> _Draft:
    draft = drafts.get(fields[0].strip())
    if draft is None:
        raise ListFormatError(origin, where, f"ent_num {fields[0].strip()} is not in cons_prim")
    return draft


def parse_consolidated_load(
    prim: bytes, alt: bytes, add: bytes, comments: bytes, origin: str, published: str
) -> OfacLoad:
    drafts = _primaries(prim, origin, "cons_prim")
    for number, fields in _rows(alt, origin, "cons_alt", _ALT_COLUMNS):
        where = f"cons_alt line {number}"
        draft = _draft_for(drafts, fields, origin, where)
        kind, name = _field(fields[2]).lower(), _field(fields[3])
        if not name:
            raise ListFormatError(origin, where, "empty alt_name")
        if kind == "aka":
            draft.aliases.append(name)
        elif kind in ("fka", "nka"):
            draft.weak_aliases.append(name)
        else:
            raise ListFormatError(origin, where, f"unknown alt_type {kind!r}")
    for number, fields in _rows(add, origin, "cons_add", _ADD_COLUMNS):
        draft = _draft_for(drafts, fields, origin, f"cons_add line {number}")
        if country := _field(fields[4]):
            draft.address_countries.append(country)
    for number, fields in _rows(comments, origin, "cons_comments", _COMMENT_COLUMNS):
        draft = _draft_for(drafts, fields, origin, f"cons_comments line {number}")
        # The comment continues the remarks where OFAC's 1,000-character column cut them,
        # often mid-word, so it is appended as is (a space at the cut included).
        draft.remarks += _unstripped(fields[1])
    # Length-prefixed so that moving bytes from one file to the next changes the hash.
    parts = [p for data in (prim, alt, add, comments) for p in (len(data).to_bytes(8, "big"), data)]
    return _finish(drafts, CONS_SOURCE, origin, published, sha256_of(*parts))


def parse_consolidated(
    prim: bytes, alt: bytes, add: bytes, comments: bytes, origin: str, published: str
) -> ListVersion:
    """The consolidated non-SDN files → one entry per cons_prim record, source "ofac_cons"."""
    return parse_consolidated_load(prim, alt, add, comments, origin, published).version


_FILE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _published_from(path: Path, published: str | None) -> str:
    if published:
        return published
    found = _FILE_DATE.search(path.name)
    if found is None:
        raise ListFormatError(str(path), "file name", "no publication date given or in the name")
    return found.group(1)


def load_sdn(path: str | Path, published: str | None = None) -> ListVersion:
    """Read an `sdn.csv`; `published` defaults to the YYYY-MM-DD in its file name."""
    path = Path(path)
    return parse_sdn(path.read_bytes(), str(path), _published_from(path, published))


def load_consolidated(directory: str | Path, published: str, prefix: str = "ofac_") -> ListVersion:
    """Read `{prefix}cons_prim.csv`, `_alt`, `_add` and `_comments` from one directory."""
    directory = Path(directory)
    parts = [directory / f"{prefix}cons_{p}.csv" for p in ("prim", "alt", "add", "comments")]
    prim, alt, add, comments = (p.read_bytes() for p in parts)
    return parse_consolidated(prim, alt, add, comments, str(directory), published)
