"""Whether the name a bank reports on a transfer is the account holder's name.

Banks truncate names, drop accents, uppercase, and reorder ("MUELLER ANNA" for "Anna Müller"),
so the comparison is on words: every word of the shorter name must be a word of the other. A
transfer whose sender is someone else entirely goes to the reconciliation queue, not to the
customer's balance. Deliberately strict and deterministic (the engine calls it): a human
decides the rest.
"""

import functools
import re
import unicodedata

# German transliterations banks use where the accented letter is lost
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe"})


_NOT_WORD = re.compile(r"[\W_]+")


@functools.lru_cache(maxsize=65_536)  # a statement names the same holders again and again
def _words(name: str, fold: bool) -> frozenset[str]:
    text = name.casefold()
    if fold:
        text = text.translate(_FOLD)
    if not text.isascii():  # accents off: "é" becomes "e" and a combining mark
        plain = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in plain if not unicodedata.combining(c))
    return frozenset(_NOT_WORD.sub(" ", text).split())


def names_agree(reported: str, holder: str) -> bool:
    """Every word of one name is a word of the other (Müller matching MUELLER or MULLER)."""
    a = _words(reported, True) | _words(reported, False)
    b = _words(holder, True) | _words(holder, False)
    return bool(a and b) and (_words(reported, True) <= b or _words(holder, True) <= a)
