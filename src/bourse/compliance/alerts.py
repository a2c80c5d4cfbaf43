"""Screening alerts' kinds, decisions and dismissal keys: plain values that the engine decides by
and that gateways, workers and projections read alike (the engine's alert logic: engine/alerts.py).
"""

from bourse.compliance.evidence import Evidence

HIT = "hit"  # a listed entry matched a customer
DELISTING = "delisting"  # the entry a confirmed hit froze on left its list
BENEFICIARY = "beneficiary"  # a listed entry matched the payee of a fiat withdrawal
CONFIRMED = "confirmed"
DISMISSED = "dismissed"


def dismissal_key(customer_id: int, evidence: Evidence) -> str:
    return f"{customer_id}:{evidence.source}:{evidence.entry_id}"


def dismissed_entry(key: str) -> tuple[int, str, str]:
    """(customer, source, entry id) a dismissal key names (a payee's key included)."""
    customer, source, entry_id = key.split(":", 3)[:3]
    return int(customer), source, entry_id


def payee_dismissal_key(customer_id: int, beneficiary: str, evidence: Evidence) -> str:
    """A payee dismissed as a false positive stays dismissed for that customer's later payments
    to the same name, until the listed entry changes."""
    payee = " ".join(beneficiary.casefold().split())
    return f"{dismissal_key(customer_id, evidence)}:payee:{payee}"
