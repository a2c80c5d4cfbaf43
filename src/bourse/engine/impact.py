"""Whom a jurisdiction policy names, and what they hold: one reading for the preview an operator
is shown and for the apply that must match it.

A preview of a country with many customers is read in slices (`tally` over part of the members),
so the gateway can interleave it with matching instead of pausing the engine for the whole count.
"""

import msgspec

from bourse.compliance.policy import Basis, Fingerprint, PolicySpec, member_key
from bourse.engine.state import EngineState
from bourse.engine.valuation import priced, valued


def members(state: EngineState, basis: Basis, country: str) -> list[int]:
    """The customers a policy for `country` on `basis` names, in onboarding order."""
    return list(state.members.get(member_key(basis, country), ()))


def fingerprint(state: EngineState, basis: Basis, country: str) -> Fingerprint:
    key = member_key(basis, country)
    return Fingerprint(
        customers=len(state.members.get(key, ())),
        accounts=state.member_accounts.get(key, 0),
        version=state.member_versions.get(key, 0),
    )


class Tally(msgspec.Struct, kw_only=True):
    """What the named customers have, summed over a slice of them (slices add up)."""

    accounts_with_orders: int = 0
    open_orders: int = 0
    pending_withdrawals: int = 0
    balances: dict[str, int] = {}  # asset → free + locked, raw
    above_condition: int = 0  # accounts a conditional rule restricts right now
    unpriced: dict[str, int] = {}  # asset no price values in a condition's asset → accounts
    sample: list[dict[str, object]] = []

    def add(self, other: "Tally", sample_size: int) -> None:
        self.accounts_with_orders += other.accounts_with_orders
        self.open_orders += other.open_orders
        self.pending_withdrawals += other.pending_withdrawals
        for asset, amount in other.balances.items():
            self.balances[asset] = self.balances.get(asset, 0) + amount
        self.above_condition += other.above_condition
        for asset, accounts in other.unpriced.items():
            self.unpriced[asset] = self.unpriced.get(asset, 0) + accounts
        room = sample_size - len(self.sample)
        if room > 0:
            self.sample.extend(other.sample[:room])


def tally(
    state: EngineState, spec: PolicySpec, customer_ids: list[int], sample_size: int = 10
) -> Tally:
    """Count what `customer_ids` (a slice of the members) hold and would lose access to."""
    result = Tally(balances={}, sample=[], unpriced={})
    pending: dict[int, int] = {}
    if state.withdrawals:
        for w in state.withdrawals.values():
            pending[w.account_id] = pending.get(w.account_id, 0) + 1
    conditions = [r.condition for r in spec.rules if r.condition is not None]
    balances = result.balances
    for cid in customer_ids:
        cust = state.customers[cid]
        for account_id in cust.accounts:
            acct = state.accounts[account_id]
            orders = len(acct.open_orders)
            if orders:
                result.accounts_with_orders += 1
                result.open_orders += orders
            result.pending_withdrawals += pending.get(account_id, 0)
            for asset, bal in acct.balances.items():
                amount = bal.free + bal.locked
                if amount:
                    balances[asset] = balances.get(asset, 0) + amount
            if conditions:
                above, unpriced = False, dict[str, None]()
                for c in conditions:
                    value, missing = valued(state, acct, c)
                    above = above or value > c.limit_raw
                    unpriced.update(dict.fromkeys(missing))
                if above:
                    result.above_condition += 1
                for asset in unpriced:
                    result.unpriced[asset] = result.unpriced.get(asset, 0) + 1
        if len(result.sample) < sample_size:
            result.sample.append(
                {
                    "customer_id": cid,
                    "legal_name": cust.legal_name,
                    "residence": cust.residence,
                    "nationality": cust.nationality,
                    "accounts": list(cust.accounts),
                }
            )
    return result


def unpriced_held(state: EngineState, spec: PolicySpec) -> dict[str, int]:
    """The assets named accounts hold that a condition of `spec` has no price for (and does not
    exclude), each with how many accounts hold it: what must be priced or excluded before the
    change may take effect. Reads the members only where some asset that anyone holds at all
    (deposits exceed withdrawals: invariant 1) lacks a price."""
    conditions = [r.condition for r in spec.rules if r.condition is not None]
    lacking = {
        asset
        for c in conditions
        for asset in state.assets
        if asset != c.asset
        and state.deposited.get(asset, 0) > state.withdrawn.get(asset, 0)
        and not c.excludes(asset)
        and not priced(state, asset, c.asset)
    }
    found: dict[str, int] = {}
    if not lacking:
        return found
    for cid in members(state, spec.basis, spec.country):
        for account_id in state.customers[cid].accounts:
            for asset, bal in state.accounts[account_id].balances.items():
                if asset in lacking and (bal.free or bal.locked):
                    found[asset] = found.get(asset, 0) + 1
    return dict(sorted(found.items()))
