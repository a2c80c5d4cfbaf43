"""Withdrawal on request: how staff pay out a balance a closed jurisdiction still holds, at the
customer's request, as a journaled command citing that request."""

from typing import Any

import msgspec
from fastapi import APIRouter
from starlette.responses import Response

from bourse.api.admin.compliance import Reason, body_doc, first, parse
from bourse.api.admin.errors import bad_request
from bourse.api.admin.four_eyes import execute_or_propose
from bourse.api.admin.operator import deposit_raw
from bourse.api.deps import OperatorDep, ServiceDep
from bourse.commands import WithdrawOnRequest
from bourse.compliance.destinations import destination_problem
from bourse.domain.money import to_str
from bourse.events import Outcome, WithdrawalRequested

router = APIRouter(prefix="/admin/v1", tags=["compliance"])


class OnRequestBody(msgspec.Struct, forbid_unknown_fields=True):
    account_id: int
    asset: str
    amount: str
    destination: str
    request_ref: str
    reason: Reason


@router.post(
    "/withdrawals/on-request",
    summary="Pay out a balance at the customer's request",
    description=(
        "Only for a balance held where a jurisdiction policy has closed withdrawals (an exit "
        "window that ended): staff pay it out to `destination` (valid on the asset's network, "
        "as for `POST /admin/v1/withdrawals`), citing the customer's request "
        "(`request_ref`). Anywhere else the customer withdraws it themselves."
    ),
)
async def withdraw_on_request(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {
            "account_id": 7,
            "asset": "USDT",
            "amount": "1250.5",
            "destination": "0x52908400098527886E0F7030069857D2E4169EE7",
            "request_ref": "ticket 44120",
            "reason": "exit window closed; customer asked by signed letter",
        },
        OnRequestBody,
    ),
) -> Response:
    req = parse(body, OnRequestBody)
    view = service.view
    amount_raw = deposit_raw(view, req.asset, req.amount)
    if problem := destination_problem(req.asset, req.asset in view.fiat_assets, req.destination):
        raise bad_request(problem)
    cmd = WithdrawOnRequest(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        account_id=req.account_id,
        asset=req.asset,
        amount_raw=amount_raw,
        destination=req.destination.strip(),
        request_ref=req.request_ref,
    )

    def requested(outcome: Outcome) -> dict[str, Any]:
        event = first(outcome, WithdrawalRequested)
        return {
            "withdrawalId": event.withdrawal_id,
            "accountId": event.account_id,
            "asset": event.asset,
            "amount": to_str(event.amount_raw, view.assets[event.asset]),
            "destination": event.destination,
            "requestRef": event.on_request_ref,
            "seq": outcome.seq,
        }

    return await execute_or_propose(service, cmd, requested)
