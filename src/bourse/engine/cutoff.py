"""A partner bank's cut-off: its preview, read in slices beside matching, and its apply.

What a cut-off acts on is small and found through indexes: the pending withdrawals (payouts sent
in the bank's files, and withdrawals to a customer's account at the bank) and the open lines of
the reconciliation queue from it. Whom it names can be many (every customer with an account
there), so the preview counts them in slices, and the apply compares a fingerprint instead of
counting them again: no pause of matching grows with the bank's customers.

At its effective time the bank is CUT_OFF: no payment file, bank account or withdrawal goes
through it, and its incoming lines go to the queue (engine/banks.py). Each pending transfer ends
as the operator chose in the preview, and the report (`BankCutOff.report`) says where every
amount went: back to the customer's balance, left pending for another bank to pay, still in
flight at another bank whose statement settles or returns it, or held in the queue.
"""

import hashlib
from collections.abc import Generator

import msgspec

from bourse.banking.cutoff import (
    CAUSE_TEXT,
    IN_FLIGHT,
    LINE,
    PAYOUT,
    QUEUED,
    REROUTED,
    RETURNED,
    WITHDRAWAL,
    Cause,
    CutOffFingerprint,
    CutOffImpact,
    CutOffSpec,
    Outgoing,
    preview_id,
)
from bourse.banking.rails import (
    ACTIVE,
    CUT_OFF,
    OPEN,
    REFUSED,
    SENT,
    VERIFIED,
    CutOff,
    PartnerBank,
    TransferFate,
)
from bourse.banking.rails import REROUTED as PAYOUT_REROUTED
from bourse.banking.rails import RETURNED as PAYOUT_RETURNED
from bourse.commands import CutOffBank
from bourse.domain.calendar import utc_text
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine import funds
from bourse.engine.output import Output
from bourse.engine.state import EngineState, Withdrawal
from bourse.events import BankCutOff, BankCutOffScheduled, PayoutSettled

PREVIEW_SLICE = 2000  # bank accounts counted per step of a preview
SAMPLE = 10


def _invalid(text: str) -> Refusal:
    return Refusal(RejectCode.INVALID_PARAMETER, text)


def problem(state: EngineState, spec: CutOffSpec, ts_ms: int) -> str:
    """Why `spec` cannot be cut off at `ts_ms` ("" if it can)."""
    bank = state.banking.banks.get(spec.bic)
    if bank is None:
        return f"{spec.bic} is not a partner bank"
    if bank.status == CUT_OFF:
        return f"{bank.name} ({bank.bic}) is cut off already"
    if bank.cutoff_id:
        when = utc_text(bank.cut_from_ms)
        return f"{bank.name} ({bank.bic}) has cut-off {bank.cutoff_id} scheduled for {when}"
    if spec.effective_ms and spec.effective_ms <= ts_ms:
        return (
            f"a cut-off's effective time is in the future ({utc_text(spec.effective_ms)} has "
            "passed): give none to cut it off at once"
        )
    return ""


def fingerprint(
    state: EngineState, spec: CutOffSpec, plan: list[TransferFate] | None = None
) -> CutOffFingerprint:
    """What an apply must still match; `plan` if already made (`_plan(state, spec)`)."""
    banking = state.banking
    bic8 = spec.bic[:8]
    return CutOffFingerprint(
        accounts=len(banking.by_bank.get(bic8, ())),
        account_version=banking.account_versions.get(bic8, 0),
        transfers=_digest(_plan(state, spec) if plan is None else plan),
    )


def _digest(plan: list[TransferFate]) -> str:
    return hashlib.sha256(msgspec.json.encode(plan)).hexdigest()[:20]


def preview(
    state: EngineState, spec: CutOffSpec, slice_size: int = PREVIEW_SLICE
) -> Generator[None, None, CutOffImpact]:
    """The impact of cutting `spec.bic` off, counted in steps (see impact.preview): the pending
    withdrawals `slice_size` at a time, the queue, then `slice_size` bank accounts per step.
    Whatever changes while it counts changes the fingerprint, so its apply is refused as stale,
    never wrong."""
    banking = state.banking
    bank = banking.banks[spec.bic]
    bic8 = bank.bic[:8]
    as_of_seq = state.last_seq
    accounts_then = len(banking.by_bank.get(bic8, ()))
    version_then = banking.account_versions.get(bic8, 0)
    pending = sorted(state.withdrawals)
    plan: list[TransferFate] = []
    for start in range(0, len(pending), slice_size):
        yield
        part = (state.withdrawals.get(i) for i in pending[start : start + slice_size])
        plan += _plan_withdrawals(state, bank, spec, [w for w in part if w is not None])
    yield
    plan += _plan_lines(state, bank)
    seen = CutOffFingerprint(
        accounts=accounts_then, account_version=version_then, transfers=_digest(plan)
    )
    impact = CutOffImpact(
        spec=spec,
        name=bank.name,
        previewed=seen,
        preview_id=preview_id(spec, seen),
        as_of_seq=as_of_seq,
    )
    for t in plan:
        impact.transfers.append(msgspec.to_builtins(t))
        fates = impact.by_currency.setdefault(t.currency, {})
        fates[t.fate] = fates.get(t.fate, 0) + t.amount_raw
    accounts = banking.by_bank.get(bic8, [])[:accounts_then]
    others = [b for b in banking.banks.values() if b.status == ACTIVE and b.bic != bank.bic]
    counted: set[int] = set()
    for start in range(0, len(accounts), slice_size):
        yield
        for account_id in accounts[start : start + slice_size]:
            account = banking.bank_accounts[account_id]
            cid = account.customer_id
            if account.status == REFUSED or cid in counted:
                continue
            counted.add(cid)
            impact.customers += 1
            if _another_rail(state, cid, bank):
                continue
            impact.only_rail += 1
            residence = state.customers[cid].residence
            if any(residence in b.serves for b in others):
                impact.movable += 1
            if len(impact.sample) < SAMPLE:
                impact.sample.append(
                    {
                        "customer_id": cid,
                        "legal_name": state.customers[cid].legal_name,
                        "residence": residence,
                        "bank_account_id": account.id,
                    }
                )
    return impact


def _another_rail(state: EngineState, customer_id: int, bank: PartnerBank) -> bool:
    banking = state.banking
    for account_id in banking.by_customer.get(customer_id, ()):
        account = banking.bank_accounts[account_id]
        if account.status != VERIFIED or account.bic[:8] == bank.bic[:8]:
            continue
        other = banking.bank_of_bic(account.bic)
        if other is not None and other.status == ACTIVE:
            return True
    return False


def cut_off(state: EngineState, out: Output, cmd: CutOffBank) -> Refusal | None:
    spec = cmd.spec
    why = problem(state, spec, cmd.ts_ms)
    if why:
        return _invalid(why)
    if cmd.preview_id != preview_id(spec, cmd.previewed):
        return Refusal(
            RejectCode.PREVIEW_MISMATCH,
            f"this cut-off cites preview {cmd.preview_id or '(none)'}, which was not made for "
            "it: preview the cut-off you mean to apply, then apply that preview",
        )
    plan = _plan(state, spec)
    now = fingerprint(state, spec, plan)
    if now != cmd.previewed:
        return Refusal(
            RejectCode.PREVIEW_STALE,
            f"since preview {cmd.preview_id}, {_changes(cmd.previewed, now)}: preview it again",
        )
    banking = state.banking
    bank = banking.banks[spec.bic]
    record = CutOff(
        id=banking.next_cutoff_id,
        bic=bank.bic,
        cause=spec.cause,
        effective_ms=spec.effective_ms or cmd.ts_ms,
        outgoing=spec.outgoing,
        preview_id=cmd.preview_id,
        actor=cmd.actor,
        reason=cmd.reason,
    )
    banking.next_cutoff_id += 1
    banking.cutoffs[record.id] = record
    bank.cutoff_id, bank.cut_from_ms = record.id, record.effective_ms
    if spec.effective_ms:
        out.events.append(
            BankCutOffScheduled(
                cutoff_id=record.id,
                spec=spec,
                preview_id=cmd.preview_id,
                actor=cmd.actor,
                reason=cmd.reason,
            )
        )
    else:
        apply(state, out, record, plan)
    return None


def _changes(then: CutOffFingerprint, now: CutOffFingerprint) -> str:
    if then.transfers != now.transfers:
        return "the transfers pending through the bank, or where they would go, have changed"
    return (
        f"its customers' bank accounts have changed ({then.accounts} accounts at it then, "
        f"{now.accounts} now)"
    )


def due(state: EngineState, ts_ms: int) -> list[CutOff]:
    """Scheduled cut-offs whose effective time has come."""
    return [
        c
        for c in state.banking.cutoffs.values()
        if c.status == "SCHEDULED" and c.effective_ms <= ts_ms
    ]


def apply(
    state: EngineState, out: Output, record: CutOff, plan: list[TransferFate] | None = None
) -> None:
    """The cut-off takes effect: the bank is CUT_OFF and each pending transfer through it ends
    as planned (`plan`: what the preview showed; for a scheduled one, what is pending now)."""
    banking = state.banking
    bank = banking.banks[record.bic]
    spec = CutOffSpec(bic=record.bic, cause=Cause(record.cause), outgoing=Outgoing(record.outgoing))
    why = f"{bank.name} ({bank.bic}) is cut off, {CAUSE_TEXT[spec.cause]}: {record.reason}"
    report = _plan(state, spec) if plan is None else plan
    for t in report:
        if t.fate == RETURNED:
            w = state.withdrawals[t.id]
            payout = banking.payouts.get(w.id)
            funds.fail(state, out, w, why)
            if payout is not None and payout.status == SENT:
                payout.status = PAYOUT_RETURNED
                out.events.append(
                    PayoutSettled(
                        withdrawal_id=w.id,
                        status=PAYOUT_RETURNED,
                        line=f"cut-off {record.id}",
                        reason=why,
                    )
                )
        elif t.fate == REROUTED:  # the payout stays on record, as its file sent it
            banking.payouts[t.id].status = PAYOUT_REROUTED
            banking.rerouted[t.id] = bank.bic
    bank.status = CUT_OFF
    record.status, record.applied_ms, record.report = "APPLIED", out.ts_ms, tuple(report)
    out.events.append(
        BankCutOff(
            cutoff_id=record.id,
            bic=bank.bic,
            cause=record.cause,
            effective_ms=record.effective_ms,
            outgoing=record.outgoing,
            preview_id=record.preview_id,
            bank_accounts=len(banking.by_bank.get(bank.bic[:8], ())),  # counted, not read
            report=tuple(report),
            actor=record.actor,
            reason=record.reason,
        )
    )


def _plan(state: EngineState, spec: CutOffSpec) -> list[TransferFate]:
    """Every transfer pending through the bank, and what the cut-off does with it, in a fixed
    order (withdrawals by id, then queue items by id): what the preview showed and the apply
    does."""
    bank = state.banking.banks[spec.bic]
    pending = [state.withdrawals[i] for i in sorted(state.withdrawals)]
    return _plan_withdrawals(state, bank, spec, pending) + _plan_lines(state, bank)


def _plan_withdrawals(
    state: EngineState, bank: PartnerBank, spec: CutOffSpec, pending: list[Withdrawal]
) -> list[TransferFate]:
    """Of `pending` (by id), those through the bank: sent in its files, or to an account at
    it."""
    banking = state.banking
    plan: list[TransferFate] = []
    for w in pending:
        payout = banking.payouts.get(w.id)
        if payout is not None and payout.status != SENT:
            payout = None  # rerouted by an earlier cut-off: pending for any bank's next file
        sent_by = banking.files[payout.file_id].bank if payout is not None else ""
        to_here = _destination_bank(state, w) == bank.bic[:8]
        if sent_by != bank.bic and not to_here:
            continue
        if payout is not None and sent_by != bank.bic:  # in another bank's file, to here
            fate, detail = IN_FLIGHT, f"sent by {sent_by}: its statement settles or returns it"
        elif payout is not None and spec.outgoing is Outgoing.REROUTE and not to_here:
            other = _reroute_to(state, bank, w)
            if other:
                fate, detail = REROUTED, f"pending again, for {other}'s next payment file"
            else:
                fate, detail = RETURNED, _returned(w, "no other partner bank can pay it")
        else:
            fate, detail = RETURNED, _returned(w, "")
        plan.append(
            TransferFate(
                kind=PAYOUT if payout is not None else WITHDRAWAL,
                id=w.id,
                account_id=w.account_id,
                currency=w.asset,
                amount_raw=w.amount,
                fate=fate,
                detail=detail,
            )
        )
    return plan


def _plan_lines(state: EngineState, bank: PartnerBank) -> list[TransferFate]:
    """Open lines of the reconciliation queue received at the bank or sent from it."""
    banking = state.banking
    plan: list[TransferFate] = []
    for item in banking.queue.values():
        if item.status != OPEN:
            continue
        sender = banking.bank_of_bic(item.entry.counterparty_bic)
        if item.bank != bank.bic and (sender is None or sender.bic != bank.bic):
            continue
        plan.append(
            TransferFate(
                kind=LINE,
                id=item.id,
                account_id=0,
                currency=item.entry.currency,
                amount_raw=item.amount_raw or 0,
                fate=QUEUED,
                detail=f"held in the reconciliation queue as item {item.id}",
            )
        )
    return plan


def _returned(w: Withdrawal, because: str) -> str:
    text = f"back to the balance of account {w.account_id}"
    return f"{text} ({because})" if because else text


def _destination_bank(state: EngineState, w: Withdrawal) -> str:
    """The BIC8 of the bank a withdrawal pays into, where its IBAN is a customer's registered
    bank account ("" otherwise)."""
    banking = state.banking
    if w.destination not in banking.by_iban:
        return ""
    customer_id = state.accounts[w.account_id].customer_id
    account = banking.bank_account_of(customer_id, w.destination)
    return account.bic[:8] if account is not None else ""


def _reroute_to(state: EngineState, bank: PartnerBank, w: Withdrawal) -> str:
    """Another active partner bank that pays `w`'s currency from an account of the exchange's
    and serves the customer's country ("" if none)."""
    customer = state.customers.get(state.accounts[w.account_id].customer_id)
    if customer is None:
        return ""
    for other in state.banking.banks.values():
        if (
            other.bic != bank.bic
            and other.status == ACTIVE
            and not other.cutoff_id
            and w.asset in other.accounts
            and customer.residence in other.serves
        ):
            return other.bic
    return ""
