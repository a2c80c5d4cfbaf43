"""Invariant 6 (DESIGN.md) as a property: a compliance action touches exactly the accounts it
targets. Random customers (residences and nationalities from a few countries) hold balances and
open orders; random jurisdiction policies (applied with their preview, sweeps driven to the end,
exit windows run past their deadline) and random targeted actions (a freeze, new permissions,
a screening alert: an onboarding hit holds its customer until a confirmation freezes them or a
dismissal releases them) follow. Every account that no policy and no targeted action named must
be exactly as it was, and must still deposit and trade.
"""

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bourse.commands import (
    ConfirmScreeningAlert,
    DismissScreeningAlert,
    FreezeAccount,
    RaiseScreeningAlert,
    RunDuePolicies,
    SetAccountPermissions,
    SetReferencePrice,
)
from bourse.compliance.evidence import Evidence
from bourse.compliance.policy import Access, Basis, Capability, HoldingsAbove, PolicySpec, Rule
from bourse.domain.enums import Side
from bourse.engine.invariants import violations
from bourse.engine.state import Account
from bourse.events import CommandRejected
from tests.builders import Runner, apply_policy, finish_sweeps, of, onboard, raw, world

COUNTRIES = ("KZ", "RU", "DE", "FR")
DAY_MS = 86_400_000

people = st.lists(
    st.tuples(st.sampled_from(COUNTRIES), st.sampled_from(COUNTRIES)), min_size=2, max_size=8
)
rule_sets = st.dictionaries(
    st.sampled_from(list(Capability)),
    st.tuples(st.sampled_from(list(Access)), st.booleans()),  # access, with a holdings condition
    max_size=3,
)
policy_actions = st.tuples(
    st.just("policy"), st.sampled_from(list(Basis)), st.sampled_from(COUNTRIES), rule_sets
)
targeted_actions = st.tuples(
    st.sampled_from(["freeze", "permissions", "held", "decide"]),
    st.integers(0, 20),
    st.booleans(),
    st.booleans(),
)
clock_actions = st.tuples(st.just("deadlines"))
actions = st.lists(st.one_of(policy_actions, targeted_actions, clock_actions), max_size=6)


def image(acct: Account) -> tuple[Any, ...]:
    """Everything about an account a compliance action could change."""
    balances = sorted((b.asset, b.free, b.locked) for b in acct.balances.values())
    orders = sorted(
        (o.id, o.symbol, o.side, o.price, o.qty, o.executed, o.held, o.status)
        for o in acct.open_orders.values()
    )
    flags = (acct.frozen, acct.can_trade, acct.can_deposit, acct.can_withdraw, acct.fee_tier)
    return flags, tuple(balances), tuple(orders)


def spec_of(
    basis: Basis, country: str, rules: dict[Capability, tuple[Access, bool]], ts: int
) -> PolicySpec:
    built = tuple(
        Rule(
            capability=cap,
            access=access,
            condition=HoldingsAbove(asset="USDT", limit_raw=raw("15000"))
            if conditional and access is not Access.OPEN
            else None,
        )
        for cap, (access, conditional) in sorted(rules.items())
    )
    exits = any(r.access is Access.WITHDRAW_ONLY for r in built)
    return PolicySpec(
        name=f"{basis} {country} policy",
        country=country,
        basis=basis,
        rules=built,
        deadline_ms=ts + 10 * DAY_MS if exits else 0,
    )


def named_by(r: Runner, acct: Account, basis: Basis, country: str) -> bool:
    if not acct.customer_id:
        return False  # house accounts: no policy names them
    cust = r.state.customers[acct.customer_id]
    return (cust.residence if basis is Basis.RESIDENCE else cust.nationality) == country


@settings(max_examples=50, deadline=None)
@given(population=people, steps=actions, data=st.data())
def test_compliance_actions_touch_only_what_they_name(
    population: list[tuple[str, str]], steps: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    r = world(accounts=1, funds={"BTC": "5", "USDT": "100000"})  # account 1: a house account
    # nothing trades here: the USDT conditions value BTC at a reference price, never at 0
    r.do(SetReferencePrice, asset="BTC", quote="USDT", price_raw=raw("50000"))
    for i, (residence, nationality) in enumerate(population):
        _, acct = onboard(r, residence, nationality)
        r.deposit(acct, "BTC", "1")
        r.deposit(acct, "USDT", str(10_000 + 2_000 * i))  # some above the 15,000 line
    for acct in list(r.state.accounts)[1:]:
        r.limit(acct, Side.BUY, str(40_000 + acct), "0.01")
        r.limit(acct, Side.SELL, str(60_000 + acct), "0.01")
    assert not any(of(events, CommandRejected) for events in r.events)
    ids = list(r.state.accounts)[1:]
    before = {a: image(r.state.accounts[a]) for a in ids}
    touched: set[int] = set()

    for step in steps:
        if step[0] == "policy":
            _, basis, country, rules = step
            spec = spec_of(basis, country, rules, r.ts_ms)
            events = apply_policy(r, spec, batch=data.draw(st.integers(1, 3), label="batch"))
            rejected = of(events, CommandRejected)
            assert not rejected or rejected[0].code.name == "NO_CHANGE", rejected
            finish_sweeps(r)
            touched |= {a for a in ids if named_by(r, r.state.accounts[a], basis, country)}
        elif step[0] == "deadlines":
            r.ts_ms += 11 * DAY_MS
            r.do(RunDuePolicies)  # closes what is due (only ever-named accounts), else NO_CHANGE
            finish_sweeps(r)
        else:
            kind, index, first, second = step
            target = ids[index % len(ids)]
            touched.add(target)
            customer_id = r.state.accounts[target].customer_id
            if kind == "freeze":
                r.do(FreezeAccount, account_id=target, reason="screening hit", evidence="hit")
            elif kind == "held":  # an onboarding screening hit holds the customer
                evidence = Evidence(
                    source="ofac_sdn",
                    list_sha256="ab" * 32,
                    entry_id=str(target),
                    listed_name="LISTED",
                    score_bp=9_000,
                    explanation="test",
                    entry_fingerprint="f",
                )
                r.do(RaiseScreeningAlert, customer_id=customer_id, evidence=evidence, hold=first)
            elif kind == "decide":  # the customer's open alerts confirmed (frozen) or dismissed
                decide = ConfirmScreeningAlert if first else DismissScreeningAlert
                for alert in list(r.state.alerts.values()):
                    if alert.customer_id == customer_id and not alert.decision:
                        r.do(decide, alert_id=alert.id)
            else:
                r.do(
                    SetAccountPermissions,
                    account_id=target,
                    can_trade=first,
                    can_deposit=second,
                    can_withdraw=True,
                )
        assert violations(r.state) == []

    untouched = [a for a in ids if a not in touched]
    for acct in untouched:
        assert image(r.state.accounts[acct]) == before[acct], f"account {acct} changed"
    for acct in untouched:  # and nothing stops them
        assert not of(r.deposit(acct, "BTC", "0.1"), CommandRejected)
        assert not of(r.limit(acct, Side.BUY, "30000", "0.01"), CommandRejected)
