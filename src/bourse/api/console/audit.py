"""The audit browser: the journal's records by time, actor, customer, country and command type,
each with who did it, why and whether it was approved; the current signed tree head; a bundle of
the records shown, and a customer's dossier, to download and verify offline.

Reads go through the admin API's own functions (`api/admin/audit.py`): one scope rule (a
regulator names a customer or country of its jurisdiction), one way to write a bundle or a
dossier. An auditor's every page and download is on the record, as everywhere in the console.
"""

import dataclasses
from typing import Any

from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from bourse.api.admin.audit import (
    DOSSIER_FORMATS,
    bundle_file,
    dossier_files,
    download,
    latest_head,
    open_log,
    remove_folder,
    scoped_query,
)
from bourse.api.admin.errors import AdminError
from bourse.api.console.web import (
    PREFIX,
    Forbidden,
    NotFound,
    OfficerDep,
    parse_id,
    render,
    require,
)
from bourse.api.deps import ServiceDep
from bourse.audit import export
from bourse.audit.log import Query as AuditQuery
from bourse.compliance.staff import Read
from bourse.server.service import GatewayService

router = APIRouter(prefix=PREFIX, include_in_schema=False)
PAGE = 100
FILTERS = ("from", "to", "actor", "customer", "country", "command")


def _filters(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip() for k in FILTERS}


def _query(
    service: GatewayService, actor: str, filters: dict[str, str], after: int = 0
) -> tuple[AuditQuery | None, str, dict[str, str]]:
    """The query the filters ask for, held to the reader's scope; or None and what is wrong."""
    errors: dict[str, str] = {}
    customer = None
    if filters["customer"]:
        try:
            customer = parse_id(filters["customer"], "customer")
        except NotFound as exc:
            errors["customer"] = str(exc)
    country = filters["country"].upper() or None
    if errors:
        return None, "", errors
    try:
        query, scope = scoped_query(
            service, actor, start=filters["from"] or None, end=filters["to"] or None,
            customer=customer, venue=None, country=country, by=filters["actor"] or None,
            command=filters["command"] or None, after=after, limit=PAGE,
        )  # fmt: skip
    except AdminError as exc:
        detail: Any = exc.detail
        message = detail.get("message", str(detail)) if isinstance(detail, dict) else str(detail)
        if exc.status_code == 403:
            return None, "", {"scope": message}
        return None, "", {"from" if "from" in message else "to": message}
    return query, scope, errors


@router.get("/audit")
async def audit_page(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.AUDIT)
    filters = _filters(request)
    after_text = request.query_params.get("after", "")
    after = parse_id(after_text, "record") if after_text else 0
    asked = any(filters.values())
    audit = open_log(service)
    if not asked and not after_text:  # the newest records first come to mind: the last page
        after = max(0, audit.size - PAGE)
    query, scope, errors = _query(service, who.actor, filters, after)
    try:
        head = latest_head(audit)  # a damaged heads.jsonl: 503 naming it, not a 500
        keys = audit.signing_keys()
        size = audit.size
        rows: list[dict[str, Any]] = []
        if query is not None:
            for seq in audit.select(query):
                view = export.record_view(audit, seq)
                rows.append({k: view[k] for k in ("seq", "time", "summary")})
    finally:
        audit.close()
    next_after = rows[-1]["seq"] if len(rows) == PAGE else None
    return render(
        request, "audit.html", who, title="Audit log", filters=filters, rows=rows,
        errors=errors, head=head, keys=keys, size=size, scope=scope, asked=asked,
        next_after=next_after, query_string=_query_string(filters),
        dossier_formats=list(DOSSIER_FORMATS), head_time=head and export.iso(head["timestamp_ms"]),
    )  # fmt: skip


@router.get("/audit/export")
async def audit_export(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.AUDIT)
    query, _, errors = _query(service, who.actor, _filters(request))
    if query is None:
        raise Forbidden("; ".join(errors.values()))
    folder, path = await bundle_file(service, dataclasses.replace(query, limit=None, after_seq=0))
    return FileResponse(
        path,
        media_type="application/x-ndjson",
        filename="audit-bundle.jsonl",
        background=BackgroundTask(remove_folder, folder),
    )


@router.get("/audit/customers/{customer_text}/dossier.{format}")
async def audit_dossier(
    customer_text: str, format: str, service: ServiceDep, who: OfficerDep
) -> Response:
    require(who, Read.AUDIT)
    customer_id = parse_id(customer_text, "customer")
    if format not in DOSSIER_FORMATS:
        raise NotFound(f"a dossier comes as {', '.join(DOSSIER_FORMATS)}, not {format!r}")
    if customer_id not in service.view.customers:
        raise NotFound(f"there is no customer {customer_id}")
    filters = dict.fromkeys(FILTERS, "") | {"customer": str(customer_id)}
    query, scope, errors = _query(service, who.actor, filters)
    if query is None:
        raise Forbidden("; ".join(errors.values()))
    folder, result = await dossier_files(
        service, customer_id, who.actor, scope, pdf=format == "pdf"
    )
    if format == "pdf" and not (folder / "dossier.pdf").exists():
        remove_folder(folder)
        raise Forbidden(str(result["pdf"]))
    return download(folder, customer_id, format)


def _query_string(filters: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode({k: v for k, v in filters.items() if v})
