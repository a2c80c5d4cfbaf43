"""Whom a jurisdiction policy names, and what they hold: one reading for the preview an operator
is shown and for the apply that must match it.

A preview of a country with many customers is read in slices (`tally` over part of the members),
so the engine process can interleave it with matching instead of pausing for the whole count.
"""

from collections.abc import Generator

from bourse.compliance.policy import Basis, Fingerprint, Impact, PolicySpec, Tally, member_key
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


PREVIEW_SLICE = 2000  # customers counted per step of a preview
SAMPLE = 10  # named customers a preview shows


def preview(
    state: EngineState, spec: PolicySpec, slice_size: int = PREVIEW_SLICE
) -> Generator[None, None, Impact]:
    """The impact of `spec`, counted in steps: whom it names and their fingerprint at once (what
    an apply must still match), then `slice_size` customers per step. It yields between steps so
    its driver runs other commands meanwhile; a customer who moves during the count changes the
    fingerprint, so the apply of this preview is refused as stale, never wrong."""
    as_of_seq = state.last_seq
    named = members(state, spec.basis, spec.country)
    seen = fingerprint(state, spec.basis, spec.country)
    total = Tally(balances={}, sample=[], unpriced={})
    for start in range(0, len(named), slice_size):
        if start:
            yield
        total.add(tally(state, spec, named[start : start + slice_size], SAMPLE), SAMPLE)
    return Impact(spec=spec, previewed=seen, as_of_seq=as_of_seq, tally=total)


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
