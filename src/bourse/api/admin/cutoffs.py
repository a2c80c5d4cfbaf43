"""A partner bank's cut-off in the admin API: preview, apply citing the preview (four eyes by
default), and the report of where every pending transfer's money went."""

from typing import Any

import msgspec
from fastapi import APIRouter
from starlette.responses import Response

from bourse.api.admin.banks import bic_of
from bourse.api.admin.compliance import Reason, body_doc, first, parse, utc_ms
from bourse.api.admin.errors import bad_request, not_found
from bourse.api.admin.four_eyes import execute_or_propose
from bourse.api.admin.scope import reader_scope, sees_account
from bourse.api.binance.replies import ok
from bourse.api.deps import OperatorDep, ServiceDep
from bourse.banking.cutoff import (
    CAUSE_TEXT,
    Cause,
    CutOffFingerprint,
    CutOffImpact,
    CutOffSpec,
    Outgoing,
)
from bourse.banking.rails import CutOff, TransferFate
from bourse.commands import CutOffBank
from bourse.domain.money import to_str
from bourse.events import BankCutOff, BankCutOffScheduled, Outcome
from bourse.view.model import ReadModel

router = APIRouter(prefix="/admin/v1", tags=["banks"])


class CutOffBody(msgspec.Struct, forbid_unknown_fields=True):
    cause: Cause
    outgoing: Outgoing = Outgoing.RETURN
    effective: str = ""  # ISO 8601 (UTC); empty: at once


class ApplyBody(msgspec.Struct, forbid_unknown_fields=True):
    spec: CutOffSpec
    preview_id: str
    previewed: CutOffFingerprint
    reason: Reason


def spec_of(bic: str, body: dict[str, Any]) -> CutOffSpec:
    req = parse(body, CutOffBody)
    effective_ms = utc_ms(req.effective, "effective") if req.effective.strip() else 0
    return CutOffSpec(
        bic=bic_of(bic), cause=req.cause, outgoing=req.outgoing, effective_ms=effective_ms
    )


def amount(view: ReadModel, raw: int, currency: str) -> str:
    return to_str(raw, view.assets[currency]) if currency in view.assets else str(raw)


def fate_json(view: ReadModel, t: TransferFate) -> dict[str, Any]:
    return {
        "kind": t.kind,
        "id": t.id,
        "accountId": t.account_id,
        "currency": t.currency,
        "amount": amount(view, t.amount_raw, t.currency),
        "fate": t.fate,
        "detail": t.detail,
    }


def impact_json(view: ReadModel, impact: CutOffImpact) -> dict[str, Any]:
    spec = impact.spec
    return {
        "bank": spec.bic,
        "name": impact.name,
        "cause": spec.cause,
        "causeText": CAUSE_TEXT[spec.cause],
        "outgoing": spec.outgoing,
        "effectiveMs": spec.effective_ms,
        "previewId": impact.preview_id,
        "asOfSeq": impact.as_of_seq,
        "customers": impact.customers,
        "onlyRail": impact.only_rail,
        "movable": impact.movable,
        "sample": impact.sample,
        "transfers": [fate_json(view, msgspec.convert(t, TransferFate)) for t in impact.transfers],
        "byCurrency": {
            currency: {fate: amount(view, raw, currency) for fate, raw in fates.items()}
            for currency, fates in impact.by_currency.items()
        },
        # the exact body /banks/{bic}/cut-off takes, with a reason added
        "apply": {
            "spec": msgspec.to_builtins(spec),
            "preview_id": impact.preview_id,
            "previewed": msgspec.to_builtins(impact.previewed),
        },
    }


def cutoff_json(view: ReadModel, c: CutOff) -> dict[str, Any]:
    return {
        "id": c.id,
        "bank": c.bic,
        "name": view.banks[c.bic].name if c.bic in view.banks else c.bic,
        "cause": c.cause,
        "effectiveMs": c.effective_ms,
        "outgoing": c.outgoing,
        "previewId": c.preview_id,
        "actor": c.actor,
        "reason": c.reason,
        "status": c.status,
        "appliedMs": c.applied_ms,
        "report": [fate_json(view, t) for t in c.report],
    }


@router.post(
    "/banks/{bic}/cut-off/preview",
    summary="Preview a partner bank's cut-off",
    description=(
        "Whom cutting the bank off would touch: customers with an account at it (for whom it "
        "is the only fiat rail, and of those, who could move to another partner bank serving "
        "their country), and every transfer pending through it with what would become of it, "
        "by currency. `cause`: SANCTIONED, SWIFT_DISCONNECTED or RELATIONSHIP_ENDED. "
        "`outgoing`: RETURN (payouts sent in its files go back to the customers' balances) or "
        "REROUTE (they stay pending for another bank that serves the customer; returned where "
        "none does). `effective`: when (ISO 8601, UTC), else at once. Changes nothing; the "
        "answer's `apply` is the body /banks/{bic}/cut-off takes, with a reason."
    ),
)
async def preview_cutoff(
    service: ServiceDep,
    actor: OperatorDep,
    bic: str,
    body: dict[str, Any] = body_doc(
        {"cause": "SWIFT_DISCONNECTED", "outgoing": "REROUTE"}, CutOffBody
    ),
) -> Response:
    spec = spec_of(bic, body)
    try:
        impact = await service.cutoff_preview(spec)
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    return ok(impact_json(service.view, impact))


@router.post(
    "/banks/{bic}/cut-off",
    summary="Cut a partner bank off, citing its preview",
    description=(
        "The body is the preview's `apply` object plus a `reason`. Four eyes by default: the "
        "answer is then a proposal a second person approves. Refused with PREVIEW_MISMATCH if "
        "the spec is not the one previewed, PREVIEW_STALE if what it would touch changed "
        "since. The answer (once it applies) is the report: every pending transfer and where "
        "its money went."
    ),
)
async def cut_off(
    service: ServiceDep,
    actor: OperatorDep,
    bic: str,
    body: dict[str, Any] = body_doc(
        {
            "spec": {"bic": "SABRRUMM", "cause": "SWIFT_DISCONNECTED", "outgoing": "REROUTE"},
            "preview_id": "3f1c…",
            "previewed": {
                "accounts": 3,
                "account_version": 5,
                "transfers": "9a0e…",
            },
            "reason": "EU Regulation 2022/345: disconnected from SWIFT on 2022-03-12",
        },
        ApplyBody,
    ),
) -> Response:
    req = parse(body, ApplyBody)
    if req.spec.bic != bic_of(bic):
        raise bad_request(f"the body cuts off {req.spec.bic}, the path names {bic}")
    cmd = CutOffBank(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        spec=req.spec,
        preview_id=req.preview_id,
        previewed=req.previewed,
    )

    def done(outcome: Outcome) -> dict[str, Any]:
        event = next((e for e in outcome.events if isinstance(e, BankCutOff)), None)
        cutoff_id = (
            event.cutoff_id if event is not None else first(outcome, BankCutOffScheduled).cutoff_id
        )
        return {**cutoff_json(service.view, service.view.bank_cutoffs[cutoff_id]),
                "seq": outcome.seq}  # fmt: skip

    return await execute_or_propose(service, cmd, done)


@router.get(
    "/cut-offs",
    summary="List bank cut-offs",
    description="Scheduled and applied, each with its report once it applied.",
)
async def list_cutoffs(service: ServiceDep, actor: OperatorDep) -> Response:
    view = service.view
    return ok([_scoped(view, actor, cutoff_json(view, c)) for c in view.bank_cutoffs.values()])


def _scoped(view: ReadModel, actor: str, shown: dict[str, Any]) -> dict[str, Any]:
    """A scoped reader (regional manager, auditor) sees the transfers of their scope's
    customers in a report; the rest are counted, not shown."""
    member = reader_scope(view, actor)
    if member is None:
        return shown
    mine = [
        t for t in shown["report"] if t["accountId"] and sees_account(view, member, t["accountId"])
    ]
    return {**shown, "report": mine, "outsideScope": len(shown["report"]) - len(mine)}


@router.get(
    "/cut-offs/{cutoff_id}",
    summary="A bank cut-off and its report",
    description="Every transfer it found pending through the bank and where its money went.",
)
async def get_cutoff(service: ServiceDep, actor: OperatorDep, cutoff_id: int) -> Response:
    found = service.view.bank_cutoffs.get(cutoff_id)
    if found is None:
        raise not_found("cut-off", cutoff_id)
    return ok(_scoped(service.view, actor, cutoff_json(service.view, found)))
