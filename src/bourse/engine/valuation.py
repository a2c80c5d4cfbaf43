"""What an account's holdings are worth in one asset, at the exchange's own prices.

Deterministic: prices are the engine's `last_price` per symbol, arithmetic is integer and floors.
An asset is valued through a market straight to the target asset (either way round), or through
one intermediate asset (the first path found, markets taken by name). Only where no traded
market leads there does an operator's reference price (SetReferencePrice) count, as one more
such step. An asset nothing prices is never counted as zero: `valued` names it, and the policy
stages refuse to decide on a guess (engine/impact.py, engine/jurisdiction.py).
"""

from collections.abc import Callable, Iterator, Mapping
from typing import Protocol

from bourse.compliance.policy import HoldingsAbove
from bourse.domain.symbols import SymbolSpec

# What valuation reads, as read-only Protocols: the engine's state satisfies them, and so does
# the read model (bourse.view), whose names follow the state's, so one copy of these rules
# serves the engine's gate and every reader outside it.


class PricedSymbol(Protocol):
    @property
    def spec(self) -> SymbolSpec: ...
    @property
    def last_price(self) -> int: ...


class ReferencePrice(Protocol):
    @property
    def price(self) -> int: ...


class Prices(Protocol):
    @property
    def assets(self) -> Mapping[str, int]: ...
    @property
    def symbols(self) -> Mapping[str, PricedSymbol]: ...
    @property
    def reference_prices(self) -> Mapping[tuple[str, str], ReferencePrice]: ...


class Held(Protocol):
    @property
    def free(self) -> int: ...
    @property
    def locked(self) -> int: ...


class Holder(Protocol):
    """An account, as far as its holdings go."""

    @property
    def id(self) -> int: ...
    @property
    def balances(self) -> Mapping[str, Held]: ...


Direct = Callable[[Prices, int, str, str], int | None]


def _markets(state: Prices) -> list[PricedSymbol]:
    """The symbols by name: a snapshot restores them so, and a replay lists them in the order
    they were listed; the path valuation takes must not depend on which."""
    return [state.symbols[name] for name in sorted(state.symbols)]


def _traded(state: Prices, amount: int, src: str, dst: str) -> int | None:
    for sym in _markets(state):
        spec, price = sym.spec, sym.last_price
        if not price:
            continue
        if spec.base == src and spec.quote == dst:
            value: int = amount * price // 10**spec.base_precision
            return value
        if spec.base == dst and spec.quote == src:
            inverse: int = amount * 10**spec.base_precision // price
            return inverse
    return None


def _referenced(state: Prices, amount: int, src: str, dst: str) -> int | None:
    """A traded price where there is one, else an operator's reference price (per whole unit of
    the first asset, in raw units of the second)."""
    traded = _traded(state, amount, src, dst)
    if traded is not None:
        return traded
    ref = state.reference_prices.get((src, dst))
    if ref is not None:
        value: int = amount * ref.price // 10 ** state.assets[src]
        return value
    ref = state.reference_prices.get((dst, src))
    if ref is not None:
        inverse: int = amount * 10 ** state.assets[dst] // ref.price
        return inverse
    return None


def _neighbours(state: Prices, src: str, references: bool) -> Iterator[str]:
    for sym in _markets(state):
        if sym.spec.base == src:
            yield sym.spec.quote
        elif sym.spec.quote == src:
            yield sym.spec.base
    if references:
        for base, quote in sorted(state.reference_prices):  # as a snapshot restores them
            if base == src:
                yield quote
            elif quote == src:
                yield base


def _path(state: Prices, amount: int, src: str, dst: str, direct: Direct) -> int | None:
    value = direct(state, amount, src, dst)
    if value is not None:
        return value
    for via in _neighbours(state, src, direct is _referenced):
        if via == dst:
            continue
        step = direct(state, amount, src, via)
        if step is not None:
            end = direct(state, step, via, dst)
            if end is not None:
                return end
    return None


def convert(state: Prices, amount: int, src: str, dst: str) -> int | None:
    """`amount` raw units of `src` in raw units of `dst`, or None where no price leads there."""
    if src == dst:
        return amount
    value = _path(state, amount, src, dst, _traded)
    if value is None and state.reference_prices:
        value = _path(state, amount, src, dst, _referenced)
    return value


def traded_price(state: Prices, asset: str, target: str) -> bool:
    """Whether the exchange's own trades value `asset` in `target` (a reference price for the
    pair is then not used)."""
    one = 10 ** state.assets.get(asset, 0)
    return asset == target or _path(state, one, asset, target, _traded) is not None


def priced(state: Prices, asset: str, target: str) -> bool:
    """Whether some price (traded, or a reference) values `asset` in `target`."""
    return convert(state, 10 ** state.assets.get(asset, 0), asset, target) is not None


def valued(state: Prices, acct: Holder, cond: HoldingsAbove) -> tuple[int, list[str]]:
    """What the account holds (free + locked) in raw units of the condition's asset, not counting
    its exclusions, and the held assets no price values (which the value leaves out)."""
    total = 0
    unpriced: list[str] = []
    for held, bal in acct.balances.items():
        amount = bal.free + bal.locked
        if amount and not (cond.excluded and cond.excludes(held)):
            value = convert(state, amount, held, cond.asset)
            if value is None:
                unpriced.append(held)
            else:
                total += value
    return total, unpriced
