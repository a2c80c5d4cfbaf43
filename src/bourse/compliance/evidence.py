"""What a screening hit cites when it enters the engine: pure data, no floats.

The matcher (beside the engine) produces a score in [0, 1]; it crosses into commands as basis
points, with the list version, the entry and a sentence that explains the match, so a freeze can
always say exactly what it rests on.
"""

import msgspec


def score_text(score_bp: int) -> str:
    """A score in basis points as the admin API and the store show it: 2 decimals, as text."""
    whole, frac = divmod(score_bp, 10_000)
    return f"{whole}.{frac // 100:02d}"


class Evidence(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    source: str  # "ofac_sdn", "ofac_cons", "un_sc"
    list_sha256: str  # the list version the hit was found in
    entry_id: str
    listed_name: str
    score_bp: int  # the match score in basis points (0..10000)
    explanation: str
    entry_fingerprint: str  # hash of the listed entry: a dismissal holds while it is unchanged

    def text(self) -> str:
        whole, frac = divmod(self.score_bp, 10_000)
        return (
            f"{self.source} entry {self.entry_id} ({self.listed_name}), list version "
            f"{self.list_sha256[:12]}, score {whole}.{frac:04d}: {self.explanation}"
        )


class ListRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    source: str
    list_sha256: str


class BeneficiaryScreening(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What screening a fiat withdrawal's beneficiary found beside the engine: the list versions
    it screened against, and each hit at the operating threshold. The engine holds the payment
    for review on every hit not already dismissed for that customer and beneficiary."""

    lists: tuple[ListRef, ...]
    hits: tuple[Evidence, ...] = ()


def evidence_json(ev: Evidence) -> dict[str, str | int]:
    """The evidence as the admin API and the store's queries show it."""
    return {
        "source": ev.source,
        "listSha256": ev.list_sha256,
        "entryId": ev.entry_id,
        "listedName": ev.listed_name,
        "scoreBp": ev.score_bp,
        "explanation": ev.explanation,
        "entryFingerprint": ev.entry_fingerprint,
        "text": ev.text(),
    }
