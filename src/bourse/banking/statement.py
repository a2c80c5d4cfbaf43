"""A bank statement as bourse reads it, whichever format it came in (ISO 20022 camt.053 or
SWIFT MT940): the account it is for and its entries, each as the bank booked it.

Amounts stay decimal text here, exactly as the bank wrote them; they become integers at the
edge that knows each currency's precision (`domain/money.to_raw`), never floats. Pure data: the
parsers (`camt053.py`, `mt940.py`) produce it, the import command carries its lines into the
engine, which matches them to customers (`engine/banks.py`).
"""

import msgspec


class StatementProblem(ValueError):
    """A statement file that cannot be read: the message names the line (MT940) or element
    (camt.053) where it went wrong. Nothing of such a file is imported."""


class StatementEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One booked movement on the exchange's account at a partner bank."""

    # The bank's own reference for the entry (camt.053 AcctSvcrRef, else NtryRef; MT940 the
    # bank reference after `//` in :61:). Two statements that report the same movement, in any
    # format, carry the same one: it is what makes importing twice credit nothing twice.
    bank_ref: str
    booked: str  # booking date, ISO 8601 (YYYY-MM-DD)
    credit: bool  # True: money came in to the exchange's account; False: it went out
    reversal: bool  # the entry reverses an earlier one (camt.053 RvslInd; MT940 RC/RD)
    amount: str  # decimal text as the bank wrote it, always positive ("1250.00")
    currency: str  # ISO 4217, upper case
    counterparty_name: str = ""  # who sent it (a credit) or who was paid (a debit)
    counterparty_iban: str = ""  # compact, upper case, as given (not validated here)
    counterparty_bic: str = ""
    remittance: str = ""  # unstructured remittance information, joined with single spaces
    end_to_end_id: str = ""  # the payer's end-to-end reference (ours, on an outgoing payment)
    position: int = 0  # the entry's place in its statement, from 1 (to name it in messages)


class Statement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    statement_id: str  # camt.053 Stmt/Id; MT940 :20: transaction reference (with :28C:)
    account_iban: str  # the exchange's own account the statement is for, compact
    servicer_bic: str = ""  # the bank that keeps the account, when the file names it
    currency: str = ""  # the account's currency, when the file names it
    format: str = ""  # "camt.053" or "mt940"
    entries: tuple[StatementEntry, ...] = ()
