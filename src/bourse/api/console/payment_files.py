"""The console's payment files: the fiat payouts sent to each partner bank, file by file, with
what became of each (sent, settled by the bank's statement, returned), and each file as the
ISO 20022 pain.001 XML the bank was given: the admin API's own download
(`admin.payment_files.download_pain001`), the same bytes every time.

A scoped reader sees the payouts of customers of their scope only, and downloads a file only
if every payout in it is theirs to read.
"""

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from bourse.api.admin.cutoffs import amount
from bourse.api.admin.errors import AdminError
from bourse.api.admin.payment_files import download_pain001, sent_in
from bourse.api.admin.scope import reader_scope, sees_account
from bourse.api.console.policy_form import admin_message
from bourse.api.console.web import (
    PAGE_HEADERS,
    PREFIX,
    Forbidden,
    NotFound,
    OfficerDep,
    parse_id,
    render,
    require,
)
from bourse.api.deps import ServiceDep
from bourse.banking.rails import REROUTED, RETURNED, SENT, SETTLED, PaymentFile, end_to_end_id
from bourse.compliance.staff import Read
from bourse.view import ReadModel
from bourse.view.model import StaffView

router = APIRouter(prefix=PREFIX, include_in_schema=False)
STATUS = {  # a payout's state, in words, and its badge
    SENT: ("sent, not yet on the bank's statement", "warn"),
    SETTLED: ("settled", "ok"),
    RETURNED: ("returned to the customer", "bad"),
    REROUTED: ("rerouted: taken back by a cut-off, for another bank's file", ""),
}


def _rerouted(view: ReadModel) -> dict[int, int]:
    """Withdrawal → the cut-off that took it back from its bank's file (rerouted)."""
    return {t.id: c.id for c in view.bank_cutoffs.values() for t in c.report if t.fate == REROUTED}


def _file(
    view: ReadModel, scope: StaffView | None, file: PaymentFile, rerouted: dict[int, int]
) -> dict[str, Any]:
    """The file and its payouts as it sent them (`sent_in`, as the admin API lists them), those
    of customers outside a scoped reader's scope counted, not shown."""
    sent = sent_in(view, file)
    payouts: list[dict[str, Any]] = []
    for p in sent:
        if scope is not None and not sees_account(view, scope, p.account_id):
            continue
        acct = view.accounts.get(p.account_id)
        cust = view.customers.get(acct.customer_id) if acct is not None else None
        text, badge = STATUS.get(p.status, (p.status.lower(), ""))
        payouts.append(
            {
                "withdrawal_id": p.withdrawal_id,
                "account_id": p.account_id,
                "customer_id": cust.id if cust is not None else 0,
                "customer_name": cust.legal_name if cust is not None else "",
                "beneficiary": p.beneficiary,
                "iban": p.iban,
                "amount": amount(view, p.amount_raw, p.currency),
                "end_to_end": end_to_end_id(p.withdrawal_id),
                "status": text,
                "badge": badge,
                "cutoff_id": rerouted.get(p.withdrawal_id, 0) if p.status == REROUTED else 0,
            }
        )
    bank = view.banks.get(file.bank)
    return {
        "id": file.id,
        "bank": file.bank,
        "bank_name": bank.name if bank is not None else file.bank,
        "currency": file.currency,
        "debtor_iban": file.debtor_iban,
        "execution_date": file.execution_date,
        "created_ms": file.created_ms,
        "total": amount(view, sum(p.amount_raw for p in sent), file.currency),
        "payouts": payouts,
        "hidden": len(sent) - len(payouts),
    }


@router.get("/payment-files")
async def payment_files(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.CUSTOMERS)
    view = service.view
    scope = reader_scope(view, who.actor)
    rerouted = _rerouted(view)
    files = [
        _file(view, scope, f, rerouted)
        for f in sorted(view.payment_files.values(), key=lambda f: f.id, reverse=True)
    ]
    return render(
        request,
        "payment_files.html",
        who,
        title="Payment files",
        files=files,
        scoped=scope is not None,
    )


@router.get("/payment-files/{file_id}/pain.001")
async def pain001(request: Request, service: ServiceDep, who: OfficerDep, file_id: str) -> Response:
    """The file as pain.001 XML, by the admin API's own route: the bytes the bank was given."""
    require(who, Read.CUSTOMERS)
    view = service.view
    ident = parse_id(file_id, "payment file")
    file = view.payment_files.get(ident)
    if file is None:
        raise NotFound(f"there is no payment file {ident}")
    shown = _file(view, reader_scope(view, who.actor), file, _rerouted(view))
    if shown["hidden"]:
        raise Forbidden(
            f"payment file {ident} pays customers outside your scope: you read its payouts to "
            "customers of your scope on the payment files page"
        )
    try:
        answer = await download_pain001(service, who.actor, ident)
    except AdminError as exc:  # the engine checked what it could; the XML schema said the rest
        title = "The file cannot be written as pain.001"
        message = admin_message(exc)
        return render(request, "message.html", who, status=409, title=title, message=message)
    headers = {k: v for k, v in answer.headers.items() if k.lower() == "content-disposition"}
    return Response(
        bytes(answer.body), media_type="application/xml", headers={**PAGE_HEADERS, **headers}
    )
