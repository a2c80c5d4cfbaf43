"""Customers, venues and jurisdiction policies, and payouts on request."""

from bourse.commands.base import Command, OperatorCommand
from bourse.compliance.customers import RiskTier
from bourse.compliance.policy import Fingerprint, PolicySpec


class DefineVenue(OperatorCommand, frozen=True, kw_only=True, tag="DefineVenue"):
    """A regulated regional entity: the symbols it lists, the residences it serves, its fees.

    The venue with no jurisdictions serves every residence no other venue serves. Redefining a
    venue may change its name, symbols and fee tier, not whom it serves.
    """

    venue: str
    name: str
    jurisdictions: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    fee_tier: int = 0


class OnboardCustomer(OperatorCommand, frozen=True, kw_only=True, tag="OnboardCustomer"):
    """Creates the next customer and their first account, routed to the venue of their residence."""

    legal_name: str
    date_of_birth: str  # YYYY-MM-DD
    nationality: str  # ISO 3166-1 alpha-2
    residence: str
    kyc_level: int = 1
    risk_tier: RiskTier = RiskTier.LOW


class UpdateCustomer(OperatorCommand, frozen=True, kw_only=True, tag="UpdateCustomer"):
    """Changes a customer's KYC record; empty fields (and -1 for the level) stay as they are.
    A new residence routes the customer to that residence's venue."""

    customer_id: int
    legal_name: str = ""
    nationality: str = ""
    residence: str = ""
    kyc_level: int = -1
    risk_tier: RiskTier | None = None


class SetJurisdictionPolicy(
    OperatorCommand, frozen=True, kw_only=True, tag="SetJurisdictionPolicy"
):
    """Applies `spec` now, citing the preview the operator was shown (`preview_id` and whom it
    counted). Refused if the spec is not the one previewed or the people it names have changed.
    Open orders of the people it stops trading are canceled `sweep_batch` customers at a time."""

    spec: PolicySpec
    preview_id: str
    previewed: Fingerprint
    sweep_batch: int = 1000


class SchedulePolicyChange(OperatorCommand, frozen=True, kw_only=True, tag="SchedulePolicyChange"):
    """Applies `spec` at `effective_ms` (a later RunDuePolicies does it), citing its preview."""

    spec: PolicySpec
    preview_id: str
    previewed: Fingerprint
    effective_ms: int
    sweep_batch: int = 1000


class CancelScheduledChange(
    OperatorCommand, frozen=True, kw_only=True, tag="CancelScheduledChange"
):
    schedule_id: int


class RunDuePolicies(Command, frozen=True, kw_only=True, tag="RunDuePolicies"):
    """The runtime's clock: applies scheduled changes and closes exit windows due by `ts_ms`."""


class ContinuePolicySweep(Command, frozen=True, kw_only=True, tag="ContinuePolicySweep"):
    """The next batch of a policy change's work (cancel orders, or report what remains)."""

    sweep_id: int


class WithdrawOnRequest(OperatorCommand, frozen=True, kw_only=True, tag="WithdrawOnRequest"):
    """Staff pay out a customer's balance at their request where a jurisdiction policy no longer
    lets the customer withdraw (a closed exit window): the documented, audited way out."""

    account_id: int
    asset: str
    amount_raw: int
    destination: str
    request_ref: str
