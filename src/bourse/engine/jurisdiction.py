"""The compliance gate's rules for customers: their jurisdiction's policies and their venue.

A policy applies to a customer through their residence, or through their nationality where the
policy is keyed on nationality. The first policy that refuses wins, and its refusal names the
policy, the capability and the people it covers, so nobody is left guessing why.
"""

from collections.abc import Collection, Mapping
from typing import Protocol

from bourse.compliance.policy import WITHDRAWALS, Access, Capability, PolicySpec, Rule
from bourse.domain.calendar import utc_text
from bourse.domain.money import to_plain
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.valuation import Holder, Prices, valued

# What these rules read, as read-only Protocols that the engine's state and the read model
# (bourse.view) both satisfy: the gate decides with them, and a gateway shows what they allow
# (Binance's canTrade, canWithdraw, canDeposit) from the same copy.


class InForce(Protocol):
    """A jurisdiction policy in force."""

    @property
    def spec(self) -> PolicySpec: ...
    @property
    def change_id(self) -> int: ...


class Person(Protocol):
    @property
    def residence(self) -> str: ...
    @property
    def nationality(self) -> str: ...
    @property
    def venue(self) -> str: ...


class Member(Holder, Protocol):
    """An account, with the customer it belongs to (0: a house account)."""

    @property
    def customer_id(self) -> int: ...


class Jurisdictions(Prices, Protocol):
    @property
    def fiat_assets(self) -> Collection[str]: ...
    @property
    def customers(self) -> Mapping[int, Person]: ...
    @property
    def residence_policies(self) -> Mapping[str, InForce]: ...
    @property
    def nationality_policies(self) -> Mapping[str, InForce]: ...


class Listing(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def symbols(self) -> Collection[str]: ...


class Venues(Protocol):
    @property
    def venues(self) -> Mapping[str, Listing]: ...


_WHAT = {
    Capability.ONBOARDING: "onboarding",
    Capability.TRADING: "trading",
    Capability.CRYPTO_DEPOSIT: "crypto deposits",
    Capability.CRYPTO_WITHDRAWAL: "crypto withdrawals",
    Capability.FIAT_DEPOSIT: "fiat deposits",
    Capability.FIAT_WITHDRAWAL: "fiat withdrawals",
}
_OPEN = Access.OPEN
_WITHDRAW_ONLY = Access.WITHDRAW_ONLY


def deposit_capability(state: Jurisdictions, asset: str) -> Capability:
    return Capability.FIAT_DEPOSIT if asset in state.fiat_assets else Capability.CRYPTO_DEPOSIT


def withdrawal_capability(state: Jurisdictions, asset: str) -> Capability:
    fiat = asset in state.fiat_assets
    return Capability.FIAT_WITHDRAWAL if fiat else Capability.CRYPTO_WITHDRAWAL


def policy_refusal(
    state: Jurisdictions,
    residence: str,
    nationality: str,
    capability: Capability,
    ts_ms: int,
    acct: Member | None = None,
) -> Refusal | None:
    """Whether a policy stops someone of this residence and nationality using `capability` now.
    `acct` is the account acting, for rules whose condition depends on its holdings."""
    for policies, country, who in (
        (state.residence_policies, residence, "residents"),
        (state.nationality_policies, nationality, "nationals"),
    ):
        if not policies:
            continue
        policy = policies.get(country)
        if policy is None:
            continue
        for rule in policy.spec.rules:
            if rule.capability is capability:
                refusal = _rule_refusal(state, policy, rule, who, ts_ms, acct)
                if refusal is not None:
                    return refusal
                break
    return None


def trading_stopped(state: Jurisdictions, acct: Member, ts_ms: int) -> Refusal | None:
    """Whether a policy now stops this account trading: its resting and stop orders must not
    trade (they are canceled when met, ahead of the policy's sweep reaching them)."""
    if not acct.customer_id:
        return None
    return customer_refusal(state, acct, Capability.TRADING, ts_ms)


def customer_refusal(
    state: Jurisdictions, acct: Member, capability: Capability, ts_ms: int
) -> Refusal | None:
    if not acct.customer_id or not (state.residence_policies or state.nationality_policies):
        return None
    cust = state.customers[acct.customer_id]
    return policy_refusal(state, cust.residence, cust.nationality, capability, ts_ms, acct)


def policy_permissions(state: Jurisdictions, acct: Member, ts_ms: int) -> tuple[bool, bool, bool]:
    """(trading, withdrawals, deposits) as the customer's jurisdiction policies allow them now:
    what Binance's canTrade, canWithdraw and canDeposit show besides the account's own flags.
    Withdrawals (deposits) count as allowed while crypto or fiat ones are."""
    if not acct.customer_id or not (state.residence_policies or state.nationality_policies):
        return True, True, True

    def allows(capability: Capability) -> bool:
        return customer_refusal(state, acct, capability, ts_ms) is None

    return (
        allows(Capability.TRADING),
        allows(Capability.CRYPTO_WITHDRAWAL) or allows(Capability.FIAT_WITHDRAWAL),
        allows(Capability.CRYPTO_DEPOSIT) or allows(Capability.FIAT_DEPOSIT),
    )


def closed_to(state: Jurisdictions, acct: Member, capability: Capability, ts_ms: int) -> bool:
    """Whether a policy has closed `capability` for the account's customer for good (CLOSED, or
    an exit window past its deadline): what staff may then pay out on request."""
    if not acct.customer_id:
        return False
    cust = state.customers[acct.customer_id]
    for policies, country in (
        (state.residence_policies, cust.residence),
        (state.nationality_policies, cust.nationality),
    ):
        policy = policies.get(country)
        if policy is None:
            continue
        access = policy.spec.access(capability)
        if access is Access.CLOSED or (
            access is _WITHDRAW_ONLY and ts_ms >= policy.spec.deadline_ms
        ):
            return True
    return False


def venue_refusal(state: Venues, cust: Person, symbol: str) -> Refusal | None:
    venue = state.venues.get(cust.venue)
    if venue is None or symbol in venue.symbols:
        return None
    return Refusal(
        RejectCode.NOT_LISTED_ON_VENUE,
        f"{symbol} is not listed on {venue.name} ({venue.code}), the venue that serves "
        f"residents of {cust.residence}; it lists {', '.join(sorted(venue.symbols)) or 'nothing'}",
    )


def _rule_refusal(
    state: Jurisdictions,
    policy: InForce,
    rule: Rule,
    who: str,
    ts_ms: int,
    acct: Member | None,
) -> Refusal | None:
    access, spec = rule.access, policy.spec
    if access is _OPEN:
        return None
    in_window = access is _WITHDRAW_ONLY and ts_ms < spec.deadline_ms
    if in_window and rule.capability in WITHDRAWALS:
        return None
    people = f"{who} of {spec.country}"
    cond = rule.condition
    if cond is not None:
        if acct is None:
            return None
        precision = state.assets.get(cond.asset, 0)
        value, unpriced = valued(state, acct, cond)
        if value <= cond.limit_raw and not unpriced:
            return None
        limit = to_plain(cond.limit_raw, precision)
        people = f"accounts of {people} holding more than {limit} {cond.asset}"
        if value <= cond.limit_raw:  # decided on no guess: an unpriced asset is not worth 0
            people += (
                f" (account {acct.id} holds {', '.join(unpriced)}, which no market or "
                f"reference price values in {cond.asset}, so it is treated as above the line)"
            )
    what = _WHAT[rule.capability]
    state_text = "suspended" if access is Access.SUSPENDED else "closed"
    after = ""
    if in_window:
        after = f": exit window, withdrawals only until {utc_text(spec.deadline_ms)}"
    elif state_text == "closed" and rule.capability in WITHDRAWALS:
        after = ": remaining balances are paid out on request through support"
    return Refusal(
        RejectCode.JURISDICTION_POLICY,
        f"{what} {'are' if what.endswith('s') else 'is'} {state_text} for {people} "
        f"by policy '{spec.name}' (change {policy.change_id}){after}",
    )
