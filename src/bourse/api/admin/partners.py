"""Card partners in the admin API: card schemes and processors, customers' saved cards (tokens,
never card numbers), card deposits as the partner notifies and settles them, and a partner's
end with a preview, cited as a bank's cut-off is."""

from typing import Any

import msgspec
from fastapi import APIRouter
from starlette.responses import Response

from bourse.api.admin.compliance import Reason, body_doc, first, parse, utc_ms
from bourse.api.admin.errors import bad_request, not_found
from bourse.api.admin.four_eyes import execute_or_propose
from bourse.api.admin.operator import deposit_raw
from bourse.api.admin.scope import reader_scope, sees_account, sees_customer
from bourse.api.binance.replies import ok
from bourse.api.deps import OperatorDep, ServiceDep
from bourse.banking.cards import (
    DEPOSIT_STATUSES,
    CardDeposit,
    PartnerEnd,
    PartnerEndFingerprint,
    PartnerEndImpact,
    PartnerEndSpec,
    PaymentPartner,
    SavedCard,
)
from bourse.commands import (
    DefinePaymentPartner,
    EndPaymentPartner,
    ReceiveCardDeposit,
    SaveCard,
    SettleCardDeposit,
)
from bourse.compliance.countries import country_problem
from bourse.domain.money import to_str
from bourse.events import (
    CardDepositReceived,
    CardSaved,
    Outcome,
    PaymentPartnerEnded,
    PaymentPartnerEndScheduled,
)
from bourse.view.model import ReadModel

router = APIRouter(prefix="/admin/v1", tags=["card partners"])


def partner_json(p: PaymentPartner) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "kind": p.kind,
        "currencies": list(p.currencies),
        "serves": list(p.serves),
        "status": p.status,
        "endId": p.end_id,
        "endsMs": p.ends_ms,
    }


def card_json(c: SavedCard) -> dict[str, Any]:
    """A saved card as staff read it: its token only by its last four characters (the token
    charges the card through the partner; the engine keeps it, no page or answer shows it)."""
    return {
        "id": c.id,
        "customerId": c.customer_id,
        "partner": c.partner,
        "tokenEnd": c.token[-4:],
        "last4": c.last4,
        "expiry": c.expiry,
        "holder": c.holder,
    }


def deposit_json(view: ReadModel, d: CardDeposit) -> dict[str, Any]:
    return {
        "id": d.id,
        "partner": d.partner,
        "cardId": d.card_id,
        "accountId": d.account_id,
        "currency": d.currency,
        "amount": to_str(d.amount_raw, view.assets[d.currency]),
        "partnerRef": d.partner_ref,
        "createdMs": d.created_ms,
        "status": d.status,
        "reason": d.reason,
    }


def end_json(view: ReadModel, e: PartnerEnd) -> dict[str, Any]:
    return {
        "id": e.id,
        "partner": e.partner,
        "effectiveMs": e.effective_ms,
        "previewId": e.preview_id,
        "actor": e.actor,
        "reason": e.reason,
        "status": e.status,
        "appliedMs": e.applied_ms,
        "cards": e.cards,
        # what was pending through it at its end, and what has become of each since
        "pending": [deposit_json(view, view.card_deposits[i]) for i in e.pending],
    }


def end_impact_json(view: ReadModel, impact: PartnerEndImpact) -> dict[str, Any]:
    return {
        "partner": impact.spec.partner,
        "name": impact.name,
        "effectiveMs": impact.spec.effective_ms,
        "previewId": impact.preview_id,
        "asOfSeq": impact.as_of_seq,
        "customers": impact.customers,
        "cards": impact.cards,
        "sample": impact.sample,
        "pending": [deposit_json(view, msgspec.convert(d, CardDeposit)) for d in impact.pending],
        "byCurrency": {c: to_str(raw, view.assets[c]) for c, raw in impact.by_currency.items()},
        # the exact body /partners/{code}/end takes, with a reason added
        "apply": {
            "spec": msgspec.to_builtins(impact.spec),
            "preview_id": impact.preview_id,
            "previewed": msgspec.to_builtins(impact.previewed),
        },
    }


class PartnerBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    kind: str
    currencies: list[str]
    serves: list[str]
    reason: Reason


@router.get("/partners", summary="List card partners", description="Card schemes, processors.")
async def list_partners(service: ServiceDep, actor: OperatorDep) -> Response:
    return ok([partner_json(p) for p in service.view.payment_partners.values()])


@router.put(
    "/partners/{code}",
    summary="Define or change a card partner",
    description=(
        "A card scheme (`CARD_SCHEME`) or processor (`PROCESSOR`) by a short code (MASTERCARD): "
        "the fiat `currencies` card deposits through it are in and the countries of residence "
        "it `serves`. It ends by EndPaymentPartner (`/partners/{code}/end`)."
    ),
)
async def define_partner(
    service: ServiceDep,
    actor: OperatorDep,
    code: str,
    body: dict[str, Any] = body_doc(
        {
            "name": "Mastercard",
            "kind": "CARD_SCHEME",
            "currencies": ["EUR"],
            "serves": ["DE", "KZ"],
            "reason": "card acquiring agreement",
        },
        PartnerBody,
    ),
) -> Response:
    req = parse(body, PartnerBody)
    for country in req.serves:
        if problem := country_problem(country):
            raise bad_request(problem)
    cmd = DefinePaymentPartner(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        code=code.strip().upper(),
        name=req.name.strip(),
        kind=req.kind.strip().upper(),
        currencies=tuple(c.strip().upper() for c in req.currencies),
        serves=tuple(c.strip().upper() for c in req.serves),
    )
    return await execute_or_propose(
        service, cmd, lambda o: partner_json(service.view.payment_partners[cmd.code])
    )


class CardBody(msgspec.Struct, forbid_unknown_fields=True):
    partner: str
    token: str  # the partner's token for the card; a card number is refused
    last4: str
    expiry: str  # MM/YY
    holder: str
    reason: Reason


@router.post(
    "/customers/{customer_id}/cards",
    summary="Save a customer's card",
    description=(
        "The card as the partner tokenized it: its `token`, `last4` and `expiry` (MM/YY), held "
        "by the customer. A card number is never taken: a `token` that is one (13 to 19 digits "
        "passing the Luhn check) is refused, and the body has no field for it."
    ),
)
async def save_card(
    service: ServiceDep,
    actor: OperatorDep,
    customer_id: int,
    body: dict[str, Any] = body_doc(
        {
            "partner": "MASTERCARD",
            "token": "tok_1Nv0xYz2abcd",
            "last4": "4444",
            "expiry": "12/29",
            "holder": "Anna Müller",
            "reason": "customer added a card",
        },
        CardBody,
    ),
) -> Response:
    req = parse(body, CardBody)
    if customer_id not in service.view.customers:
        raise not_found("customer", customer_id)
    cmd = SaveCard(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        customer_id=customer_id,
        partner=req.partner.strip().upper(),
        token=req.token.strip(),
        last4=req.last4.strip(),
        expiry=req.expiry.strip(),
        holder=req.holder.strip(),
    )
    return await execute_or_propose(
        service,
        cmd,
        lambda o: card_json(service.view.saved_cards[first(o, CardSaved).card_id]),
    )


@router.get("/cards", summary="List saved cards", description="All, or one customer's.")
async def list_cards(
    service: ServiceDep, actor: OperatorDep, customer: int | None = None
) -> Response:
    view = service.view
    member = reader_scope(view, actor)
    if customer is not None and customer not in view.customers:  # never answered as if empty
        raise not_found("customer", customer)
    return ok(
        [
            card_json(c)
            for c in view.saved_cards.values()
            if (customer is None or c.customer_id == customer)
            and sees_customer(view, member, c.customer_id)
        ]
    )


class CardDepositBody(msgspec.Struct, forbid_unknown_fields=True):
    card_id: int
    currency: str
    amount: str  # decimal, in `currency`
    partner_ref: str  # the partner's id of the payment
    reason: Reason


@router.post(
    "/partners/{code}/deposits",
    summary="A card deposit the partner notified",
    description=(
        "PENDING until the partner's settlement report settles it (credited to the card holder's "
        "account) or reverses it (`/card-deposits/{id}/settlement`). The same `partner_ref` "
        "twice is one deposit (409 ALREADY_EXISTS). Refused (409 PARTNER_ENDED) once the "
        "partner has ended."
    ),
)
async def receive_card_deposit(
    service: ServiceDep,
    actor: OperatorDep,
    code: str,
    body: dict[str, Any] = body_doc(
        {
            "card_id": 1,
            "currency": "EUR",
            "amount": "250.00",
            "partner_ref": "pay_8841",
            "reason": "acquirer notification",
        },
        CardDepositBody,
    ),
) -> Response:
    req = parse(body, CardDepositBody)
    currency = req.currency.strip().upper()
    cmd = ReceiveCardDeposit(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        partner=code.strip().upper(),
        card_id=req.card_id,
        currency=currency,
        amount_raw=deposit_raw(service.view, currency, req.amount),
        partner_ref=req.partner_ref.strip(),
    )
    return await execute_or_propose(
        service,
        cmd,
        lambda o: deposit_json(
            service.view, service.view.card_deposits[first(o, CardDepositReceived).deposit_id]
        ),
    )


@router.get(
    "/card-deposits",
    summary="List card deposits",
    description="All, or those with `status` PENDING, SETTLED or REVERSED.",
)
async def list_card_deposits(
    service: ServiceDep, actor: OperatorDep, status: str | None = None
) -> Response:
    view = service.view
    member = reader_scope(view, actor)
    if status is not None and status.upper() not in DEPOSIT_STATUSES:
        raise bad_request(f"status {status!r}: one of {', '.join(DEPOSIT_STATUSES)}")
    return ok(
        [
            deposit_json(view, d)
            for d in view.card_deposits.values()
            if (status is None or d.status == status.upper())
            and sees_account(view, member, d.account_id)
        ]
    )


class SettlementBody(msgspec.Struct, forbid_unknown_fields=True):
    settled: bool
    reason: Reason


@router.post(
    "/card-deposits/{deposit_id}/settlement",
    summary="Settle or reverse a pending card deposit",
    description=(
        "The partner's settlement report: `settled` credits it through the deposit path (one "
        "the deposit rules refuse then is reversed, refunded to the card); otherwise it is "
        "reversed and nothing was credited."
    ),
)
async def settle_card_deposit(
    service: ServiceDep,
    actor: OperatorDep,
    deposit_id: int,
    body: dict[str, Any] = body_doc(
        {"settled": True, "reason": "settlement report 2026-12-07"}, SettlementBody
    ),
) -> Response:
    req = parse(body, SettlementBody)
    if deposit_id not in service.view.card_deposits:
        raise not_found("card deposit", deposit_id)
    cmd = SettleCardDeposit(
        actor=actor, ts_ms=service.clock(), reason=req.reason, deposit_id=deposit_id,
        settled=req.settled,
    )  # fmt: skip
    return await execute_or_propose(
        service, cmd, lambda o: deposit_json(service.view, service.view.card_deposits[deposit_id])
    )


class EndBody(msgspec.Struct, forbid_unknown_fields=True):
    effective: str = ""  # ISO 8601 (UTC); empty: at once


class EndApplyBody(msgspec.Struct, forbid_unknown_fields=True):
    spec: PartnerEndSpec
    preview_id: str
    previewed: PartnerEndFingerprint
    reason: Reason


@router.post(
    "/partners/{code}/end/preview",
    summary="Preview a card partner's end",
    description=(
        "Whom it touches (customers with a saved card of it) and the card deposits pending "
        "through it, by currency; `effective` (ISO 8601, UTC), else at once. Changes nothing; "
        "the answer's `apply` is the body /partners/{code}/end takes, with a reason."
    ),
)
async def preview_end(
    service: ServiceDep,
    actor: OperatorDep,
    code: str,
    body: dict[str, Any] = body_doc({"effective": "2027-01-01T00:00:00Z"}, EndBody),
) -> Response:
    req = parse(body, EndBody)
    effective_ms = utc_ms(req.effective, "effective") if req.effective.strip() else 0
    spec = PartnerEndSpec(partner=code.strip().upper(), effective_ms=effective_ms)
    try:
        impact = await service.partner_end_preview(spec)
    except ValueError as exc:
        raise bad_request(str(exc)) from None
    return ok(end_impact_json(service.view, impact))


@router.post(
    "/partners/{code}/end",
    summary="End a card partner, citing its preview",
    description=(
        "The preview's `apply` object plus a `reason`; four eyes by default. From its effective "
        "time no card deposit goes through the partner; what is pending still settles or "
        "reverses. Refused with PREVIEW_MISMATCH or PREVIEW_STALE as a policy apply is."
    ),
)
async def end_partner(
    service: ServiceDep,
    actor: OperatorDep,
    code: str,
    body: dict[str, Any] = body_doc(
        {
            "spec": {"partner": "MASTERCARD", "effective_ms": 1798761600000},
            "preview_id": "3f1c…",
            "previewed": {"cards": 2, "card_version": 2, "pending": "9a0e…"},
            "reason": "the scheme ended its relationship with the exchange",
        },
        EndApplyBody,
    ),
) -> Response:
    req = parse(body, EndApplyBody)
    if req.spec.partner != code.strip().upper():
        raise bad_request(f"the body ends {req.spec.partner}, the path names {code}")
    cmd = EndPaymentPartner(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        spec=req.spec,
        preview_id=req.preview_id,
        previewed=req.previewed,
    )

    def done(outcome: Outcome) -> dict[str, Any]:
        ended = next((e for e in outcome.events if isinstance(e, PaymentPartnerEnded)), None)
        end_id = (
            ended.end_id if ended is not None else first(outcome, PaymentPartnerEndScheduled).end_id
        )
        return {**end_json(service.view, service.view.partner_ends[end_id]), "seq": outcome.seq}

    return await execute_or_propose(service, cmd, done)


@router.get(
    "/partner-ends",
    summary="List card partners' ends",
    description="Scheduled and applied, each with the card deposits pending at it and their fate.",
)
async def list_ends(service: ServiceDep, actor: OperatorDep) -> Response:
    view = service.view
    return ok([end_json(view, e) for e in view.partner_ends.values()])
