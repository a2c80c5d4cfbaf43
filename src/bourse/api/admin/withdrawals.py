"""Withdrawals staff request for a customer, by decimal amount: crypto to an address valid on the
asset's network (the gate refuses a listed one), fiat to an IBAN with a named beneficiary. A named
beneficiary (fiat, or crypto where given) is screened here before the command is journaled so that
a hit holds the payment for a compliance officer's review."""

from typing import Any

import msgspec
from fastapi import APIRouter
from starlette.responses import Response

from bourse.api.admin.compliance import Reason, body_doc, first, parse
from bourse.api.admin.errors import bad_request
from bourse.api.admin.four_eyes import execute_or_propose
from bourse.api.admin.operator import deposit_raw
from bourse.api.deps import OperatorDep, ServiceDep
from bourse.commands import RequestWithdrawal
from bourse.compliance.destinations import destination_problem
from bourse.domain.money import to_str
from bourse.events import Outcome, WithdrawalRequested
from bourse.workers.payees import (
    PayeeError,
    bank_destination,
    screened,
)

router = APIRouter(prefix="/admin/v1", tags=["compliance"])
PENDING, HELD = "PENDING", "HELD_FOR_REVIEW"


class WithdrawalBody(msgspec.Struct, forbid_unknown_fields=True):
    account_id: int
    asset: str
    amount: str
    destination: str  # a crypto address, or an IBAN for a fiat asset
    reason: Reason  # why staff request it for the customer (journaled with the command)
    beneficiary: str = ""  # fiat: the person or company the bank pays
    beneficiary_bic: str = ""  # fiat: the payee's bank, if not the one the IBAN names


@router.post(
    "/withdrawals",
    summary="Request a withdrawal for a customer",
    description=(
        "Holds `amount` of `asset` on the account until the payment is completed or failed. The "
        "`destination` must be valid on the asset's network (BTC: a Bitcoin mainnet address; "
        "ETH, USDT: an Ethereum address, EIP-55 checksummed if mixed case; fiat: an IBAN), else "
        "400 says what is wrong. A crypto withdrawal to an address a sanctions list names is "
        "refused (409 SANCTIONED_DESTINATION). A fiat "
        "withdrawal goes to an IBAN (checked: checksum, length, country) and names its "
        "`beneficiary`; the name and the bank's BIC (`beneficiary_bic`, else the one the IBAN's "
        "bank code names) are screened against the lists in force, and each hit opens a "
        "`beneficiary` alert that holds the payment (`status` HELD_FOR_REVIEW) until a "
        "compliance officer confirms (the payment fails, the money stays) or dismisses it. A "
        "crypto withdrawal may name its `beneficiary` too: the name is screened the same way."
    ),
)
async def request_withdrawal(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {
            "account_id": 1,
            "asset": "EUR",
            "amount": "2500",
            "destination": "DE89 3704 0044 0532 0130 00",
            "beneficiary": "Muster Handels GmbH",
            "reason": "customer's signed request, ticket 5521",
        },
        WithdrawalBody,
    ),
) -> Response:
    req = parse(body, WithdrawalBody)
    view = service.view
    amount_raw = deposit_raw(view, req.asset, req.amount)
    fiat = req.asset in view.fiat_assets
    if problem := destination_problem(req.asset, fiat, req.destination):
        raise bad_request(problem)
    destination, screening = req.destination.strip(), None
    if fiat:
        if not req.beneficiary.strip():
            raise bad_request(f"a {req.asset} withdrawal names its beneficiary: who the bank pays")
        try:
            bank = bank_destination(req.destination, req.beneficiary_bic)
        except PayeeError as exc:
            raise bad_request(str(exc)) from None
        destination = bank.iban
        screening = await screened(service, req.beneficiary, bank)
    elif req.beneficiary_bic:
        raise bad_request(f"{req.asset} is not a fiat asset: beneficiary_bic is for bank transfers")
    elif req.beneficiary.strip():  # a crypto payee named: screened as a fiat payee's name is
        screening = await screened(service, req.beneficiary, None)
    cmd = RequestWithdrawal(
        actor=actor,
        ts_ms=service.clock(),
        account_id=req.account_id,
        asset=req.asset,
        amount_raw=amount_raw,
        destination=destination,
        beneficiary=req.beneficiary.strip(),
        screening=screening,
        reason=req.reason,
    )

    def requested(outcome: Outcome) -> dict[str, Any]:
        event = first(outcome, WithdrawalRequested)
        return {
            "withdrawalId": event.withdrawal_id,
            "accountId": event.account_id,
            "asset": event.asset,
            "amount": to_str(event.amount_raw, view.assets[event.asset]),
            "destination": event.destination,
            "beneficiary": event.beneficiary,
            "status": HELD if event.held_by else PENDING,
            "heldBy": list(event.held_by),
            "screenedAgainst": [
                {"source": ref.source, "sha256": ref.list_sha256}
                for ref in (screening.lists if screening else ())
            ],
            "seq": outcome.seq,
        }

    return await execute_or_propose(service, cmd, requested)
