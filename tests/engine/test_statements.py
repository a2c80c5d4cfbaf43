"""Bank statements in the engine: a credit line is a customer's deposit only when it is
unambiguous; every other line waits in the reconciliation queue with its reason; a line booked
once is never booked again; the queue is resolved by a person, through the one deposit path."""

from typing import Any

import pytest
from schwifty import IBAN

from bourse.banking.references import deposit_reference
from bourse.banking.statement import StatementEntry
from bourse.commands import (
    AddBankAccount,
    CreateAsset,
    CreatePaymentFile,
    DecideBankAccount,
    DefineBank,
    Deposit,
    FailWithdrawal,
    ImportStatement,
    RequestWithdrawal,
    ResolveStatementLine,
)
from bourse.commands.banks import StatementLine
from bourse.compliance.policy import Capability
from bourse.events import (
    BankAccountAdded,
    CommandRejected,
    DepositCredited,
    PaymentFileCreated,
    PayoutSettled,
    StatementImported,
    StatementLineQueued,
    StatementLineResolved,
    WithdrawalFailed,
    WithdrawalRequested,
)
from tests.builders import Runner, apply_policy, assert_sound, of, onboard, one, suspension

BANK = "COBADEFFXXX"
OURS = str(IBAN.generate("DE", bank_code="37040044", account_code="0532013000").compact)
ANNA_IBAN = str(IBAN.generate("DE", bank_code="10070000", account_code="0012345678").compact)
FRED_IBAN = "FR1420041010050500013M02606"  # a valid French IBAN (La Banque Postale)
OTTO_IBAN = str(IBAN.generate("AT", bank_code="19043", account_code="00234573201").compact)


def _ok(events: list[Any]) -> list[Any]:
    assert not of(events, CommandRejected), events
    return events


@pytest.fixture
def r() -> Runner:
    r = Runner()
    _ok(r.do(CreateAsset, asset="EUR", precision=2, fiat=True))
    _ok(r.do(CreateAsset, asset="USD", precision=2, fiat=True))
    _ok(
        r.do(
            DefineBank,
            bic=BANK,
            name="Commerzbank",
            country="DE",
            currencies=("EUR",),
            serves=("DE", "AT"),
            accounts=(("EUR", OURS),),
        )
    )
    return r


def _customer(r: Runner, name: str, country: str, iban: str) -> tuple[int, int]:
    customer_id, account_id = onboard(r, country, name=name)
    added = one(
        _ok(r.do(AddBankAccount, customer_id=customer_id, iban=iban, bic="", holder=name)),
        BankAccountAdded,
    )
    assert added.status == "VERIFIED"
    return customer_id, account_id


def _entry(ref: str, amount: str, **kw: Any) -> StatementEntry:
    fields: dict[str, Any] = {
        "bank_ref": ref,
        "booked": "2026-12-07",
        "credit": True,
        "reversal": False,
        "amount": amount,
        "currency": "EUR",
    }
    fields.update(kw)
    return StatementEntry(**fields)


def _line(entry: StatementEntry, raw: int | None) -> StatementLine:
    return StatementLine(entry=entry, amount_raw=raw)


def _import(r: Runner, *lines: StatementLine, statement: str = "S1") -> list[Any]:
    return r.do(
        ImportStatement,
        bank=BANK,
        statement_id=statement,
        account_iban=OURS,
        format="camt.053",
        lines=lines,
    )


def test_matched_unmatched_reversed_foreign_and_suspicious_lines(r: Runner) -> None:
    anna, anna_acct = _customer(r, "Anna Müller", "DE", ANNA_IBAN)
    otto, _ = _customer(r, "Otto Gruber", "AT", OTTO_IBAN)
    ref = deposit_reference(anna)
    lines = (
        _line(_entry("A1", "1250.00", counterparty_name="MUELLER ANNA",
                     counterparty_iban=ANNA_IBAN, remittance=f"DEP {ref}"), 125000),
        _line(_entry("A2", "10.00", counterparty_name="Anna Mueller",
                     counterparty_iban=ANNA_IBAN, remittance="no reference"), 1000),
        _line(_entry("A3", "5.00", counterparty_name="Someone Else",
                     counterparty_iban=ANNA_IBAN, remittance=ref), 500),
        _line(_entry("A4", "7.00", counterparty_name="Otto Gruber",
                     counterparty_iban=OTTO_IBAN, remittance=ref), 700),
        _line(_entry("A5", "99.00", currency="USD", counterparty_name="Anna Müller",
                     counterparty_iban=ANNA_IBAN, remittance=ref), 9900),
        _line(_entry("A6", "3.00", credit=False, reversal=True), 300),
        _line(_entry("A7", "1.00", currency="JPY", remittance=ref), None),
        _line(_entry("A8", "2.00", remittance="BRS-" + str(anna) + "-00",
                     counterparty_iban=ANNA_IBAN, counterparty_name="Anna Müller"), 200),
    )  # fmt: skip
    events = _ok(_import(r, *lines))
    credited = one(events, DepositCredited)
    assert (credited.account_id, credited.amount_raw, credited.tx_ref) == (
        anna_acct, 125000, f"{BANK}:A1"
    )  # fmt: skip
    assert r.balance(anna_acct, "EUR") == (125000, 0)
    reasons = {q.entry.bank_ref: (q.reason, q.customer_id) for q in of(events, StatementLineQueued)}
    assert reasons["A2"] == (
        f"it carries no deposit reference; the sending IBAN is customer {anna}'s",
        anna,
    )
    assert "'Someone Else' is not the account's holder 'Anna Müller'" in reasons["A3"][0]
    assert reasons["A4"][0] == (
        f"sent from {OTTO_IBAN}, which is not a bank account of customer {anna}"
    )
    assert reasons["A5"][0].startswith("foreign currency: 99.00 USD on the exchange's EUR")
    assert reasons["A6"][0].startswith("a reversal of an earlier credit")
    assert reasons["A7"][0].startswith("foreign currency: 1.00 JPY")
    assert "check digits that do not agree" in reasons["A8"][0]
    summary = one(events, StatementImported)
    assert (summary.lines, summary.credited, summary.queued, summary.already_booked) == (8, 1, 7, 0)
    assert otto  # Otto's money is untouched: his IBAN sent with Anna's reference
    assert_sound(r)


def test_importing_the_same_lines_twice_books_nothing_twice(r: Runner) -> None:
    anna, acct = _customer(r, "Anna Müller", "DE", ANNA_IBAN)
    ref = deposit_reference(anna)
    ok = _line(_entry("B1", "100.00", counterparty_name="Anna Müller",
                      counterparty_iban=ANNA_IBAN, remittance=ref), 10000)  # fmt: skip
    odd = _line(_entry("B2", "1.00", remittance="?"), 100)
    first = one(_ok(_import(r, ok, odd)), StatementImported)
    assert (first.credited, first.queued) == (1, 1)
    again = _ok(_import(r, ok, odd, statement="S1-resent"))
    assert not of(again, DepositCredited) and not of(again, StatementLineQueued)
    assert one(again, StatementImported).already_booked == 2
    assert r.balance(acct, "EUR") == (10000, 0)
    assert len(r.state.banking.queue) == 1


def _from_anna(ref: str, amount: str, raw: int, remittance: str) -> StatementLine:
    entry = _entry(ref, amount, counterparty_name="Anna Müller", counterparty_iban=ANNA_IBAN,
                   remittance=remittance)  # fmt: skip
    return _line(entry, raw)


def test_a_suspended_fiat_deposit_queues_the_line(r: Runner) -> None:
    anna, acct = _customer(r, "Anna Müller", "DE", ANNA_IBAN)
    _ok(apply_policy(r, suspension("DE", Capability.FIAT_DEPOSIT)))
    line = _from_anna("C1", "50.00", 5000, deposit_reference(anna))
    queued = one(_ok(_import(r, line)), StatementLineQueued)
    assert queued.reason.startswith(f"the deposit to account {acct} was refused:")
    assert "fiat deposits" in queued.reason
    assert r.balance(acct, "EUR") == (0, 0)


def test_a_person_resolves_the_queue_through_the_deposit_path(r: Runner) -> None:
    _, acct = _customer(r, "Anna Müller", "DE", ANNA_IBAN)
    line = _from_anna("D1", "20.00", 2000, "for my account")
    item = one(_ok(_import(r, line)), StatementLineQueued).item_id
    events = _ok(r.do(ResolveStatementLine, item_id=item, account_id=acct))
    assert one(events, DepositCredited).tx_ref == f"{BANK}:D1"
    assert one(events, StatementLineResolved).account_id == acct
    assert r.balance(acct, "EUR") == (2000, 0)
    again = r.do(ResolveStatementLine, item_id=item, account_id=acct)
    assert "is not open in the queue" in one(again, CommandRejected).reason
    foreign = _line(_entry("D2", "1.00", currency="JPY"), None)
    item2 = one(_ok(_import(r, foreign)), StatementLineQueued).item_id
    refused = one(r.do(ResolveStatementLine, item_id=item2, account_id=acct), CommandRejected)
    assert "close it without crediting" in refused.reason
    _ok(r.do(ResolveStatementLine, item_id=item2, account_id=0, reason="returned by the bank"))
    assert r.balance(acct, "EUR") == (2000, 0)
    assert_sound(r)


def test_bad_imports_are_refused_whole(r: Runner) -> None:
    good = _line(_entry("E1", "1.00"), 100)
    assert "not a partner bank" in one(
        r.do(ImportStatement, bank="DEUTDEFFXXX", statement_id="S", account_iban=OURS,
             format="mt940", lines=(good,)), CommandRejected).reason  # fmt: skip
    wrong_account = r.do(
        ImportStatement, bank=BANK, statement_id="S", account_iban=ANNA_IBAN, format="mt940",
        lines=(good,),
    )  # fmt: skip
    assert (
        "not one of the exchange's accounts at Commerzbank"
        in one(wrong_account, CommandRejected).reason
    )
    twice = one(_import(r, good, good), CommandRejected)
    assert "books one bank reference twice" in twice.reason
    negative = one(_import(r, _line(_entry("E2", "1.00"), -100)), CommandRejected)
    assert "raw units must be positive and of a fiat asset (-100 EUR)" in negative.reason
    assert not r.state.banking.booked  # nothing was booked by any of them


def test_a_held_bank_account_cannot_receive_until_verified(r: Runner) -> None:
    from bourse.compliance.evidence import BeneficiaryScreening, Evidence, ListRef

    customer_id, acct = onboard(r, "DE", name="Ivan Listed")
    hit = Evidence(
        source="ofac_sdn", list_sha256="ab" * 32, entry_id="123", listed_name="IVAN LISTED",
        score_bp=9500, explanation="name", entry_fingerprint="f",
    )  # fmt: skip
    screening = BeneficiaryScreening(lists=(ListRef(source="ofac_sdn", list_sha256="ab" * 32),),
                                     hits=(hit,))  # fmt: skip
    added = one(
        _ok(r.do(AddBankAccount, customer_id=customer_id, iban=ANNA_IBAN, bic="",
                 holder="Ivan Listed", screening=screening)),
        BankAccountAdded,
    )  # fmt: skip
    assert added.status == "HELD" and "IVAN LISTED" in added.hits[0]
    line = _line(_entry("F1", "5.00", counterparty_name="Ivan Listed",
                        counterparty_iban=ANNA_IBAN,
                        remittance=deposit_reference(customer_id)), 500)  # fmt: skip
    queued = one(_ok(_import(r, line)), StatementLineQueued)
    assert queued.reason == f"sent from bank account {added.bank_account_id}, which is HELD"
    _ok(r.do(DecideBankAccount, bank_account_id=added.bank_account_id, verify=False))
    assert r.balance(acct, "EUR") == (0, 0)
    assert_sound(r)


# --- payouts: payment files out, the statement settles or returns them -------------------------


def _funded(r: Runner, name: str, country: str, iban: str, cents: int) -> tuple[int, int]:
    customer_id, acct = _customer(r, name, country, iban)
    _ok(r.do(Deposit, account_id=acct, asset="EUR", amount_raw=cents, tx_ref="t"))
    return customer_id, acct


def _withdraw(r: Runner, acct: int, cents: int, payee: str, iban: str) -> int:
    events = _ok(r.do(RequestWithdrawal, account_id=acct, asset="EUR", amount_raw=cents,
                      destination=iban, beneficiary=payee))  # fmt: skip
    return one(events, WithdrawalRequested).withdrawal_id


def test_a_payment_file_sends_what_may_leave_and_says_why_the_rest_stays(r: Runner) -> None:
    _, anna = _funded(r, "Anna Müller", "DE", ANNA_IBAN, 100000)
    _, otto = _funded(r, "Otto Gruber", "AT", OTTO_IBAN, 100000)
    _, fred = _funded(r, "Fred Blanc", "FR", FRED_IBAN, 100000)
    paid = _withdraw(r, anna, 25000, "Anna Müller", ANNA_IBAN)
    suspended = _withdraw(r, otto, 1000, "Otto Gruber", OTTO_IBAN)
    unserved = _withdraw(r, fred, 1000, "Fred Blanc", FRED_IBAN)
    _ok(apply_policy(r, suspension("AT", Capability.FIAT_WITHDRAWAL)))
    made = one(_ok(r.do(CreatePaymentFile, bank=BANK, currency="EUR",
                        execution_date="2026-12-08")), PaymentFileCreated)  # fmt: skip
    assert (made.withdrawals, made.amounts_raw, made.ibans) == ((paid,), (25000,), (ANNA_IBAN,))
    assert made.beneficiaries == ("Anna Müller",) and made.debtor_iban == OURS
    withheld = dict(made.withheld)
    assert "fiat withdrawals" in withheld[suspended]
    assert withheld[unserved] == "Commerzbank does not serve residents of FR"
    again = one(r.do(CreatePaymentFile, bank=BANK, currency="EUR", execution_date="2026-12-08"),
                CommandRejected)  # fmt: skip
    assert again.reason.startswith("no pending EUR withdrawal can be paid through Commerzbank")
    refused = one(r.do(FailWithdrawal, withdrawal_id=paid, reason="changed my mind"),
                  CommandRejected)  # fmt: skip
    assert "was sent to the bank in payment file 1" in refused.reason
    assert r.balance(anna, "EUR") == (75000, 25000)
    assert_sound(r)


def test_the_statement_settles_one_payout_and_returns_another(r: Runner) -> None:
    _, anna = _funded(r, "Anna Müller", "DE", ANNA_IBAN, 100000)
    first = _withdraw(r, anna, 25000, "Anna Müller", ANNA_IBAN)
    second = _withdraw(r, anna, 5000, "Anna Müller", ANNA_IBAN)
    _ok(r.do(CreatePaymentFile, bank=BANK, currency="EUR", execution_date="2026-12-08"))
    out = _entry("P1", "250.00", credit=False, end_to_end_id=f"BRS-W-{first}")
    back = _entry("P2", "50.00", end_to_end_id=f"BRS-W-{second}", remittance="AC04 closed")
    wrong = _entry("P3", "1.00", credit=False, end_to_end_id=f"BRS-W-{first}")
    events = _ok(_import(r, _line(out, 25000), _line(back, 5000), _line(wrong, 100)))
    fates = {e.withdrawal_id: e.status for e in of(events, PayoutSettled)}
    assert fates == {first: "SETTLED", second: "RETURNED"}
    assert one(events, WithdrawalFailed).reason == "returned by the bank: AC04 closed"
    assert one(events, StatementImported).payouts == 2
    assert "for 1.00 EUR: a person compares" in one(events, StatementLineQueued).reason
    assert r.balance(anna, "EUR") == (75000, 0)  # 250 left; the 50 came back
    assert r.state.withdrawn["EUR"] == 25000
    late = _entry("P4", "250.00", end_to_end_id=f"BRS-W-{first}", remittance="recalled")
    _ok(_import(r, _line(late, 25000)))  # paid, then sent back: the customer's again
    assert r.balance(anna, "EUR") == (100000, 0)
    assert_sound(r)


def test_no_file_through_a_bank_that_is_not_active_or_pays_no_such_currency(r: Runner) -> None:
    refused = one(r.do(CreatePaymentFile, bank=BANK, currency="USD", execution_date="2026-12-08"),
                  CommandRejected)  # fmt: skip
    assert refused.reason == "Commerzbank (COBADEFFXXX) keeps no USD account to pay from"
    bad_date = one(r.do(CreatePaymentFile, bank=BANK, currency="EUR", execution_date="8.12."),
                   CommandRejected)  # fmt: skip
    assert "is not a date" in bad_date.reason
