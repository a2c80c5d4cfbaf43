"""A partner bank's cut-off in the engine: previewed, applied citing the preview, and from its
effective time no transfer through the bank; every transfer pending through it ends returned,
rerouted, in flight at another bank or held in the queue, and the report says which. Customers
of other banks never notice (invariant 6)."""

from typing import Any

import pytest
from schwifty import IBAN

from bourse.banking.cutoff import (
    Cause,
    CutOffImpact,
    CutOffSpec,
    Outgoing,
    preview_id,
)
from bourse.banking.statement import StatementEntry
from bourse.commands import (
    AddBankAccount,
    CreateAsset,
    CreatePaymentFile,
    CutOffBank,
    DefineBank,
    Deposit,
    ImportStatement,
    RequestWithdrawal,
    RunDuePolicies,
    SuspendBank,
)
from bourse.commands.banks import StatementLine
from bourse.domain.rejections import RejectCode
from bourse.engine import cutoff
from bourse.engine.state import EngineState
from bourse.events import (
    BalanceChanged,
    BankCutOff,
    BankCutOffScheduled,
    CommandRejected,
    PaymentFileCreated,
    StatementLineQueued,
    WithdrawalFailed,
    WithdrawalRequested,
)
from tests.builders import Runner, assert_sound, drive, of, onboard, one

VTB, OTKRITIE, SOVCOM = "VTBRRUMMXXX", "JSNMRUMMXXX", "SOMRRUMMXXX"
RAIFFEISEN, COMMERZ = "RZBMRUMMXXX", "COBADEFFXXX"


def _ru(bank_code: str, account: str) -> str:
    return str(
        IBAN.generate("RU", bank_code=bank_code, branch_code="40817", account_code=account).compact
    )


DE_OURS = str(IBAN.generate("DE", bank_code="37040044", account_code="0532013000").compact)
OURS = {  # the exchange's own accounts at each bank
    VTB: (("RUB", _ru("044525187", "810000000000001")),),
    OTKRITIE: (("RUB", _ru("044525297", "810000000000002")),),
    SOVCOM: (("RUB", _ru("043469743", "810000000000003")),
             ("USD", _ru("043469743", "840000000000003"))),
    RAIFFEISEN: (("RUB", _ru("044525700", "810000000000004")),),
    COMMERZ: (("EUR", DE_OURS),),
}  # fmt: skip
NAMES = {VTB: "VTB Bank", OTKRITIE: "Bank Otkritie", SOVCOM: "Sovcombank",
         RAIFFEISEN: "Raiffeisenbank", COMMERZ: "Commerzbank"}  # fmt: skip


def _ok(events: list[Any]) -> list[Any]:
    assert not of(events, CommandRejected), events
    return events


def preview(r: Runner, bic: str, outgoing: Outgoing = Outgoing.RETURN, **kw: Any) -> CutOffImpact:
    spec = CutOffSpec(bic=bic, cause=kw.pop("cause", Cause.SWIFT_DISCONNECTED),
                      outgoing=outgoing, **kw)  # fmt: skip
    return drive(cutoff.preview(r.state, spec, slice_size=2))


def apply(r: Runner, impact: CutOffImpact, **kw: Any) -> list[Any]:
    return r.do(
        CutOffBank, spec=impact.spec, preview_id=impact.preview_id, previewed=impact.previewed, **kw
    )


@pytest.fixture
def r() -> Runner:
    r = Runner()
    for asset in ("RUB", "USD", "EUR"):
        _ok(r.do(CreateAsset, asset=asset, precision=2, fiat=True))
    for bic, accounts in OURS.items():
        currencies = tuple(c for c, _ in accounts)
        serves = ("DE", "AT") if bic == COMMERZ else ("RU", "KZ")
        _ok(r.do(DefineBank, bic=bic, name=NAMES[bic], country=bic[4:6], currencies=currencies,
                 serves=serves, accounts=accounts))  # fmt: skip
    return r


def _customer(r: Runner, name: str, country: str, *accounts: tuple[str, str]) -> tuple[int, int]:
    """A customer with their own bank accounts (IBAN, BIC), funded in every fiat asset."""
    customer_id, acct = onboard(r, country, name=name)
    for iban, bic in accounts:
        _ok(r.do(AddBankAccount, customer_id=customer_id, iban=iban, bic=bic, holder=name))
    for asset in ("RUB", "USD", "EUR"):
        _ok(r.do(Deposit, account_id=acct, asset=asset, amount_raw=1_000_000, tx_ref="t"))
    return customer_id, acct


def _withdraw(r: Runner, acct: int, asset: str, cents: int, iban: str, payee: str) -> int:
    events = _ok(r.do(RequestWithdrawal, account_id=acct, asset=asset, amount_raw=cents,
                      destination=iban, beneficiary=payee))  # fmt: skip
    return one(events, WithdrawalRequested).withdrawal_id


def _file(r: Runner, bank: str, currency: str) -> PaymentFileCreated:
    events = _ok(r.do(CreatePaymentFile, bank=bank, currency=currency, execution_date="2022-03-11"))
    return one(events, PaymentFileCreated)


def _line(ref: str, amount: str, raw: int, currency: str = "RUB", **kw: Any) -> StatementLine:
    sender_bic = kw.pop("sender_bic", "")
    entry = StatementEntry(bank_ref=ref, booked="2022-03-12", credit=kw.pop("credit", True),
                           reversal=False, amount=amount, currency=currency, **kw)  # fmt: skip
    return StatementLine(entry=entry, amount_raw=raw, sender_bic=sender_bic)


def _import(r: Runner, bank: str, *lines: StatementLine, currency: str = "RUB") -> list[Any]:
    ours = dict(OURS[bank])[currency]
    return r.do(ImportStatement, bank=bank, statement_id=f"{bank}-1", account_iban=ours,
                format="camt.053", lines=lines)  # fmt: skip


IVAN_VTB = _ru("044525187", "810099910004312")
OLGA_OTK = _ru("044525297", "810099910007777")
OLGA_RAIF = _ru("044525700", "810099910008888")
MASHA_RAIF = _ru("044525700", "810099910006666")
PYOTR_SOV = _ru("043469743", "840099910005555")
ANNA_DE = str(IBAN.generate("DE", bank_code="10070000", account_code="0012345678").compact)


def test_three_russian_banks_leave_swift_with_transfers_in_flight(r: Runner) -> None:
    """The news, in the engine: VTB, Otkritie and Sovcombank are disconnected from SWIFT while
    payouts are in their files and withdrawals wait for them. Each cut-off is previewed, then
    applied citing the preview; every pending transfer ends returned or rerouted, the books
    balance in every currency, and a customer of another bank notices nothing."""
    _, ivan = _customer(r, "Ivan Petrov", "RU", (IVAN_VTB, VTB))
    _, olga = _customer(r, "Olga Smirnova", "RU", (OLGA_OTK, OTKRITIE), (OLGA_RAIF, RAIFFEISEN))
    _, pyotr = _customer(r, "Pyotr Ivanov", "RU", (PYOTR_SOV, SOVCOM))
    _, anna = _customer(r, "Anna Müller", "DE", (ANNA_DE, COMMERZ))
    _, masha = _customer(r, "Maria Sokolova", "RU", (MASHA_RAIF, RAIFFEISEN))
    ivan_out = _withdraw(r, ivan, "RUB", 50_000, IVAN_VTB, "Ivan Petrov")
    masha_out = _withdraw(r, masha, "RUB", 40_000, MASHA_RAIF, "Maria Sokolova")
    assert _file(r, VTB, "RUB").withdrawals == (ivan_out, masha_out)  # VTB pays both
    olga_out = _withdraw(r, olga, "RUB", 70_000, OLGA_OTK, "Olga Smirnova")
    assert _file(r, OTKRITIE, "RUB").withdrawals == (olga_out,)
    pyotr_out = _withdraw(r, pyotr, "USD", 30_000, PYOTR_SOV, "Pyotr Ivanov")  # no file yet
    anna_out = _withdraw(r, anna, "EUR", 10_000, ANNA_DE, "Anna Müller")
    assert _file(r, COMMERZ, "EUR").withdrawals == (anna_out,)
    stray = _line("V1", "12.00", 1200, counterparty_name="Unknown", remittance="?")
    queued_item = one(_ok(_import(r, VTB, stray)), StatementLineQueued).item_id
    anna_before = (
        r.state.accounts[anna].balances["EUR"].free,
        r.state.accounts[anna].balances["EUR"].locked,
    )

    vtb = preview(r, VTB, Outgoing.REROUTE)
    assert (vtb.customers, vtb.only_rail, vtb.movable) == (1, 1, 1)  # Raiffeisen serves RU
    assert vtb.sample[0]["legal_name"] == "Ivan Petrov"
    fates = {(t["kind"], t["id"]): t["fate"] for t in vtb.transfers}
    assert fates == {
        ("PAYOUT", ivan_out): "RETURNED",  # paid into VTB itself: nowhere else to pay it
        ("PAYOUT", masha_out): "REROUTED",  # paid into Raiffeisen, which can pay it instead
        ("LINE", queued_item): "QUEUED",
    }
    assert vtb.by_currency == {"RUB": {"RETURNED": 50_000, "REROUTED": 40_000, "QUEUED": 1200}}
    otk = preview(r, OTKRITIE, Outgoing.REROUTE)
    assert (otk.customers, otk.only_rail) == (1, 0)  # Olga banks at Raiffeisen too
    assert [t["fate"] for t in otk.transfers] == ["RETURNED"]  # paid into Otkritie: no reroute
    sov = preview(r, SOVCOM)
    assert [(t["kind"], t["id"], t["fate"]) for t in sov.transfers] == [
        ("WITHDRAWAL", pyotr_out, "RETURNED")
    ]

    reports = {}
    for impact in (vtb, otk, sov):
        cut = one(_ok(apply(r, impact, reason="EU Regulation 2022/345")), BankCutOff)
        reports[impact.spec.bic] = {t.id: (t.fate, t.amount_raw) for t in cut.report}
        assert r.state.banking.banks[impact.spec.bic].status == "CUT_OFF"
    assert reports[VTB] == {
        ivan_out: ("RETURNED", 50_000),
        masha_out: ("REROUTED", 40_000),
        queued_item: ("QUEUED", 1200),
    }
    assert reports[OTKRITIE] == {olga_out: ("RETURNED", 70_000)}
    assert reports[SOVCOM] == {pyotr_out: ("RETURNED", 30_000)}
    # returned: the held amount is free again; rerouted: still held, for Raiffeisen to pay
    assert r.balance(olga, "RUB") == (1_000_000, 0)
    assert r.balance(pyotr, "USD") == (1_000_000, 0)
    assert r.balance(ivan, "RUB") == (1_000_000, 0)
    assert r.balance(masha, "RUB") == (960_000, 40_000)
    assert r.state.banking.payouts[masha_out].status == "REROUTED"
    assert masha_out in r.state.withdrawals  # still held, for Raiffeisen's next file
    # the customer of another bank: nothing happened to her
    assert (r.balance(anna, "EUR")) == anna_before
    assert r.state.banking.payouts[anna_out].status == "SENT"
    assert_sound(r)

    # from now on, nothing goes through the cut-off banks
    refused = one(r.do(CreatePaymentFile, bank=VTB, currency="RUB", execution_date="2022-03-14"),
                  CommandRejected)  # fmt: skip
    assert refused.code == RejectCode.BANK_CUT_OFF and "VTB Bank" in refused.reason
    # a withdrawal to an account at a cut-off bank is refused, saying so
    to_sov = r.do(RequestWithdrawal, account_id=pyotr, asset="USD", amount_raw=100,
                  destination=PYOTR_SOV, beneficiary="Pyotr Ivanov")  # fmt: skip
    to_sov_refused = one(to_sov, CommandRejected)
    assert to_sov_refused.code == RejectCode.BANK_CUT_OFF
    assert f"{PYOTR_SOV} is at Sovcombank (SOMRRUMMXXX), which is cut off" in to_sov_refused.reason
    new_account = one(r.do(AddBankAccount, customer_id=1, iban=_ru("044525187", "810099910000001"),
                           bic=VTB, holder="Ivan Petrov"), CommandRejected)  # fmt: skip
    assert new_account.code == RejectCode.BANK_CUT_OFF
    # VTB's last statement names the payout it was told to make: a person looks at it
    paid_anyway = _line("V2", "400.00", 40_000, credit=False, end_to_end_id=f"BRS-W-{masha_out}")
    from_vtb = _line("V3", "5.00", 500, counterparty_name="Ivan Petrov")
    events = _ok(_import(r, VTB, paid_anyway, from_vtb))
    reasons = {e.entry.bank_ref: e.reason for e in of(events, StatementLineQueued)}
    assert "the cut-off of VTB Bank took back from its payment file" in reasons["V2"]
    assert reasons["V3"] == "received at VTB Bank (VTBRRUMMXXX), which is cut off"
    # money sent from a cut-off bank to a bank still open is held too
    sent = _line("R1", "9.00", 900, counterparty_name="Olga Smirnova", sender_bic=OTKRITIE,
                 counterparty_iban=OLGA_OTK)  # fmt: skip
    held = one(_ok(_import(r, RAIFFEISEN, sent)), StatementLineQueued)
    assert held.reason == "sent from Bank Otkritie (JSNMRUMMXXX), which is cut off"
    # Raiffeisen's next RUB file pays Maria's rerouted payout
    assert _file(r, RAIFFEISEN, "RUB").withdrawals == (masha_out,)
    assert_sound(r)


def test_a_rerouted_payout_is_paid_by_the_bank_that_took_it(r: Runner) -> None:
    _, ivan = _customer(r, "Ivan Petrov", "RU", (IVAN_VTB, VTB))
    _, olga = _customer(r, "Olga Smirnova", "RU", (OLGA_RAIF, RAIFFEISEN))
    ivan_out = _withdraw(r, ivan, "RUB", 50_000, IVAN_VTB, "Ivan Petrov")
    olga_out = _withdraw(r, olga, "RUB", 20_000, OLGA_RAIF, "Olga Smirnova")
    # VTB pays both: Olga's account is at Raiffeisen, so hers can move there
    assert _file(r, VTB, "RUB").withdrawals == (ivan_out, olga_out)
    impact = preview(r, VTB, Outgoing.REROUTE)
    assert {t["id"]: t["fate"] for t in impact.transfers} == {
        ivan_out: "RETURNED",  # paid into VTB: nowhere else to pay it
        olga_out: "REROUTED",
    }
    _ok(apply(r, impact))
    moved = _file(r, RAIFFEISEN, "RUB")
    assert moved.withdrawals == (olga_out,)
    assert r.state.banking.payouts[olga_out].file_id == moved.file_id
    # VTB's statement settling Olga's old payout does not settle Raiffeisen's
    late = _line("V9", "200.00", 20_000, credit=False, end_to_end_id=f"BRS-W-{olga_out}")
    queued = one(_ok(_import(r, VTB, late)), StatementLineQueued)
    assert "took back from its payment file" in queued.reason
    assert r.state.banking.payouts[olga_out].status == "SENT"
    assert r.balance(ivan, "RUB") == (1_000_000, 0)
    assert_sound(r)


def test_a_stale_or_mismatched_preview_is_refused_and_changes_nothing(r: Runner) -> None:
    _, ivan = _customer(r, "Ivan Petrov", "RU", (IVAN_VTB, VTB))
    impact = preview(r, VTB, Outgoing.RETURN)
    _withdraw(r, ivan, "RUB", 1000, IVAN_VTB, "Ivan Petrov")  # a transfer the preview missed
    before = len(r.state.banking.cutoffs)
    stale = one(apply(r, impact), CommandRejected)
    assert stale.code == RejectCode.PREVIEW_STALE
    assert "the transfers pending through the bank, or where they would go, have changed" in (
        stale.reason
    )
    fresh = preview(r, VTB, Outgoing.RETURN)
    _ok(r.do(AddBankAccount, customer_id=1, iban=OLGA_RAIF, bic=RAIFFEISEN, holder="Ivan Petrov"))
    moved = one(apply(r, fresh), CommandRejected)  # he now has another rail: the counts differ
    assert moved.code == RejectCode.PREVIEW_STALE and "bank accounts have changed" in moved.reason
    fresh = preview(r, VTB, Outgoing.RETURN)
    other = r.do(CutOffBank, spec=CutOffSpec(bic=VTB, cause=Cause.SANCTIONED,
                 outgoing=Outgoing.RETURN), preview_id=fresh.preview_id,
                 previewed=fresh.previewed)  # fmt: skip
    assert one(other, CommandRejected).code == RejectCode.PREVIEW_MISMATCH
    assert len(r.state.banking.cutoffs) == before
    assert r.state.banking.banks[VTB].status == "ACTIVE"
    _ok(apply(r, fresh))
    again = one(apply(r, preview(r, RAIFFEISEN)), BankCutOff)  # another bank: fine
    assert again.bic == RAIFFEISEN
    twice = r.do(CutOffBank, spec=fresh.spec, preview_id=fresh.preview_id,
                 previewed=fresh.previewed)  # fmt: skip
    assert one(twice, CommandRejected).reason == "VTB Bank (VTBRRUMMXXX) is cut off already"
    assert_sound(r)


def test_a_scheduled_cutoff_counts_from_its_effective_time(r: Runner) -> None:
    _, ivan = _customer(r, "Ivan Petrov", "RU", (IVAN_VTB, VTB))
    effective = r.ts_ms + 1000
    impact = preview(r, VTB, Outgoing.RETURN, effective_ms=effective)
    scheduled = one(_ok(apply(r, impact)), BankCutOffScheduled)
    assert scheduled.spec.effective_ms == effective
    assert r.state.banking.banks[VTB].status == "ACTIVE"
    early = _withdraw(r, ivan, "RUB", 1000, IVAN_VTB, "Ivan Petrov")  # before: allowed
    assert _file(r, VTB, "RUB").withdrawals == (early,)
    r.ts_ms = effective  # the time has come, before the driver sent RunDuePolicies
    late = one(r.do(CreatePaymentFile, bank=VTB, currency="RUB", execution_date="2022-03-14"),
               CommandRejected)  # fmt: skip
    assert late.code == RejectCode.BANK_CUT_OFF
    events = _ok(r.do(RunDuePolicies))
    report = one(events, BankCutOff).report
    assert [(t.id, t.fate) for t in report] == [(early, "RETURNED")]
    assert one(events, WithdrawalFailed).withdrawal_id == early
    assert r.balance(ivan, "RUB") == (1_000_000, 0)
    assert one(r.do(RunDuePolicies), CommandRejected).code == RejectCode.NO_CHANGE
    assert_sound(r)


def test_a_cutoff_touches_exactly_the_transfers_it_names(r: Runner) -> None:
    """Invariant 6: the balances a cut-off changes are those of the transfers in its report;
    accounts of the same country at other banks, and the bank's customers without a pending
    transfer, are untouched."""
    _, ivan = _customer(r, "Ivan Petrov", "RU", (IVAN_VTB, VTB))
    _, idle = _customer(r, "Idle Client", "RU", (_ru("044525187", "810099910000009"), VTB))
    _, olga = _customer(r, "Olga Smirnova", "RU", (OLGA_RAIF, RAIFFEISEN))
    ivan_out = _withdraw(r, ivan, "RUB", 5000, IVAN_VTB, "Ivan Petrov")
    _withdraw(r, olga, "RUB", 7000, OLGA_RAIF, "Olga Smirnova")
    impact = preview(r, VTB)
    assert impact.customers == 2
    events = _ok(apply(r, impact))
    report = one(events, BankCutOff).report
    named = {t.account_id for t in report}
    assert named == {ivan} and [t.id for t in report] == [ivan_out]
    touched = {e.account_id for e in of(events, BalanceChanged)}
    assert touched == named
    assert idle not in touched and olga not in touched
    assert r.balance(olga, "RUB") == (993_000, 7000)
    assert_sound(r)


def test_bad_cutoffs_are_refused(r: Runner) -> None:
    spec = CutOffSpec(bic="DEUTDEFFXXX", cause=Cause.RELATIONSHIP_ENDED, outgoing=Outgoing.RETURN)
    state: EngineState = r.state
    assert cutoff.problem(state, spec, r.ts_ms) == "DEUTDEFFXXX is not a partner bank"
    past = CutOffSpec(bic=VTB, cause=Cause.SANCTIONED, outgoing=Outgoing.RETURN, effective_ms=5)
    assert "has passed" in cutoff.problem(state, past, r.ts_ms)
    seen = cutoff.fingerprint(state, CutOffSpec(bic=VTB, cause=Cause.SANCTIONED,
                                                 outgoing=Outgoing.RETURN))  # fmt: skip
    refused = r.do(CutOffBank, spec=past, preview_id=preview_id(past, seen), previewed=seen)
    assert "has passed" in one(refused, CommandRejected).reason
    no_reason = r.do(CutOffBank, spec=past, preview_id="", previewed=seen, reason=" ")
    assert one(no_reason, CommandRejected).code == RejectCode.REASON_REQUIRED


def test_a_suspended_bank_takes_no_transfer_until_it_resumes(r: Runner) -> None:
    _, ivan = _customer(r, "Ivan Petrov", "RU", (IVAN_VTB, VTB))
    out = _withdraw(r, ivan, "RUB", 1000, IVAN_VTB, "Ivan Petrov")
    _ok(r.do(SuspendBank, bic=VTB, suspended=True))
    refused = one(r.do(CreatePaymentFile, bank=VTB, currency="RUB", execution_date="2022-03-14"),
                  CommandRejected)  # fmt: skip
    assert refused.code == RejectCode.BANK_SUSPENDED
    assert refused.reason == "VTB Bank (VTBRRUMMXXX) is suspended: no transfer goes through it"
    line = _line("S1", "5.00", 500, counterparty_name="Ivan Petrov")
    queued = one(_ok(_import(r, VTB, line)), StatementLineQueued)
    assert queued.reason == "received at VTB Bank (VTBRRUMMXXX), which is suspended"
    assert r.state.withdrawals[out].amount == 1000  # nothing pending is touched
    again = one(r.do(SuspendBank, bic=VTB, suspended=True), CommandRejected)
    assert again.code == RejectCode.NO_CHANGE
    _ok(r.do(SuspendBank, bic=VTB, suspended=False))
    assert _file(r, VTB, "RUB").withdrawals == (out,)
    _ok(apply(r, preview(r, VTB)))
    cut = one(r.do(SuspendBank, bic=VTB, suspended=False), CommandRejected)
    assert "is cut off: it neither suspends nor resumes" in cut.reason
    assert_sound(r)
