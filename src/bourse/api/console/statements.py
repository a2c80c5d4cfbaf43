"""The console's reconciliation queue: the bank statement lines no rule could credit, oldest
first, each with the reason it waits, and the form that resolves one: credit it to the account
the person found it belongs to, or close it without crediting (the bank returned it, it was the
exchange's own).

Resolving is the admin API's command (`ResolveStatementLine`), sent as the signed-in person
with their reason; four eyes apply by default, so it becomes a proposal a second person
approves. The engine checks the crediting as it checks any deposit (a frozen account, a
suspended country refuse it). A scoped reader sees the lines matched to customers of their
scope only.
"""

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from bourse.api.admin.banks import queued_json
from bourse.api.admin.scope import reader_scope, sees_customer
from bourse.api.console.web import (
    PREFIX,
    NotFound,
    Officer,
    OfficerDep,
    form,
    parse_id,
    reason_problem,
    redirect,
    render,
    require,
    send,
)
from bourse.api.deps import ServiceDep
from bourse.banking.rails import QueuedLine
from bourse.commands import ResolveStatementLine
from bourse.compliance.staff import Read, four_eyed
from bourse.domain.limits import INT64_MAX
from bourse.server.service import GatewayService
from bourse.view import ReadModel
from bourse.view.model import StaffView

router = APIRouter(prefix=PREFIX, include_in_schema=False)
ACTIONS = ("credit", "close")


def creditable(item: QueuedLine) -> bool:
    """Whether the line can be credited at all (the engine's rule): a credit, not a reversal, in
    a currency the exchange holds. Any other line is only closed."""
    return item.entry.credit and not item.entry.reversal and item.amount_raw is not None


def _visible(view: ReadModel, scope: StaffView | None, item: QueuedLine) -> bool:
    """A scoped reader sees the lines matched to a customer of their scope; a line matched to
    nobody is in no one's scope."""
    return scope is None or (
        bool(item.customer_id) and sees_customer(view, scope, item.customer_id)
    )


def _waiting(view: ReadModel) -> dict[int, list[int]]:
    """Queue item → the proposals resolving it that wait for a second person."""
    found: dict[int, list[int]] = {}
    for p in sorted(view.proposals.values(), key=lambda p: p.id):
        if isinstance(p.command, ResolveStatementLine):
            found.setdefault(p.command.item_id, []).append(p.id)
    return found


def _row(view: ReadModel, item: QueuedLine, waiting: list[int]) -> dict[str, Any]:
    cust = view.customers.get(item.customer_id) if item.customer_id else None
    bank = view.banks.get(item.bank)
    return {
        **queued_json(view, item),
        "bank_name": bank.name if bank is not None else item.bank,
        "creditable": creditable(item),
        "customer_name": cust.legal_name if cust is not None else "",
        "customer_accounts": list(cust.accounts) if cust is not None else [],
        "proposals": waiting,
    }


def _page(
    request: Request,
    service: GatewayService,
    who: Officer,
    *,
    errors: dict[str, str] | None = None,
    failed: int = 0,
    entered: dict[str, str] | None = None,
) -> Response:
    """The queue; `failed` is the line whose form `errors` and `entered` belong to."""
    view = service.view
    scope = reader_scope(view, who.actor)
    waiting = _waiting(view)
    items = [i for i in view.bank_queue.values() if _visible(view, scope, i)]
    rows = [_row(view, i, waiting.get(i.id, [])) for i in sorted(items, key=lambda i: i.id)]
    hidden = len(view.bank_queue) - len(items)
    return render(
        request,
        "statements_queue.html",
        who,
        status=400 if errors else 200,
        title="Reconciliation queue",
        rows=rows,
        hidden=hidden,
        scoped=scope is not None,
        errors=errors or {},
        failed=failed,
        entered=entered or {},
        may_resolve=who.may("ResolveStatementLine"),
        proposes=four_eyed(view.four_eyes, "ResolveStatementLine", who.actor),
    )


@router.get("/statements/queue")
async def queue(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.CUSTOMERS)
    return _page(request, service, who)


@router.post("/statements/queue/{item_id}/resolve")
async def resolve(request: Request, service: ServiceDep, who: OfficerDep, item_id: str) -> Response:
    """Credit the line to an account (`action=credit`, `account_id`) or close it uncredited
    (`action=close`), with a reason: under four eyes, a proposal."""
    require(who, Read.CUSTOMERS)
    view = service.view
    ident = parse_id(item_id, "statement line")
    item = view.bank_queue.get(ident)
    if item is None or not _visible(view, reader_scope(view, who.actor), item):
        raise NotFound(f"statement line {ident} is not open in the reconciliation queue")
    fields = await form(request, who)
    action = fields.get("action", "")
    account_text = fields.get("account_id", "").strip()
    reason = fields.get("reason", "").strip()
    entered = {"action": action, "account_id": account_text, "reason": reason}
    errors: dict[str, str] = {}
    account_id = 0
    if action not in ACTIONS:
        errors["action"] = "choose to credit it to an account or to close it without crediting"
    elif action == "credit":
        if not creditable(item):
            errors["action"] = (
                "this line is not a credit in a currency the exchange holds: close it "
                "without crediting"
            )
        elif not account_text:
            errors["account_id"] = "enter the number of the account to credit"
        elif (
            not account_text.isascii()
            or not account_text.isdigit()
            or len(account_text) > 19
            or int(account_text) > INT64_MAX
        ):
            errors["account_id"] = f"{account_text!r} is not an account number"
        elif int(account_text) not in view.accounts:
            errors["account_id"] = f"there is no account {account_text}"
        else:
            account_id = int(account_text)
    if problem := reason_problem(reason):
        errors["reason"] = problem
    if not errors:
        cmd = ResolveStatementLine(
            actor=who.actor,
            ts_ms=service.clock(),
            reason=reason,
            item_id=item.id,
            account_id=account_id,
        )
        sent = await send(service, cmd)
        if not sent.refusal:
            line = f"{item.entry.amount} {item.entry.currency} ({item.entry.bank_ref})"
            done = (
                f"Statement line {item.id}, {line}, is credited to account {account_id}."
                if account_id
                else f"Statement line {item.id}, {line}, is closed without crediting."
            )
            return redirect("/statements/queue", sent.notice(done))
        errors["form"] = f"Refused: {sent.refusal}. Nothing changed."
    return _page(request, service, who, errors=errors, failed=item.id, entered=entered)
