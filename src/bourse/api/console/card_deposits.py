"""The console's card deposits: each deposit a card partner notified, newest first, filtered by
state and partner, with what became of it (pending, settled, reversed, and why), and for each
pending one the form that records the partner's settlement report: settle it (credited to the
customer's account through the deposit path) or reverse it (nothing credited; the partner gives
the money back to the card).

Settling is the admin API's command (`SettleCardDeposit`), sent as the signed-in person with
their reason; the engine checks the crediting as it checks any deposit (one the deposit rules
refuse then is reversed instead). A scoped reader sees the deposits of customers of their scope
only. A card is shown by its last four digits and its expiry, never by its token.
"""

from fastapi import APIRouter, Request
from starlette.responses import Response

from bourse.api.admin.partners import deposit_json
from bourse.api.admin.scope import reader_scope, sees_account
from bourse.api.console.partners import card_text, deposit_rows, partner_name
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
from bourse.banking.cards import PENDING, REVERSED, SETTLED
from bourse.commands import SettleCardDeposit
from bourse.compliance.staff import Read, four_eyed
from bourse.server.service import GatewayService
from bourse.view import ReadModel

router = APIRouter(prefix=PREFIX, include_in_schema=False)
STATES = {  # the filter: its value in the address → the state, and its label
    "all": ("", "All"),
    "pending": (PENDING, "Pending"),
    "settled": (SETTLED, "Settled"),
    "reversed": (REVERSED, "Reversed"),
}
DECISIONS = ("settle", "reverse")


def _waiting(view: ReadModel) -> dict[int, list[int]]:
    """Card deposit → the proposals settling or reversing it that wait for a second person."""
    found: dict[int, list[int]] = {}
    for p in sorted(view.proposals.values(), key=lambda p: p.id):
        if isinstance(p.command, SettleCardDeposit):
            found.setdefault(p.command.deposit_id, []).append(p.id)
    return found


def _filter(status: str, partner: str, view: ReadModel) -> tuple[str, str]:
    """The filter as the address gives it, anything unknown read as everything."""
    status = status.strip().lower()
    partner = partner.strip().upper()
    return (
        status if status in STATES else "all",
        partner if partner in view.payment_partners else "",
    )


def _page(
    request: Request,
    service: GatewayService,
    who: Officer,
    status: str,
    partner: str,
    *,
    errors: dict[str, str] | None = None,
    failed: int = 0,
    entered: dict[str, str] | None = None,
) -> Response:
    """The deposits the filter selects; `failed` is the deposit whose form `errors` and
    `entered` belong to."""
    view = service.view
    scope = reader_scope(view, who.actor)
    wanted = STATES[status][0]
    selected = [
        deposit_json(view, d)
        for d in sorted(view.card_deposits.values(), key=lambda d: d.id, reverse=True)
        if (not wanted or d.status == wanted) and (not partner or d.partner == partner)
    ]
    rows, hidden = deposit_rows(view, scope, selected)
    pending = [r["id"] for r in rows if r["status"] == PENDING]
    waiting = _waiting(view)
    counts = {
        key: sum(
            1
            for d in view.card_deposits.values()
            if (not state or d.status == state)
            and (not partner or d.partner == partner)
            and sees_account(view, scope, d.account_id)
        )
        for key, (state, _) in STATES.items()
    }
    return render(
        request,
        "card_deposits.html",
        who,
        status=400 if errors else 200,
        title="Card deposits",
        rows=[{**r, "proposals": waiting.get(r["id"], [])} for r in rows],
        hidden=hidden,
        scoped=scope is not None,
        show=status,
        partner=partner,
        partners=[(p.code, p.name) for p in view.payment_partners.values()],
        states=[(key, label) for key, (_, label) in STATES.items()],
        counts=counts,
        errors=errors or {},
        failed=failed,
        entered=entered or {},
        formed=pending if who.may("SettleCardDeposit") else [],  # the rows with a form
        pending_shown=bool(pending),
        may_settle=who.may("SettleCardDeposit"),
        proposes=four_eyed(view.four_eyes, "SettleCardDeposit", who.actor),
    )


def _back(status: str, partner: str) -> str:
    query = f"?status={status}" + (f"&partner={partner}" if partner else "")
    return "/card-deposits" + query


@router.get("/card-deposits")
async def card_deposits(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.CUSTOMERS)
    params = request.query_params
    status, partner = _filter(params.get("status", ""), params.get("partner", ""), service.view)
    return _page(request, service, who, status, partner)


def _done(view: ReadModel, deposit_id: int, settled: bool) -> str:
    """What became of the deposit, in a sentence."""
    d = view.card_deposits[deposit_id]
    shown = deposit_json(view, d)
    what = (
        f"Card deposit {d.id}, {shown['amount']} {d.currency} ({partner_name(view, d.partner)} "
        f"{card_text(view, d.card_id)}, payment {d.partner_ref}),"
    )
    if d.status == SETTLED:
        return f"{what} is settled: credited to account {d.account_id}."
    if settled:
        return f"{what} could not be credited and is reversed: {d.reason}"
    return (
        f"{what} is reversed: nothing was credited; the partner gives the money back to the card."
    )


@router.post("/card-deposits/{deposit_id}/settlement")
async def settle(
    request: Request, service: ServiceDep, who: OfficerDep, deposit_id: str
) -> Response:
    """Settle (`decision=settle`) or reverse (`decision=reverse`) a pending card deposit as the
    partner's settlement report says, with a reason: under four eyes, a proposal."""
    require(who, Read.CUSTOMERS)
    view = service.view
    ident = parse_id(deposit_id, "card deposit")
    deposit = view.card_deposits.get(ident)
    if deposit is None or not sees_account(view, reader_scope(view, who.actor), deposit.account_id):
        raise NotFound(f"there is no card deposit {ident}")
    fields = await form(request, who)
    status, partner = _filter(fields.get("status", ""), fields.get("partner", ""), view)
    decision = fields.get("decision", "")
    reason = fields.get("reason", "").strip()
    entered = {"reason": reason}
    errors: dict[str, str] = {}
    if decision not in DECISIONS:
        errors["form"] = "choose to settle the deposit or to reverse it"
    if problem := reason_problem(reason):
        errors["reason"] = problem
    if deposit.status != PENDING:
        errors["form"] = (
            f"card deposit {ident} is {deposit.status.lower()} already: nothing changed"
        )
    if not errors:
        settled = decision == "settle"
        cmd = SettleCardDeposit(
            actor=who.actor,
            ts_ms=service.clock(),
            reason=reason,
            deposit_id=ident,
            settled=settled,
        )
        sent = await send(service, cmd)
        if not sent.refusal:
            done = "" if sent.proposal_id else _done(service.view, ident, settled)
            return redirect(_back(status, partner), sent.notice(done))
        errors["form"] = f"Refused: {sent.refusal}. Nothing changed."
    return _page(
        request, service, who, status, partner, errors=errors, failed=ident, entered=entered
    )
