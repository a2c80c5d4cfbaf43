"""Audit routes of the admin API: the signed tree head, records with their proofs, bundles a
regulator verifies offline, and customer dossiers.

The audit log's files are read here, beside the engine process that keeps them (append-only:
only what a signed head covers is read). A scoped reader (an auditor or regulator of one
jurisdiction, a regional manager) reads only records about its scope and must say which: a
customer it sees, or a country or venue of its scope. Every read of an auditor is itself a
journaled record (`deps.require_operator`).
"""

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import msgspec
from fastapi import APIRouter, Query
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from bourse.api.admin.compliance import Reason, body_doc, parse
from bourse.api.admin.errors import AdminError, bad_request, not_found
from bourse.api.admin.four_eyes import execute_or_propose
from bourse.api.admin.scope import out_of_scope, reader_scope, scope_countries, sees_customer
from bourse.api.binance.replies import ok
from bourse.api.deps import Int64, OperatorDep, ServiceDep
from bourse.audit import export
from bourse.audit.keys import create_key
from bourse.audit.log import AuditLog, DamagedLog
from bourse.audit.log import Query as AuditQuery
from bourse.audit.verify_bundle import key_id
from bourse.commands import RotateAuditKey
from bourse.domain.limits import INT64_MAX
from bourse.server.service import AuditUnavailable, GatewayService

router = APIRouter(prefix="/admin/v1/audit", tags=["audit"])
PAGE_MAX = 1000


def open_log(service: GatewayService) -> AuditLog:
    try:
        return AuditLog.reader(service.data_dir)
    except FileNotFoundError:
        raise AdminError(503, "AUDIT_UNAVAILABLE", "this exchange keeps no audit log") from None
    except DamagedLog as exc:
        raise damaged(exc) from None


def damaged(exc: DamagedLog) -> AdminError:
    return AdminError(503, "AUDIT_UNAVAILABLE", f"the audit log is damaged: {exc}")


def latest_head(audit: AuditLog) -> dict[str, Any] | None:
    try:
        return audit.latest_head()
    except DamagedLog as exc:
        raise damaged(exc) from None


async def _fresh_head(service: GatewayService) -> None:
    """A head signed now, so that what is read covers everything released before the request."""
    try:
        await service.sign_audit_head()
    except AuditUnavailable as exc:
        raise AdminError(503, "AUDIT_UNAVAILABLE", str(exc)) from None


def scoped_query(
    service: GatewayService,
    actor: str,
    *,
    start: str | None,
    end: str | None,
    customer: int | None,
    venue: str | None,
    country: str | None,
    by: str | None,
    command: str | None,
    after: int = 0,
    limit: int | None = None,
) -> tuple[AuditQuery, str]:
    """The query as asked, held to the reader's scope; and the scope as words ("" if none)."""
    try:
        from_ms = None if start is None else export.parse_time(start, "from")
        to_ms = None if end is None else export.parse_time(end, "to")
    except export.ExportError as exc:
        raise bad_request(str(exc)) from None
    view = service.view
    member = reader_scope(view, actor)
    scope = ""
    if member is not None:
        countries = scope_countries(view, member) or frozenset()
        scope = ", ".join(sorted({*member.venues, *countries}))
        if customer is not None:
            if not sees_customer(view, member, customer):
                raise out_of_scope(member, f"customer {customer}")
        elif country is not None:
            if country not in countries:
                raise out_of_scope(member, f"country {country}")
        elif venue is not None:
            if venue not in member.venues:
                raise out_of_scope(member, f"venue {venue}")
        else:
            raise AdminError(
                403,
                "OUT_OF_SCOPE",
                f"{member.name} reads records about {scope} only: name a customer, a country "
                "or a venue of that scope",
            )
    query = AuditQuery(
        from_ms=from_ms,
        to_ms=to_ms,
        customer=customer,
        venue=venue,
        country=country,
        actor=by,
        type=command,
        after_seq=after,
        limit=limit,
    )
    return query, scope


_FILTERS = {
    "start": Query(None, alias="from", description="From this time (ISO 8601 or epoch ms)."),
    "end": Query(None, alias="to", description="Up to, not including, this time."),
}


@router.get(
    "/head",
    summary="The newest signed tree head",
    description=(
        "The newest signed tree head of the audit log (size, root hash, time, key id and its "
        "Ed25519 signature) and every key that has signed heads, as announced in the log."
    ),
)
async def head(service: ServiceDep, actor: OperatorDep) -> Response:
    audit = open_log(service)
    try:
        return ok({"head": latest_head(audit), "keys": audit.signing_keys(), "size": audit.size})
    finally:
        audit.close()


@router.post(
    "/heads",
    summary="Sign a tree head now",
    description="Signs a tree head over every command released so far and publishes it.",
)
async def sign_head(service: ServiceDep, actor: OperatorDep) -> Response:
    try:
        return ok(await service.sign_audit_head())
    except AuditUnavailable as exc:
        raise AdminError(503, "AUDIT_UNAVAILABLE", str(exc)) from None


@router.get(
    "/consistency",
    summary="A consistency proof between two tree sizes",
    description=(
        "The RFC 9162 consistency proof that the tree of `second` records (default: the newest "
        "signed head's) extends the tree of `first`: what a monitor checks a new head with."
    ),
)
async def consistency(
    service: ServiceDep,
    actor: OperatorDep,
    first: Int64 = Query(ge=0, le=INT64_MAX),
    second: Int64 | None = Query(None, ge=0, le=INT64_MAX),
) -> Response:
    audit = open_log(service)
    try:
        head = latest_head(audit)
        size = int(head["tree_size"]) if head is not None else 0
        second = size if second is None else second
        if not first <= second <= audit.size:
            raise bad_request(
                f"no consistency proof from {first} to {second} records (of {audit.size})"
            )
        proof = audit.consistency_proof(first, second)
    finally:
        audit.close()
    return ok({"first": first, "second": second, "proof": [h.hex() for h in proof]})


class RotateBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


@router.post(
    "/keys",
    summary="Rotate the audit signing key",
    description=(
        "Makes a new Ed25519 key in the data directory (0600) and journals its public half "
        "(RotateAuditKey): heads after it are signed with the new key, and every key that "
        "ever signed is in the log. Four-eyed by default (202 with the proposal); the key "
        "takes effect when a second person approves."
    ),
)
async def rotate_key(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc({"reason": "yearly rotation"}, RotateBody),
) -> Response:
    req = parse(body, RotateBody)
    public = await asyncio.to_thread(create_key, service.data_dir)
    cmd = RotateAuditKey(public_key=public, actor=actor, ts_ms=service.clock(), reason=req.reason)
    return await execute_or_propose(
        service, cmd, lambda outcome: {"keyId": key_id(bytes.fromhex(public)), "publicKey": public}
    )


@router.get(
    "/records",
    summary="Find audit records",
    description=(
        "Records (journaled commands with what they caused) by time, customer, venue, country, "
        "actor and command type, oldest first; page with `after` (the last seq seen). A scoped "
        "reader must name a customer, country or venue of its scope."
    ),
)
async def records(
    service: ServiceDep,
    actor: OperatorDep,
    start: str | None = _FILTERS["start"],
    end: str | None = _FILTERS["end"],
    customer: Int64 | None = None,
    venue: str | None = Query(None, max_length=12),
    country: str | None = Query(None, max_length=2),
    by: str | None = Query(None, max_length=80, description="The actor, like staff:alice."),
    command: str | None = Query(None, max_length=40),
    after: Int64 = Query(0, ge=0, le=INT64_MAX),
    limit: int = Query(100, ge=1, le=PAGE_MAX),
) -> Response:
    query, _ = scoped_query(
        service, actor, start=start, end=end, customer=customer, venue=venue, country=country,
        by=by, command=command, after=after, limit=limit,
    )  # fmt: skip
    audit = open_log(service)
    try:
        found = []
        for seq in audit.select(query):
            view = export.record_view(audit, seq)
            found.append({k: view[k] for k in ("seq", "time", "summary")})
    finally:
        audit.close()
    nxt = found[-1]["seq"] if len(found) == limit else None
    return ok({"records": found, "next": nxt})


@router.get(
    "/records/{seq}",
    summary="One audit record with its inclusion proof",
    description=(
        "The record decoded, as journaled, with its inclusion proof against the newest signed "
        "tree head (which is signed now if it does not cover the record yet)."
    ),
)
async def record(
    service: ServiceDep,
    actor: OperatorDep,
    seq: Int64,
    customer: Int64 | None = None,
    country: str | None = Query(None, max_length=2),
) -> Response:
    if seq < 1:
        raise not_found("audit record", seq)
    member = reader_scope(service.view, actor)
    query: AuditQuery | None = None
    if member is not None:  # the record must be one about the scope the reader names
        query, _ = scoped_query(
            service, actor, start=None, end=None, customer=customer, venue=None,
            country=country, by=None, command=None, after=seq - 1, limit=1,
        )  # fmt: skip
    audit = open_log(service)
    try:
        if audit.size < seq <= service.released_seq:  # released, on its way into the log
            audit.close()
            await _fresh_head(service)  # it lingers under load: this writes it, and signs
            audit = open_log(service)
        if seq < 1 or seq > audit.size:
            raise not_found("audit record", seq)
        if member is not None and query is not None and audit.select(query) != [seq]:
            raise out_of_scope(member, f"audit record {seq}")
        head = latest_head(audit)
        if head is None or int(head["tree_size"]) < seq:
            audit.close()
            await _fresh_head(service)
            audit = open_log(service)
            head = latest_head(audit)
        assert head is not None
        view = export.record_view(audit, seq)
        view["proof"] = [h.hex() for h in audit.inclusion_proof(seq, int(head["tree_size"]))]
        view["head"] = head
    finally:
        audit.close()
    return ok(view)


@router.get(
    "/export",
    summary="Export a verifiable bundle",
    description=(
        "The records a query names as a bundle (JSON Lines): a header with the signed tree head "
        "and the signed manifest, then each record with its inclusion proof. Check it offline "
        "with `bourse audit verify` or the standalone verify_bundle.py."
    ),
)
async def export_bundle(
    service: ServiceDep,
    actor: OperatorDep,
    start: str | None = _FILTERS["start"],
    end: str | None = _FILTERS["end"],
    customer: Int64 | None = None,
    venue: str | None = Query(None, max_length=12),
    country: str | None = Query(None, max_length=2),
    by: str | None = Query(None, max_length=80),
    command: str | None = Query(None, max_length=40),
) -> Response:
    query, _ = scoped_query(
        service, actor, start=start, end=end, customer=customer, venue=venue, country=country,
        by=by, command=command,
    )  # fmt: skip
    folder, path = await bundle_file(service, query)
    return FileResponse(
        path,
        media_type="application/x-ndjson",
        filename="audit-bundle.jsonl",
        background=BackgroundTask(remove_folder, folder),
    )


async def bundle_file(service: GatewayService, query: AuditQuery) -> tuple[Path, Path]:
    """A bundle of `query`'s records against a head signed now: (its folder, its path); the
    caller removes the folder once sent."""
    await _fresh_head(service)
    folder = Path(tempfile.mkdtemp(prefix="bourse-export-"))
    path = folder / "bundle.jsonl"

    def write() -> None:
        audit = open_log(service)
        try:
            with open(path, "w", encoding="utf-8") as f:
                export.write_bundle(
                    audit, query, f, signer_dir=service.data_dir, now_ms=service.clock()
                )
        finally:
            audit.close()

    try:
        await asyncio.to_thread(write)
    except (DamagedLog, export.ExportError) as exc:
        remove_folder(folder)
        raise AdminError(503, "AUDIT_UNAVAILABLE", str(exc)) from None
    return folder, path


DOSSIER_FORMATS = {
    "json": ("dossier.json", "application/json"),
    "html": ("dossier.html", "text/html; charset=utf-8"),
    "pdf": ("dossier.pdf", "application/pdf"),
    "bundle": ("bundle.jsonl", "application/x-ndjson"),
}


async def dossier_files(
    service: GatewayService, customer_id: int, actor: str, scope: str, *, pdf: bool
) -> tuple[Path, dict[str, Any]]:
    """A customer's dossier written into a new folder against a head signed now: (the folder,
    the dossier); the caller removes the folder once sent."""
    from bourse.audit.dossier import write_dossier

    await _fresh_head(service)
    folder = Path(tempfile.mkdtemp(prefix="bourse-dossier-"))

    def write() -> dict[str, Any]:
        audit = open_log(service)
        try:
            return write_dossier(
                audit, customer_id, folder, signer_dir=service.data_dir,
                now_ms=service.clock(), requested_by=actor, scope=scope, pdf=pdf,
            )  # fmt: skip
        finally:
            audit.close()

    try:
        return folder, await asyncio.to_thread(write)
    except (DamagedLog, export.ExportError) as exc:
        remove_folder(folder)
        raise AdminError(503, "AUDIT_UNAVAILABLE", str(exc)) from None


def download(folder: Path, customer_id: int, format: str) -> Response:
    """One file of a dossier's folder as a download; the folder goes once it is sent."""
    name, media = DOSSIER_FORMATS[format]
    return FileResponse(
        folder / name,
        media_type=media,
        filename=f"customer-{customer_id}-{name}",
        background=BackgroundTask(remove_folder, folder),
    )


@router.get(
    "/customers/{customer_id}/dossier",
    summary="A customer's dossier",
    description=(
        "Every record about the customer, read as sections (KYC and its changes, accounts, "
        "freezes, alerts and decisions, policies of their countries, deposits, withdrawals, "
        "orders, trades), each citing its record: `format=json` (with the verification), "
        "`html` (print-ready), `pdf` (headless Chromium) or `bundle` (the records and proofs)."
    ),
)
async def dossier(
    service: ServiceDep,
    actor: OperatorDep,
    customer_id: Int64,
    format: str = Query("json", pattern="^(json|html|pdf|bundle)$"),
) -> Response:
    _, scope = scoped_query(
        service, actor, start=None, end=None, customer=customer_id, venue=None, country=None,
        by=None, command=None,
    )  # fmt: skip
    if customer_id not in service.view.customers:
        raise not_found("customer", customer_id)
    folder, result = await dossier_files(service, customer_id, actor, scope, pdf=format == "pdf")
    if format == "json":
        remove_folder(folder)
        return ok(result)
    if format == "pdf" and not (folder / "dossier.pdf").exists():
        remove_folder(folder)
        raise AdminError(503, "PDF_UNAVAILABLE", str(result["pdf"]))
    return download(folder, customer_id, format)


def remove_folder(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
