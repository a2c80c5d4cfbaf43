"""The read model's fiat rails, folded from their events: partner banks and customers' bank
accounts, the reconciliation queue, payment files and payouts, cut-offs, card partners, saved
cards, card deposits and partners' ends (registered into `fold`'s handlers)."""

from bourse.banking.cards import ENDED, CardDeposit, PartnerEnd, PaymentPartner, SavedCard
from bourse.banking.cutoff import REROUTED
from bourse.banking.rails import (
    CUT_OFF,
    BankAccount,
    CutOff,
    PartnerBank,
    PaymentFile,
    Payout,
    QueuedLine,
)
from bourse.events import (
    BankAccountAdded,
    BankAccountDecided,
    BankCutOff,
    BankCutOffScheduled,
    BankDefined,
    BankSuspended,
    CardDepositReceived,
    CardDepositSettled,
    CardSaved,
    PaymentFileCreated,
    PaymentPartnerDefined,
    PaymentPartnerEnded,
    PaymentPartnerEndScheduled,
    PayoutSettled,
    StatementLineQueued,
    StatementLineResolved,
)
from bourse.view.handlers import Handlers
from bourse.view.model import ReadModel

RAILS = Handlers()
_on = RAILS.on


@_on(BankDefined)
def _bank(m: ReadModel, e: BankDefined, ts: int) -> None:
    known = m.banks.get(e.bic)
    m.banks[e.bic] = PartnerBank(
        bic=e.bic,
        name=e.name,
        country=e.country,
        currencies=e.currencies,
        serves=e.serves,
        accounts=dict(e.accounts),
        status=e.status,
    )
    if known is not None:  # a redefinition: its cut-off stands
        m.banks[e.bic].cutoff_id, m.banks[e.bic].cut_from_ms = known.cutoff_id, known.cut_from_ms


@_on(BankSuspended)
def _bank_suspended(m: ReadModel, e: BankSuspended, ts: int) -> None:
    m.banks[e.bic].status = e.status


@_on(BankAccountAdded)
def _bank_account(m: ReadModel, e: BankAccountAdded, ts: int) -> None:
    m.bank_accounts[e.bank_account_id] = BankAccount(
        id=e.bank_account_id,
        customer_id=e.customer_id,
        iban=e.iban,
        bic=e.bic,
        holder=e.holder,
        status=e.status,
    )


@_on(BankAccountDecided)
def _bank_account_decided(m: ReadModel, e: BankAccountDecided, ts: int) -> None:
    m.bank_accounts[e.bank_account_id].status = e.status


@_on(StatementLineQueued)
def _line_queued(m: ReadModel, e: StatementLineQueued, ts: int) -> None:
    m.bank_queue[e.item_id] = QueuedLine(
        id=e.item_id,
        bank=e.bank,
        statement_id=e.statement_id,
        entry=e.entry,
        amount_raw=e.amount_raw,
        reason=e.reason,
        customer_id=e.customer_id,
    )


@_on(StatementLineResolved)
def _line_resolved(m: ReadModel, e: StatementLineResolved, ts: int) -> None:
    m.bank_queue.pop(e.item_id, None)


@_on(PaymentFileCreated)
def _payment_file(m: ReadModel, e: PaymentFileCreated, ts: int) -> None:
    m.payment_files[e.file_id] = PaymentFile(
        id=e.file_id,
        bank=e.bank,
        currency=e.currency,
        debtor_iban=e.debtor_iban,
        execution_date=e.execution_date,
        created_ms=ts,
        withdrawals=list(e.withdrawals),
    )
    for wid, account_id, amount, iban, payee in zip(
        e.withdrawals, e.account_ids, e.amounts_raw, e.ibans, e.beneficiaries, strict=True
    ):
        m.payouts[wid] = Payout(
            withdrawal_id=wid,
            account_id=account_id,
            file_id=e.file_id,
            amount_raw=amount,
            currency=e.currency,
            iban=iban,
            beneficiary=payee,
        )


@_on(PayoutSettled)
def _payout_settled(m: ReadModel, e: PayoutSettled, ts: int) -> None:
    m.payouts[e.withdrawal_id].status = e.status


@_on(BankCutOffScheduled)
def _cutoff_scheduled(m: ReadModel, e: BankCutOffScheduled, ts: int) -> None:
    _cutoff_recorded(m, e.cutoff_id, e.spec.bic, e.spec.cause, e.spec.effective_ms)
    cutoff = m.bank_cutoffs[e.cutoff_id]
    cutoff.outgoing, cutoff.preview_id = e.spec.outgoing, e.preview_id
    cutoff.actor, cutoff.reason = e.actor, e.reason


@_on(BankCutOff)
def _cutoff(m: ReadModel, e: BankCutOff, ts: int) -> None:
    if e.cutoff_id not in m.bank_cutoffs:  # at once, not scheduled
        _cutoff_recorded(m, e.cutoff_id, e.bic, e.cause, e.effective_ms)
    cutoff = m.bank_cutoffs[e.cutoff_id]
    cutoff.outgoing, cutoff.preview_id = e.outgoing, e.preview_id
    cutoff.actor, cutoff.reason = e.actor, e.reason
    cutoff.status, cutoff.applied_ms, cutoff.report = "APPLIED", ts, e.report
    m.banks[e.bic].status = CUT_OFF
    for t in e.report:
        if t.fate == REROUTED:  # taken back from the bank's file: pending for another's
            m.payouts[t.id].status = REROUTED


@_on(PaymentPartnerDefined)
def _partner(m: ReadModel, e: PaymentPartnerDefined, ts: int) -> None:
    known = m.payment_partners.get(e.code)
    if known is None:
        m.payment_partners[e.code] = PaymentPartner(
            code=e.code, name=e.name, kind=e.kind, currencies=e.currencies, serves=e.serves
        )
    else:
        known.name, known.kind, known.currencies, known.serves = (
            e.name, e.kind, e.currencies, e.serves
        )  # fmt: skip


@_on(CardSaved)
def _card(m: ReadModel, e: CardSaved, ts: int) -> None:
    m.saved_cards[e.card_id] = SavedCard(id=e.card_id, customer_id=e.customer_id,
                                         partner=e.partner, token=e.token, last4=e.last4,
                                         expiry=e.expiry, holder=e.holder)  # fmt: skip


@_on(CardDepositReceived)
def _card_deposit(m: ReadModel, e: CardDepositReceived, ts: int) -> None:
    m.card_deposits[e.deposit_id] = CardDeposit(
        id=e.deposit_id, partner=e.partner, card_id=e.card_id, account_id=e.account_id,
        currency=e.currency, amount_raw=e.amount_raw, partner_ref=e.partner_ref, created_ms=ts,
    )  # fmt: skip


@_on(CardDepositSettled)
def _card_deposit_settled(m: ReadModel, e: CardDepositSettled, ts: int) -> None:
    deposit = m.card_deposits[e.deposit_id]
    deposit.status, deposit.reason = e.status, e.reason


@_on(PaymentPartnerEndScheduled)
def _end_scheduled(m: ReadModel, e: PaymentPartnerEndScheduled, ts: int) -> None:
    _end_recorded(m, e.end_id, e.spec.partner, e.spec.effective_ms, e.preview_id, e.actor,
                  e.reason)  # fmt: skip


@_on(PaymentPartnerEnded)
def _partner_ended(m: ReadModel, e: PaymentPartnerEnded, ts: int) -> None:
    if e.end_id not in m.partner_ends:  # at once, not scheduled
        _end_recorded(m, e.end_id, e.partner, e.effective_ms, e.preview_id, e.actor, e.reason)
    end = m.partner_ends[e.end_id]
    end.status, end.applied_ms, end.cards, end.pending = "APPLIED", ts, e.cards, e.pending
    m.payment_partners[e.partner].status = ENDED


def _end_recorded(
    m: ReadModel, end_id: int, code: str, effective_ms: int, preview: str, actor: str, reason: str
) -> None:
    partner = m.payment_partners[code]
    partner.end_id, partner.ends_ms = end_id, effective_ms
    m.partner_ends[end_id] = PartnerEnd(id=end_id, partner=code, effective_ms=effective_ms,
                                        preview_id=preview, actor=actor, reason=reason)  # fmt: skip


def _cutoff_recorded(m: ReadModel, cutoff_id: int, bic: str, cause: str, effective_ms: int) -> None:
    bank = m.banks[bic]
    bank.cutoff_id, bank.cut_from_ms = cutoff_id, effective_ms
    m.bank_cutoffs[cutoff_id] = CutOff(
        id=cutoff_id,
        bic=bic,
        cause=cause,
        effective_ms=effective_ms,
        outgoing="",
        preview_id="",
        actor="",
        reason="",
    )
