"""Events of money in and out: deposits and withdrawals."""

from bourse.events.base import Event


class DepositCredited(Event, frozen=True, kw_only=True, tag="DepositCredited"):
    account_id: int
    asset: str
    amount_raw: int
    tx_ref: str
    reason: str = ""  # the Deposit command's: why staff credited it


class WithdrawalRequested(Event, frozen=True, kw_only=True, tag="WithdrawalRequested"):
    """`on_request_ref` is set when staff paid out at the customer's request (WithdrawOnRequest)."""

    withdrawal_id: int
    account_id: int
    asset: str
    amount_raw: int
    destination: str
    on_request_ref: str = ""
    beneficiary: str = ""  # a fiat withdrawal's payee
    held_by: tuple[int, ...] = ()  # screening alerts holding it until a compliance decision


class WithdrawalCompleted(Event, frozen=True, kw_only=True, tag="WithdrawalCompleted"):
    withdrawal_id: int
    account_id: int
    asset: str
    amount_raw: int
    tx_ref: str


class WithdrawalFailed(Event, frozen=True, kw_only=True, tag="WithdrawalFailed"):
    withdrawal_id: int
    account_id: int
    asset: str
    amount_raw: int
    reason: str
