"""The fiat rails as the engine keeps them and the read model shows them: partner banks,
customers' bank accounts, statement lines booked and the reconciliation queue. msgspec structs,
so that a snapshot holds them as they are (one field of its image, `banking`)."""

import msgspec

from bourse.banking.statement import StatementEntry

ACTIVE, SUSPENDED, CUT_OFF = "ACTIVE", "SUSPENDED", "CUT_OFF"
SENT, SETTLED, RETURNED = "SENT", "SETTLED", "RETURNED"  # a fiat payout, once in a payment file
E2E_PREFIX = "BRS-W-"  # a payout's end-to-end id: how the bank's statement names it again


def line_key(bank: str, bank_ref: str) -> str:
    """How a statement line is known for good: its bank and the bank's own reference for it
    (what `tx_ref` of a deposit it credited cites)."""
    return f"{bank}:{bank_ref}"


def end_to_end_id(withdrawal_id: int) -> str:
    return f"{E2E_PREFIX}{withdrawal_id}"


def withdrawal_of(end_to_end: str) -> int:
    """The withdrawal an end-to-end id names (0: none of ours)."""
    number = end_to_end.strip().upper().removeprefix(E2E_PREFIX)
    return int(number) if number != end_to_end.strip().upper() and number.isdigit() else 0


VERIFIED, HELD, REFUSED = "VERIFIED", "HELD", "REFUSED"
OPEN, RESOLVED = "OPEN", "RESOLVED"


class PartnerBank(msgspec.Struct, kw_only=True):
    bic: str
    name: str
    country: str
    currencies: tuple[str, ...]
    serves: tuple[str, ...]
    accounts: dict[str, str]  # currency → the exchange's IBAN at this bank
    status: str = ACTIVE


class BankAccount(msgspec.Struct, kw_only=True):
    id: int
    customer_id: int
    iban: str
    bic: str
    holder: str
    status: str


class QueuedLine(msgspec.Struct, kw_only=True):
    id: int
    bank: str
    statement_id: str
    entry: StatementEntry
    amount_raw: int | None
    reason: str
    customer_id: int = 0
    status: str = OPEN


class Payout(msgspec.Struct, kw_only=True):
    """A fiat withdrawal as sent to a partner bank in a payment file, and what became of it."""

    withdrawal_id: int
    account_id: int
    file_id: int
    amount_raw: int
    currency: str
    iban: str
    beneficiary: str
    status: str = SENT


class PaymentFile(msgspec.Struct, kw_only=True):
    id: int
    bank: str
    currency: str
    debtor_iban: str  # the exchange's account the payouts leave from
    execution_date: str  # YYYY-MM-DD
    created_ms: int
    withdrawals: list[int]


class Banking(msgspec.Struct, kw_only=True):
    banks: dict[str, PartnerBank] = {}  # by BIC, in definition order
    bank_accounts: dict[int, BankAccount] = {}
    next_bank_account_id: int = 1
    # every statement line ever booked, by "BIC:bank reference" → what became of it
    # ("credited to account 7", "queued as item 3"): a second import books nothing twice
    booked: dict[str, str] = {}
    queue: dict[int, QueuedLine] = {}  # open and resolved, by id
    next_item_id: int = 1
    payouts: dict[int, Payout] = {}  # by withdrawal id, from the file that sent it on
    files: dict[int, PaymentFile] = {}
    next_file_id: int = 1

    def bank_of_bic(self, bic: str) -> PartnerBank | None:
        """The partner bank a BIC belongs to: BIC8 and BIC11 of one bank are the same bank."""
        if not bic:
            return None
        found = self.banks.get(bic)
        if found is not None:
            return found
        head = bic[:8]
        return next((b for b in self.banks.values() if b.bic[:8] == head), None)
