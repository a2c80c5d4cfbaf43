"""Customer, venue and on-request withdrawal routes of the compliance admin API.

Onboarding, KYC changes and venue definitions are engine commands stamped with the staff member
who asked and their reason; the engine routes a customer to the venue serving their residence
and refuses (with a sentence naming the policy) where their jurisdiction is closed to them.
"""

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Query
from starlette.responses import Response

from bourse.api.admin.compliance import Reason, answered, body_doc, first, one_line, parse
from bourse.api.admin.errors import AdminError, answer, bad_request, not_found
from bourse.api.admin.four_eyes import execute_or_propose, is_four_eyed, propose
from bourse.api.admin.operator import balance_list
from bourse.api.admin.scope import out_of_scope, reader_scope, sees_customer
from bourse.api.binance.replies import ok
from bourse.api.deps import Int64, OperatorDep, ServiceDep
from bourse.banking.references import deposit_reference
from bourse.commands import (
    OnboardCustomer,
    OpenAccount,
    UpdateCustomer,
)
from bourse.compliance.countries import country_problem
from bourse.compliance.customers import RiskTier
from bourse.compliance.policy import Basis, member_key
from bourse.events import AccountOpened, CustomerRecorded, Outcome
from bourse.server.service import GatewayService
from bourse.view import ReadModel
from bourse.view.model import CustomerView
from bourse.workers.rescreen import screen_customers

router = APIRouter(prefix="/admin/v1", tags=["compliance"])


class OnboardBody(msgspec.Struct, forbid_unknown_fields=True):
    legal_name: str
    date_of_birth: str
    nationality: str
    residence: str
    reason: Reason
    kyc_level: int = 1
    risk_tier: RiskTier = RiskTier.LOW


class UpdateBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason
    legal_name: str = ""
    nationality: str = ""
    residence: str = ""
    kyc_level: int = -1
    risk_tier: RiskTier | None = None


class ReasonBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


_CUSTOMER = {
    "legal_name": "Aigerim Bekova",
    "date_of_birth": "1990-04-12",
    "nationality": "KZ",
    "residence": "KZ",
    "reason": "KYC file 8812 approved",
}


def _record(cust: CustomerView) -> dict[str, Any]:
    return {
        "customerId": cust.id,
        "legalName": cust.legal_name,
        "dateOfBirth": cust.date_of_birth,
        "nationality": cust.nationality,
        "residence": cust.residence,
        "kycLevel": cust.kyc_level,
        "riskTier": cust.risk_tier.value,
        "venue": cust.venue,
        "accounts": list(cust.accounts),
        "heldBy": list(cust.held_by),  # onboarding alerts holding every account until decided
        # what they write on a bank transfer so that it is credited to them
        "depositReference": deposit_reference(cust.id),
    }


def _recorded(outcome: Outcome) -> dict[str, Any]:
    event = first(outcome, CustomerRecorded)
    body = {
        "customerId": event.customer_id,
        "legalName": event.legal_name,
        "dateOfBirth": event.date_of_birth,
        "nationality": event.nationality,
        "residence": event.residence,
        "kycLevel": event.kyc_level,
        "riskTier": event.risk_tier.value,
        "venue": event.venue,
        "seq": outcome.seq,
    }
    opened = [e.account_id for e in outcome.events if isinstance(e, AccountOpened)]
    if opened:
        body["accountId"] = opened[0]
    return body


@router.post(
    "/customers",
    summary="Onboard a customer",
    description=(
        "Records the customer's KYC profile and opens their first account at the venue serving "
        "their residence. Refused (400, with the engine's sentence) for a bad country code, an "
        "under-18, or a jurisdiction policy that suspends onboarding. The new customer is then "
        "screened against the sanctions lists in force: `screening` names the alerts raised for "
        "review and the list versions used. Each alert holds the customer (`held`: no deposit, "
        "trade or withdrawal) until it is decided: confirmed, the accounts freeze; dismissed, "
        "the hold is released."
    ),
)
async def onboard(
    service: ServiceDep, actor: OperatorDep, body: dict[str, Any] = body_doc(_CUSTOMER, OnboardBody)
) -> Response:
    req = parse(body, OnboardBody)
    one_line("legal_name", req.legal_name)
    cmd = OnboardCustomer(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        legal_name=req.legal_name,
        date_of_birth=req.date_of_birth,
        nationality=req.nationality,
        residence=req.residence,
        kyc_level=req.kyc_level,
        risk_tier=req.risk_tier,
    )
    if is_four_eyed(service, cmd):
        return await propose(service, cmd)
    outcome = await service.execute(cmd)
    if outcome.refused:
        return answer(outcome)
    body = _recorded(outcome)
    # Screened at once: a hit becomes an alert for review that holds the new customer.
    body["screening"] = await _screened(service, body["customerId"], hold=True)
    return ok(body)


@router.get(
    "/customers",
    summary="List customers",
    description=(
        "Customers in onboarding order, filtered by residence, nationality or venue; page with "
        "`after` (the last customerId seen) and `limit`."
    ),
)
async def list_customers(
    service: ServiceDep,
    actor: OperatorDep,
    residence: str | None = Query(None, max_length=2),
    nationality: str | None = Query(None, max_length=2),
    venue: str | None = Query(None, max_length=12),
    limit: int = Query(100, ge=1, le=1000),
    after: Annotated[Int64, Query(ge=0)] = 0,
) -> Response:
    view = service.view
    # A filter that names nothing is refused, not answered with an empty list.
    for what, code in (("residence", residence), ("nationality", nationality)):
        if code is not None and (problem := country_problem(code, what)):
            raise bad_request(problem)
    if venue is not None and venue not in view.venues:
        raise not_found("venue", venue)
    ids = _candidates(view, residence, nationality)
    member = reader_scope(view, actor)
    found = []
    for cid in ids:
        cust = view.customers[cid]
        if cid <= after or (venue is not None and cust.venue != venue):
            continue
        if not sees_customer(view, member, cid):
            continue
        if nationality is not None and cust.nationality != nationality:
            continue
        found.append(_record(cust))
        if len(found) == limit:
            break
    nxt = found[-1]["customerId"] if len(found) == limit else None
    return ok({"customers": found, "next": nxt})


def _candidates(view: ReadModel, residence: str | None, nationality: str | None) -> Any:
    """The customer ids to look through: a country's index where one is given (in id order)."""
    if residence is not None:
        return view.members.get(member_key(Basis.RESIDENCE, residence), {})
    if nationality is not None:
        return view.members.get(member_key(Basis.NATIONALITY, nationality), {})
    return view.customers


def _customer(view: ReadModel, customer_id: int) -> CustomerView:
    cust = view.customers.get(customer_id)
    if cust is None:
        raise not_found("customer", customer_id)
    return cust


@router.get(
    "/customers/{customer_id}",
    summary="A customer's record, accounts and balances",
    description="The KYC record, and each account with its balances.",
)
async def get_customer(service: ServiceDep, actor: OperatorDep, customer_id: Int64) -> Response:
    view = service.view
    cust = _customer(view, customer_id)
    member = reader_scope(view, actor)
    if member is not None and not sees_customer(view, member, customer_id):
        raise out_of_scope(member, f"customer {customer_id}")
    accounts = [
        {
            "accountId": account_id,
            "frozen": view.accounts[account_id].frozen,
            "held": bool(cust.held_by),
            "openOrders": len(view.accounts[account_id].open_orders),
            "balances": balance_list(view, account_id),
        }
        for account_id in cust.accounts
    ]
    return ok({**_record(cust), "accounts": accounts})


@router.patch(
    "/customers/{customer_id}",
    summary="Change a customer's KYC record",
    description=(
        "Only the fields given change. A new residence moves the customer to the venue serving "
        "it; policies of their new countries apply from then on."
    ),
)
async def update_customer(
    service: ServiceDep,
    actor: OperatorDep,
    customer_id: Int64,
    body: dict[str, Any] = body_doc(
        {"residence": "DE", "reason": "moved; proof of address 991"}, UpdateBody
    ),
) -> Response:
    req = parse(body, UpdateBody)
    one_line("legal_name", req.legal_name)
    cmd = UpdateCustomer(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        customer_id=customer_id,
        legal_name=req.legal_name,
        nationality=req.nationality,
        residence=req.residence,
        kyc_level=req.kyc_level,
        risk_tier=req.risk_tier,
    )
    if is_four_eyed(service, cmd):
        return await propose(service, cmd)
    outcome = await service.execute(cmd)
    if outcome.refused or not (req.legal_name or req.nationality):
        return answered(outcome, _recorded)
    body = _recorded(outcome)
    body["screening"] = await _screened(service, customer_id)  # a new name is screened at once
    return ok(body)


async def _screened(
    service: GatewayService, customer_id: int, hold: bool = False
) -> dict[str, Any]:
    """The customer screened against the lists in force: a hit becomes an alert for review
    (with `hold`, one that holds the customer until decided)."""
    report = await screen_customers(service, [customer_id], hold=hold)
    raised = report.alerts_raised if report else []
    return {
        "alerts": raised,
        "held": hold and bool(raised),
        "lists": report.lists if report else [],
    }


@router.post(
    "/customers/{customer_id}/accounts",
    summary="Open another account for a customer",
    description="At the customer's venue, with its fee tier; refused where onboarding is closed.",
)
async def open_customer_account(
    service: ServiceDep,
    actor: OperatorDep,
    customer_id: Int64,
    body: dict[str, Any] = body_doc({"reason": "second account for a savings plan"}, ReasonBody),
) -> Response:
    if customer_id < 1:
        # OpenAccount reads customer 0 as "a house account": never from a customer's route
        raise AdminError(
            404,
            "CUSTOMER_NOT_FOUND",
            f"customer {customer_id} does not exist: customer ids start at 1 (a house account "
            "is opened with POST /admin/v1/accounts)",
        )
    req = parse(body, ReasonBody)
    cmd = OpenAccount(
        actor=actor, ts_ms=service.clock(), reason=req.reason, customer_id=customer_id
    )

    def opened(outcome: Outcome) -> dict[str, Any]:
        event = first(outcome, AccountOpened)
        return {
            "accountId": event.account_id,
            "customerId": customer_id,
            "feeTier": event.fee_tier,
            "seq": outcome.seq,
        }

    return await execute_or_propose(service, cmd, opened)
