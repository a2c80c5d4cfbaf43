"""Screen a person or organization against the indexed lists: identifiers, then names.

An identifier equal to a listed one is a hit at 1.0 whatever the name. Otherwise the name score
decides; date of birth and country only qualify it: a matching DOB adds at most
`MAX_QUALIFIER_BONUS`, conflicts subtract, and a hit also needs the name score alone to be within
that bonus of the threshold, so no DOB or country can ever make a hit out of a dissimilar name.

A high name score is not yet an alert (`_name_refusal`): the listed name's distinctive parts must
be there. What that trades, measured on 50,000 synthetic customers (37 alerts per 10,000 before,
2 after): a one-word query such as a surname alone no longer alerts against a full listed name;
a listed mononym does not alert on a customer's full name; a misspelled given name with only part
of the listed name is missed; and against a conflicting listed date of birth only an identical
name still alerts. Identifiers are unaffected: an exact match always alerts.

Most of a shortlist shares one part with the query (a common surname) and nothing else. Before
the full scorer, `_may_alert` sets aside the names `_name_refusal` would refuse whatever their
score, and a name whose entry already has a hit it cannot beat is skipped: the hits are exactly
those of scoring every shortlisted name, at about half the cost (bulk.py screens many at once).
"""

import re
from dataclasses import dataclass, field

from bourse.compliance.sanctions.entries import ListEntry
from bourse.compliance.sanctions.matching.index import (
    DEFAULT_CANDIDATES,
    WEAK_ALIAS,
    IdentifierRef,
    ListIndex,
    Outline,
    crypto_key,
    outline,
    query_identifier_keys,
)
from bourse.compliance.sanctions.matching.names import (
    CLOSE,
    OPERATING_THRESHOLD,
    STRONG,
    NameMatch,
    PreparedName,
    _evidence_similarity,
    part_similarity,
    prepare,
    score_prepared,
    tokens,
)

# Qualifier weights, in score points; see the module docstring for why the bonus is small.
DOB_DAY_BONUS = 0.05  # same full date of birth
DOB_MONTH_BONUS = 0.03  # same year and month (the list gives no day)
DOB_YEAR_BONUS = 0.02  # same year (one side gives only a year)
MAX_QUALIFIER_BONUS = DOB_DAY_BONUS
# Two full dates that differ: lists give every known DOB. At 0.3 only an identical name (1.0)
# still alerts against a conflicting date; at 0.2 every common Hispanic or Chinese name did.
DOB_CONFLICT_PENALTY = 0.3
DOB_YEAR_CONFLICT_PENALTY = 0.3  # birth years two or more apart: as decisive as two full dates
DOB_NEAR_YEAR_PENALTY = 0.05  # one year apart: lists often mean "circa"
COUNTRY_CONFLICT_PENALTY = 0.05  # lists give several countries, customers move: weak evidence
WEAK_ALIAS_WEIGHT = 0.9  # f.k.a. and low-quality aliases never reach a primary name's score
SCHEMA_MISMATCH_WEIGHT = 0.8  # e.g. a person's name inside a company's name
_DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")
# A person is never a vessel or an aircraft (and the reverse).
_EXCLUDED = {
    frozenset({"Person", "Vessel"}),
    frozenset({"Person", "Aircraft"}),
}


@dataclass(frozen=True)
class Query:
    name: str
    dob: str = ""  # YYYY, YYYY-MM or YYYY-MM-DD
    country: str = ""  # ISO 3166-1 alpha-2
    schema: str = ""  # "" when unknown: no schema penalty
    identifiers: tuple[str, ...] = ()  # BICs, crypto addresses, document numbers


@dataclass(frozen=True)
class Hit:
    score: float  # in [0, 1]
    source: str
    entry_id: str
    listed_name: str  # the entry's primary name
    schema: str
    explanation: str
    matched: dict[str, str | float] = field(default_factory=dict)


def _identifier_hit(
    index: ListIndex, query_value: str, ref: IdentifierRef, query_how: str = "exact"
) -> Hit:
    entry = index.entries[ref.entry]
    identifier = ref.identifier
    kind = identifier.kind.replace("_", " ").lower() if identifier.kind != "BIC" else "BIC"
    if identifier.kind == "CRYPTO_ADDRESS" and identifier.network:
        kind = f"{identifier.network} address"
    # Either side may have been reduced to its institution code (BIC) or stripped of punctuation.
    how_text = ref.how if ref.how != "exact" else query_how
    how = "" if how_text == "exact" else f" ({how_text})"
    explanation = (
        f"{kind} {query_value} matches {entry.source} {entry.entry_id} "
        f"({entry.name}) listed {identifier.value}{how}"
    )
    matched: dict[str, str | float] = {
        "identifier": query_value,
        "listed_identifier": identifier.value,
        "identifier_kind": identifier.kind,
        "how": how_text,
    }
    return Hit(1.0, entry.source, entry.entry_id, entry.name, entry.schema, explanation, matched)


def _precision(date: str) -> int:
    return {4: 1, 7: 2, 10: 3}.get(len(date), 0)  # year, month, day


def _dob_qualifier(query_dob: str, listed: tuple[str, ...]) -> tuple[float, str]:
    """Score points and words for the query's date of birth against the listed ones."""
    if not query_dob or not listed:
        return 0.0, ""
    if not _DATE.fullmatch(query_dob):
        return 0.0, f"DOB {query_dob!r} not understood (YYYY, YYYY-MM or YYYY-MM-DD): ignored"
    listed = tuple(date for date in listed if _DATE.fullmatch(date))
    best: tuple[int, str] | None = None
    full_conflict = ""
    for date in listed:
        common = min(_precision(query_dob), _precision(date))
        if common == 0:
            continue
        width = {1: 4, 2: 7, 3: 10}[common]
        if query_dob[:width] == date[:width]:
            if best is None or common > best[0]:
                best = (common, date)
        elif common == 3:
            full_conflict = date
    if best is not None:
        bonus = {1: DOB_YEAR_BONUS, 2: DOB_MONTH_BONUS, 3: DOB_DAY_BONUS}[best[0]]
        unit = {1: "year", 2: "year and month", 3: "date"}[best[0]]
        return bonus, f"DOB {query_dob} matches listed {best[1]} by {unit} (+{bonus:.2f})"
    if full_conflict:
        return -DOB_CONFLICT_PENALTY, (
            f"DOB {query_dob} conflicts with listed {full_conflict} (-{DOB_CONFLICT_PENALTY:.2f})"
        )
    shown = ", ".join(listed)
    gap = min(
        (abs(int(query_dob[:4]) - int(date[:4])) for date in listed if date[:4].isdigit()),
        default=0,
    )
    penalty = DOB_NEAR_YEAR_PENALTY if gap <= 1 else DOB_YEAR_CONFLICT_PENALTY
    return -penalty, f"DOB {query_dob} differs from listed {shown} (-{penalty:.2f})"


def _country_qualifier(query_country: str, listed: tuple[str, ...]) -> tuple[float, str]:
    if not query_country or not listed:
        return 0.0, ""
    country = query_country.upper()
    if country in listed:
        return 0.0, f"country {country} is among those listed (no weight on its own)"
    shown = ", ".join(listed)
    return -COUNTRY_CONFLICT_PENALTY, (
        f"country {country} not among listed {shown} (-{COUNTRY_CONFLICT_PENALTY:.2f})"
    )


def _schema_weight(query_schema: str, listed_schema: str) -> float | None:
    """None excludes the entry; otherwise the factor on the name score."""
    if not query_schema or query_schema == listed_schema:
        return 1.0
    if frozenset({query_schema, listed_schema}) in _EXCLUDED:
        return None
    return SCHEMA_MISMATCH_WEIGHT


WHOLE_NAME_MINIMUM = 0.9  # merged/split names ("SergeiLavrov"): only a near-identical string
PERSON_IN_ORGANIZATION_MINIMUM = 0.9  # "Kristina Lucero" is not "LUCERO IMPORT S.A.C."
MIN_QUERY_LETTERS = 3  # "x", "Li": too little of a name to alert on by itself


def _parts_needed(listed_names: int, query_names: int) -> int:
    """Two matched name parts when either side has two: "Karl Abdullah" is not "ABDULLAH"."""
    return max(1, min(2, max(listed_names, query_names)))


def _length_bound(a: tuple[int, int], b: tuple[int, int]) -> float:
    """The most an edit similarity (1 - distance / longer length) can be between two strings of
    lengths in these ranges: a distance is at least the difference in length."""
    if a[1] < b[0]:
        return a[1] / b[0]
    if b[1] < a[0]:
        return b[1] / a[0]
    return 1.0


def _may_alert(
    query: Outline, listed: Outline, kind: str, similarities: list[dict[int, float]]
) -> bool:
    """False only when `_name_refusal` would refuse this pair whatever its score: no part pairs
    give what the evidence needs, and the whole names differ too much in length to be alike.

    Most shortlisted names fail here (a shared surname and nothing else), which saves the full
    scorer for them. It mirrors the scorer: evidence counts aligned part pairs (each part once)
    at their `part_similarity` as `_evidence_similarity` grades it, and whole names are compared
    by edit similarity of the joined skeletons (or consonants). tests/compliance/test_bulk_screen.py
    checks that nothing the full path alerts on is turned away here. `similarities` caches, per
    query part, the grade against each listed part id.
    """
    if not query.parts or not listed.parts:
        return False  # no name parts: refused
    if query.parts != listed.parts and (
        _length_bound(query.skeletons, listed.skeletons) >= WHOLE_NAME_MINIMUM
        or (
            (query.loose or listed.loose)
            and _length_bound(query.consonants, listed.consonants) >= WHOLE_NAME_MINIMUM
        )
    ):
        return True  # the whole-name comparison might carry it
    if kind == WEAK_ALIAS and listed.parts < 2:
        return False
    needed = _parts_needed(listed.names, query.names)
    if min(len(query.evidence), len(listed.evidence)) < needed:
        return False  # too few parts on one side to match `needed` distinct pairs
    rows = 0
    columns = 0  # bit j: listed part j is close to some query part
    strong = False
    remaining = len(query.evidence)
    for (_, a), known in zip(query.evidence, similarities, strict=True):
        remaining -= 1
        close = False
        for j, (part_id, b) in enumerate(listed.evidence):
            similarity = known.get(part_id)
            if similarity is None:
                similarity = known[part_id] = _evidence_similarity(a, b, part_similarity(a, b))
            if similarity >= CLOSE:
                close = True
                columns |= 1 << j
                strong = strong or similarity >= STRONG
        rows += close
        if strong and min(rows, columns.bit_count()) >= needed:
            return True
        if rows + remaining < needed:
            return False  # the query parts left cannot make up the pairs
    return False


def _best_possible(schema_weight: float, kind: str, qualifiers: tuple[float, float]) -> float:
    """The highest score a name of this kind can reach: `_name_hit` at a name score of 1.0, in
    the same operations (so in the same rounding)."""
    name = 1.0 * schema_weight
    if kind == WEAK_ALIAS:
        name *= WEAK_ALIAS_WEIGHT
    dob, country = qualifiers
    return round(min(1.0, max(0.0, name + dob + country)), 4)


def _name_refusal(match: NameMatch, query: Query, entry: ListEntry, kind: str, parts: int) -> str:
    """Why this name match, whatever its score, is not evidence enough for an alert ("" if it is).

    The score says how alike two names are; an alert also needs the listed name's distinctive
    parts to be there. Measured on 50,000 synthetic customers, most alerts were a common family
    name plus a guessed given name, a Chinese syllable, or a person's name inside a company's.
    """
    ev = match.evidence
    if ev is None:
        return "no name parts"
    if ev.whole:
        return "" if match.score >= WHOLE_NAME_MINIMUM else "whole-name comparison too loose"
    if kind == WEAK_ALIAS and parts < 2:
        return "one-word weak alias"
    needed = _parts_needed(ev.listed_names, ev.query_names)
    if ev.close < needed or ev.strong < 1:
        return f"only {ev.close} of the listed name's distinctive parts matched"
    if ev.fuzzy and ev.missing_names:
        return "a guessed part while listed parts are missing"
    if ev.syllabic and ev.missing_names:
        return "romanized syllables matched while listed parts are missing"
    covered = not (ev.missing_names or ev.fuzzy) and match.score >= PERSON_IN_ORGANIZATION_MINIMUM
    if query.schema == "Person" and entry.schema != "Person" and not covered:
        return "a person's name does not cover the organization's name"
    return ""


def _name_hit(
    entry: ListEntry, query: Query, raw: float, listed: str, kind: str, parts: str, threshold: float
) -> Hit | None:
    schema_weight = _schema_weight(query.schema, entry.schema)
    if schema_weight is None:
        return None
    name = raw * schema_weight
    words = [f"name '{query.name}' ~ {kind} '{listed}' {raw:.2f} [{parts}]"]
    if kind == WEAK_ALIAS:
        name *= WEAK_ALIAS_WEIGHT
        words.append(f"weak alias, weighted x{WEAK_ALIAS_WEIGHT}")
    if schema_weight != 1.0:
        words.append(f"{query.schema} vs listed {entry.schema}, weighted x{schema_weight}")
    # The name alone must nearly reach the threshold: qualifiers only tip the balance.
    if name < threshold - MAX_QUALIFIER_BONUS or name <= 0.0:
        return None
    score = name
    for points, text in (
        _dob_qualifier(query.dob, entry.dates_of_birth),
        _country_qualifier(query.country, entry.countries),
    ):
        score += points
        if text:
            words.append(text)
    score = round(min(1.0, max(0.0, score)), 4)
    if score < threshold:
        return None
    matched: dict[str, str | float] = {
        "name_score": round(name, 4),
        "raw_name_score": raw,
        "query_name": query.name,
        "listed_name": listed,
        "name_kind": kind,
    }
    if query.dob:
        matched["dob"] = query.dob
    if query.country:
        matched["country"] = query.country
    explanation = f"{entry.source} {entry.entry_id} at {score:.2f}: " + "; ".join(words)
    return Hit(score, entry.source, entry.entry_id, entry.name, entry.schema, explanation, matched)


def screen(
    index: ListIndex,
    query: Query,
    threshold: float = OPERATING_THRESHOLD,
    limit: int = 10,
    candidates: int = DEFAULT_CANDIDATES,
) -> list[Hit]:
    """Hits at or above `threshold`, best first (then by entry id), at most `limit`."""
    best: dict[int, Hit] = {}
    for value in query.identifiers:
        for key, how in query_identifier_keys(value):
            for ref in index.identifier_refs(key):
                best.setdefault(ref.entry, _identifier_hit(index, value.strip(), ref, how))
    if query.name.strip():
        # The query is prepared the way each listed name was: by its own schema when unknown.
        prepared: dict[str, PreparedName] = {}

        def prepared_for(schema: str) -> PreparedName:
            if schema not in prepared:
                prepared[schema] = prepare(query.name, schema)
            return prepared[schema]

        parts = tokens(prepared_for(query.schema or "Person"))
        if sum(len(p) for p in parts if len(p) > 1) < MIN_QUERY_LETTERS:
            parts = ()  # nothing to look up by name: identifiers above still count
        # The query's outline and part similarities, per schema it is prepared in.
        outlines: dict[str, tuple[Outline, list[dict[int, float]]]] = {}
        qualifiers: dict[int, tuple[float, float]] = {}  # entry position -> DOB, country points
        for name_id in index.candidates(parts, candidates) if parts else ():
            listed = index.names[name_id]
            entry = index.entries[listed.entry]
            schema_weight = _schema_weight(query.schema, entry.schema)
            if schema_weight is None:
                continue  # excluded: `_name_hit` would return None whatever the score
            held = best.get(listed.entry)
            if held is not None:
                if "identifier" in held.matched:
                    if "name_score" in held.matched:
                        continue  # the identifier hit already says the name matches too
                else:
                    if listed.entry not in qualifiers:
                        qualifiers[listed.entry] = (
                            _dob_qualifier(query.dob, entry.dates_of_birth)[0],
                            _country_qualifier(query.country, entry.countries)[0],
                        )
                    if held.score >= _best_possible(
                        schema_weight, listed.kind, qualifiers[listed.entry]
                    ):
                        continue  # only a higher score replaces the entry's hit
            query_prepared = prepared_for(query.schema or entry.schema)
            if query_prepared.schema not in outlines:
                shape = outline(query_prepared, False, {})
                outlines[query_prepared.schema] = (shape, [{} for _ in shape.evidence])
            shape, similarities = outlines[query_prepared.schema]
            if not _may_alert(shape, listed.outline, listed.kind, similarities):
                continue
            match = score_prepared(query_prepared, listed.prepared)
            if _name_refusal(match, query, entry, listed.kind, len(listed.prepared.parts)):
                continue
            hit = _name_hit(
                entry, query, match.score, listed.text, listed.kind, match.explanation, threshold
            )
            if hit is None:
                continue
            if held is None:
                best[listed.entry] = hit
            elif "identifier" in held.matched:
                # Keep the identifier hit, but say the name also matched.
                note = f"; name also matches: {hit.explanation}"
                matched = {**held.matched, **hit.matched}
                best[listed.entry] = Hit(
                    held.score,
                    held.source,
                    held.entry_id,
                    held.listed_name,
                    held.schema,
                    held.explanation + note,
                    matched,
                )
            elif hit.score > held.score:
                best[listed.entry] = hit
    hits = sorted(best.values(), key=lambda hit: (-hit.score, hit.entry_id, hit.source))
    return hits[:limit]


def screen_address(index: ListIndex, address: str) -> list[Hit]:
    """A crypto withdrawal destination against every listed address: exact, any hit blocks."""
    value = address.strip()
    hits = [_identifier_hit(index, value, ref) for ref in index.identifier_refs(crypto_key(value))]
    return sorted(hits, key=lambda hit: (hit.source, hit.entry_id))
