"""Deposits and withdrawals.

A withdrawal goes to a destination valid on its asset's network (compliance/destinations.py,
checked in stage 0 with the amount), holds funds, then completes (they leave) or fails (they
return to free). A withdrawal whose payee matched a sanctions list is also held by its screening
reviews: it cannot complete until they are dismissed, and fails if one is confirmed
(engine/screening.py).
"""

from bourse.banking.rails import SENT, SETTLED
from bourse.commands import (
    CompleteWithdrawal,
    Deposit,
    FailWithdrawal,
    RequestWithdrawal,
    WithdrawOnRequest,
)
from bourse.domain.limits import RAW_MAX
from bourse.domain.money import to_plain
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine import ledger
from bourse.engine.alerts import hold_for_review
from bourse.engine.output import Output
from bourse.engine.risk import insufficient
from bourse.engine.state import EngineState, Withdrawal
from bourse.events import (
    DepositCredited,
    PayoutSettled,
    WithdrawalCompleted,
    WithdrawalFailed,
    WithdrawalRequested,
)


def beyond_bound(state: EngineState, asset: str, amount_raw: int) -> Refusal | None:
    """A deposit of `amount_raw` would take what is held of `asset` past what the exchange can
    account for. Every balance is part of what is held (conservation), so bounding that bounds
    every balance."""
    held = state.deposited.get(asset, 0) - state.withdrawn.get(asset, 0) + amount_raw
    if held <= RAW_MAX:
        return None
    precision = state.assets[asset]
    return Refusal(
        RejectCode.INVALID_PARAMETER,
        f"a deposit of {to_plain(amount_raw, precision)} {asset} would take the {asset} held "
        f"on the exchange past {to_plain(RAW_MAX, precision)}, the most it can account for",
    )


def deposit(state: EngineState, out: Output, cmd: Deposit) -> Refusal | None:
    # The asset and amount were checked in stage 0 (engine/inputs.py).
    if refusal := beyond_bound(state, cmd.asset, cmd.amount_raw):
        return refusal
    acct = state.accounts[cmd.account_id]
    ledger.credit(out.touched, acct.balance(cmd.asset), cmd.amount_raw)
    state.deposited[cmd.asset] = state.deposited.get(cmd.asset, 0) + cmd.amount_raw
    out.events.append(
        DepositCredited(
            account_id=acct.id,
            asset=cmd.asset,
            amount_raw=cmd.amount_raw,
            tx_ref=cmd.tx_ref,
            reason=cmd.reason,
        )
    )
    return None


def request_withdrawal(
    state: EngineState, out: Output, cmd: RequestWithdrawal | WithdrawOnRequest
) -> Refusal | None:
    # the amount and the destination were checked in stage 0 (engine/inputs.py)
    acct = state.accounts[cmd.account_id]
    free = acct.balances[cmd.asset].free if cmd.asset in acct.balances else 0
    if free < cmd.amount_raw:  # refused before touching the balance: none is added if absent
        precision = state.assets[cmd.asset]
        return insufficient(acct, cmd.asset, free, cmd.amount_raw, precision, "the withdrawal")
    bal = acct.balance(cmd.asset)
    wid = state.next_withdrawal_id
    state.next_withdrawal_id = wid + 1
    ledger.hold(out.touched, bal, cmd.amount_raw)
    ref = cmd.request_ref if isinstance(cmd, WithdrawOnRequest) else ""
    w = Withdrawal(wid, acct.id, cmd.asset, cmd.amount_raw, cmd.destination, ref)
    state.withdrawals[wid] = w
    if isinstance(cmd, RequestWithdrawal) and cmd.beneficiary:
        w.beneficiary = cmd.beneficiary.strip()
        w.held_by = hold_for_review(state, out, cmd, wid, acct.customer_id)
    out.events.append(
        WithdrawalRequested(
            withdrawal_id=wid,
            account_id=acct.id,
            asset=cmd.asset,
            amount_raw=cmd.amount_raw,
            destination=cmd.destination,
            on_request_ref=ref,
            beneficiary=w.beneficiary,
            held_by=tuple(w.held_by),
        )
    )
    return None


def complete_withdrawal(state: EngineState, out: Output, cmd: CompleteWithdrawal) -> Refusal | None:
    w = state.withdrawals.pop(cmd.withdrawal_id, None)
    if w is None:
        return _not_pending(cmd.withdrawal_id)
    ledger.spend_locked(out.touched, state.accounts[w.account_id].balance(w.asset), w.amount)
    state.withdrawn[w.asset] = state.withdrawn.get(w.asset, 0) + w.amount
    out.events.append(
        WithdrawalCompleted(
            withdrawal_id=w.id,
            account_id=w.account_id,
            asset=w.asset,
            amount_raw=w.amount,
            tx_ref=cmd.tx_ref,
        )
    )
    payout = state.banking.payouts.get(w.id)
    if payout is not None:  # sent in a payment file: settled, by the statement or by hand
        payout.status = SETTLED
        line = cmd.tx_ref or f"completed by {cmd.actor}"
        out.events.append(PayoutSettled(withdrawal_id=w.id, status=SETTLED, line=line))
    return None


def fail_withdrawal(state: EngineState, out: Output, cmd: FailWithdrawal) -> Refusal | None:
    w = state.withdrawals.get(cmd.withdrawal_id)
    if w is None:
        return _not_pending(cmd.withdrawal_id)
    payout = state.banking.payouts.get(w.id)
    if payout is not None and payout.status == SENT:
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            f"withdrawal {w.id} was sent to the bank in payment file {payout.file_id}: the "
            "bank settles it or returns it, and its statement says which",
        )
    fail(state, out, w, cmd.reason)
    return None


def fail(state: EngineState, out: Output, w: Withdrawal, reason: str) -> None:
    """The held amount returns to free: the payment did not leave."""
    del state.withdrawals[w.id]
    ledger.release(out.touched, state.accounts[w.account_id].balance(w.asset), w.amount)
    out.events.append(
        WithdrawalFailed(
            withdrawal_id=w.id,
            account_id=w.account_id,
            asset=w.asset,
            amount_raw=w.amount,
            reason=reason,
        )
    )


def _not_pending(withdrawal_id: int) -> Refusal:
    return Refusal(
        RejectCode.UNKNOWN_WITHDRAWAL, f"withdrawal {withdrawal_id} does not exist or is settled"
    )
