"""Events of sanctions screening: alerts, decisions, holds, list versions."""

from bourse.compliance.evidence import Evidence, ListRef
from bourse.events.base import Event


class ScreeningAlertRaised(Event, frozen=True, kw_only=True, tag="ScreeningAlertRaised"):
    """`kind` "delisting": the entry a confirmed hit froze on left the list; `reviews` names
    that hit. Confirming a delisting review unfreezes; dismissing it keeps the freeze. `kind`
    "beneficiary": a fiat withdrawal's payee matched; confirming fails that withdrawal, dismissing
    releases it once no other review holds it."""

    alert_id: int
    customer_id: int
    evidence: Evidence
    kind: str = "hit"
    reviews: int = 0
    withdrawal_id: int = 0  # kind "beneficiary": the fiat withdrawal held for this review


class ScreeningAlertDecided(Event, frozen=True, kw_only=True, tag="ScreeningAlertDecided"):
    """A compliance officer's decision: "confirmed" (the accounts are frozen) or "dismissed"."""

    alert_id: int
    customer_id: int
    decision: str
    actor: str
    reason: str
    # a delisting review confirmed while other confirmed listings of the customer stand: their
    # alert ids; the accounts stay frozen
    standing: tuple[int, ...] = ()
    # a dismissal remembered as a false positive: its key (until the listed entry changes)
    remembered: str = ""


class DismissalsForgotten(Event, frozen=True, kw_only=True, tag="DismissalsForgotten"):
    """The dismissals of `entry_ids` (for `customers`) ended: list version `list_sha256` no
    longer has those entries."""

    source: str
    list_sha256: str
    entry_ids: tuple[str, ...]
    customers: tuple[int, ...]
    keys: tuple[str, ...] = ()  # the dismissal keys that ended


class CustomerHeld(Event, frozen=True, kw_only=True, tag="CustomerHeld"):
    """A new customer's screening raised alert `alert_id`: no deposit, trade or withdrawal until
    it is decided."""

    customer_id: int
    alert_id: int


class CustomerReleased(Event, frozen=True, kw_only=True, tag="CustomerReleased"):
    """Alert `alert_id` no longer holds the customer (`held_by`: the alerts that still do)."""

    customer_id: int
    alert_id: int
    held_by: tuple[int, ...] = ()


class SanctionedAddressesSet(Event, frozen=True, kw_only=True, tag="SanctionedAddressesSet"):
    source: str
    list_sha256: str
    addresses: int


class ListVersionForced(Event, frozen=True, kw_only=True, tag="ListVersionForced"):
    source: str
    list_sha256: str
    previous_sha256: str
    measure: str
    count_before: int
    count_after: int
    removed: int
    actor: str
    reason: str


class RescreenRecorded(Event, frozen=True, kw_only=True, tag="RescreenRecorded"):
    lists: tuple[ListRef, ...]
    matcher: str
    customers: int
    mode: str
