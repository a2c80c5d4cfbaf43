"""Events of customers, their accounts' opening and jurisdiction policies."""

import msgspec

from bourse.compliance.customers import RiskTier
from bourse.compliance.policy import Basis, Fingerprint, PolicySpec
from bourse.events.base import Event


class AccountOpened(Event, frozen=True, kw_only=True, tag="AccountOpened"):
    account_id: int
    fee_tier: int
    customer_id: int = 0


class CustomerRecorded(Event, frozen=True, kw_only=True, tag="CustomerRecorded"):
    """A customer's KYC record as it now stands (after onboarding or a change)."""

    customer_id: int
    legal_name: str
    date_of_birth: str
    nationality: str
    residence: str
    kyc_level: int
    risk_tier: RiskTier
    venue: str
    actor: str
    reason: str


class PolicyApplied(Event, frozen=True, kw_only=True, tag="PolicyApplied"):
    """A jurisdiction policy took effect. `affected` is whom it names as it applied; `previewed`
    is what the cited preview showed (they are equal unless the change was scheduled)."""

    change_id: int
    spec: PolicySpec
    previous: PolicySpec | None
    preview_id: str
    previewed: Fingerprint
    affected: Fingerprint
    schedule_id: int
    actor: str
    reason: str


class PolicyScheduled(Event, frozen=True, kw_only=True, tag="PolicyScheduled"):
    schedule_id: int
    spec: PolicySpec
    effective_ms: int
    preview_id: str
    previewed: Fingerprint
    actor: str
    reason: str


class ScheduledChangeCanceled(Event, frozen=True, kw_only=True, tag="ScheduledChangeCanceled"):
    schedule_id: int
    actor: str
    reason: str


class PolicySweepProgressed(Event, frozen=True, kw_only=True, tag="PolicySweepProgressed"):
    """One batch of a policy change's work done: `done` of `total` customers handled.
    `kind` is "cancel_orders" or "closure_report"; the runtime continues until done == total."""

    sweep_id: int
    change_id: int
    kind: str
    done: int
    total: int


class ExitWindowClosed(Event, frozen=True, kw_only=True, tag="ExitWindowClosed"):
    """An exit window's deadline passed: its WITHDRAW_ONLY capabilities are now CLOSED. The
    balances that remain follow, customer by customer, as ClosureBalancesReported."""

    change_id: int
    name: str
    country: str
    basis: Basis
    customers: int
    accounts: int


class ClosureBalance(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    customer_id: int
    account_id: int
    asset: str
    free_raw: int
    locked_raw: int


class ClosureBalancesReported(Event, frozen=True, kw_only=True, tag="ClosureBalancesReported"):
    """What one batch of customers still held when their jurisdiction closed (nonzero only)."""

    change_id: int
    balances: tuple[ClosureBalance, ...]
