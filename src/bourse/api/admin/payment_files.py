"""Fiat payouts in the admin API: send pending fiat withdrawals to a partner bank as a payment
file, list the files and their payouts' fates, and download a file as ISO 20022 pain.001 (the
XML the bank takes), written from the file's own record so it reads the same every time."""

from typing import Any

import msgspec
from fastapi import APIRouter
from starlette.responses import Response

from bourse.api.admin.banks import bic_of
from bourse.api.admin.compliance import Reason, body_doc, first, parse
from bourse.api.admin.errors import bad_request, not_found
from bourse.api.admin.four_eyes import execute_or_propose
from bourse.api.admin.scope import out_of_scope, reader_scope, sees_account
from bourse.api.binance.replies import ok
from bourse.api.deps import OperatorDep, ServiceDep
from bourse.banking.pain001 import Debtor, Payment, PaymentFileProblem, pain001
from bourse.banking.rails import REROUTED, PaymentFile, Payout, end_to_end_id
from bourse.commands import CreatePaymentFile
from bourse.domain.money import to_str
from bourse.events import Outcome, PaymentFileCreated
from bourse.view.model import ReadModel

router = APIRouter(prefix="/admin/v1", tags=["banks"])
EXCHANGE_NAME = "bourse"  # the debtor's name on every payment file (the operator's entity)


def sent_in(view: ReadModel, file: PaymentFile) -> list[Payout]:
    """The payouts `file` sent, as that file sent them: one a cut-off rerouted and another
    bank's file sent again shows here as REROUTED."""
    payouts = []
    for wid in file.withdrawals:
        p = view.payouts[wid]
        payouts.append(p if p.file_id == file.id else msgspec.structs.replace(
            p, file_id=file.id, status=REROUTED))  # fmt: skip
    return payouts


def file_json(view: ReadModel, file: PaymentFile) -> dict[str, Any]:
    precision = view.assets[file.currency]
    payouts = sent_in(view, file)
    return {
        "id": file.id,
        "bank": file.bank,
        "currency": file.currency,
        "debtorIban": file.debtor_iban,
        "executionDate": file.execution_date,
        "total": to_str(sum(p.amount_raw for p in payouts), precision),
        "payouts": [
            {
                "withdrawalId": p.withdrawal_id,
                "accountId": p.account_id,
                "amount": to_str(p.amount_raw, precision),
                "iban": p.iban,
                "beneficiary": p.beneficiary,
                "endToEndId": end_to_end_id(p.withdrawal_id),
                "status": p.status,
            }
            for p in payouts
        ],
    }


class PaymentFileBody(msgspec.Struct, forbid_unknown_fields=True):
    bank: str
    currency: str
    execution_date: str
    reason: Reason


@router.post(
    "/payment-files",
    summary="Send pending fiat withdrawals to a partner bank",
    description=(
        "Every pending withdrawal in `currency` that the `bank` may pay goes into one payment "
        "file and is SENT from then on: the bank serves the customer's country, nothing holds "
        "or freezes it, fiat withdrawals are open for the customer's countries, and the amount "
        "is whole cents. The others stay pending, each listed in `withheld` with the reason. "
        "The file is downloaded as pain.001 (`GET /admin/v1/payment-files/{id}/pain.001`); the "
        "bank's statement later settles or returns each payout by its end-to-end id."
    ),
)
async def create_payment_file(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {
            "bank": "COBADEFFXXX",
            "currency": "EUR",
            "execution_date": "2026-12-08",
            "reason": "daily payout run",
        },
        PaymentFileBody,
    ),
) -> Response:
    req = parse(body, PaymentFileBody)
    cmd = CreatePaymentFile(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        bank=bic_of(req.bank),
        currency=req.currency.strip().upper(),
        execution_date=req.execution_date.strip(),
    )

    def made(outcome: Outcome) -> dict[str, Any]:
        event = first(outcome, PaymentFileCreated)
        view = service.view
        return {
            **file_json(view, view.payment_files[event.file_id]),
            "withheld": [{"withdrawalId": w, "reason": why} for w, why in event.withheld],
            "seq": outcome.seq,
        }

    return await execute_or_propose(service, cmd, made)


@router.get(
    "/payment-files",
    summary="List payment files",
    description="Each file, newest first, with its payouts and what became of each.",
)
async def list_payment_files(service: ServiceDep, actor: OperatorDep) -> Response:
    view = service.view
    member = reader_scope(view, actor)
    files = [file_json(view, f) for f in reversed(view.payment_files.values())]
    if member is None:
        return ok(files)
    for f in files:  # a scoped reader sees the payouts of their scope's customers only
        f["payouts"] = [p for p in f["payouts"] if sees_account(view, member, p["accountId"])]
    return ok([f for f in files if f["payouts"]])


@router.get(
    "/payment-files/{file_id}/pain.001",
    summary="A payment file as ISO 20022 pain.001",
    description="The XML to hand the partner bank (pain.001.001.09), the same bytes every time.",
    response_class=Response,
)
async def download_pain001(service: ServiceDep, actor: OperatorDep, file_id: int) -> Response:
    view = service.view
    file = view.payment_files.get(file_id)
    if file is None:
        raise not_found("payment file", file_id)
    member = reader_scope(view, actor)
    if member is not None and not all(
        sees_account(view, member, p.account_id) for p in sent_in(view, file)
    ):
        raise out_of_scope(member, f"payment file {file_id} (it pays customers outside it)")
    precision = view.assets[file.currency]
    payments = [
        Payment(
            withdrawal_id=p.withdrawal_id,
            amount_raw=p.amount_raw,
            precision=precision,
            currency=file.currency,
            creditor_name=p.beneficiary,
            creditor_iban=p.iban,
            creditor_bic="",
            end_to_end_id=end_to_end_id(p.withdrawal_id),
            remittance=f"bourse withdrawal {p.withdrawal_id}",
        )
        for p in sent_in(view, file)
    ]
    debtor = Debtor(name=EXCHANGE_NAME, iban=file.debtor_iban, bic=file.bank)
    try:
        xml = pain001(debtor, f"BRS-F-{file.id}", file.created_ms, file.execution_date, payments)
    except PaymentFileProblem as exc:  # the engine checked what it could; say what it missed
        raise bad_request(f"payment file {file.id} cannot be written as pain.001: {exc}") from None
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="bourse-payments-{file.id}.xml"'},
    )
