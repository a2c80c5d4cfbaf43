"""Screening against the sanctions lists in force in a data directory: what `bourse screen` and
the admin route `POST /admin/v1/screen` share (query checks, the index over exactly the versions
in force, and the JSON of hits and list versions)."""

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bourse.compliance.countries import country_problem
from bourse.compliance.sanctions.entries import SCHEMAS
from bourse.compliance.sanctions.matching.index import ListIndex
from bourse.compliance.sanctions.matching.screen import Hit, Query, screen
from bourse.compliance.sanctions.versions import SOURCES, ListStore, VersionInfo

NO_LISTS = "load a list first: bourse lists load SOURCE PATH (no sanctions list is in force)"
_DOB = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


class QueryError(ValueError):
    """A query the matcher cannot take: bad date of birth, country or schema."""


def make_query(
    name: str,
    dob: str = "",
    country: str = "",
    schema: str = "",
    ids: Sequence[str] = (),
) -> Query:
    """A validated Query; raises QueryError saying what is wrong."""
    name, dob, country, schema = name.strip(), dob.strip(), country.strip().upper(), schema.strip()
    ids = tuple(i.strip() for i in ids if i.strip())
    if not name and not ids:
        raise QueryError("a name or an identifier (--id) is required")
    if dob:
        found = _DOB.fullmatch(dob)
        try:
            if found is None:
                raise ValueError
            year, month, day = (int(g) if g else 1 for g in found.groups())
            datetime.date(year, month, day)
        except ValueError:
            raise QueryError(f"date of birth {dob!r} is not YYYY, YYYY-MM or YYYY-MM-DD") from None
    if country and (problem := country_problem(country)):
        raise QueryError(problem)
    if schema and schema not in SCHEMAS:
        raise QueryError(f"schema {schema!r} is not one of {', '.join(SCHEMAS)}")
    return Query(name=name, dob=dob, country=country, schema=schema, identifiers=ids)


def query_json(query: Query) -> dict[str, Any]:
    return {
        "name": query.name,
        "dob": query.dob,
        "country": query.country,
        "schema": query.schema,
        "ids": list(query.identifiers),
    }


def hit_json(hit: Hit) -> dict[str, Any]:
    # Scores are printed to 2 decimals as text: they are compared, never computed with.
    matched = {k: f"{v:.4f}" if isinstance(v, float) else v for k, v in hit.matched.items()}
    return {
        "score": f"{hit.score:.2f}",
        "source": hit.source,
        "entryId": hit.entry_id,
        "listedName": hit.listed_name,
        "schema": hit.schema,
        "explanation": hit.explanation,
        "matched": matched,
    }


def list_json(info: VersionInfo) -> dict[str, Any]:
    return {
        "source": info.source,
        "published": info.published,
        "sha256": info.sha256,
        "entries": info.entries,
    }


def in_force(store: ListStore) -> tuple[VersionInfo, ...]:
    """The version in force of each loaded list, newest publication first."""
    found = [v for v in (store.in_force(s) for s in SOURCES) if v is not None]
    return tuple(sorted(found, key=lambda v: (v.published, v.loaded_at), reverse=True))


@dataclass(frozen=True)
class Screener:
    """An index over exactly the versions in `lists` (read by file, so a load racing the build
    cannot mix two versions of a list)."""

    index: ListIndex
    lists: tuple[VersionInfo, ...]
    threshold: float  # the data directory's review threshold when built

    @classmethod
    def build(cls, store: ListStore, lists: tuple[VersionInfo, ...]) -> "Screener":
        versions = [store.read(info.source, info.file) for info in lists]
        return cls(ListIndex.build(versions), lists, store.review_threshold())

    def with_threshold(self, threshold: float) -> "Screener":
        return Screener(self.index, self.lists, threshold)

    def run(self, query: Query, threshold: float, limit: int) -> list[dict[str, Any]]:
        return [hit_json(h) for h in screen(self.index, query, threshold=threshold, limit=limit)]


def build_index(data_dir: str, lists: tuple[VersionInfo, ...]) -> ListIndex:
    """The index over exactly `lists` in `data_dir`: what a screening worker process builds."""
    return Screener.build(ListStore(data_dir), lists).index


def check_options(threshold: float | None, limit: int) -> str | None:
    if threshold is not None and not 0.0 < threshold <= 1.0:
        return f"threshold {threshold} is not in (0, 1]"
    if limit < 1:
        return f"limit {limit} is not at least 1"
    return None
