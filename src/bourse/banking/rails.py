"""The fiat rails as the engine keeps them and the read model shows them: partner banks,
customers' bank accounts, statement lines booked and the reconciliation queue. msgspec structs,
so that a snapshot holds them as they are (one field of its image, `banking`)."""

import msgspec

from bourse.banking.statement import StatementEntry

ACTIVE, SUSPENDED, CUT_OFF = "ACTIVE", "SUSPENDED", "CUT_OFF"
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


class Banking(msgspec.Struct, kw_only=True):
    banks: dict[str, PartnerBank] = {}  # by BIC, in definition order
    bank_accounts: dict[int, BankAccount] = {}
    next_bank_account_id: int = 1
    # every statement line ever booked, by "BIC:bank reference" → what became of it
    # ("credited to account 7", "queued as item 3"): a second import books nothing twice
    booked: dict[str, str] = {}
    queue: dict[int, QueuedLine] = {}  # open and resolved, by id
    next_item_id: int = 1

    def bank_of_bic(self, bic: str) -> PartnerBank | None:
        """The partner bank a BIC belongs to: BIC8 and BIC11 of one bank are the same bank."""
        if not bic:
            return None
        found = self.banks.get(bic)
        if found is not None:
            return found
        head = bic[:8]
        return next((b for b in self.banks.values() if b.bic[:8] == head), None)
