"""Fiat payouts through partner banks: pending fiat withdrawals are sent on as payment files
(pain.001, written at the edge from `PaymentFileCreated`), then the bank's statement books each
one: a debit with its end-to-end id settles it (the held amount leaves), a credit with it is the
bank returning it (the amount goes back to the customer's balance).

A withdrawal goes into a file only if it may leave now by the same rule that completes one by
hand (`gate.completion_refusal`: no freeze, no hold, no screening review, fiat withdrawals open
for the customer's countries), from a bank that is active and serves the customer's country, in
an amount the transfer can carry. Every other one stays pending, and the file says why.
"""

from bourse.banking.minor_units import unpayable
from bourse.banking.rails import (
    REROUTED,
    RETURNED,
    SENT,
    SETTLED,
    PartnerBank,
    PaymentFile,
    Payout,
)
from bourse.commands import CompleteWithdrawal, CreatePaymentFile, Deposit
from bourse.commands.banks import StatementLine
from bourse.domain.calendar import parse_date
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine import funds
from bourse.engine.gate import bank_closed_code, completion_refusal, cut_off_destination
from bourse.engine.output import Output
from bourse.engine.state import EngineState, Withdrawal
from bourse.events import PaymentFileCreated, PayoutSettled


def _invalid(text: str) -> Refusal:
    return Refusal(RejectCode.INVALID_PARAMETER, text)


def create_file(state: EngineState, out: Output, cmd: CreatePaymentFile) -> Refusal | None:
    banking = state.banking
    bank = banking.banks.get(cmd.bank)
    if bank is None:
        return _invalid(f"{cmd.bank} is not a partner bank")
    if closed := bank.closed_as(cmd.ts_ms):
        return Refusal(
            bank_closed_code(closed),
            f"{bank.name} ({bank.bic}) is {closed}: no transfer goes through it",
        )
    debtor = bank.accounts.get(cmd.currency)
    if cmd.currency not in bank.currencies or debtor is None:
        return _invalid(f"{bank.name} ({bank.bic}) keeps no {cmd.currency} account to pay from")
    if parse_date(cmd.execution_date) is None:
        return _invalid(f"execution date {cmd.execution_date!r} is not a date (YYYY-MM-DD)")
    sent: list[tuple[Withdrawal, str]] = []
    withheld: list[tuple[int, str]] = []
    for w in state.withdrawals.values():
        earlier = banking.payouts.get(w.id)
        if w.asset != cmd.currency or (earlier is not None and earlier.status != REROUTED):
            continue
        reason = _withheld(state, bank, w, cmd.ts_ms)
        if reason:
            withheld.append((w.id, reason))
        else:
            sent.append((w, _beneficiary(state, w)))
    if not sent:
        why = "; ".join(f"withdrawal {wid}: {reason}" for wid, reason in withheld[:5])
        return _invalid(
            f"no pending {cmd.currency} withdrawal can be paid through {bank.name} now"
            + (f" ({why})" if why else "")
        )
    file = PaymentFile(
        id=banking.next_file_id,
        bank=bank.bic,
        currency=cmd.currency,
        debtor_iban=debtor,
        execution_date=cmd.execution_date,
        created_ms=cmd.ts_ms,
        withdrawals=[w.id for w, _ in sent],
    )
    banking.next_file_id += 1
    banking.files[file.id] = file
    for w, payee in sent:
        banking.payouts[w.id] = Payout(
            withdrawal_id=w.id,
            account_id=w.account_id,
            file_id=file.id,
            amount_raw=w.amount,
            currency=w.asset,
            iban=w.destination,
            beneficiary=payee,
        )
    out.events.append(
        PaymentFileCreated(
            file_id=file.id,
            bank=bank.bic,
            currency=cmd.currency,
            debtor_iban=debtor,
            execution_date=cmd.execution_date,
            withdrawals=tuple(w.id for w, _ in sent),
            amounts_raw=tuple(w.amount for w, _ in sent),
            ibans=tuple(w.destination for w, _ in sent),
            beneficiaries=tuple(payee for _, payee in sent),
            account_ids=tuple(w.account_id for w, _ in sent),
            withheld=tuple(withheld),
        )
    )
    return None


def _withheld(state: EngineState, bank: PartnerBank, w: Withdrawal, ts_ms: int) -> str:
    """Why `w` cannot go into a file of `bank` now ("" if it can)."""
    acct = state.accounts[w.account_id]
    customer = state.customers.get(acct.customer_id)
    if customer is None:
        return f"account {acct.id} is a house account: its payouts are not sent in files"
    if customer.residence not in bank.serves:
        return f"{bank.name} does not serve residents of {customer.residence}"
    refusal = completion_refusal(state, w, ts_ms) or cut_off_destination(
        state, customer.id, w.destination, ts_ms
    )
    if refusal is not None:
        return refusal.reason
    return unpayable(w.amount, state.assets[w.asset], w.asset) or ""


def _beneficiary(state: EngineState, w: Withdrawal) -> str:
    """The payee: as screened, or (a payout at the customer's request) the customer."""
    if w.beneficiary:
        return w.beneficiary
    customer = state.customers[state.accounts[w.account_id].customer_id]
    return customer.legal_name


def book(
    state: EngineState, out: Output, line: StatementLine, payout: Payout, key: str, actor: str
) -> str:
    """Book a statement line that names `payout` by its end-to-end id: a debit settles it, a
    credit is the bank returning it. Returns why it cannot be booked ("" when it was)."""
    entry = line.entry
    if line.amount_raw != payout.amount_raw or entry.currency != payout.currency:
        return (
            f"it names withdrawal {payout.withdrawal_id} ({payout.currency}), but for "
            f"{entry.amount} {entry.currency}: a person compares the two"
        )
    if not entry.credit:
        if payout.status != SENT:
            return f"withdrawal {payout.withdrawal_id} is {payout.status} already"
        done = CompleteWithdrawal(
            actor=actor, ts_ms=out.ts_ms, withdrawal_id=payout.withdrawal_id, tx_ref=key
        )
        funds.complete_withdrawal(state, out, done)  # the bank paid: booked as it is (SETTLED)
        return ""
    why = f"returned by the bank: {entry.remittance or 'no reason given'}"
    if payout.status == SENT:
        funds.fail(state, out, state.withdrawals[payout.withdrawal_id], why)
    elif payout.status == SETTLED:  # paid, then sent back: the money is the customer's again
        back = Deposit(
            actor=actor,
            ts_ms=out.ts_ms,
            account_id=payout.account_id,
            asset=payout.currency,
            amount_raw=payout.amount_raw,
            tx_ref=key,
            reason=f"withdrawal {payout.withdrawal_id} {why}",
        )
        funds.deposit(state, out, back)
    else:
        return f"withdrawal {payout.withdrawal_id} was returned already"
    payout.status = RETURNED
    out.events.append(
        PayoutSettled(withdrawal_id=payout.withdrawal_id, status=RETURNED, line=key, reason=why)
    )
    return ""
