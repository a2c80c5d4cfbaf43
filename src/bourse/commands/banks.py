"""Fiat rails: partner banks, customers' own bank accounts, and bank statements coming in."""

import msgspec

from bourse.banking.cutoff import CutOffFingerprint, CutOffSpec
from bourse.banking.statement import StatementEntry
from bourse.commands.base import OperatorCommand
from bourse.compliance.evidence import BeneficiaryScreening, Evidence


class DefineBank(OperatorCommand, frozen=True, kw_only=True, tag="DefineBank"):
    """A partner bank, or a change to one (its state changes by its own commands)."""

    bic: str  # ISO 9362, checked and upper-cased at the edge (schwifty)
    name: str
    country: str  # ISO 3166 alpha-2 of the bank
    currencies: tuple[str, ...]  # the fiat assets it pays and receives
    serves: tuple[str, ...]  # the countries of residence of the customers it serves
    # the exchange's own accounts at the bank, where customers deposit: (currency, IBAN)
    accounts: tuple[tuple[str, str], ...] = ()


class SuspendBank(OperatorCommand, frozen=True, kw_only=True, tag="SuspendBank"):
    """Stop every transfer through a partner bank for now (an outage, a review), or resume it
    (`suspended` False). Nothing pending is touched: payouts in its files wait for its
    statement, its incoming lines queue until it resumes. A cut-off is CutOffBank."""

    bic: str
    suspended: bool


class AddBankAccount(OperatorCommand, frozen=True, kw_only=True, tag="AddBankAccount"):
    """A customer's own bank account, screened at the edge by holder name and BIC against the
    lists in force before it is used (`screening`, as a fiat withdrawal's payee is)."""

    customer_id: int
    iban: str  # compact, checked at the edge
    bic: str  # the one given, else the one schwifty derives from the IBAN ("" if unknown)
    holder: str
    screening: BeneficiaryScreening | None = None


class DecideBankAccount(OperatorCommand, frozen=True, kw_only=True, tag="DecideBankAccount"):
    """A compliance officer's decision on a bank account its screening held: `verify` it (the
    hits were not this holder) or `refuse` it."""

    bank_account_id: int
    verify: bool


class StatementLine(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    entry: StatementEntry
    # the amount in raw units of the asset named by the entry's currency; None where the
    # exchange holds no such fiat asset (the line goes to the queue as a foreign currency)
    amount_raw: int | None
    sender_bic: str = ""  # the counterparty's bank: as the statement names it, else its IBAN's


class ImportStatement(OperatorCommand, frozen=True, kw_only=True, tag="ImportStatement"):
    """A partner bank's statement of the exchange's account, parsed at the edge. Each credit
    line is matched to a customer by deposit reference and sending IBAN and credited, or goes to
    the reconciliation queue with the reason; a line booked before (same bank reference) is
    never credited again."""

    bank: str  # BIC of the partner bank
    statement_id: str
    account_iban: str  # the exchange's account the statement is for
    format: str  # "camt.053", "mt940"
    lines: tuple[StatementLine, ...]


class CreatePaymentFile(OperatorCommand, frozen=True, kw_only=True, tag="CreatePaymentFile"):
    """Send the pending fiat withdrawals in `currency` that `bank` may pay (its customers'
    countries, nothing held or frozen, fiat withdrawals open for them now) as one payment file
    (pain.001). Each is SENT from then on; the bank's statement settles or returns it."""

    bank: str
    currency: str
    execution_date: str  # YYYY-MM-DD, the day the bank is to pay


class ResolveStatementLine(OperatorCommand, frozen=True, kw_only=True, tag="ResolveStatementLine"):
    """Take a line off the reconciliation queue: credit it to `account_id` (the officer found
    whose it is) or, with account_id 0, close it without crediting (e.g. the bank returned it)."""

    item_id: int
    account_id: int = 0


class CutOffBank(OperatorCommand, frozen=True, kw_only=True, tag="CutOffBank"):
    """Cut a partner bank off (sanctioned, disconnected from SWIFT, the relationship ended) from
    `spec.effective_ms` on (0: at once), citing the preview it was shown. From then no transfer
    goes through it; payouts sent in its files are returned or rerouted as `spec.outgoing`
    says, pending withdrawals to accounts at it are returned, and its incoming lines queue."""

    spec: CutOffSpec
    preview_id: str
    previewed: CutOffFingerprint
    # the sanctions hits on the bank's name or BIC a cut-off proposed by screening rests on: a
    # person who rejects that proposal clears them (the same entries never propose it again)
    evidence: tuple[Evidence, ...] = ()
