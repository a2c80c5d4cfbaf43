"""Screening alerts for review: list them, confirm (the customer's accounts freeze, citing the
evidence) or dismiss (remembered until the listed entry changes), and rescreen every customer
against the sanctions lists in force."""

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Query
from starlette.responses import Response

from bourse.api.admin.compliance import Reason, body_doc, first, parse
from bourse.api.admin.errors import bad_request, conflict, not_found
from bourse.api.admin.four_eyes import execute_or_propose
from bourse.api.admin.scope import reader_scope, sees_customer
from bourse.api.binance.replies import ok
from bourse.api.deps import Int64, OperatorDep, ServiceDep
from bourse.commands import ConfirmScreeningAlert, DismissScreeningAlert
from bourse.compliance.alerts import BENEFICIARY, CONFIRMED, DELISTING, DISMISSED, HIT
from bourse.compliance.evidence import evidence_json, score_text
from bourse.domain.calendar import utc_text
from bourse.events import (
    AccountFrozen,
    AccountUnfrozen,
    Outcome,
    ScreeningAlertDecided,
    WithdrawalFailed,
)
from bourse.server.service import GatewayService
from bourse.view import ReadModel
from bourse.view.model import AlertView
from bourse.workers.bank_screening import rescreen_everyone
from bourse.workers.screening import NO_LISTS

router = APIRouter(prefix="/admin/v1", tags=["compliance"])
OPEN = "open"
STATUSES = (OPEN, CONFIRMED, DISMISSED)
KINDS = (HIT, DELISTING, BENEFICIARY)
PAGE, MAX_PAGE = 500, 5000


class ReasonBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


def _known(service: GatewayService, alert_id: int) -> None:
    """404 for an alert that was never raised (the engine would refuse it as a bad parameter)."""
    if alert_id not in service.view.alerts:
        raise not_found("alert", alert_id)


def alert_json(view: ReadModel, alert: AlertView) -> dict[str, Any]:
    ev = alert.evidence
    cust = view.customers.get(alert.customer_id)
    return {
        "alertId": alert.id,
        # "hit": confirming freezes; "delisting": the entry left the list, confirming unfreezes;
        # "beneficiary": a fiat withdrawal's payee matched, confirming fails that withdrawal
        "kind": alert.kind,
        "reviewsAlert": alert.reviews if alert.kind == "delisting" else 0,
        "withdrawalId": alert.withdrawal_id,
        "status": alert.decision or OPEN,
        "owner": view.owners.get(f"alert:{alert.id}", ""),  # staff:NAME, team:NAME, or nobody
        "customerId": alert.customer_id,
        "customerName": cust.legal_name if cust is not None else "",
        "score": score_text(ev.score_bp),
        "raisedMs": alert.raised_ms,
        "raised": utc_text(alert.raised_ms),
        "evidence": evidence_json(ev),
    }


@router.get(
    "/alerts",
    summary="List screening alerts",
    description=(
        "Alerts in the order raised, filtered by status (open, confirmed, dismissed) and kind "
        "(hit, delisting, beneficiary), with the customer's name, the evidence (list version, "
        "entry, explanation) and the score as text. Pages of `limit` (default 500) from alert "
        "`fromId`; `nextFromId` is where the next page starts (0: none)."
    ),
)
async def list_alerts(
    service: ServiceDep,
    actor: OperatorDep,
    status: str | None = Query(None, max_length=12),
    kind: str | None = Query(None, max_length=12),
    from_id: Annotated[Int64, Query(alias="fromId", ge=1)] = 1,
    limit: int = Query(PAGE, ge=1, le=MAX_PAGE),
) -> Response:
    if status is not None and status not in STATUSES:
        raise bad_request(f"status {status!r} is not one of {', '.join(STATUSES)}")
    if kind is not None and kind not in KINDS:
        raise bad_request(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    view = service.view
    member = reader_scope(view, actor)
    found: list[dict[str, Any]] = []
    next_from = 0
    # ids are dense from 1, in raising order, and an alert is never dropped
    for alert_id in range(from_id, len(view.alerts) + 1):
        a = view.alerts[alert_id]
        if not sees_customer(view, member, a.customer_id):
            continue
        if (status is None or (a.decision or OPEN) == status) and (kind is None or a.kind == kind):
            if len(found) == limit:
                next_from = alert_id
                break
            found.append(alert_json(view, a))
    return ok({"alerts": found, "nextFromId": next_from})


def confirmed_render(service: GatewayService, alert_id: int) -> Any:
    """What the confirmation did, from its events: the accounts it froze or unfroze, the
    withdrawals it failed, and for a delisting review the accounts that stay frozen and why: the
    listings that still stand, or a freeze staff made by hand."""

    def body(outcome: Outcome) -> dict[str, Any]:
        frozen = [e.account_id for e in outcome.events if isinstance(e, AccountFrozen)]
        unfrozen = [e.account_id for e in outcome.events if isinstance(e, AccountUnfrozen)]
        failed = [e.withdrawal_id for e in outcome.events if isinstance(e, WithdrawalFailed)]
        decided = first(outcome, ScreeningAlertDecided)
        view = service.view
        standing = [view.alerts[a] for a in decided.standing]
        kept, by_staff = [], []  # still frozen; and of those, frozen by hand by staff
        if view.alerts[alert_id].kind == DELISTING:
            for account_id in view.customers[decided.customer_id].accounts:
                acct = view.accounts[account_id]
                if acct.frozen:
                    kept.append(account_id)
                if acct.frozen and acct.manual_freeze:
                    by_staff.append({"accountId": account_id, "reason": acct.manual_freeze})
        return {
            "alertId": alert_id,
            "kind": view.alerts[alert_id].kind,
            "status": CONFIRMED,
            "frozen": frozen,
            "unfrozen": unfrozen,
            "keptFrozen": kept,
            "standing": [{"alertId": a.id, **evidence_json(a.evidence)} for a in standing],
            "frozenByStaff": by_staff,
            "withdrawalsFailed": failed,
            "seq": outcome.seq,
        }

    return body


@router.post(
    "/alerts/{alert_id}/confirm",
    summary="Confirm a screening alert: freeze the customer, or stop the payment",
    description=(
        "A `hit`: the customer is the listed party, every account of theirs is frozen (open "
        "orders canceled), citing the evidence. A `beneficiary` review: the payee is the listed "
        "party, the withdrawal it holds fails and the money stays on the account. A `delisting` "
        "review: the freeze is lifted (`unfrozen`), unless another confirmed listing of the "
        "customer still stands: then `standing` names each (alert and entry) and `keptFrozen` "
        "the accounts that stay frozen; an account staff froze by hand stays frozen too "
        "(`frozenByStaff`, with their reason). Answers the accounts frozen and withdrawals "
        "failed. A reason is required."
    ),
)
async def confirm_alert(
    service: ServiceDep,
    actor: OperatorDep,
    alert_id: Int64,
    body: dict[str, Any] = body_doc(
        {"reason": "same person: passport copy matches the listing"}, ReasonBody
    ),
) -> Response:
    req = parse(body, ReasonBody)
    _known(service, alert_id)
    cmd = ConfirmScreeningAlert(
        actor=actor, ts_ms=service.clock(), reason=req.reason, alert_id=alert_id
    )
    return await execute_or_propose(service, cmd, confirmed_render(service, alert_id))


@router.post(
    "/alerts/{alert_id}/dismiss",
    summary="Dismiss a screening alert as a false positive",
    description=(
        "Remembered with who, when and why: the same entry is not raised again for this customer "
        "unless the listed entry changes. A reason is required."
    ),
)
async def dismiss_alert(
    service: ServiceDep,
    actor: OperatorDep,
    alert_id: Int64,
    body: dict[str, Any] = body_doc(
        {"reason": "different date of birth and nationality"}, ReasonBody
    ),
) -> Response:
    req = parse(body, ReasonBody)
    _known(service, alert_id)
    cmd = DismissScreeningAlert(
        actor=actor, ts_ms=service.clock(), reason=req.reason, alert_id=alert_id
    )

    def dismissed(outcome: Outcome) -> dict[str, Any]:
        return {"alertId": alert_id, "status": DISMISSED, "seq": outcome.seq}

    return await execute_or_propose(service, cmd, dismissed)


@router.post(
    "/screening/rescreen",
    summary="Rescreen every customer against the sanctions lists in force",
    description=(
        "Screens every customer's legal name, date of birth and nationality and raises an alert "
        "per new hit (open or dismissed and unchanged hits are not raised again). `mode` says "
        "against what: `incremental` screens only the entries new list versions add or change, "
        "when the last rescreen used the same matcher and the versions it screened against; "
        "`full` (or `?full=true`) the whole index; `unchanged` nothing, as nothing changed. "
        "Partner banks are screened too: a hit on a bank's name or BIC proposes its cut-off. "
        "Answers {screened, mode, entriesScreened, alertsRaised, delistingReviews, "
        "bankCutOffsProposed, lists}; 409 when no list is in force."
    ),
)
async def rescreen_all(
    service: ServiceDep, actor: OperatorDep, full: bool = Query(False)
) -> Response:
    report = await rescreen_everyone(service, full=full)
    if report is None:
        raise conflict("NO_SANCTIONS_LISTS", NO_LISTS)
    return ok(report.json())
