"""Fiat rails in the admin API: partner banks, customers' own bank accounts, bank statements
and the reconciliation queue. Every change is an engine command stamped with the staff member
and their reason; codes (BIC, IBAN, country) are checked here so that a typo is a 400 naming it.
"""

from typing import Any

import msgspec
from fastapi import APIRouter, Query, Request
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from starlette.responses import Response

from bourse.api.admin.compliance import (
    REASON_MAX,
    REASON_PATTERN,
    Reason,
    answered,
    body_doc,
    first,
    one_line,
    parse,
)
from bourse.api.admin.errors import answer, bad_request, not_found
from bourse.api.admin.four_eyes import (
    execute_or_propose,
    is_four_eyed,
    propose,
    screen_approved,
)
from bourse.api.admin.scope import reader_scope, sees_customer
from bourse.api.binance.replies import ok
from bourse.api.deps import OperatorDep, ServiceDep
from bourse.banking.rails import BankAccount, PartnerBank, QueuedLine
from bourse.banking.statement import StatementProblem
from bourse.banking.statement_import import import_commands, read_statement
from bourse.commands import (
    AddBankAccount,
    DecideBankAccount,
    DefineBank,
    ResolveStatementLine,
    SuspendBank,
)
from bourse.compliance.countries import country_problem
from bourse.domain.money import to_str
from bourse.events import BankAccountAdded, Outcome, StatementImported, StatementLineQueued
from bourse.view.model import ReadModel
from bourse.workers.payees import PayeeError, bank_destination, screened

router = APIRouter(prefix="/admin/v1", tags=["banks"])
STATEMENT_MAX_BYTES = 64 * 2**20  # a day's statement of a busy account is a few MB


def bic_of(text: str, what: str = "BIC") -> str:
    try:
        return str(BIC(text.strip()))
    except SchwiftyException as exc:
        raise bad_request(f"{what} {text.strip()!r} is not valid: {exc}") from None


def iban_of(text: str, what: str = "IBAN") -> str:
    try:
        return str(IBAN(text).compact)
    except SchwiftyException as exc:
        raise bad_request(f"{what} {text.strip()!r} is not valid: {exc}") from None


def bank_json(bank: PartnerBank) -> dict[str, Any]:
    return {
        "bic": bank.bic,
        "name": bank.name,
        "country": bank.country,
        "currencies": list(bank.currencies),
        "serves": list(bank.serves),
        "accounts": dict(bank.accounts),
        "status": bank.status,
        "cutOffId": bank.cutoff_id,
        "cutOffFromMs": bank.cut_from_ms,
    }


def bank_account_json(account: BankAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "customerId": account.customer_id,
        "iban": account.iban,
        "bic": account.bic,
        "holder": account.holder,
        "status": account.status,
    }


def queued_json(view: ReadModel, item: QueuedLine) -> dict[str, Any]:
    entry = item.entry
    amount = entry.amount
    if item.amount_raw is not None and entry.currency in view.assets:
        amount = to_str(item.amount_raw, view.assets[entry.currency])
    return {
        "id": item.id,
        "bank": item.bank,
        "statementId": item.statement_id,
        "bankRef": entry.bank_ref,
        "booked": entry.booked,
        "credit": entry.credit,
        "reversal": entry.reversal,
        "amount": amount,
        "currency": entry.currency,
        "sender": entry.counterparty_name,
        "senderIban": entry.counterparty_iban,
        "remittance": entry.remittance,
        "reason": item.reason,
        "customerId": item.customer_id,
    }


# --- partner banks ----------------------------------------------------------------------------


class BankBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    country: str
    currencies: list[str]
    serves: list[str]
    reason: Reason
    accounts: dict[str, str] = {}  # currency → the exchange's IBAN at this bank


@router.get(
    "/banks", summary="List partner banks", description="Each bank, as defined, and its state."
)
async def list_banks(service: ServiceDep, actor: OperatorDep) -> Response:
    return ok([bank_json(b) for b in service.view.banks.values()])


@router.put(
    "/banks/{bic}",
    summary="Define or change a partner bank",
    description=(
        "A bank by its BIC (ISO 9362, checked): the fiat `currencies` it pays and receives, the "
        "countries of residence it `serves`, and the exchange's own `accounts` at it where "
        "customers deposit (currency → IBAN, checked). Its state (active, suspended, cut off) "
        "changes by commands of their own."
    ),
)
async def define_bank(
    service: ServiceDep,
    actor: OperatorDep,
    bic: str,
    body: dict[str, Any] = body_doc(
        {
            "name": "Commerzbank",
            "country": "DE",
            "currencies": ["EUR"],
            "serves": ["DE", "AT", "FR"],
            "accounts": {"EUR": "DE89370400440532013000"},
            "reason": "partner agreement signed 2026-11-30",
        },
        BankBody,
    ),
) -> Response:
    req = parse(body, BankBody)
    code = bic_of(bic)
    one_line("name", req.name)
    if not req.name.strip():
        raise bad_request("a bank needs a name")
    for field, values in (("currencies", req.currencies), ("serves", req.serves)):
        if len({v.upper() for v in values}) != len(values):
            raise bad_request(f"{field} names one more than once: {', '.join(values)}")
    for country in (req.country, *req.serves):
        if problem := country_problem(country):
            raise bad_request(problem)
    accounts = tuple(
        (currency, iban_of(iban, f"{currency} account")) for currency, iban in req.accounts.items()
    )
    cmd = DefineBank(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        bic=code,
        name=req.name.strip(),
        country=req.country.upper(),
        currencies=tuple(req.currencies),
        serves=tuple(c.upper() for c in req.serves),
        accounts=accounts,
    )
    if is_four_eyed(service, cmd):
        return await propose(service, cmd)
    outcome = await service.execute(cmd)
    await screen_approved(service, cmd, outcome)  # a hit on its name or BIC proposes a cut-off
    return answered(outcome, lambda o: bank_json(service.view.banks[code]))


class SuspensionBody(msgspec.Struct, forbid_unknown_fields=True):
    suspended: bool
    reason: Reason


@router.put(
    "/banks/{bic}/suspension",
    summary="Suspend a partner bank, or resume it",
    description=(
        "`suspended`: no transfer goes through the bank for now (no payment file, no withdrawal "
        "to an account at it; its statement lines queue), until it is resumed (`false`). "
        "Nothing pending is touched. A cut-off (`/banks/{bic}/cut-off`) is for good."
    ),
)
async def suspend_bank(
    service: ServiceDep,
    actor: OperatorDep,
    bic: str,
    body: dict[str, Any] = body_doc(
        {"suspended": True, "reason": "the bank's payment system is down"}, SuspensionBody
    ),
) -> Response:
    req = parse(body, SuspensionBody)
    code = bic_of(bic)
    cmd = SuspendBank(
        actor=actor, ts_ms=service.clock(), reason=req.reason, bic=code, suspended=req.suspended
    )
    return await execute_or_propose(service, cmd, lambda o: bank_json(service.view.banks[code]))


# --- customers' bank accounts -----------------------------------------------------------------


class BankAccountBody(msgspec.Struct, forbid_unknown_fields=True):
    iban: str
    holder: str
    reason: Reason
    bic: str = ""  # if not the one the IBAN's bank code names


@router.post(
    "/customers/{customer_id}/bank-accounts",
    summary="Add a customer's own bank account",
    description=(
        "The IBAN is checked (checksum, length, country) and its BIC taken from it unless "
        "given. Before first use the holder's name and the BIC are screened against the lists "
        "in force: an account with hits is `HELD` until a compliance officer decides "
        "(`POST /admin/v1/bank-accounts/{id}/decision`); one without is `VERIFIED`. A statement "
        "line is credited to a customer only from a verified account of theirs."
    ),
)
async def add_bank_account(
    service: ServiceDep,
    actor: OperatorDep,
    customer_id: int,
    body: dict[str, Any] = body_doc(
        {"iban": "DE67 1007 0000 0012 3456 78", "holder": "Anna Müller", "reason": "KYC call"},
        BankAccountBody,
    ),
) -> Response:
    req = parse(body, BankAccountBody)
    if customer_id not in service.view.customers:
        raise not_found("customer", customer_id)
    if not req.holder.strip():
        raise bad_request("a bank account names its holder, as the bank knows them")
    iban_of(req.iban)  # the message names an IBAN, not a payment's destination
    try:
        bank = bank_destination(req.iban, req.bic)
    except PayeeError as exc:
        raise bad_request(str(exc)) from None
    cmd = AddBankAccount(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        customer_id=customer_id,
        iban=bank.iban,
        bic=bank.bic,
        holder=req.holder.strip(),
        screening=await screened(service, req.holder, bank),
    )

    def added(outcome: Any) -> dict[str, Any]:
        event = first(outcome, BankAccountAdded)
        return {**bank_account_json(service.view.bank_accounts[event.bank_account_id]),
                "hits": list(event.hits)}  # fmt: skip

    return await execute_or_propose(service, cmd, added)


@router.get(
    "/bank-accounts",
    summary="List customers' bank accounts",
    description="All of them, or one customer's (`customer`).",
)
async def list_bank_accounts(
    service: ServiceDep, actor: OperatorDep, customer: int | None = None
) -> Response:
    view = service.view
    member = reader_scope(view, actor)  # a regional manager or auditor: their scope's only
    if customer is not None and customer not in view.customers:  # never answered as if empty
        raise not_found("customer", customer)
    return ok(
        [
            bank_account_json(a)
            for a in view.bank_accounts.values()
            if (customer is None or a.customer_id == customer)
            and sees_customer(view, member, a.customer_id)
        ]
    )


class DecisionBody(msgspec.Struct, forbid_unknown_fields=True):
    verify: bool
    reason: Reason


@router.post(
    "/bank-accounts/{bank_account_id}/decision",
    summary="Decide a bank account its screening held",
    description="`verify`: the hits were not this holder (the account becomes usable); else it "
    "is refused and never used.",
)
async def decide_bank_account(
    service: ServiceDep,
    actor: OperatorDep,
    bank_account_id: int,
    body: dict[str, Any] = body_doc(
        {"verify": True, "reason": "different date of birth than the listed person"}, DecisionBody
    ),
) -> Response:
    req = parse(body, DecisionBody)
    cmd = DecideBankAccount(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        bank_account_id=bank_account_id,
        verify=req.verify,
    )
    return await execute_or_propose(
        service, cmd, lambda o: bank_account_json(service.view.bank_accounts[bank_account_id])
    )


# --- statements and the reconciliation queue --------------------------------------------------


@router.post(
    "/statements",
    summary="Import a bank statement",
    description=(
        "The request body is the statement file as the bank sent it: ISO 20022 camt.053 (XML) "
        "or SWIFT MT940. The partner bank is the one keeping the account the statement is for "
        "(or `bank`, a BIC). Each credit line is matched to a customer by their deposit "
        "reference and the sending IBAN and credited, citing the line; every other line goes "
        "to the reconciliation queue with its reason. A line imported before (same bank, same "
        "bank reference) is left alone, so importing a file twice credits nothing twice. A file "
        "that cannot be read is refused whole, naming the line or element."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/xml": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_statement(
    request: Request,
    service: ServiceDep,
    actor: OperatorDep,
    reason: str = Query(
        min_length=1,
        max_length=REASON_MAX,
        pattern=REASON_PATTERN,
        description="Why it is imported (journaled with it).",
    ),
    bank: str = Query("", description="The partner bank's BIC, if not found by the account."),
) -> Response:
    data = await request.body()
    if len(data) > STATEMENT_MAX_BYTES:
        raise bad_request(f"a statement file is at most {STATEMENT_MAX_BYTES} bytes")
    try:
        statement = read_statement(data)
    except StatementProblem as exc:
        raise bad_request(str(exc)) from None
    view = service.view
    code = bic_of(bank) if bank.strip() else ""
    if not code:
        code = next(
            (b.bic for b in view.banks.values() if statement.account_iban in b.accounts.values()),
            "",
        )
    if not code:
        raise bad_request(
            f"statement {statement.statement_id} is for {statement.account_iban}, which is no "
            "account of the exchange at a partner bank"
        )
    try:
        parts = import_commands(
            statement,
            code,
            view.assets,
            view.fiat_assets,
            actor=actor,
            ts_ms=service.clock(),
            reason=reason,
        )
    except StatementProblem as exc:
        raise bad_request(str(exc)) from None
    if is_four_eyed(service, parts[0]):  # one proposal, approved as one command
        whole = msgspec.structs.replace(
            parts[0], lines=tuple(line for p in parts for line in p.lines)
        )
        return await propose(service, whole)
    # in parts of IMPORT_CHUNK lines, one after the other, so matching goes on between them;
    # the first refused (an unknown bank) stops the rest: what was booked stays booked, and a
    # second import of the file books only what the first did not (bank references)
    outcomes: list[Outcome] = []
    for part in parts:
        outcome = await service.execute(part)
        if outcome.refused and not outcomes:
            return answer(outcome)
        if outcome.refused:  # after other parts: say what was booked, and what refused the rest
            body = {**_imported(outcomes), "refused": msgspec.to_builtins(outcome.events)}
            return Response(msgspec.json.encode(body), 409, media_type="application/json")
        outcomes.append(outcome)
    return ok(_imported(outcomes))


def _imported(outcomes: list[Outcome]) -> dict[str, Any]:
    summaries = [first(o, StatementImported) for o in outcomes]
    queued = [e for o in outcomes for e in o.events if isinstance(e, StatementLineQueued)]
    head = summaries[0]
    done = {
        "bank": head.bank,
        "statementId": head.statement_id,
        "format": head.format,
        "lines": sum(s.lines for s in summaries),
        "credited": sum(s.credited for s in summaries),
        "queued": sum(s.queued for s in summaries),
        "alreadyBooked": sum(s.already_booked for s in summaries),
        "payouts": sum(s.payouts for s in summaries),
        "queue": [
            {"id": e.item_id, "bankRef": e.entry.bank_ref, "reason": e.reason} for e in queued
        ],
        "parts": len(outcomes),
        "seq": outcomes[-1].seq,
    }
    return done


@router.get(
    "/statements/queue",
    summary="The reconciliation queue",
    description="Statement lines no rule could credit, oldest first, each with its reason.",
)
async def reconciliation_queue(service: ServiceDep, actor: OperatorDep) -> Response:
    view = service.view
    member = reader_scope(view, actor)  # a scoped reader: lines of their scope's customers only
    return ok(
        [
            queued_json(view, item)
            for item in view.bank_queue.values()
            if member is None
            or (item.customer_id and sees_customer(view, member, item.customer_id))
        ]
    )


class ResolveBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    account_id: int = 0  # credit the line to this account; 0: close it without crediting


@router.post(
    "/statements/queue/{item_id}/resolve",
    summary="Resolve a statement line of the queue",
    description=(
        "Credit the line to `account_id` (a person found whose it is; the deposit's own rules "
        "apply, as a frozen account or a suspended country refuse it) or, without one, close "
        "it uncredited (the bank returned it, it was ours)."
    ),
)
async def resolve_line(
    service: ServiceDep,
    actor: OperatorDep,
    item_id: int,
    body: dict[str, Any] = body_doc(
        {"account_id": 7, "reason": "customer's letter: reference forgotten, ticket 8812"},
        ResolveBody,
    ),
) -> Response:
    req = parse(body, ResolveBody)
    if item_id not in service.view.bank_queue:
        raise not_found("open statement line", item_id)
    cmd = ResolveStatementLine(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        item_id=item_id,
        account_id=req.account_id,
    )
    return await execute_or_propose(service, cmd)
