"""The console's customers: find one by id or name, and the page a compliance officer reads
before a decision about them: the KYC record, accounts with balances, permissions and freezes,
open orders, pending withdrawals, screening alerts and their decisions, the jurisdiction
policies that name them and what each restricts, and what waits for a second person's approval.

Freezing and unfreezing an account are the same commands the admin API sends
(`FreezeAccount`, `UnfreezeAccount`), sent as the signed-in person: under four eyes they become
proposals. Everything shown comes from the read model, and the alerts' decisions (who, why)
from the SQL store.
"""

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from bourse.api.admin.compliance import REASON_MAX
from bourse.api.admin.scope import reader_scope, sees_customer
from bourse.api.binance.replies import ApiError
from bourse.api.console.dashboard import rules_text
from bourse.api.console.web import (
    PREFIX,
    Forbidden,
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
from bourse.commands import FreezeAccount, UnfreezeAccount
from bourse.compliance.alerts import CONFIRMED, DELISTING, HIT
from bourse.compliance.evidence import score_text
from bourse.compliance.policy import Basis, Capability
from bourse.compliance.staff import Read
from bourse.domain.money import to_str
from bourse.engine.jurisdiction import customer_refusal, policy_permissions, policy_refusal
from bourse.server.service import GatewayService
from bourse.store import compliance_queries, screening_queries
from bourse.view import ReadModel
from bourse.view.model import AccountView, CustomerView, OrderView

KYC_LABELS = {
    "legalName": "legal name",
    "dateOfBirth": "date of birth",
    "nationality": "nationality",
    "residence": "residence",
    "kycLevel": "KYC level",
    "riskTier": "risk tier",
    "venue": "venue",
}
router = APIRouter(prefix=PREFIX, include_in_schema=False)
MATCHES = 50  # search results shown; the search stops there
QUERY_MAX = 100  # characters of a search
ORDERS_SHOWN = 50  # open orders shown per account
ALERTS_SHOWN = 50  # the customer's most recent screening alerts
EVIDENCE_MAX = REASON_MAX
_CAPABILITIES = {
    Capability.ONBOARDING: "Onboarding",
    Capability.TRADING: "Trading",
    Capability.CRYPTO_DEPOSIT: "Crypto deposits",
    Capability.CRYPTO_WITHDRAWAL: "Crypto withdrawals",
    Capability.FIAT_DEPOSIT: "Fiat deposits",
    Capability.FIAT_WITHDRAWAL: "Fiat withdrawals",
}


# --- ids, scope ---------------------------------------------------------------------------


def _customer(view: ReadModel, who: Officer, text: str) -> CustomerView:
    """The customer a path names, if the signed-in person may read them."""
    require(who, Read.CUSTOMERS)
    customer_id = parse_id(text, "customer")
    cust = view.customers.get(customer_id)
    if cust is None:
        raise NotFound(f"there is no customer {customer_id}")
    member = reader_scope(view, who.actor)
    if not sees_customer(view, member, customer_id):
        assert member is not None  # unscoped readers see everyone
        scope = ", ".join([*member.venues, *member.countries])
        raise Forbidden(
            f"{member.name} reads customers within {scope} only, and customer {customer_id} "
            f"(resident in {cust.residence}, venue {cust.venue or 'none'}) is not"
        )
    return cust


def _account(view: ReadModel, cust: CustomerView, text: str) -> AccountView:
    account_id = parse_id(text, "account")
    if account_id not in cust.accounts:
        raise NotFound(f"customer {cust.id} has no account {account_id}")
    return view.accounts[account_id]


# --- search -------------------------------------------------------------------------------


@router.get("/customers")
async def search(request: Request, service: ServiceDep, who: OfficerDep, q: str = "") -> Response:
    """Customers by id or by a part of their legal name (any case), at most MATCHES of them;
    without a query, the first MATCHES in onboarding order. Scoped staff find only theirs."""
    require(who, Read.CUSTOMERS)
    view = service.view
    query = q.strip()
    if len(query) > QUERY_MAX:
        return render(
            request,
            "customers.html",
            who,
            status=400,
            title="Customers",
            q=q[:QUERY_MAX],
            rows=[],
            more=False,
            limit=MATCHES,
            errors={"q": f"A search is at most {QUERY_MAX} characters."},
        )
    member = reader_scope(view, who.actor)
    found: list[CustomerView] = []
    by_id = view.customers.get(int(query)) if query.isascii() and query.isdigit() else None
    if by_id is not None and len(query) <= 19 and sees_customer(view, member, by_id.id):
        found.append(by_id)
    needle = query.casefold()
    more = False
    for cust in view.customers.values():
        if needle and needle not in cust.legal_name.casefold():
            continue
        if cust is by_id or not sees_customer(view, member, cust.id):
            continue
        if len(found) == MATCHES:
            more = True
            break
        found.append(cust)
    rows = [_row(view, c) for c in found]
    return render(
        request,
        "customers.html",
        who,
        title="Customers",
        q=query,
        rows=rows,
        more=more,
        limit=MATCHES,
        errors={},
    )


def _row(view: ReadModel, cust: CustomerView) -> dict[str, Any]:
    frozen = sum(view.accounts[a].frozen for a in cust.accounts)
    return {
        "id": cust.id,
        "name": cust.legal_name,
        "residence": cust.residence,
        "nationality": cust.nationality,
        "venue": cust.venue,
        "kyc_level": cust.kyc_level,
        "risk_tier": cust.risk_tier.value.lower(),
        "held": bool(cust.held_by),
        "frozen": frozen,
        "accounts": len(cust.accounts),
    }


# --- the customer's page ------------------------------------------------------------------


@router.get("/customers/{customer_id}")
async def customer_page(
    request: Request, service: ServiceDep, who: OfficerDep, customer_id: str
) -> Response:
    cust = _customer(service.view, who, customer_id)
    return await _page(request, service, who, cust)


async def _page(
    request: Request,
    service: GatewayService,
    who: Officer,
    cust: CustomerView,
    *,
    status: int = 200,
    errors: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    view = service.view
    now = service.clock()
    context: dict[str, Any] = {
        "cust": _row(view, cust),
        "profile": cust,
        "accounts": [_account_view(view, a, now) for a in cust.accounts],
        "withdrawals": _withdrawals(view, cust),
        "errors": errors or {},
        "values": values or {},
        "may_freeze": who.may("FreezeAccount"),
        "may_unfreeze": who.may("UnfreezeAccount"),
        "four_eyed_freeze": "FreezeAccount" in view.four_eyes,
        "four_eyed_unfreeze": "UnfreezeAccount" in view.four_eyes,
    }
    try:
        context["kyc_history"] = await request.app.state.gateway.read(
            compliance_queries.customer_history, cust.id
        )
        context["kyc_history_problem"] = ""
    except ApiError:  # the store cannot be read now: the page still shows the record itself
        context["kyc_history"] = []
        context["kyc_history_problem"] = "The history cannot be read from the store right now."
    context["kyc_labels"] = KYC_LABELS
    try:
        history = await request.app.state.gateway.read(
            compliance_queries.withdrawals_of, list(cust.accounts)
        )
        context["finished"] = [w for w in history if w["status"] != "PENDING"]
    except ApiError:
        context["finished"] = None  # the store cannot be read now: said on the page
    if who.reads(Read.COMPLIANCE):
        alerts, store_problem = await _alerts(request, view, cust.id)
        context["alerts"] = alerts[-ALERTS_SHOWN:]
        context["alerts_total"] = len(alerts)
        context["store_problem"] = store_problem
        context["standing"] = standing_listings(alerts)
        context["policies"] = _policies(view, cust)
        context["capabilities"] = _capabilities(view, cust, now)
    if who.reads(Read.PROPOSALS):
        context["proposals"] = _proposals(view, cust, now)
    title = f"Customer {cust.id}: {cust.legal_name}"
    return render(request, "customers_detail.html", who, status=status, title=title, **context)


def _account_view(view: ReadModel, account_id: int, now_ms: int) -> dict[str, Any]:
    acct = view.accounts[account_id]
    trade, withdraw, deposit = policy_permissions(view, acct, now_ms)
    balances = [
        {
            "asset": b.asset,
            "free": to_str(b.free, view.assets[b.asset]),
            "locked": to_str(b.locked, view.assets[b.asset]),
            "total": to_str(b.free + b.locked, view.assets[b.asset]),
        }
        for b in sorted(acct.balances.values(), key=lambda b: b.asset)
        if b.free or b.locked
    ]
    orders = sorted(acct.open_orders.values(), key=lambda o: o.id)
    return {
        "id": acct.id,
        "fee_tier": acct.fee_tier,
        "frozen": acct.frozen,
        "manual_freeze": acct.manual_freeze,
        "permissions": [
            ("Trade", acct.can_trade, trade),
            ("Deposit", acct.can_deposit, deposit),
            ("Withdraw", acct.can_withdraw, withdraw),
        ],
        "balances": balances,
        "orders": [_order(view, o) for o in orders[:ORDERS_SHOWN]],
        "orders_total": len(orders),
    }


def _order(view: ReadModel, o: OrderView) -> dict[str, Any]:
    spec = view.symbols[o.symbol].spec
    bp, qp = spec.base_precision, spec.quote_precision
    return {
        "id": o.id,
        "client_id": o.client_order_id,
        "symbol": o.symbol,
        "side": o.side.value,
        "type": o.order_type.value,
        "tif": o.time_in_force.value,
        "price": to_str(o.price, qp) if o.price else "market",
        "stop": to_str(o.stop_price, qp) if o.stop_price else "",
        "qty": to_str(o.qty, bp) if o.qty else f"{to_str(o.quote_qty, qp)} {spec.quote}",
        "executed": to_str(o.executed, bp),
        "status": o.status.value if o.working else "waiting for its stop",
        "created_ms": o.created_ms,
    }


def _withdrawals(view: ReadModel, cust: CustomerView) -> list[dict[str, Any]]:
    """The customer's pending withdrawals (the read model keeps only pending ones)."""
    mine = set(cust.accounts)
    return [
        {
            "id": w.id,
            "account_id": w.account_id,
            "asset": w.asset,
            "amount": to_str(w.amount, view.assets[w.asset]),
            "destination": w.destination,
            "beneficiary": w.beneficiary,
            "on_request_ref": w.on_request_ref,
            "held_by": list(w.held_by),
        }
        for w in sorted(view.withdrawals.values(), key=lambda w: w.id)
        if w.account_id in mine
    ]


async def _alerts(
    request: Request, view: ReadModel, customer_id: int
) -> tuple[list[dict[str, Any]], str]:
    """Every screening alert on the customer with its decision (who, when, why) from the SQL
    store; if the store cannot be read now, the read model's alerts without who decided them,
    and a sentence saying so."""
    try:
        rows: list[dict[str, Any]] = await request.app.state.gateway.read(
            screening_queries.customer_alerts, customer_id
        )
    except ApiError:
        rows = [
            {
                "alertId": a.id,
                "kind": a.kind,
                "status": a.decision or screening_queries.OPEN,
                "withdrawalId": a.withdrawal_id,
                "reviewsAlert": a.reviews,
                "score": score_text(a.evidence.score_bp),
                "raisedMs": a.raised_ms,
                "evidence": {
                    "source": a.evidence.source,
                    "entryId": a.evidence.entry_id,
                    "listedName": a.evidence.listed_name,
                    "explanation": a.evidence.explanation,
                    "text": a.evidence.text(),
                },
                "decision": None,
            }
            for a in view.alerts.values()
            if a.customer_id == customer_id
        ]
        return rows, "The SQL store cannot be read now: who decided each alert is not shown."
    return rows, ""


def standing_listings(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The customer's confirmed hits whose listing still stands (no confirmed delisting review
    says the entry is gone), as the engine counts them (engine/alerts.py): what keeps a freeze,
    and what an unfreeze must name to override."""
    delisted = {
        a["reviewsAlert"] for a in alerts if a["kind"] == DELISTING and a["status"] == CONFIRMED
    }
    return [
        a
        for a in alerts
        if a["kind"] == HIT and a["status"] == CONFIRMED and a["alertId"] not in delisted
    ]


def _policies(view: ReadModel, cust: CustomerView) -> list[dict[str, Any]]:
    """The jurisdiction policies naming the customer: their residence's and nationality's."""
    rows = []
    for basis, country in (
        (Basis.RESIDENCE, cust.residence),
        (Basis.NATIONALITY, cust.nationality),
    ):
        p = view.policies(basis).get(country)
        if p is None:
            continue
        rows.append(
            {
                "basis": basis.value.lower(),
                "country": country,
                "name": p.spec.name,
                "rules": rules_text(p.spec),
                "deadline_ms": p.spec.deadline_ms,
                "actor": p.actor,
                "reason": p.reason,
                "applied_ms": p.applied_ms,
                "change_id": p.change_id,
            }
        )
    return rows


def _capabilities(view: ReadModel, cust: CustomerView, now_ms: int) -> list[dict[str, Any]]:
    """Each capability as the policies leave it for this customer now: what their residence's
    and nationality's policies say, and the engine's own sentence where one refuses."""
    rows = []
    residence = view.residence_policies.get(cust.residence)
    nationality = view.nationality_policies.get(cust.nationality)
    for capability, label in _CAPABILITIES.items():
        refusals: list[str] = []
        if capability is Capability.ONBOARDING:
            refusal = policy_refusal(view, cust.residence, cust.nationality, capability, now_ms)
            if refusal is not None:
                refusals.append(refusal.reason)
        else:
            for account_id in cust.accounts:
                r = customer_refusal(view, view.accounts[account_id], capability, now_ms)
                if r is not None:
                    refusals.append(f"account {account_id}: {r.reason}")
        rows.append(
            {
                "label": label,
                "residence": residence.spec.access(capability).value if residence else "",
                "nationality": nationality.spec.access(capability).value if nationality else "",
                "refusals": refusals,
            }
        )
    return rows


def _proposals(view: ReadModel, cust: CustomerView, now_ms: int) -> list[dict[str, Any]]:
    """Proposals waiting for a second person that would act on this customer or their
    accounts."""
    mine = set(cust.accounts)
    rows = []
    for p in sorted(view.proposals.values(), key=lambda p: p.id):
        cmd = p.command
        if (
            getattr(cmd, "customer_id", None) != cust.id
            and getattr(cmd, "account_id", -1) not in mine
        ):
            continue
        rows.append(
            {
                "id": p.id,
                "type": type(cmd).__name__,
                "account_id": getattr(cmd, "account_id", None),
                "proposer": p.proposer,
                "reason": p.reason,
                "evidence": p.evidence,
                "proposed_ms": p.proposed_ms,
                "expired": now_ms >= p.expires_ms,
            }
        )
    return rows


# --- freeze and unfreeze ------------------------------------------------------------------


@router.post("/customers/{customer_id}/accounts/{account_id}/freeze")
async def freeze(
    request: Request, service: ServiceDep, who: OfficerDep, customer_id: str, account_id: str
) -> Response:
    """Freeze an account: everything it initiates stops and its open orders are canceled."""
    cust = _customer(service.view, who, customer_id)
    acct = _account(service.view, cust, account_id)
    if not who.may("FreezeAccount"):
        raise Forbidden("your role does not freeze accounts")
    fields = await form(request, who)
    aid = acct.id
    reason = fields.get(f"reason-{aid}", "").strip()
    evidence = fields.get(f"evidence-{aid}", "").strip()
    errors: dict[str, Any] = {}
    if problem := reason_problem(reason):
        errors[f"reason-{aid}"] = problem
    if len(evidence) > EVIDENCE_MAX:
        errors[f"evidence-{aid}"] = f"Evidence is at most {EVIDENCE_MAX} characters."
    if not errors and acct.frozen:
        errors["form"] = f"Account {aid} is frozen already."
    if errors:
        errors["account"] = aid
        return await _page(request, service, who, cust, status=400, errors=errors, values=fields)
    cmd = FreezeAccount(
        actor=who.actor, ts_ms=service.clock(), reason=reason, account_id=aid, evidence=evidence
    )
    sent = await send(service, cmd, evidence=evidence)
    if sent.refusal:
        errors = {"form": sent.notice(""), "account": aid}
        return await _page(request, service, who, cust, status=400, errors=errors, values=fields)
    done = f"Account {aid} is frozen: its open orders are canceled and it can do nothing."
    return redirect(f"/customers/{cust.id}", sent.notice(done))


@router.post("/customers/{customer_id}/accounts/{account_id}/unfreeze")
async def unfreeze(
    request: Request, service: ServiceDep, who: OfficerDep, customer_id: str, account_id: str
) -> Response:
    """Lift an account's freeze; a freeze resting on confirmed sanctions listings is lifted only
    by naming each of them (`override-{account}-{alert}` checked)."""
    cust = _customer(service.view, who, customer_id)
    acct = _account(service.view, cust, account_id)
    if not who.may("UnfreezeAccount"):
        raise Forbidden("your role does not unfreeze accounts")
    fields = await form(request, who)
    aid = acct.id
    reason = fields.get(f"reason-{aid}", "").strip()
    prefix = f"override-{aid}-"
    overrides = tuple(
        sorted(
            int(k.removeprefix(prefix))
            for k in fields
            if k.startswith(prefix) and k.removeprefix(prefix).isdigit() and len(k) < 40
        )
    )
    errors: dict[str, Any] = {}
    if problem := reason_problem(reason):
        errors[f"reason-{aid}"] = problem
    elif not acct.frozen:
        errors["form"] = f"Account {aid} is not frozen."
    if errors:
        errors["account"] = aid
        return await _page(request, service, who, cust, status=400, errors=errors, values=fields)
    cmd = UnfreezeAccount(
        actor=who.actor, ts_ms=service.clock(), reason=reason, account_id=aid, overrides=overrides
    )
    sent = await send(service, cmd)
    if sent.refusal:
        errors = {"form": sent.notice(""), "account": aid}
        return await _page(request, service, who, cust, status=400, errors=errors, values=fields)
    return redirect(f"/customers/{cust.id}", sent.notice(f"Account {aid} is unfrozen."))
