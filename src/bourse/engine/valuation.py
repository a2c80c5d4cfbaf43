"""What an account's holdings are worth in one asset, at the exchange's own last trade prices.

Deterministic: prices are the engine's `last_price` per symbol, arithmetic is integer and floors.
An asset is valued through a market straight to the target asset (either way round), or through
one intermediate asset; one with no such market counts as nothing (the preview says how many).
"""

from bourse.engine.state import Account, EngineState, SymbolState


def _convert_direct(state: EngineState, amount: int, src: str, dst: str) -> int | None:
    for sym in state.symbols.values():
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


def convert(state: EngineState, amount: int, src: str, dst: str) -> int | None:
    """`amount` raw units of `src` in raw units of `dst`, or None where no price leads there."""
    if src == dst:
        return amount
    direct = _convert_direct(state, amount, src, dst)
    if direct is not None:
        return direct
    for sym in state.symbols.values():
        via = _via(sym, src)
        if via is None or via == dst:
            continue
        step = _convert_direct(state, amount, src, via)
        if step is not None:
            end = _convert_direct(state, step, via, dst)
            if end is not None:
                return end
    return None


def _via(sym: SymbolState, src: str) -> str | None:
    if sym.spec.base == src:
        return sym.spec.quote
    if sym.spec.quote == src:
        return sym.spec.base
    return None


def holdings_value(state: EngineState, acct: Account, asset: str) -> int:
    """Free + locked of every asset the account holds, in raw units of `asset`."""
    total = 0
    for held, bal in acct.balances.items():
        amount = bal.free + bal.locked
        if amount:
            value = convert(state, amount, held, asset)
            if value is not None:
                total += value
    return total
