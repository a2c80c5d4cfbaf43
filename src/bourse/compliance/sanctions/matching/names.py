"""Score a query name against a listed name: aligned name parts, fuzzy per part, in [0, 1].

The score is a weighted share of name parts that agree. Parts of one name with no counterpart in
the other cost more when the other name also has unexplained parts (a conflict: "Hafez Makhlouf"
vs "Rami Makhlouf") than when they are merely missing (a middle name or patronymic left out).

A part written in another script is compared under each of its readings (readings.py: the
Korean reading of Han characters, say), and a part from a syllabic script also by its consonant
sounds, since a transcription (katakana プーチン "puchin") keeps little else of a foreign name.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from bourse.compliance.sanctions.matching.normalize import Part, split_name
from bourse.compliance.sanctions.matching.readings import is_pinyin, sound_key

# At 0.70 on cases.csv: precision 0.83, recall 0.90 (F1 0.86). Raising it to 0.80 buys
# precision 0.86 for recall 0.81; for sanctions a missed hit costs more than a review.
OPERATING_THRESHOLD = 0.7

_MIN_ALIGN = 0.6  # part pairs less similar than this are not taken to be the same part
_INITIAL = 0.9  # "V" for "Vladimir"
_FORM_CONFLICT = 0.2  # "Deutsche Bank AG" vs "Deutsche Bank GmbH"
_CONFLICT = 3.0  # weight factor of unmatched parts when both names have some
_SHARPNESS = 1.5  # same-script part similarity is raised to this power: near misses mostly miss
_SOUND = 0.9  # a transcription's consonant sounds in order ("pujing"/"putin"), at best
_MIN_SOUNDS = 3  # fewer consonant sounds ("zhang"/"chen": "tn") say nothing about a name
# Sounds less alike than this are unrelated names: a native Chinese name is its own pinyin, and
# two of them often share half their coarse sounds ("jinzhengen"/"jinping": "tntn"/"tnbn").
_MIN_SOUND_LIKENESS = 0.8
# Sounds alike count only when the aligned parts hold this many consonant sounds: one short part
# alike by sound is chance ("junseo"/"jonas": "tns"); Barack Obama in Chinese holds 5.
_MIN_NAME_SOUNDS = 5
# Another reading counts only when it spells (nearly) the same: a fuzzy match on a second
# reading of a syllable or two is a second lottery ticket, not evidence.
_MIN_READING = 0.9
# What an unmatched part costs, as a share of its weight.
_EXTRA_QUERY = {"name": 0.6, "patronymic": 0.6, "initial": 0.3, "particle": 0.2, "org": 0.6}
_MISSING_LISTED = {"name": 0.2, "patronymic": 0.1, "initial": 0.1, "particle": 0.1, "org": 0.3}


@dataclass(frozen=True)
class Evidence:
    """Counts behind a score, so a screener can ask which parts carried it, not only how much."""

    listed_names: int  # listed parts of kind "name" (not initials, particles, patronymics)
    query_names: int  # query parts of kind "name"
    close: int  # listed name/patronymic parts matched at >= CLOSE (never by an initial)
    strong: int  # of those, matched at >= STRONG
    fuzzy: int  # aligned same-script or syllabic pairs below STRONG: a spelling guess
    missing_names: int  # listed "name" parts nothing in the query matched
    whole: bool  # the score came from comparing whole names, not aligned parts
    syllabic: bool  # a matched part came from a script without spaces (Han, Hangul, ...)


CLOSE = 0.8  # "Aymen"/"Ayman"
STRONG = 0.9  # same skeleton, inflected ending, same consonants across scripts


@dataclass(frozen=True)
class NameMatch:
    score: float  # in [0, 1]
    query: str  # the query name that matched best
    listed: str  # the listed name it matched
    explanation: str  # which parts matched how, e.g. "vladimir~wladimir (0.92), putin=putin"
    evidence: Evidence | None = None  # None when there were no parts to compare


@dataclass(frozen=True)
class PreparedName:
    original: str
    schema: str
    parts: tuple[Part, ...]
    forms: frozenset[str]  # generic legal forms, e.g. {"llc"}
    # A part has other readings or comes from a syllabic script: compare_parts, not spellings.
    read: bool = False


def prepare(name: str, schema: str = "Person") -> PreparedName:
    parts, forms = split_name(name, schema)
    read = any(p.readings or p.dense for p in parts)
    return PreparedName(original=name, schema=schema, parts=parts, forms=forms, read=read)


def tokens(prepared: PreparedName) -> tuple[str, ...]:
    return tuple(p.text for p in prepared.parts)


def _weight(part: Part) -> float:
    if part.kind == "initial":
        return 2.0
    if part.kind == "particle":
        return 1.0
    return float(min(max(len(part.skeleton), 3), 10))


def _spelling_similarity(a: Part, b: Part) -> float:
    if a.text == b.text:
        return 1.0
    if a.kind == "initial" or b.kind == "initial":
        return _INITIAL if a.text[0] == b.text[0] or a.skeleton[0] == b.skeleton[0] else 0.0
    if a.text.isdigit() or b.text.isdigit():
        return 0.0
    if a.skeleton == b.skeleton:
        return 0.95
    sim = Levenshtein.normalized_similarity(a.skeleton, b.skeleton)
    short, long_ = sorted((a.skeleton, b.skeleton), key=len)
    if len(short) >= 5 and len(long_) - len(short) <= 2 and long_.startswith(short):
        sim = max(sim, 0.9)  # an inflected ending: "Putinas", "Vladimirs"
    if a.loose_vowels or b.loose_vowels:
        if a.consonants == b.consonants:
            sim = max(sim, 0.9)
        sim = max(sim, 0.9 * Levenshtein.normalized_similarity(a.consonants, b.consonants))
    return sim


def _sound_similarity(a: Part, b: Part) -> float:
    """A part from a syllabic script against one from another script, on consonant sounds.

    A foreign name transcribed into katakana or Chinese characters keeps its consonants in order
    but not their letters or vowels ("urajimiru"/"fulajimier" for Vladimir).
    """
    if (a.han and is_pinyin(b.text)) or (b.han and is_pinyin(a.text)):
        return 0.0  # a Chinese name in Latin letters is its pinyin: compare spellings only
    sa, sb = sound_key(a.text), sound_key(b.text)
    if min(len(sa), len(sb)) < _MIN_SOUNDS:
        return 0.0
    likeness = Levenshtein.normalized_similarity(sa, sb)
    return _SOUND * likeness if likeness >= _MIN_SOUND_LIKENESS else 0.0


@dataclass(frozen=True)
class Comparison:
    sim: float
    how: str  # "" for the parts as spelled, else "read <other reading>" and/or "by sound"
    by_sound: bool  # the similarity came from sounds alike, not spellings
    sounds: int  # consonant sounds in the shorter of the two parts


def compare_parts(a: Part, b: Part, by_sound: bool = True) -> Comparison:
    """Two parts under every reading of each, and by sound when one is from a syllabic script."""
    best, how, heard = _spelling_similarity(a, b), "", False
    pairs = [(x, y) for x in (a, *a.readings) for y in (b, *b.readings)]
    for x, y in pairs[1:]:
        sim = _spelling_similarity(x, y)
        if sim > best and sim >= _MIN_READING:
            best, how = sim, _read(x, y, a, b)
    if by_sound and a.dense != b.dense and best < _SOUND and "initial" not in (a.kind, b.kind):
        for x, y in pairs:
            sim = _sound_similarity(x, y)
            if sim > best:
                best, heard = sim, True
                how = ", ".join(filter(None, ("by sound", _read(x, y, a, b))))
    sounds = min(len(sound_key(a.text)), len(sound_key(b.text)))
    return Comparison(best, how, heard, sounds)


def _read(x: Part, y: Part, a: Part, b: Part) -> str:
    """'read gimjeongeun' when a reading other than the displayed one was compared."""
    other = [p.text for p in (x, y) if p is not a and p is not b]
    return "read " + "/".join(other) if other else ""


def part_similarity(a: Part, b: Part) -> float:
    """The best similarity of two parts (score_prepared further asks that sounds alike be
    corroborated across the name, _MIN_NAME_SOUNDS)."""
    if not (a.readings or b.readings or a.dense != b.dense):
        return _spelling_similarity(a, b)
    return compare_parts(a, b).sim


def _spellings(parts: tuple[Part, ...]) -> list[tuple[Part, ...]]:
    """The parts as romanized, then with each part's k-th other reading where it has one."""
    most = max(len(p.readings) for p in parts)
    return [parts] + [
        tuple(p.readings[k] if len(p.readings) > k else p for p in parts) for k in range(most)
    ]


def _joined(q: tuple[Part, ...], ls: tuple[Part, ...]) -> tuple[float, str]:
    """Compare whole names when parts were merged or split ("SergeiLavrov", "习近平").

    Returns the similarity and, when another reading gave it, that reading.
    """
    loose = any(p.loose_vowels for p in q + ls)
    orders = [ls[i:] + ls[:i] for i in range(len(ls))] + [ls[::-1]]
    read = any(p.readings for p in q + ls)
    listed = [s for order in orders for s in _spellings(order)] if read else orders
    best, best_parts = 0.0, q
    for q_parts in _spellings(q) if read else [q]:
        qs = "".join(p.skeleton for p in q_parts)
        qc = "".join(p.consonants for p in q_parts)
        for l_parts in listed:
            sim = Levenshtein.normalized_similarity(qs, "".join(p.skeleton for p in l_parts))
            if loose:
                lc = "".join(p.consonants for p in l_parts)
                sim = max(sim, 0.9 * Levenshtein.normalized_similarity(qc, lc))
            if sim > best:
                best, best_parts = sim, q_parts + l_parts
    if not read:
        return best, ""
    own = {id(p) for p in q + ls}
    return best, " ".join(p.text for p in best_parts if id(p) not in own)


def _evidence_similarity(a: Part, b: Part, sim: float) -> float:
    """The part similarity as evidence of identity: stricter for syllabic scripts."""
    if a.kind == "initial" or b.kind == "initial":
        return 0.0
    if a.dense or b.dense:
        # One romanized syllable or two ("yijun"/"yun", "chen"/"cheng") are different names: only
        # a reading spelled the same counts, never a likeness of sound.
        pairs = [(x, y) for x in (a, *a.readings) for y in (b, *b.readings)]
        if any(x.text == y.text for x, y in pairs):
            return 1.0
        same = any(
            x.skeleton == y.skeleton and abs(len(x.text) - len(y.text)) <= 1 for x, y in pairs
        )
        return 0.95 if same else 0.0
    return sim


def _evidence(
    q: tuple[Part, ...], ls: tuple[Part, ...], aligned: dict[int, tuple[int, float]], whole: bool
) -> Evidence:
    close = strong = fuzzy = 0
    syllabic = False
    for i, (j, sim) in aligned.items():
        a, b = q[i], ls[j]
        if a.kind == "initial" or b.kind == "initial" or b.kind == "particle":
            continue
        syllabic = syllabic or a.dense or b.dense
        ev = _evidence_similarity(a, b, sim)
        if ev >= CLOSE:
            close += 1
        if ev >= STRONG:
            strong += 1
        elif (not (a.transliterated or b.transliterated)) or a.dense or b.dense:
            fuzzy += 1  # cross-script drift (Arabic, Cyrillic) is expected, not a guess
    used = {j for j, _ in aligned.values()}
    names = [j for j, p in enumerate(ls) if p.kind == "name"]
    missing = sum(1 for j in names if j not in used)
    query_names = sum(1 for p in q if p.kind == "name")
    return Evidence(len(names), query_names, close, strong, fuzzy, missing, whole, syllabic)


def _align(pairs: list[tuple[float, int, int]]) -> dict[int, tuple[int, float]]:
    """Query part -> (listed part, similarity), most similar pairs first, each part used once."""
    aligned: dict[int, tuple[int, float]] = {}
    used: set[int] = set()
    for sim, i, j in sorted(pairs, key=lambda t: (-t[0], t[1], t[2])):
        if sim < _MIN_ALIGN:
            break
        if i in aligned or j in used:
            continue
        aligned[i] = (j, sim)
        used.add(j)
    return aligned


def score_prepared(query: PreparedName, listed: PreparedName) -> NameMatch:
    q, ls = query.parts, listed.parts
    if not q or not ls:
        return NameMatch(0.0, query.original, listed.original, "no name parts to compare")
    comparisons: dict[tuple[int, int], Comparison] = {}
    if query.read or listed.read:  # other readings, or sound across scripts
        comparisons = {
            (i, j): compare_parts(a, b) for i, a in enumerate(q) for j, b in enumerate(ls)
        }
        aligned = _align([(c.sim, i, j) for (i, j), c in comparisons.items()])
        matched = [comparisons[i, j] for i, (j, _) in aligned.items()]
        if any(c.by_sound for c in matched) and sum(c.sounds for c in matched) < _MIN_NAME_SOUNDS:
            comparisons = {
                (i, j): compare_parts(a, b, by_sound=False)
                for i, a in enumerate(q)
                for j, b in enumerate(ls)
            }
            aligned = _align([(c.sim, i, j) for (i, j), c in comparisons.items()])
    else:
        aligned = _align(
            [(_spelling_similarity(a, b), i, j) for i, a in enumerate(q) for j, b in enumerate(ls)]
        )
    used = {j for j, _ in aligned.values()}
    extra = [p for i, p in enumerate(q) if i not in aligned]
    missing = [p for j, p in enumerate(ls) if j not in used]
    conflict = any(p.kind in ("name", "patronymic") for p in extra) and any(
        p.kind in ("name", "patronymic") for p in missing
    )
    num = den = 0.0
    notes: list[str] = []
    for i, (j, sim) in sorted(aligned.items()):
        w = _weight(q[i]) + _weight(ls[j])
        # Drift within one script is a different name more often than drift across scripts.
        same_script = not (q[i].transliterated or ls[j].transliterated)
        num += (sim**_SHARPNESS if same_script else sim) * w
        den += w
        how = comparisons[i, j].how if comparisons else ""
        if sim == 1.0 and not how:
            notes.append(f"{q[i].text}={ls[j].text}")
        elif q[i].kind == "initial" or ls[j].kind == "initial":
            notes.append(f"{q[i].text}:{ls[j].text} (initial)")
        else:
            notes.append(f"{q[i].text}~{ls[j].text} ({sim:.2f}{', ' + how if how else ''})")
    for p in extra:
        den += _weight(p) * (_CONFLICT if conflict else _EXTRA_QUERY[p.kind])
    for p in missing:
        den += _weight(p) * (_CONFLICT if conflict else _MISSING_LISTED[p.kind])
    score = num / den if den else 0.0
    order = [j for _, (j, _) in sorted(aligned.items())]
    if order != sorted(order):
        notes.append("order swapped")
    if extra:
        notes.append("unmatched in query: " + " ".join(p.text for p in extra))
    if missing:
        notes.append("unmatched in listed: " + " ".join(p.text for p in missing))
    whole = False
    if len(q) != len(ls):
        joined, read = _joined(q, ls)
        joined *= 0.95
        if joined > score:
            score = joined
            whole = True
            notes = [f"whole names compared ({joined:.2f}{', read ' + read if read else ''})"]
    if query.forms and listed.forms and not query.forms & listed.forms:
        score -= _FORM_CONFLICT
        notes.append(
            f"legal forms differ: {'/'.join(sorted(query.forms))} vs "
            f"{'/'.join(sorted(listed.forms))}"
        )
    score = min(max(score, 0.0), 1.0)
    evidence = _evidence(q, ls, aligned, whole)
    return NameMatch(round(score, 4), query.original, listed.original, ", ".join(notes), evidence)


def name_score(query: str, listed: str, schema: str = "Person") -> NameMatch:
    return score_prepared(prepare(query, schema), prepare(listed, schema))


def best_match(
    query_names: Sequence[PreparedName], listed_names: Sequence[PreparedName]
) -> NameMatch:
    """The best-scoring pair; ties go to the first pair, so the result is deterministic."""
    best = NameMatch(0.0, "", "", "no names")
    for q in query_names:
        for ls in listed_names:
            match = score_prepared(q, ls)
            if match.score > best.score:
                best = match
    return best
