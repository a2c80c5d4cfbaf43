"""Ledger postings: every movement of funds goes through these few functions.

Each posting marks the balance it touched in `touched`; at the end of a command the engine emits
one BalanceChanged per touched balance. A posting never makes a balance negative: the risk stage
has checked funds before, so a negative result is a broken invariant and raises.
"""

from bourse.engine.state import Balance


class LedgerError(AssertionError):
    """A posting would break conservation or make a balance negative: a bug, not a user error."""


Touched = dict[Balance, None]  # insertion-ordered set of balances a command changed


def credit(touched: Touched, bal: Balance, amount: int) -> None:
    bal.free += amount
    touched[bal] = None


def hold(touched: Touched, bal: Balance, amount: int) -> None:
    """Move free → locked (an order or withdrawal reserves funds)."""
    if amount > bal.free:
        raise LedgerError(f"hold of {amount} exceeds free {bal.free} of {bal.asset}")
    bal.free -= amount
    bal.locked += amount
    touched[bal] = None


def release(touched: Touched, bal: Balance, amount: int) -> None:
    """Move locked → free (an order or withdrawal ends without spending its hold)."""
    if amount > bal.locked:
        raise LedgerError(f"release of {amount} exceeds locked {bal.locked} of {bal.asset}")
    bal.locked -= amount
    bal.free += amount
    touched[bal] = None


def spend_locked(touched: Touched, bal: Balance, amount: int) -> None:
    """Take funds out of locked (paid to a counterparty, or withdrawn)."""
    if amount > bal.locked:
        raise LedgerError(f"spend of {amount} exceeds locked {bal.locked} of {bal.asset}")
    bal.locked -= amount
    touched[bal] = None
