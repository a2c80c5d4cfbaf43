"""How large an integer may be, in one place: every edge checks what it accepts against these.

Ids, times and counts are 64-bit (BIGINT in the store, int64 for Binance clients). Amounts are raw
scaled integers of any size Python holds, bounded only by what the store keeps exactly:
`AMOUNT_DIGITS` digits (NUMERIC(40,0) on PostgreSQL). A command field named `*_raw` is an amount;
every other integer field is 64-bit.
"""

from collections.abc import Callable
from functools import cache
from operator import attrgetter
from typing import Any, NamedTuple, cast, get_args, get_type_hints

import msgspec

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
AMOUNT_DIGITS = 40  # 2**128 has 39 digits: room for any amount a user can hold
RAW_MAX = 10**AMOUNT_DIGITS - 1
KEY_LENGTH = 64  # API keys, their secrets and listenKeys, as Binance's


class RangeError(ValueError):
    """An integer outside the range its field allows (money.AmountRangeError for amounts)."""


def int64_problem(value: int, what: str) -> str | None:
    """Why `value` is no 64-bit integer, or None."""
    if INT64_MIN <= value <= INT64_MAX:
        return None
    return f"{what} {value} is out of range: integers go from {INT64_MIN} to {INT64_MAX}"


def raw_problem(value: int, what: str) -> str | None:
    """Why `value` is no amount the exchange can hold, or None."""
    if -RAW_MAX <= value <= RAW_MAX:
        return None
    return f"{what} {value} is out of range: amounts have at most {AMOUNT_DIGITS} digits"


def field_problem(value: object, where: str = "") -> str | None:
    """The first integer in a struct (a command, a request body), nested structs and lists
    included, that is out of its range, or None."""
    if not isinstance(value, msgspec.Struct):
        return None
    plan = _plan(type(value))
    if plan.ints is not None:  # the common case, in C: min and max over the fields' tuple
        ints = plan.ints(value)
        if min(ints) < INT64_MIN or max(ints) > INT64_MAX:
            return _first(int64_problem, value, plan.int_names, where)
    if plan.raws is not None:
        raws = plan.raws(value)
        if min(raws) < -RAW_MAX or max(raws) > RAW_MAX:
            return _first(raw_problem, value, plan.raw_names, where)
    for name in plan.others:
        if problem := _item_problem(getattr(value, name), where + name):
            return problem
    return None


Getter = Callable[[object], tuple[int, ...]]


class _Plan(NamedTuple):
    int_names: tuple[str, ...]
    ints: Getter | None  # the int_names' values as one tuple
    raw_names: tuple[str, ...]
    raws: Getter | None
    others: tuple[str, ...]  # optional integers, structs and collections


def _getter(names: list[str]) -> Getter | None:
    if not names:
        return None
    if len(names) == 1:
        return attrgetter(names[0], names[0])  # a tuple, as for several names
    return cast(Getter, attrgetter(*names))


@cache
def _plan(cls: type[msgspec.Struct]) -> _Plan:
    """Which fields of `cls` hold integers, structs or collections: worked out once per type from
    its annotations, since every command passes here on the hot path."""
    hints = get_type_hints(cls)
    ints: list[str] = []
    raws: list[str] = []
    others: list[str] = []
    for name in cls.__struct_fields__:
        hint = hints[name]
        if hint is int:
            (raws if name.endswith("_raw") else ints).append(name)
        elif _holds_integers(hint):
            others.append(name)
    return _Plan(tuple(ints), _getter(ints), tuple(raws), _getter(raws), tuple(others))


def _holds_integers(hint: Any) -> bool:
    """Whether a value of type `hint` may contain an integer (a list of 100,000 addresses made
    of strings is then never walked)."""
    if isinstance(hint, type):
        if issubclass(hint, msgspec.Struct):
            plan = _plan(hint)
            return bool(plan.int_names or plan.raw_names or plan.others)
        if issubclass(hint, (str, bytes, bool, float)):  # enums included
            return False
    args = get_args(hint)
    if args:
        return any(_holds_integers(a) for a in args if a is not Ellipsis)
    return hint is not type(None)


def _first(
    problem: Callable[[int, str], str | None], value: object, names: tuple[str, ...], where: str
) -> str | None:
    return next(p for name in names if (p := problem(getattr(value, name), where + name)))


def _item_problem(item: object, name: str) -> str | None:
    if type(item) is int:
        return raw_problem(item, name) if name.endswith("_raw") else int64_problem(item, name)
    if isinstance(item, (tuple, list, set, frozenset)):
        return next((p for p in (_item_problem(i, name) for i in item) if p), None)
    if isinstance(item, dict):
        return _item_problem(list(item.items()), name)
    return field_problem(item, f"{name}.")
