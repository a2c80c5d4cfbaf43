"""Everything the screener needs from the loaded lists, prepared once per list version.

Names are prepared by the name scorer once, at build time, so a screening only prepares the query.
Candidates come from an inverted index over the scorer's own ASCII name parts: whole parts,
their metaphone code (spelling drift: Mohammed/Muhammad) and their character trigrams
(transliteration drift: Qadhafi/Gaddafi), each weighted by how rare it is, so the expensive
scorer only sees a bounded shortlist. Identifiers sit in an exact dictionary, never fuzzy.
"""

import heapq
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rigour.text.phonetics import metaphone

from bourse.compliance.addresses import address_key
from bourse.compliance.sanctions.entries import Identifier, ListEntry, ListVersion
from bourse.compliance.sanctions.matching.names import PreparedName, prepare, tokens

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


@dataclass(frozen=True)
class IndexedName:
    entry: int  # position in ListIndex.entries
    text: str  # as listed
    kind: str  # PRIMARY, ALIAS, WEAK_ALIAS or ORIGINAL_SCRIPT
    prepared: PreparedName


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


@dataclass
class ListIndex:
    versions: tuple[ListVersion, ...]
    entries: tuple[ListEntry, ...]
    names: tuple[IndexedName, ...]
    _postings: dict[str, list[int]] = field(repr=False)
    _weights: dict[str, float] = field(repr=False)
    _identifiers: dict[str, list[IdentifierRef]] = field(repr=False)
    _norms: list[float] = field(repr=False)  # so long names with many keys do not crowd out

    @classmethod
    def build(cls, versions: Iterable[ListVersion]) -> "ListIndex":
        versions = tuple(versions)
        entries = tuple(entry for version in versions for entry in version.entries)
        names: list[IndexedName] = []
        postings: dict[str, list[int]] = {}
        identifiers: dict[str, list[IdentifierRef]] = {}
        for position, entry in enumerate(entries):
            for text, kind in _entry_names(entry):
                prepared = prepare(text, entry.schema)
                name_id = len(names)
                names.append(IndexedName(position, text, kind, prepared))
                for key in name_keys(tokens(prepared)):
                    postings.setdefault(key, []).append(name_id)
            for identifier in entry.identifiers:
                for key, how in _listed_identifier_keys(identifier):
                    identifiers.setdefault(key, []).append(IdentifierRef(position, identifier, how))
        total = max(len(names), 1)
        weights = {key: math.log(1 + total / len(ids)) for key, ids in postings.items()}
        squares = [0.0] * len(names)
        for key, ids in postings.items():
            for name_id in ids:
                squares[name_id] += weights[key] ** 2
        norms = [math.sqrt(square) or 1.0 for square in squares]
        return cls(versions, entries, tuple(names), postings, weights, identifiers, norms)

    def candidates(self, parts: Sequence[str], limit: int = DEFAULT_CANDIDATES) -> list[int]:
        """Ids of the names sharing the most (and rarest) retrieval keys with `parts`."""
        keys = [key for key in name_keys(parts) if key in self._postings]
        common = max(1, int(len(self.names) * _COMMON_SHARE))
        rare = [key for key in keys if len(self._postings[key]) <= common]
        scores: dict[int, float] = {}
        get = scores.get
        for key in rare or keys:
            weight = self._weights[key]
            for name_id in self._postings[key]:
                scores[name_id] = get(name_id, 0.0) + weight
        # Cosine-like: shared weight over the listed name's own weight. Plain tuples compare in C,
        # a key function per name did not: this ranking was a third of a screening's time.
        norms = self._norms
        ranked = [(score / norms[name_id], -name_id) for name_id, score in scores.items()]
        return [-negative for _, negative in heapq.nlargest(limit, ranked)]

    def identifier_refs(self, key: str) -> list[IdentifierRef]:
        return self._identifiers.get(key, [])

    @property
    def name_count(self) -> int:
        return len(self.names)
