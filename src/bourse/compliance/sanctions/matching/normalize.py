"""Turn a name in any script into ASCII name parts, each with a phonetic skeleton.

Each part keeps its own kind (name, initial, particle, patronymic) because the scorer weighs a
missing patronymic very differently from a conflicting given name.
"""

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

from rigour.names import extract_org_types, remove_org_types, tokenize_name
from rigour.text.scripts import codepoint_script
from rigour.text.translit import ascii_text

from bourse.compliance.sanctions.matching.readings import other_readings

# Scripts that write few or no vowels, or whose romanization adds inherent vowels: compare such
# parts on consonants only.
_VOWEL_UNRELIABLE = {
    "Arabic", "Hebrew", "Syriac", "Thaana", "Devanagari", "Bengali", "Kannada", "Tamil",
    "Telugu", "Gujarati", "Gurmukhi", "Malayalam", "Oriya", "Myanmar", "Khmer", "Thai", "Lao",
    "Sinhala", "Tibetan", "Ethiopic",
}  # fmt: skip
# Scripts written without spaces between name parts: a whole name is often one token.
_DENSE = {"Han", "Hiragana", "Katakana", "Hangul", "Thai", "Khmer", "Lao", "Myanmar"}
# Abugidas whose vowel signs and viramas are combining marks: rigour's tokenizer drops marks
# (right for accents), which turns Devanagari पुतिन into पतिन and empties Khmer of its vowels.
_MARKED = {
    "Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu", "Kannada",
    "Malayalam", "Sinhala", "Thai", "Lao", "Tibetan", "Myanmar", "Khmer",
}  # fmt: skip


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Titles and honorifics in several languages: they say nothing about who a person is.
TITLES = _words(
    "mr mrs ms miss mister dr prof sir dame lord lady hon honorable his her excellency "
    "president presidente prasident praesident prezident predsjednik presedintele presiden "
    "presidential elnok prezydent presidentti gospodin herr frau monsieur madame senor senora "
    "sheikh shaikh sheik haji hajji mullah imam general gen colonel col major maj captain capt "
    "minister premier king queen prince princess emir amir sultan"
)
# Name particles: kept for display, nearly weightless when scoring.
PARTICLES = _words("al el bin ibn ben bint abu de da di del della der den van von la le du")
# Words that carry no identity in organization names.
ORG_STOPWORDS = _words("the of and for")

_NUMBER_WORDS = {
    "one": "1", "first": "1", "two": "2", "second": "2", "three": "3", "third": "3",
    "four": "4", "fourth": "4", "five": "5", "fifth": "5", "six": "6", "sixth": "6",
    "seven": "7", "seventh": "7", "eight": "8", "eighth": "8", "nine": "9", "ninth": "9",
    "ten": "10", "tenth": "10", "eleven": "11", "twelve": "12",
}  # fmt: skip
_TENS = {
    "twenty": 2,
    "thirty": 3,
    "forty": 4,
    "fifty": 5,
    "sixty": 6,
    "seventy": 7,
    "eighty": 8,
    "ninety": 9,
}
# Common abbreviations in organization names, folded to one spelling.
_ORG_WORDS = {
    "corporation": "corp", "company": "co", "international": "intl", "limited": "ltd",
    "incorporated": "inc", "brothers": "bros", "association": "assn", "department": "dept",
    "manufacturing": "mfg", "industries": "ind", "industry": "ind", "organization": "org",
    "organisation": "org", "saint": "st", "mount": "mt",
}  # fmt: skip
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$")

# Endings of East Slavic and related patronymics in the usual romanizations.
_PATRONYMIC = re.compile(
    r"(ovich|evich|ovych|evych|ovitch|evitch|owitsch|ewitsch|owicz|ewicz|ovic|evic|ovici|evici|"
    r"ovics|evics|ovitj|ovitsj|owitsj|ovitx|ovits|avich|avic|ovna|evna|ovnа|ivna|yevna|"
    r"vytsh|fytsh|ovitsh|ogly|oglu|kyzy|qizi)$"
)

# Spelling variants across romanizations, applied in order to build the skeleton.
_SKELETON_RULES = (
    ("tsch", "ch"), ("tch", "ch"), ("sch", "sh"), ("dzh", "j"), ("dj", "j"), ("zh", "j"),
    ("kh", "h"), ("ph", "f"), ("ck", "k"), ("q", "k"), ("w", "v"), ("ou", "u"), ("oe", "u"),
    ("ue", "u"), ("ae", "a"), ("ee", "i"), ("oo", "u"), ("ie", "i"), ("y", "i"), ("j", "i"),
    ("c", "k"), ("x", "ks"), ("z", "s"), ("th", "t"), ("dh", "d"), ("gh", "g"),
)  # fmt: skip
_HANGUL_RULES = (("eo", "o"), ("eu", "u"), ("ae", "e"))
_VOWELS = re.compile(r"[aeiouy]")


@dataclass(frozen=True)
class Part:
    text: str  # lower-case ASCII
    skeleton: str  # spelling-variant-folded form for fuzzy comparison
    consonants: str  # skeleton without vowels, for parts from vowel-unreliable scripts
    kind: str  # "name", "initial", "particle", "patronymic", "org"
    loose_vowels: bool  # came from a script whose romanized vowels are unreliable
    transliterated: bool  # written in a non-Latin script: expect transliteration noise
    # From a script written without spaces (Han, Hangul, ...): its romanized syllables are short
    # and shared by many unrelated names, so they need an exact reading to count as evidence.
    dense: bool = False
    # Other romanizations of the same written part (the Korean reading of Han characters, a
    # spelling from Myanmar letter names), each a Part of the same kind: the scorer takes the best.
    readings: tuple["Part", ...] = ()
    han: bool = False  # written in Han characters: romanized as Mandarin pinyin


def _fold_doubles(text: str) -> str:
    return re.sub(r"(.)\1+", r"\1", text)


@lru_cache(maxsize=65536)
def skeleton(text: str, hangul: bool = False) -> str:
    if hangul:
        for a, b in _HANGUL_RULES:
            text = text.replace(a, b)
    for a, b in _SKELETON_RULES:
        text = text.replace(a, b)
    return _fold_doubles(text)


def consonants(skel: str) -> str:
    # Arabic-script romanizations write no short vowels and w/y for long ones; f stands for v
    # and b for p because those scripts lack the latter sounds.
    out = _VOWELS.sub("", skel.replace("v", "f").replace("p", "b").replace("bh", "b"))
    return _fold_doubles(out) or skel


def _scripts(token: str) -> set[str]:
    found: set[str] = set()
    for ch in token:
        if ord(ch) >= 0x250:
            script = codepoint_script(ord(ch))
            if script:
                found.add(script)
    return found


def _tokenize(text: str) -> list[str]:
    """rigour's name tokens, except that abugida words keep their vowel signs and viramas."""
    if text.isascii():
        return tokenize_name(text)
    out: list[str] = []
    for chunk in text.split():
        tokens = tokenize_name(chunk)
        marked = any(unicodedata.category(ch)[0] == "M" for ch in chunk)
        out.extend(
            _put_marks_back(chunk, tokens) if marked and _scripts(chunk) & _MARKED else tokens
        )
    return out


def _put_marks_back(chunk: str, tokens: list[str]) -> list[str]:
    """The tokens rigour made of `chunk`, with the combining marks it dropped put back."""
    out = [""] * len(tokens)
    t = k = 0  # the next character expected: tokens[t][k]
    for ch in chunk:
        if t < len(tokens) and tokens[t][k] == ch:
            out[t] += ch
            k += 1
            if k == len(tokens[t]):
                t, k = t + 1, 0
        elif unicodedata.category(ch)[0] == "M" and (k or t):
            out[t if k else t - 1] += ch  # a mark belongs to the letter before it
    # Had rigour changed a character rather than dropped it, keep its tokens as they are.
    same = ["".join(c for c in o if unicodedata.category(c)[0] != "M") for o in out] == [
        "".join(c for c in tok if unicodedata.category(c)[0] != "M") for tok in tokens
    ]
    return out if same else tokens


# A token romanized: (ASCII text, the token's scripts, its other romanizations (text, Korean)).
_Raw = tuple[str, set[str], tuple[tuple[str, bool], ...]]


def _numbers(words: list[_Raw]) -> list[_Raw]:
    """'forty-four' / 'forty four' -> '44', 'first' / '1st' -> '1'."""
    out: list[_Raw] = []
    for word, scripts, readings in words:
        match = _ORDINAL.match(word)
        word = match.group(1) if match else _NUMBER_WORDS.get(word, word)
        if word in _TENS:
            word = str(_TENS[word] * 10)
        tens = out[-1][0] if out else ""
        if len(word) == 1 and word.isdigit() and len(tens) == 2 and tens.endswith("0"):
            out[-1] = (tens[0] + word, scripts, readings)
            continue
        out.append((_ORG_WORDS.get(word, word), scripts, readings))
    return out


def split_name(name: str, schema: str) -> tuple[tuple[Part, ...], frozenset[str]]:
    """Name parts and the generic legal forms (llc, jsc, ...) found in the name."""
    text = unicodedata.normalize("NFKC", name).casefold()
    person = schema == "Person"
    # Legal forms only mean something in an organization's name: in a person's name "Pao" or
    # "Ag" is a name, not a company type.
    forms = (
        frozenset()
        if person
        else frozenset(form for _, form in extract_org_types(text, generic=True))
    )
    if forms:
        stripped = remove_org_types(text, replacement=" ")
        if tokenize_name(stripped):  # a name that is only a legal form keeps it
            text = stripped
    raw: list[_Raw] = []
    for token in _tokenize(text):
        scripts = _scripts(token)
        latin = ascii_text(token).lower()
        if scripts & _DENSE or not latin.replace(" ", "").isalnum():
            latin = "".join(ch for ch in latin if ch.isascii() and ch.isalnum())
            readings = other_readings(token, scripts)
            if not latin and readings:  # no romanization but another reading (Khmer)
                latin, readings = readings[0][0], readings[1:]
            raw.append((latin, scripts, readings))
        else:
            raw.extend((piece, scripts, ()) for piece in latin.split() if piece)
    raw = _numbers(raw)
    parts: list[Part] = []
    seen: set[str] = set()
    for latin, scripts, readings in raw:
        if not latin or latin in seen:
            continue  # repeated parts ("Sergey Sergey Shoigu") add nothing
        if latin in TITLES and person:
            continue
        if latin in ORG_STOPWORDS and not person:
            continue
        seen.add(latin)
        if len(latin) == 1 and latin.isalpha():
            kind = "initial"
        elif latin in PARTICLES and not scripts & _DENSE:  # 斌 reads "bin": a name
            kind = "particle"
        elif person and len(latin) >= 7 and _PATRONYMIC.search(latin):
            kind = "patronymic"
        else:
            kind = "name"
        loose = bool(scripts & _VOWEL_UNRELIABLE)
        dense = bool(scripts & _DENSE)
        skel = skeleton(latin, hangul="Hangul" in scripts)
        han = "Han" in scripts
        part = Part(latin, skel, consonants(skel), kind, loose, bool(scripts), dense, han=han)
        if readings:
            others = tuple(_read_as(part, t, korean) for t, korean in readings if t != latin)
            part = replace(part, readings=others)
        parts.append(part)
    return tuple(parts), forms


def _read_as(part: Part, text: str, hangul: bool) -> Part:
    """The same part under another romanization."""
    skel = skeleton(text, hangul=hangul)
    return replace(part, text=text, skeleton=skel, consonants=consonants(skel))
