"""Funds: deposits and withdrawals."""

from bourse.commands.base import Command, OperatorCommand
from bourse.compliance.evidence import BeneficiaryScreening


class Deposit(Command, frozen=True, kw_only=True, tag="Deposit"):
    """`reason`: why staff credit it. The admin API and CLI require one; it defaults to "" only
    so that journals written before it existed still decode (and the genesis/bench loaders)."""

    account_id: int
    asset: str
    amount_raw: int
    tx_ref: str = ""
    reason: str = ""


class RequestWithdrawal(Command, frozen=True, kw_only=True, tag="RequestWithdrawal"):
    """Holds the amount; a later CompleteWithdrawal or FailWithdrawal settles it.

    A fiat withdrawal names the `beneficiary` the bank pays, and carries the screening of that
    name (and of the destination's bank code) against the list versions the engine holds: a hit
    holds the payment until a compliance officer decides."""

    account_id: int
    asset: str
    amount_raw: int
    destination: str
    beneficiary: str = ""
    screening: BeneficiaryScreening | None = None
    reason: str = ""  # required at the admin edge, as Deposit's


class CompleteWithdrawal(Command, frozen=True, kw_only=True, tag="CompleteWithdrawal"):
    withdrawal_id: int
    tx_ref: str = ""
    reason: str = ""  # required at the admin edge, as Deposit's


class FailWithdrawal(OperatorCommand, frozen=True, kw_only=True, tag="FailWithdrawal"):
    withdrawal_id: int
