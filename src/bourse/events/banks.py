"""Events of the fiat rails: partner banks, customers' bank accounts, statements and the
reconciliation queue."""

from bourse.banking.statement import StatementEntry
from bourse.events.base import Event


class BankDefined(Event, frozen=True, kw_only=True, tag="BankDefined"):
    bic: str
    name: str
    country: str
    currencies: tuple[str, ...]
    serves: tuple[str, ...]
    accounts: dict[str, str]
    status: str
    reason: str


class BankAccountAdded(Event, frozen=True, kw_only=True, tag="BankAccountAdded"):
    """`status` VERIFIED (usable), or HELD by the screening hits `held_by` names (their
    evidence, as screened, in `hits`)."""

    bank_account_id: int
    customer_id: int
    iban: str
    bic: str
    holder: str
    status: str
    hits: tuple[str, ...] = ()


class BankAccountDecided(Event, frozen=True, kw_only=True, tag="BankAccountDecided"):
    bank_account_id: int
    customer_id: int
    status: str  # VERIFIED or REFUSED
    reason: str


class StatementImported(Event, frozen=True, kw_only=True, tag="StatementImported"):
    """What one import did with its statement's lines: counted here, each line's fate in the
    events beside it (DepositCredited citing the line, StatementLineQueued)."""

    bank: str
    statement_id: str
    account_iban: str
    format: str
    lines: int
    credited: int
    queued: int
    already_booked: int  # lines an earlier import booked (credited or queued): left alone


class StatementLineQueued(Event, frozen=True, kw_only=True, tag="StatementLineQueued"):
    item_id: int
    bank: str
    statement_id: str
    entry: StatementEntry
    amount_raw: int | None
    reason: str
    customer_id: int = 0  # the customer it seems to be for, where one is named


class StatementLineResolved(Event, frozen=True, kw_only=True, tag="StatementLineResolved"):
    item_id: int
    account_id: int  # credited to (0: closed without crediting)
    reason: str
