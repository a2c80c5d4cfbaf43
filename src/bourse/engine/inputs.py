"""Stage 0: whether a command's numbers make sense on their own, before any rule is consulted.

Malformed input gets the same answer whoever sends it and whatever the account may do: a negative
deposit is "the amount must be positive", not the jurisdiction's policy sentence. Integers beyond
what the journal's readers and the store hold (domain/limits.py) are refused here too, so no
projection ever meets one. The gateways refuse all of this first; this is the engine's own word,
for commands sent as JSON by operators and for whatever a future edge forgets.
"""

from bourse.commands import (
    CancelReplaceOrder,
    Command,
    Deposit,
    PlaceOrder,
    RequestWithdrawal,
    WithdrawOnRequest,
)
from bourse.compliance.destinations import destination_problem
from bourse.domain.limits import INT64_MAX, RAW_MAX, field_problem
from bourse.domain.money import to_plain
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.state import EngineState


def check(state: EngineState, cmd: Command) -> Refusal | None:
    if type(cmd) is PlaceOrder and _ordinary(cmd):
        return None  # the hot path: every number is in range and none is negative
    problem = field_problem(cmd)
    if problem:
        return _invalid(problem)
    if type(cmd) is PlaceOrder:
        return _negative(state, cmd)
    if type(cmd) is CancelReplaceOrder:
        return _negative(state, cmd.new_order)
    if isinstance(cmd, Deposit):
        return _amount_problem(state, cmd.asset, cmd.amount_raw)
    if isinstance(cmd, (RequestWithdrawal, WithdrawOnRequest)):
        refusal = _amount_problem(state, cmd.asset, cmd.amount_raw)
        fiat = cmd.asset in state.fiat_assets
        if refusal is None and (problem := destination_problem(cmd.asset, fiat, cmd.destination)):
            return _invalid(problem)
        return refusal
    return None


def _amount_problem(state: EngineState, asset: str, amount: int) -> Refusal | None:
    if asset not in state.assets:
        return Refusal(RejectCode.UNKNOWN_ASSET, f"asset {asset!r} does not exist")
    if amount <= 0:
        return _invalid("the amount must be positive")
    return None


def _ordinary(cmd: PlaceOrder) -> bool:
    return (
        0 <= cmd.account_id <= INT64_MAX
        and 0 <= cmd.ts_ms <= INT64_MAX
        and 0 <= cmd.qty_raw <= RAW_MAX
        and 0 <= cmd.quote_qty_raw <= RAW_MAX
        and 0 <= cmd.price_raw <= RAW_MAX
        and 0 <= cmd.stop_price_raw <= RAW_MAX
    )


def _negative(state: EngineState, cmd: PlaceOrder) -> Refusal | None:
    sym = state.symbols.get(cmd.symbol)
    if sym is None:  # the gate names the unknown symbol
        return None
    spec = sym.spec
    for name, value, precision in (
        ("quantity", cmd.qty_raw, spec.base_precision),
        ("quote quantity", cmd.quote_qty_raw, spec.quote_precision),
        ("price", cmd.price_raw, spec.quote_precision),
        ("stop price", cmd.stop_price_raw, spec.quote_precision),
    ):
        if value < 0:
            return _invalid(f"{name} {to_plain(value, precision)} must not be negative")
    return None


def _invalid(reason: str) -> Refusal:
    return Refusal(RejectCode.INVALID_PARAMETER, reason)
