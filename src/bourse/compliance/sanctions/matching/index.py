"""Everything the screener needs from the loaded lists, prepared once per list version.

Names are prepared by the name scorer once, at build time, so a screening only prepares the query.
Candidates come from an inverted index over the scorer's own ASCII name parts: whole parts,
their metaphone code (spelling drift: Mohammed/Muhammad) and their character trigrams
(transliteration drift: Qadhafi/Gaddafi), each weighted by how rare it is, so the expensive
scorer only sees a bounded shortlist. Identifiers sit in an exact dictionary, never fuzzy.

Each listed name also carries its `Outline` (its parts that can count as evidence, its length as
a whole name), so the screener can set aside most of a shortlist before the scorer runs. The
build is deterministic (no set's order reaches a float sum), so a worker process that builds or
unpickles its own index ranks candidates exactly as the caller does.
"""

import heapq
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from itertools import compress, repeat
from operator import ge, itemgetter, truediv
from typing import NamedTuple

from rigour.text.phonetics import metaphone

from bourse.compliance.addresses import address_key
from bourse.compliance.sanctions.entries import Identifier, ListEntry, ListVersion
from bourse.compliance.sanctions.matching.names import PreparedName, prepare, tokens
from bourse.compliance.sanctions.matching.normalize import Part

# How a listed name is held; the screener weighs "weak alias" below the others.
PRIMARY, ALIAS, WEAK_ALIAS, ORIGINAL_SCRIPT = "primary", "alias", "weak alias", "original script"

# Names the scorer sees per query. 60 -> 30 halved scoring time; on 1,500 listed aliases and
# one-typo names plus putin_names.txt 20, 30 and 60 found the same entries (1432 of 1581).
DEFAULT_CANDIDATES = 30
# A key on more than this share of all names says almost nothing ("al", "bank"): skipped
# unless the query has nothing rarer, which keeps a query's posting walk short. 0.05 -> 0.02
# cut the walk (then half of a screening) by ~60%, same recall on the set above; 0.01 lost 3.
_COMMON_SHARE = 0.02
# Document numbers shorter than this collide between unrelated people: not matched.
MIN_DOCUMENT_LENGTH = 5

_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")


class Outline(NamedTuple):
    """What a prepared name can offer as evidence of identity, in the terms the screener tests
    before running the full scorer on it (screen._may_alert): once per listed name, at build.
    A named tuple: it pickles as a tuple, and workers unpickle one per listed name."""

    parts: int
    names: int  # parts of kind "name", as the scorer's Evidence counts them
    # Parts whose match can count as evidence (never an initial, nor a listed particle), each with
    # an id that equal parts share, so a screening compares each distinct pair once.
    evidence: tuple[tuple[int, Part], ...]
    skeletons: tuple[int, int]  # shortest and longest whole name: joined skeletons, any reading
    consonants: tuple[int, int]  # the same for the consonants
    loose: bool  # a part from a vowel-unreliable script: whole names compare consonants too


def _lengths(part: Part) -> tuple[int, int, int, int]:
    """Shortest and longest skeleton, shortest and longest consonants, over the part's readings
    (its romanization, the Korean reading of Han characters, ...)."""
    if not part.readings:
        return len(part.skeleton), len(part.skeleton), len(part.consonants), len(part.consonants)
    skeletons = [len(p.skeleton) for p in (part, *part.readings)]
    consonants = [len(p.consonants) for p in (part, *part.readings)]
    return min(skeletons), max(skeletons), min(consonants), max(consonants)


def outline(prepared: PreparedName, listed: bool, part_ids: dict[Part, int]) -> Outline:
    """`part_ids` numbers the distinct parts (and grows): one dictionary for a whole index."""
    skipped = ("initial", "particle") if listed else ("initial",)
    evidence = []
    names = skeleton_low = skeleton_high = consonant_low = consonant_high = 0
    loose = False
    for part in prepared.parts:
        if part.kind not in skipped:
            evidence.append((part_ids.setdefault(part, len(part_ids)), part))
        names += part.kind == "name"
        lengths = _lengths(part)
        skeleton_low += lengths[0]
        skeleton_high += lengths[1]
        consonant_low += lengths[2]
        consonant_high += lengths[3]
        loose = loose or part.loose_vowels
    return Outline(
        parts=len(prepared.parts),
        names=names,
        evidence=tuple(evidence),
        skeletons=(skeleton_low, skeleton_high),
        consonants=(consonant_low, consonant_high),
        loose=loose,
    )


@dataclass(frozen=True)
class IndexedName:
    entry: int  # position in ListIndex.entries
    text: str  # as listed
    kind: str  # PRIMARY, ALIAS, WEAK_ALIAS or ORIGINAL_SCRIPT
    prepared: PreparedName
    outline: Outline


@dataclass(frozen=True)
class IdentifierRef:
    entry: int
    identifier: Identifier
    how: str  # "exact" or why a normalized form matched


def crypto_key(address: str) -> str:
    return "C:" + address_key(address)


def document_key(number: str) -> str | None:
    """Passports, national ids, tax and registration numbers: upper-case letters and digits."""
    value = "".join(ch for ch in number.upper() if ch.isascii() and ch.isalnum())
    return "D:" + value if len(value) >= MIN_DOCUMENT_LENGTH else None


def bic_keys(code: str) -> list[tuple[str, str]]:
    """A BIC and, for an 11-character branch code, its 8-character institution code."""
    value = "".join(code.split()).upper()
    if not _BIC.fullmatch(value):
        return []
    keys = [("B:" + value, "exact")]
    if len(value) == 11:
        keys.append(("B:" + value[:8], "same institution (first 8 characters)"))
    return keys


def query_identifier_keys(value: str) -> list[tuple[str, str]]:
    """Every exact key a free-form query identifier could match: it carries no kind."""
    keys = [(crypto_key(value), "exact")]
    keys.extend(bic_keys(value))
    document = document_key(value)
    if document is not None:
        keys.append((document, "exact after removing spaces and punctuation"))
    return keys


def _listed_identifier_keys(identifier: Identifier) -> list[tuple[str, str]]:
    if identifier.kind == "CRYPTO_ADDRESS":
        return [(crypto_key(identifier.value), "exact")]
    if identifier.kind == "BIC":
        return bic_keys(identifier.value)
    document = document_key(identifier.value)
    return [] if document is None else [(document, "exact")]


def name_keys(parts: Iterable[str]) -> set[str]:
    """Retrieval keys of a name's ASCII parts: the part, its sound, its trigrams."""
    keys: set[str] = set()
    for part in parts:
        keys.add("w:" + part)
        if len(part) > 2 and part.isalpha():
            keys.add("m:" + metaphone(part))
        padded = f"^{part}$"
        keys.update("g:" + padded[i : i + 3] for i in range(len(padded) - 2))
    return keys


def _entry_names(entry: ListEntry) -> list[tuple[str, str]]:
    named = [(entry.name, PRIMARY)]
    named += [(alias, ALIAS) for alias in entry.aliases]
    named += [(alias, WEAK_ALIAS) for alias in entry.weak_aliases]
    named += [(name, ORIGINAL_SCRIPT) for name in entry.original_script_names]
    seen: set[str] = set()
    unique = []
    for text, kind in named:  # the first, strongest kind wins for a repeated name
        if text.strip() and text not in seen:
            seen.add(text)
            unique.append((text, kind))
    return unique


def _best_first(ranked: tuple[float, int]) -> tuple[float, int]:
    return -ranked[0], ranked[1]


@dataclass
class ListIndex:
    versions: tuple[ListVersion, ...]
    entries: tuple[ListEntry, ...]
    names: tuple[IndexedName, ...]
    _postings: dict[str, list[int]] = field(repr=False)
    _weights: dict[str, float] = field(repr=False)
    _identifiers: dict[str, list[IdentifierRef]] = field(repr=False)
    _norms: list[float] = field(repr=False)  # so long names with many keys do not crowd out
    # Keys on more than this share of names are skipped while rarer ones exist; 1.0 never skips
    # one (an index of a few changed entries, whose every key looks common).
    common_share: float = _COMMON_SHARE

    @classmethod
    def build(
        cls, versions: Iterable[ListVersion], common_share: float = _COMMON_SHARE
    ) -> "ListIndex":
        versions = tuple(versions)
        entries = tuple(entry for version in versions for entry in version.entries)
        names: list[IndexedName] = []
        postings: dict[str, list[int]] = {}
        identifiers: dict[str, list[IdentifierRef]] = {}
        part_ids: dict[Part, int] = {}
        shared: dict[Part, Part] = {}
        for position, entry in enumerate(entries):
            for text, kind in _entry_names(entry):
                prepared = prepare(text, entry.schema)
                # One object per distinct part (a quarter of them): a pickled index, which each
                # screening worker loads, is then that much smaller and quicker to load.
                parts = tuple(shared.setdefault(part, part) for part in prepared.parts)
                prepared = replace(prepared, parts=parts)
                name_id = len(names)
                shape = outline(prepared, True, part_ids)
                names.append(IndexedName(position, text, kind, prepared, shape))
                for key in name_keys(tokens(prepared)):
                    postings.setdefault(key, []).append(name_id)
            for identifier in entry.identifiers:
                for key, how in _listed_identifier_keys(identifier):
                    identifiers.setdefault(key, []).append(IdentifierRef(position, identifier, how))
        total = max(len(names), 1)
        weights = {key: math.log(1 + total / len(ids)) for key, ids in postings.items()}
        squares = [0.0] * len(names)
        # Keys in sorted order, here and in `candidates`: sums of floats then come out the same
        # in every process. In a set's order (which follows the hash seed) their last bits, and so
        # the order of near-ties, changed from one process to the next.
        for key in sorted(postings):
            square = weights[key] ** 2
            for name_id in postings[key]:
                squares[name_id] += square
        norms = [math.sqrt(square) or 1.0 for square in squares]
        return cls(
            versions, entries, tuple(names), postings, weights, identifiers, norms, common_share
        )

    def candidates(self, parts: Sequence[str], limit: int = DEFAULT_CANDIDATES) -> list[int]:
        """Ids of the names sharing the most (and rarest) retrieval keys with `parts`, best first
        (ties: the lower id first)."""
        postings = self._postings
        keys = sorted(key for key in name_keys(parts) if key in postings)
        common = max(1, int(len(self.names) * self.common_share))
        rare = [key for key in keys if len(postings[key]) <= common]
        scores: dict[int, float] = {}
        get = scores.get
        for key in rare or keys:
            weight = self._weights[key]
            for name_id in postings[key]:
                scores[name_id] = get(name_id, 0.0) + weight
        if not scores:
            return []
        # Cosine-like: shared weight over the listed name's own weight. Computed and cut in C
        # (map, heapq on bare floats, compress): only the few at or above the cut are sorted.
        ids = list(scores)
        ranked = list(map(truediv, scores.values(), map(self._norms.__getitem__, ids)))
        if len(ranked) > limit:
            cut = heapq.nlargest(limit, ranked)[-1] if limit > 0 else math.inf
            top = list(compress(zip(ranked, ids, strict=True), map(ge, ranked, repeat(cut))))
        else:
            top = list(zip(ranked, ids, strict=True))
        top.sort(key=_best_first)
        return list(map(itemgetter(1), top[:limit]))

    def identifier_refs(self, key: str) -> list[IdentifierRef]:
        return self._identifiers.get(key, [])

    @property
    def name_count(self) -> int:
        return len(self.names)
