"""Whom and what a record concerns, read off its command and events as plain values: the
customers, accounts, venues and countries the audit index files it under."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_KINDS = {
    "customer_id": "customer",
    "account_id": "account",
    "maker_account_id": "account",
    "taker_account_id": "account",
    "venue": "venue",
    "country": "country",
    "residence": "country",
    "nationality": "country",
}
_NESTED = ("command", "spec", "previous")  # a proposed command, a policy's spec


def subjects(command: dict[str, Any], events: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for value in (command, *events):
        _collect(value, found, depth=0)
    return found


def _collect(value: dict[str, Any], found: dict[str, set[str]], depth: int) -> None:
    for key, kind in _KINDS.items():
        item = value.get(key)
        if item not in (None, "", 0):
            found.setdefault(kind, set()).add(str(item))
    if depth < 2:
        for key in _NESTED:
            nested = value.get(key)
            if isinstance(nested, dict):
                _collect(nested, found, depth + 1)
