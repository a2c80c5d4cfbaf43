"""A partner bank's cut-off as an operator previews it, and as the apply checks it still stands.

The preview says whom and what the cut-off would touch: the customers with an account at the
bank (those for whom it is the only fiat rail, and of those, who could move to another partner
bank serving their country), the transfers pending through it by currency, and what would
become of each. The apply cites the preview by its id, a digest of the cut-off as asked and of
the fingerprint the preview saw: if anything the cut-off would touch changed since, the apply is
refused as stale and previewed again, never applied to something nobody looked at.
"""

import hashlib
from enum import StrEnum

import msgspec

from bourse.compliance.evidence import Evidence


class Cause(StrEnum):
    SANCTIONED = "SANCTIONED"
    SWIFT_DISCONNECTED = "SWIFT_DISCONNECTED"
    RELATIONSHIP_ENDED = "RELATIONSHIP_ENDED"


CAUSE_TEXT = {
    Cause.SANCTIONED: "sanctioned",
    Cause.SWIFT_DISCONNECTED: "disconnected from SWIFT",
    Cause.RELATIONSHIP_ENDED: "the relationship ended",
}


class Outgoing(StrEnum):
    """What becomes of payouts already sent in the bank's payment files."""

    RETURN = "RETURN"  # the held amount goes back to the customer's balance
    REROUTE = "REROUTE"  # it stays pending, for another bank serving the customer to pay


# a transfer's kind and fate in a preview and a cut-off's report (banking.rails.TransferFate)
PAYOUT, WITHDRAWAL, LINE = "PAYOUT", "WITHDRAWAL", "LINE"
RETURNED, REROUTED, IN_FLIGHT, QUEUED = "RETURNED", "REROUTED", "IN_FLIGHT", "QUEUED"


class CutOffSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    bic: str
    cause: Cause
    outgoing: Outgoing
    effective_ms: int = 0  # 0: at once


class CutOffFingerprint(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a preview saw: the bank's customers' accounts (how many, and a version that counts
    every change to a bank account of theirs) and a digest of the pending transfers the cut-off
    would act on, with where each would go. Another bank's cut-off in between changes neither
    unless it changes where a transfer would go (several banks are previewed, then cut off)."""

    accounts: int
    account_version: int
    transfers: str


class CutOffImpact(msgspec.Struct, kw_only=True):
    spec: CutOffSpec
    name: str
    previewed: CutOffFingerprint
    preview_id: str
    as_of_seq: int
    customers: int = 0  # with a bank account at it, not refused
    only_rail: int = 0  # of those, with no verified account at another active partner bank
    movable: int = 0  # of those, resident where another active partner bank serves
    sample: list[dict[str, object]] = []  # some of the only-rail customers, named
    transfers: list[dict[str, object]] = []  # each pending transfer and its fate, as planned
    by_currency: dict[str, dict[str, int]] = {}  # currency → fate → amount in raw units


def hit_key(ev: Evidence) -> str:
    """A listed entry, as it stood, that hit a bank: what a rejected proposal clears."""
    return f"{ev.source}:{ev.entry_id}:{ev.entry_fingerprint}"


def preview_id(spec: CutOffSpec, seen: CutOffFingerprint) -> str:
    digest = hashlib.sha256(msgspec.json.encode(spec) + msgspec.json.encode(seen))
    return digest.hexdigest()[:20]
