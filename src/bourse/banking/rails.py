"""The fiat rails as the engine keeps them and the read model shows them: partner banks,
customers' bank accounts, statement lines booked and the reconciliation queue. msgspec structs,
so that a snapshot holds them as they are (one field of its image, `banking`)."""

from typing import TYPE_CHECKING

import msgspec

from bourse.banking.cards import CardDeposit, PartnerEnd, PaymentPartner, SavedCard
from bourse.banking.cutoff import hit_key
from bourse.banking.statement import StatementEntry

if TYPE_CHECKING:
    from bourse.commands.banks import CutOffBank

ACTIVE, SUSPENDED, CUT_OFF = "ACTIVE", "SUSPENDED", "CUT_OFF"
# a fiat payout, once in a payment file (REROUTED: a cut-off took it back from its bank's file,
# for another bank's next file to send)
SENT, SETTLED, RETURNED, REROUTED = "SENT", "SETTLED", "RETURNED", "REROUTED"
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
    cutoff_id: int = 0  # the cut-off applied to it, or scheduled for it (banking.cutoffs)
    cut_from_ms: int = 0  # when that cut-off takes effect (0: none)

    def closed_as(self, ts_ms: int) -> str:
        """Why no transfer goes through it at `ts_ms`: "cut off" (a cut-off counts from its
        effective time, whether or not the command that applies it has run yet), "suspended",
        or "" when it is open."""
        if self.status == CUT_OFF or (self.cut_from_ms and self.cut_from_ms <= ts_ms):
            return "cut off"
        return "suspended" if self.status == SUSPENDED else ""

    def open_at(self, ts_ms: int) -> bool:
        return not self.closed_as(ts_ms)


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


class TransferFate(msgspec.Struct, frozen=True, kw_only=True):
    """One transfer a cut-off found pending through the bank, and where its money went."""

    kind: str  # PAYOUT (sent in the bank's file), WITHDRAWAL (to an account at the bank), LINE
    id: int  # the withdrawal's id, or the queue item's
    account_id: int  # the customer's account on the exchange (0: a line not matched to one)
    currency: str
    amount_raw: int
    fate: str  # RETURNED, REROUTED, IN_FLIGHT, QUEUED
    detail: str  # where the money is now, in words


class CutOff(msgspec.Struct, kw_only=True):
    id: int
    bic: str
    cause: str
    effective_ms: int
    outgoing: str  # RETURN or REROUTE: what becomes of payouts sent in the bank's files
    preview_id: str
    actor: str
    reason: str
    status: str = "SCHEDULED"  # then APPLIED
    applied_ms: int = 0
    report: tuple[TransferFate, ...] = ()


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
    cutoffs: dict[int, CutOff] = {}
    next_cutoff_id: int = 1
    # payouts a cut-off took back from a bank's file to be paid by another: withdrawal id → the
    # bank it was taken from (its statement naming it again is for a person to look at)
    rerouted: dict[int, str] = {}
    # sanctions hits on a bank that a person found were not it (a rejected cut-off proposal
    # of screening's): BIC → hit keys (banking.cutoff.hit_key)
    cleared: dict[str, list[str]] = {}
    # card partners (banking/cards.py): partners by code, saved cards, card deposits (by id,
    # and by "PARTNER:partner ref" so a notification twice is one deposit), partners' ends
    partners: dict[str, PaymentPartner] = {}
    cards: dict[int, SavedCard] = {}
    next_card_id: int = 1
    cards_by_partner: dict[str, list[int]] = {}
    card_versions: dict[str, int] = {}  # partner → cards saved with it: an end's fingerprint
    card_deposits: dict[int, CardDeposit] = {}
    next_card_deposit_id: int = 1
    card_refs: dict[str, int] = {}
    pending_card_deposits: dict[str, list[int]] = {}  # partner → its pending card deposits
    partner_ends: dict[int, PartnerEnd] = {}
    next_end_id: int = 1
    # indexes of bank_accounts, kept with it (add_bank_account): by IBAN, by customer, and by
    # the first 8 characters of the account's BIC (its bank, as bank_of_bic matches)
    by_iban: dict[str, list[int]] = {}
    by_customer: dict[int, list[int]] = {}
    by_bank: dict[str, list[int]] = {}
    # what a cut-off preview's fingerprint compares: changes to the bank accounts of a bank's
    # customers, by the bank's BIC8
    account_versions: dict[str, int] = {}

    def index(self, account: BankAccount) -> None:
        """Record a new bank account in the indexes."""
        self.by_iban.setdefault(account.iban, []).append(account.id)
        self.by_customer.setdefault(account.customer_id, []).append(account.id)
        if account.bic:
            self.by_bank.setdefault(account.bic[:8], []).append(account.id)
        self.touch_customer(account.customer_id)

    def touch_customer(self, customer_id: int) -> None:
        """A bank account of `customer_id` changed: every bank they hold one at sees it."""
        for bic8 in {self.bank_accounts[i].bic[:8] for i in self.by_customer.get(customer_id, ())}:
            if bic8:
                self.account_versions[bic8] = self.account_versions.get(bic8, 0) + 1

    def bank_account_of(self, customer_id: int, iban: str) -> BankAccount | None:
        """The customer's own bank account with this IBAN (a refused one only if no other)."""
        mine = [
            self.bank_accounts[i]
            for i in self.by_iban.get(iban, ())
            if self.bank_accounts[i].customer_id == customer_id
        ]
        mine.sort(key=lambda a: a.status == REFUSED)
        return mine[0] if mine else None

    def bank_of_bic(self, bic: str) -> PartnerBank | None:
        """The partner bank a BIC belongs to: BIC8 and BIC11 of one bank are the same bank."""
        if not bic:
            return None
        found = self.banks.get(bic)
        if found is not None:
            return found
        head = bic[:8]
        return next((b for b in self.banks.values() if b.bic[:8] == head), None)


def clear_hits(cleared: dict[str, list[str]], rejected: "CutOffBank") -> None:
    """A person rejected a cut-off screening proposed: its hits on the bank were not the bank,
    and stay cleared while the listed entries are unchanged (the engine's `Banking.cleared` and
    the read model's `bank_cleared` both keep this, from the same rejection)."""
    if rejected.evidence:
        known = cleared.setdefault(rejected.spec.bic, [])
        known += [k for k in map(hit_key, rejected.evidence) if k not in known]
