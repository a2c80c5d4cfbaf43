"""A read model as plain, ordered data: what two models are compared by (a fold against the
engine's export, in tests), and what a debugging dump shows. Empty balances are left out: the
engine keeps a zero entry for every asset an account ever touched, the fold only what events said.
"""

from typing import Any

import msgspec

from bourse.view.model import BalanceView, ReadModel


def plain(model: ReadModel) -> dict[str, Any]:
    return {name: _plain(getattr(model, name)) for name in ReadModel.__slots__}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            str(k): _plain(v)
            for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
            if not (isinstance(v, BalanceView) and not v.free and not v.locked)
        }
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    slots = getattr(type(value), "__slots__", None)
    if slots:
        return {name: _plain(getattr(value, name)) for name in slots}
    return value
