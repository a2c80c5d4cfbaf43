"""Sanctions screening: alerts, listed addresses, list versions, rescreens."""

import msgspec

from bourse.commands.base import Command, OperatorCommand
from bourse.compliance.evidence import Evidence, ListRef


class RaiseScreeningAlert(Command, frozen=True, kw_only=True, tag="RaiseScreeningAlert"):
    """A screening hit on a customer, for a compliance officer to review. Refused (NO_CHANGE) if
    the same entry already has an open alert for them, or was dismissed for them while the entry
    is unchanged."""

    customer_id: int
    evidence: Evidence
    # screened at onboarding: the new customer is held (no deposit, trade or withdrawal) until
    # the alert is decided
    hold: bool = False


class ListedAddress(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    address: str  # as compliance.addresses.address_key normalizes it
    entry_id: str
    network: str = ""


class SetSanctionedAddresses(Command, frozen=True, kw_only=True, tag="SetSanctionedAddresses"):
    """The crypto addresses one list version names, replacing that list's previous set: the
    engine then refuses every withdrawal to them. Exact identifiers are cheap and deterministic,
    so this check lives in the gate, where no withdrawal path can go around it."""

    source: str
    list_sha256: str
    addresses: tuple[ListedAddress, ...]


class ForceListVersion(OperatorCommand, frozen=True, kw_only=True, tag="ForceListVersion"):
    """An operator puts in force list version `list_sha256` although it removes an unusual share
    of the version in force (`previous_sha256`, "" if none) or has no entries, which a load
    refuses unforced: who, why and how much, journaled before the version goes into force.
    `measure` says what the counts count: "entries", or the "aliases", "identifiers" or
    "countries" of the entries the version keeps."""

    source: str
    list_sha256: str
    previous_sha256: str
    measure: str
    count_before: int
    count_after: int
    removed: int


class RaiseDelistingReview(Command, frozen=True, kw_only=True, tag="RaiseDelistingReview"):
    """The entry confirmed alert `alert_id` froze on is absent from list version `list_sha256`:
    a compliance officer reviews whether to unfreeze (confirm) or keep the freeze (dismiss)."""

    alert_id: int
    list_sha256: str


class ForgetDismissals(Command, frozen=True, kw_only=True, tag="ForgetDismissals"):
    """Entries false positives were dismissed on are absent from list version `list_sha256`:
    those dismissals end, so an entry listed again is screened as the new evidence it is."""

    source: str
    list_sha256: str
    entry_ids: tuple[str, ...]


class ConfirmScreeningAlert(
    OperatorCommand, frozen=True, kw_only=True, tag="ConfirmScreeningAlert"
):
    """The hit is the customer: every account of theirs is frozen, citing the evidence."""

    alert_id: int


class DismissScreeningAlert(
    OperatorCommand, frozen=True, kw_only=True, tag="DismissScreeningAlert"
):
    """A false positive, remembered with who, when and why: not raised again for this customer
    unless the listed entry changes."""

    alert_id: int


class RecordRescreen(Command, frozen=True, kw_only=True, tag="RecordRescreen"):
    """Every customer has been screened against `lists` by the matcher whose code and threshold
    hash to `matcher`: the audit record of a rescreen, and what the next one compares against to
    screen only the entries a new version adds or changes."""

    lists: tuple[ListRef, ...]
    matcher: str
    customers: int
    mode: str  # "full" or "incremental"
