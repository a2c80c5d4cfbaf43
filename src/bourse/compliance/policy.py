"""Jurisdiction policies: for one country, what each capability may do, and for whom.

A policy is keyed on a country and a basis: residence by default, nationality only where the policy
says so. Each capability is `OPEN`, `SUSPENDED`, `WITHDRAW_ONLY` (an exit window until the policy's
deadline) or `CLOSED`; a capability a policy does not name stays open. A rule may carry a condition
the engine evaluates at the moment of the command (holdings above a value at the exchange's own
prices), so it restricts exactly the accounts above the line.
"""

import hashlib
from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol

import msgspec

# The kinds of work a policy change does in batches (a sweep): cancel the named customers' orders,
# or report what a closed country's customers still hold.
CANCEL_ORDERS = "cancel_orders"
CLOSURE_REPORT = "closure_report"


class Capability(StrEnum):
    ONBOARDING = "ONBOARDING"
    TRADING = "TRADING"
    CRYPTO_DEPOSIT = "CRYPTO_DEPOSIT"
    CRYPTO_WITHDRAWAL = "CRYPTO_WITHDRAWAL"
    FIAT_DEPOSIT = "FIAT_DEPOSIT"
    FIAT_WITHDRAWAL = "FIAT_WITHDRAWAL"


WITHDRAWALS = frozenset({Capability.CRYPTO_WITHDRAWAL, Capability.FIAT_WITHDRAWAL})


class Access(StrEnum):
    OPEN = "OPEN"
    SUSPENDED = "SUSPENDED"
    WITHDRAW_ONLY = "WITHDRAW_ONLY"
    CLOSED = "CLOSED"


class Basis(StrEnum):
    RESIDENCE = "RESIDENCE"
    NATIONALITY = "NATIONALITY"


class Exclusion(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An asset a holdings condition leaves out of the value, and why: the operator's explicit
    decision where no price values it (never a silent zero)."""

    asset: str
    reason: str


class HoldingsAbove(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """True for an account whose holdings (free + locked, every asset valued at the last trade
    price of the exchange's own markets, else at an operator's reference price) are worth more
    than `limit_raw` of `asset`, not counting the `excluded` assets.

    (`omit_defaults`: a condition without exclusions encodes as before, so the digests of
    earlier previews, which journaled applies cite, stay the same.)"""

    asset: str
    limit_raw: int
    excluded: tuple[Exclusion, ...] = ()

    def excludes(self, asset: str) -> bool:
        return any(e.asset == asset for e in self.excluded)


class Rule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    capability: Capability
    access: Access
    condition: HoldingsAbove | None = None


class PolicySpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One country's policy as a whole: applying it replaces the country's previous policy.

    `deadline_ms` ends an exit window: WITHDRAW_ONLY capabilities become CLOSED at that time.
    A spec whose every rule is OPEN (or that has none) restores the country to normal.
    """

    name: str
    country: str
    basis: Basis = Basis.RESIDENCE
    rules: tuple[Rule, ...] = ()
    deadline_ms: int = 0

    def access(self, capability: Capability) -> Access:
        for rule in self.rules:
            if rule.capability is capability:
                return rule.access
        return Access.OPEN

    @property
    def restores(self) -> bool:
        return all(rule.access is Access.OPEN for rule in self.rules)

    @property
    def sweeps_orders(self) -> bool:
        """Trading stops for everyone the policy names: their open orders must be canceled."""
        return any(
            r.capability is Capability.TRADING
            and r.access is not Access.OPEN
            and r.condition is None
            for r in self.rules
        )


class Fingerprint(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who a policy for one country and basis names, as a preview saw it.

    `version` counts every change of membership (onboarding, a move, an account opened), so an
    apply can tell whether the people it would touch are still the people the preview showed.
    """

    customers: int
    accounts: int
    version: int


class Tally(msgspec.Struct, kw_only=True):
    """What the customers a policy names have, summed over a slice of them (slices add up)."""

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


class Impact(msgspec.Struct, kw_only=True):
    """A change's preview: whom it names (`previewed`, what an apply must still match, as of
    `as_of_seq`) and what they hold."""

    spec: PolicySpec
    previewed: Fingerprint
    as_of_seq: int
    tally: Tally


def member_key(basis: Basis, country: str) -> str:
    return f"{basis}:{country}"


def preview_id(spec: PolicySpec, seen: Fingerprint) -> str:
    """The preview's identity: a digest of the change and of whom it would touch."""
    canonical = msgspec.structs.replace(
        spec, rules=tuple(sorted(spec.rules, key=lambda r: r.capability))
    )
    digest = hashlib.sha256(msgspec.json.encode(canonical) + msgspec.json.encode(seen))
    return digest.hexdigest()[:20]


def spec_problem(spec: PolicySpec, ts_ms: int) -> str | None:
    """Why `spec` cannot apply at `ts_ms`, or None (the caller checks the country code)."""
    if not spec.name.strip() or len(spec.name) > 120:
        return "a policy needs a name of 1 to 120 characters: refusals quote it"
    caps = [rule.capability for rule in spec.rules]
    if len(set(caps)) != len(caps):
        return "a policy names each capability at most once"
    exits = any(rule.access is Access.WITHDRAW_ONLY for rule in spec.rules)
    if exits and spec.deadline_ms <= ts_ms:
        return "an exit window (WITHDRAW_ONLY) needs a deadline in the future"
    if not exits and spec.deadline_ms:
        return "a deadline only applies to an exit window (a WITHDRAW_ONLY capability)"
    for rule in spec.rules:
        if rule.condition is not None:
            if rule.access is Access.OPEN:
                return f"the condition on {rule.capability} restricts nothing while it is OPEN"
            if rule.condition.limit_raw < 0:
                return "a holdings condition needs a limit of zero or more"
            problem = _exclusion_problem(rule.condition)
            if problem:
                return problem
    return None


def _exclusion_problem(cond: HoldingsAbove) -> str | None:
    seen = [e.asset for e in cond.excluded]
    if len(set(seen)) != len(seen):
        return "a holdings condition excludes each asset at most once"
    for e in cond.excluded:
        if e.asset == cond.asset:
            return f"a holdings condition in {cond.asset} cannot exclude {cond.asset} itself"
        if not e.reason.strip() or len(e.reason) > 500:
            return f"excluding {e.asset} from a holdings condition needs a reason (1 to 500 chars)"
    return None


class _Dated(Protocol):
    @property
    def effective_ms(self) -> int: ...


class _InForce(Protocol):
    @property
    def spec(self) -> PolicySpec: ...


class PolicyBook(Protocol):
    """The policies in force and the changes scheduled: the engine's state and the read model
    both have them under these names."""

    @property
    def scheduled(self) -> Mapping[int, _Dated]: ...
    @property
    def residence_policies(self) -> Mapping[str, _InForce]: ...
    @property
    def nationality_policies(self) -> Mapping[str, _InForce]: ...


def next_due_ms(book: PolicyBook) -> int | None:
    """When RunDuePolicies next has work: the earliest scheduled change or exit-window deadline."""
    times = [s.effective_ms for s in book.scheduled.values()]
    for policies in (book.residence_policies, book.nationality_policies):
        times += [p.spec.deadline_ms for p in policies.values() if p.spec.deadline_ms]
    return min(times) if times else None
