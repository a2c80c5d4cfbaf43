"""Whom and what a record concerns, read off its command and events: the customers, accounts,
venues and countries the audit index files it under.

Read by field name from the structs themselves (a plan per type, made once), since the audit
consumer does this for every command the exchange runs.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

_KINDS = {
    "customer_id": "customer",
    "alert_id": "alert",
    "account_id": "account",
    "maker_account_id": "account",
    "taker_account_id": "account",
    "venue": "venue",
    "country": "country",
    "residence": "country",
    "nationality": "country",
}
# a proposed command, a policy's spec and the one before, a cut-off's report of transfers
_NESTED = ("command", "spec", "previous", "report")
Found = dict[str, set[int | str]]
_plans: dict[type, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {}


def subjects(command: msgspec.Struct, events: Iterable[msgspec.Struct]) -> Found:
    found: Found = {}
    _collect(command, found, 0)
    for event in events:
        _collect(event, found, 0)
    return found


def _plan(kind: type) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    plan = _plans.get(kind)
    if plan is None:
        fields = getattr(kind, "__struct_fields__", ())
        plan = (
            tuple((f, _KINDS[f]) for f in fields if f in _KINDS),
            tuple(f for f in fields if f in _NESTED),
        )
        _plans[kind] = plan
    return plan


def _collect(value: msgspec.Struct, found: Found, depth: int) -> None:
    named, nested = _plan(type(value))
    for field, kind in named:
        item = getattr(value, field)
        if item:
            found.setdefault(kind, set()).add(item)
    if depth < 2:
        for field in nested:
            inner = getattr(value, field)
            if isinstance(inner, msgspec.Struct):
                _collect(inner, found, depth + 1)
            elif isinstance(inner, tuple):
                for item in inner:
                    if isinstance(item, msgspec.Struct):
                        _collect(item, found, depth + 1)
