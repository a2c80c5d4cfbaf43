"""Fiat rails: partner banks, customers' own bank accounts, and statements matched to customers.

A credit line of a statement is a customer's deposit when it is unambiguous: its remittance
names one customer's deposit reference (check digits agreeing), it was sent from a bank account
of that customer's that screening verified, by a sender whose name is the holder's, in the
statement account's currency, not from a bank that is cut off, and it is not a reversal. Then it
is credited citing the line (`tx_ref` = "BIC:bank reference"). Anything else goes to the
reconciliation queue with the reason, for a person to decide. A line booked once (same bank,
same bank reference) is never booked again, whichever file or format brings it.
"""

from bourse.banking.names import names_agree
from bourse.banking.rails import (
    ACTIVE,
    HELD,
    OPEN,
    REFUSED,
    RESOLVED,
    SUSPENDED,
    VERIFIED,
    BankAccount,
    PartnerBank,
    QueuedLine,
    line_key,
    withdrawal_of,
)
from bourse.banking.references import find_reference
from bourse.banking.statement import StatementEntry
from bourse.commands import (
    AddBankAccount,
    DecideBankAccount,
    DefineBank,
    Deposit,
    ImportStatement,
    ResolveStatementLine,
    SuspendBank,
)
from bourse.commands.banks import StatementLine
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine import funds, payouts
from bourse.engine.gate import deposit_refusal
from bourse.engine.output import Output
from bourse.engine.screening import unscreened
from bourse.engine.state import EngineState
from bourse.events import (
    BankAccountAdded,
    BankAccountDecided,
    BankDefined,
    BankSuspended,
    StatementImported,
    StatementLineQueued,
    StatementLineResolved,
)


def _invalid(text: str) -> Refusal:
    return Refusal(RejectCode.INVALID_PARAMETER, text)


def define_bank(state: EngineState, out: Output, cmd: DefineBank) -> Refusal | None:
    accounts = dict(cmd.accounts)
    unknown = [c for c in (*cmd.currencies, *accounts) if c not in state.fiat_assets]
    if unknown:
        return _invalid(
            f"bank {cmd.bic}: {', '.join(sorted(set(unknown)))} is not a fiat asset of the "
            f"exchange (fiat assets: {', '.join(sorted(state.fiat_assets)) or 'none'})"
        )
    if not cmd.currencies or not cmd.serves:
        return _invalid(f"bank {cmd.bic} must pay at least one currency and serve one country")
    unpaid = sorted(set(accounts) - set(cmd.currencies))
    if unpaid:
        return _invalid(
            f"bank {cmd.bic} keeps an account in {', '.join(unpaid)} but does not pay it"
        )
    banking = state.banking
    bank = banking.banks.get(cmd.bic)
    if bank is None:
        bank = banking.banks[cmd.bic] = PartnerBank(
            bic=cmd.bic,
            name=cmd.name,
            country=cmd.country,
            currencies=cmd.currencies,
            serves=cmd.serves,
            accounts=accounts,
        )
    else:
        bank.name, bank.country = cmd.name, cmd.country
        bank.currencies, bank.serves, bank.accounts = cmd.currencies, cmd.serves, accounts
    out.events.append(
        BankDefined(
            bic=bank.bic,
            name=bank.name,
            country=bank.country,
            currencies=bank.currencies,
            serves=bank.serves,
            accounts=dict(bank.accounts),
            status=bank.status,
            reason=cmd.reason,
        )
    )
    return None


def suspend(state: EngineState, out: Output, cmd: SuspendBank) -> Refusal | None:
    bank = state.banking.banks.get(cmd.bic)
    if bank is None:
        return _invalid(f"{cmd.bic} is not a partner bank")
    if bank.closed_as(cmd.ts_ms) == "cut off":
        return _invalid(f"{bank.name} ({bank.bic}) is cut off: it neither suspends nor resumes")
    wanted = SUSPENDED if cmd.suspended else ACTIVE
    if bank.status == wanted:
        return Refusal(RejectCode.NO_CHANGE, f"{bank.name} ({bank.bic}) is {wanted} already")
    bank.status = wanted
    out.events.append(BankSuspended(bic=bank.bic, status=wanted, reason=cmd.reason))
    return None


def add_bank_account(state: EngineState, out: Output, cmd: AddBankAccount) -> Refusal | None:
    if cmd.customer_id not in state.customers:
        return Refusal(RejectCode.UNKNOWN_CUSTOMER, f"customer {cmd.customer_id} does not exist")
    if not cmd.holder.strip():
        return _invalid("a bank account names its holder, as the bank knows them")
    banking = state.banking
    bank = banking.bank_of_bic(cmd.bic)
    if bank is not None and bank.closed_as(cmd.ts_ms) == "cut off":  # suspended: may resume
        return Refusal(
            RejectCode.BANK_CUT_OFF,
            f"{cmd.iban} is at {bank.name} ({bank.bic}), which is cut off: an account there "
            "cannot be used",
        )
    for known_id in banking.by_iban.get(cmd.iban, ()):
        known = banking.bank_accounts[known_id]
        if known.status != REFUSED:
            owner = "this customer" if known.customer_id == cmd.customer_id else "another"
            return _invalid(
                f"IBAN {cmd.iban} is already bank account {known.id}, of {owner} customer"
            )
    if refusal := unscreened(state, f"holder {cmd.holder.strip()!r}", cmd.screening):
        return refusal
    hits = () if cmd.screening is None else tuple(ev.text() for ev in cmd.screening.hits)
    account = BankAccount(
        id=banking.next_bank_account_id,
        customer_id=cmd.customer_id,
        iban=cmd.iban,
        bic=cmd.bic,
        holder=cmd.holder.strip(),
        status=HELD if hits else VERIFIED,
    )
    banking.next_bank_account_id += 1
    banking.bank_accounts[account.id] = account
    banking.index(account)
    out.events.append(
        BankAccountAdded(
            bank_account_id=account.id,
            customer_id=account.customer_id,
            iban=account.iban,
            bic=account.bic,
            holder=account.holder,
            status=account.status,
            hits=hits,
        )
    )
    return None


def decide_bank_account(state: EngineState, out: Output, cmd: DecideBankAccount) -> Refusal | None:
    account = state.banking.bank_accounts.get(cmd.bank_account_id)
    if account is None or account.status != HELD:
        return _invalid(f"bank account {cmd.bank_account_id} is not held for a decision")
    account.status = VERIFIED if cmd.verify else REFUSED
    state.banking.touch_customer(account.customer_id)
    out.events.append(
        BankAccountDecided(
            bank_account_id=account.id,
            customer_id=account.customer_id,
            status=account.status,
            reason=cmd.reason,
        )
    )
    return None


def import_statement(state: EngineState, out: Output, cmd: ImportStatement) -> Refusal | None:
    banking = state.banking
    bank = banking.banks.get(cmd.bank)
    if bank is None:
        return _invalid(f"{cmd.bank} is not a partner bank")
    currency = next((c for c, iban in bank.accounts.items() if iban == cmd.account_iban), None)
    if currency is None:
        return _invalid(
            f"statement {cmd.statement_id} is for {cmd.account_iban}, which is not one of the "
            f"exchange's accounts at {bank.name} ({bank.bic})"
        )
    for line in cmd.lines:
        if line.amount_raw is not None and (
            line.amount_raw <= 0 or line.entry.currency not in state.fiat_assets
        ):
            return _invalid(
                f"statement {cmd.statement_id} line {line.entry.position}: an amount in raw "
                "units must be positive and of a fiat asset "
                f"({line.amount_raw} {line.entry.currency})"
            )
    refs = [line.entry.bank_ref for line in cmd.lines]
    if len(set(refs)) != len(refs):
        return _invalid(f"statement {cmd.statement_id} books one bank reference twice")
    credited = queued = already = paid = 0
    for line in cmd.lines:
        key = line_key(bank.bic, line.entry.bank_ref)
        if key in banking.booked:
            already += 1
            continue
        named = withdrawal_of(line.entry.end_to_end_id)
        payout = banking.payouts.get(named)
        if payout is not None and banking.files[payout.file_id].bank != bank.bic:
            payout = None  # sent by another bank: this line is not its settlement
        if named in banking.rerouted and banking.rerouted[named] == bank.bic:
            problem = (
                f"it names withdrawal {named}, which the cut-off of {bank.name} took back "
                "from its payment file: a person finds out what the bank did with it"
            )
            customer_id = 0
        elif payout is not None:  # one of our payouts, settled or returned by the bank
            problem = payouts.book(state, out, line, payout, key, cmd.actor)
            if not problem:
                banking.booked[key] = f"{payout.status.lower()}: withdrawal {payout.withdrawal_id}"
                paid += 1
                continue
            customer_id = state.accounts[payout.account_id].customer_id
        else:
            customer_id, problem = _match(state, bank, currency, line, cmd.ts_ms)
        if not problem:
            account_id = _deposit_account(state, customer_id)
            refusal = _credit(state, out, cmd, line, account_id, key)
            if refusal is None:
                banking.booked[key] = f"credited to account {account_id}"
                credited += 1
                continue
            problem = f"the deposit to account {account_id} was refused: {refusal.reason}"
        item = _queue(state, out, cmd, line, problem, customer_id)
        banking.booked[key] = f"queued as item {item.id}"
        queued += 1
    out.events.append(
        StatementImported(
            bank=bank.bic,
            statement_id=cmd.statement_id,
            account_iban=cmd.account_iban,
            format=cmd.format,
            lines=len(cmd.lines),
            credited=credited,
            queued=queued,
            already_booked=already,
            payouts=paid,
        )
    )
    return None


def _match(
    state: EngineState, bank: PartnerBank, currency: str, line: StatementLine, ts_ms: int
) -> tuple[int, str]:
    """The customer a line is for, and why it cannot be credited to them ("" if it can)."""
    entry = line.entry
    if not entry.credit:
        kind = "a reversal of an earlier credit" if entry.reversal else "money going out"
        return 0, f"{kind}: no payment of the exchange is matched to it automatically"
    if entry.reversal:
        return 0, "a reversed debit: a person decides what it gives back"
    if line.amount_raw is None or entry.currency != currency:
        return 0, (
            f"foreign currency: {entry.amount} {entry.currency} on the exchange's {currency} "
            "account"
        )
    if closed := bank.closed_as(ts_ms):
        return 0, f"received at {bank.name} ({bank.bic}), which is {closed}"
    sender_bank = state.banking.bank_of_bic(line.sender_bic)
    if sender_bank is not None and (closed := sender_bank.closed_as(ts_ms)):
        return 0, f"sent from {sender_bank.name} ({sender_bank.bic}), which is {closed}"
    found = find_reference(entry.remittance)
    by_iban = [
        state.banking.bank_accounts[i]
        for i in state.banking.by_iban.get(entry.counterparty_iban, ())
    ]
    if not found.customer_id:
        owners = sorted({a.customer_id for a in by_iban})
        hint = f"; the sending IBAN is customer {owners[0]}'s" if len(owners) == 1 else ""
        return (owners[0] if len(owners) == 1 else 0), f"{found.problem}{hint}"
    customer_id = found.customer_id
    if customer_id not in state.customers:
        return 0, f"its reference names customer {customer_id}, who does not exist"
    mine = [a for a in by_iban if a.customer_id == customer_id]
    if not mine:
        return customer_id, (
            f"sent from {entry.counterparty_iban or 'an account the statement does not name'}, "
            f"which is not a bank account of customer {customer_id}"
        )
    account = mine[0]
    if account.status != VERIFIED:
        return customer_id, f"sent from bank account {account.id}, which is {account.status}"
    if not names_agree(entry.counterparty_name, account.holder):
        return customer_id, (
            f"the sender {entry.counterparty_name!r} is not the account's holder {account.holder!r}"
        )
    if not _deposit_account(state, customer_id):
        return customer_id, f"customer {customer_id} has no account to credit"
    return customer_id, ""


def _deposit_account(state: EngineState, customer_id: int) -> int:
    """A customer's fiat arrives on their first account (0: they have none)."""
    accounts = state.customers[customer_id].accounts
    return accounts[0] if accounts else 0


def _credit(
    state: EngineState,
    out: Output,
    cmd: ImportStatement | ResolveStatementLine,
    line: StatementLine | QueuedLine,
    account_id: int,
    key: str,
) -> Refusal | None:
    """A deposit through the one deposit path, so the gate's rules (a frozen or held customer,
    a policy closing fiat deposits) decide here as for any deposit."""
    assert line.amount_raw is not None
    deposit = Deposit(
        actor=cmd.actor,
        ts_ms=cmd.ts_ms,
        account_id=account_id,
        asset=line.entry.currency,
        amount_raw=line.amount_raw,
        tx_ref=key,
        reason=f"bank statement line {key}: {cmd.reason}",
    )
    return deposit_refusal(state, deposit) or funds.deposit(state, out, deposit)


def _queue(
    state: EngineState,
    out: Output,
    cmd: ImportStatement,
    line: StatementLine,
    reason: str,
    customer_id: int,
) -> QueuedLine:
    banking = state.banking
    item = QueuedLine(
        id=banking.next_item_id,
        bank=cmd.bank,
        statement_id=cmd.statement_id,
        entry=line.entry,
        amount_raw=line.amount_raw,
        reason=reason,
        customer_id=customer_id,
    )
    banking.next_item_id += 1
    banking.queue[item.id] = item
    out.events.append(
        StatementLineQueued(
            item_id=item.id,
            bank=item.bank,
            statement_id=item.statement_id,
            entry=item.entry,
            amount_raw=item.amount_raw,
            reason=reason,
            customer_id=customer_id,
        )
    )
    return item


def resolve_line(state: EngineState, out: Output, cmd: ResolveStatementLine) -> Refusal | None:
    item = state.banking.queue.get(cmd.item_id)
    if item is None or item.status != OPEN:
        return _invalid(f"statement line item {cmd.item_id} is not open in the queue")
    if cmd.account_id:
        refusal = _crediting_refusal(item)
        if refusal is None:
            key = line_key(item.bank, item.entry.bank_ref)
            refusal = _credit(state, out, cmd, item, cmd.account_id, key)
        if refusal is not None:
            return refusal
    item.status = RESOLVED
    out.events.append(
        StatementLineResolved(item_id=item.id, account_id=cmd.account_id, reason=cmd.reason)
    )
    return None


def _crediting_refusal(item: QueuedLine) -> Refusal | None:
    entry: StatementEntry = item.entry
    if not entry.credit or entry.reversal or item.amount_raw is None:
        return _invalid(
            f"item {item.id} is not a credit in a currency the exchange holds: close it "
            "without crediting"
        )
    return None  # the account itself is the deposit's to check (gate.deposit_refusal)
