"""Events of the fiat rails: partner banks, customers' bank accounts, statements and the
reconciliation queue."""

from bourse.banking.cutoff import CutOffSpec
from bourse.banking.rails import TransferFate
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


class BankSuspended(Event, frozen=True, kw_only=True, tag="BankSuspended"):
    bic: str
    status: str  # SUSPENDED, or ACTIVE again
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
    payouts: int = 0  # lines that settled or returned a payout of the exchange's


class StatementLineQueued(Event, frozen=True, kw_only=True, tag="StatementLineQueued"):
    item_id: int
    bank: str
    statement_id: str
    entry: StatementEntry
    amount_raw: int | None
    reason: str
    customer_id: int = 0  # the customer it seems to be for, where one is named


class PaymentFileCreated(Event, frozen=True, kw_only=True, tag="PaymentFileCreated"):
    """The payouts a payment file sends (what `pain.001` is written from) and those it had to
    leave pending, each with the reason."""

    file_id: int
    bank: str
    currency: str
    debtor_iban: str
    execution_date: str
    withdrawals: tuple[int, ...]
    amounts_raw: tuple[int, ...]
    ibans: tuple[str, ...]
    beneficiaries: tuple[str, ...]
    account_ids: tuple[int, ...]
    withheld: tuple[tuple[int, str], ...] = ()  # (withdrawal id, why it stays pending)


class PayoutSettled(Event, frozen=True, kw_only=True, tag="PayoutSettled"):
    """A payout's fate as the bank's statement booked it (`line`: BIC:bank reference)."""

    withdrawal_id: int
    status: str  # SETTLED or RETURNED
    line: str
    reason: str = ""


class StatementLineResolved(Event, frozen=True, kw_only=True, tag="StatementLineResolved"):
    item_id: int
    account_id: int  # credited to (0: closed without crediting)
    reason: str


class BankCutOffScheduled(Event, frozen=True, kw_only=True, tag="BankCutOffScheduled"):
    cutoff_id: int
    spec: CutOffSpec
    preview_id: str
    actor: str
    reason: str


class BankCutOff(Event, frozen=True, kw_only=True, tag="BankCutOff"):
    """A cut-off in effect, and its report: every transfer it found pending through the bank
    and where its money went (`report`), and how many customers' bank accounts are there (its
    preview named their holders)."""

    cutoff_id: int
    bic: str
    cause: str
    effective_ms: int
    outgoing: str
    preview_id: str
    bank_accounts: int
    report: tuple[TransferFate, ...]
    actor: str
    reason: str
