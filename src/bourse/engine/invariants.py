"""Invariants 1–3 of DESIGN.md as a check over the state, and the consistency of the country index
jurisdiction policies are applied through. Tests run it after every step."""

from bourse.compliance.policy import Basis, member_key
from bourse.domain.enums import OrderStatus, Side
from bourse.engine.orders import held_balance_asset
from bourse.engine.state import EngineState

_OPEN = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})


def violations(state: EngineState) -> list[str]:
    """Every broken invariant, as a sentence; empty when all hold."""
    found: list[str] = []
    totals: dict[str, int] = {}
    held: dict[tuple[int, str], int] = {}
    for acct in state.accounts.values():
        for bal in acct.balances.values():
            if bal.free < 0 or bal.locked < 0:
                found.append(f"account {acct.id} {bal.asset} is negative: {bal.free}/{bal.locked}")
            totals[bal.asset] = totals.get(bal.asset, 0) + bal.free + bal.locked
        for order in acct.open_orders.values():
            if order.status not in _OPEN:
                found.append(f"order {order.id} is open with status {order.status}")
            if order.held < 0:
                found.append(f"order {order.id} holds a negative amount {order.held}")
            key = (acct.id, held_balance_asset(state.symbols[order.symbol], order))
            held[key] = held.get(key, 0) + order.held
    for w in state.withdrawals.values():
        key = (w.account_id, w.asset)
        held[key] = held.get(key, 0) + w.amount
    # 1. conservation: all balances, fee income included, equal deposits − withdrawals
    for asset in sorted(set(totals) | set(state.deposited)):
        expected = state.deposited.get(asset, 0) - state.withdrawn.get(asset, 0)
        if totals.get(asset, 0) != expected:
            found.append(f"{asset}: balances sum to {totals.get(asset, 0)}, expected {expected}")
    # 2. locked equals what open orders and pending withdrawals hold
    for acct in state.accounts.values():
        for bal in acct.balances.values():
            if bal.locked != held.get((acct.id, bal.asset), 0):
                found.append(
                    f"account {acct.id} {bal.asset}: locked {bal.locked} but orders and "
                    f"withdrawals hold {held.get((acct.id, bal.asset), 0)}"
                )
    # 3. the book is never crossed; every resting order is open, working and on its account
    for sym in state.symbols.values():
        bid, ask = sym.book.best_bid(), sym.book.best_ask()
        if bid and ask and bid >= ask:
            found.append(f"{sym.spec.name} is crossed: bid {bid} >= ask {ask}")
        for side in (Side.BUY, Side.SELL):
            for order in sym.book.orders(side):
                acct = state.accounts[order.account_id]
                if acct.open_orders.get(order.id) is not order or not order.working:
                    found.append(f"order {order.id} rests on the book but is not open/working")
                if order.remaining <= 0:
                    found.append(f"order {order.id} rests with nothing left to fill")
    found += _index_violations(state)
    return found


def _index_violations(state: EngineState) -> list[str]:
    """Each country key lists exactly the customers of that residence or nationality, and its
    account count is theirs: policies and previews read nothing else."""
    found: list[str] = []
    expected: dict[str, list[int]] = {}
    for cust in state.customers.values():
        for key in (
            member_key(Basis.RESIDENCE, cust.residence),
            member_key(Basis.NATIONALITY, cust.nationality),
        ):
            expected.setdefault(key, []).append(cust.id)
    for key in sorted(set(expected) | set(state.members)):
        named = sorted(state.members.get(key, ()))
        if named != sorted(expected.get(key, [])):
            found.append(f"{key} names customers {named}, expected {sorted(expected.get(key, []))}")
        accounts = sum(len(state.customers[c].accounts) for c in expected.get(key, []))
        if state.member_accounts.get(key, 0) != accounts:
            found.append(
                f"{key} counts {state.member_accounts.get(key, 0)} accounts, not {accounts}"
            )
    return found
