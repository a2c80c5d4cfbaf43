"""The console's card partners: each card scheme or processor with its currencies, the countries
it serves and its state; a partner's end, previewed (the customers with a saved card of it, its
cards, the card deposits pending through it) and then sent citing that preview; and an end's
report of what became of every card deposit pending at it.

The console reuses the admin API's code for each step (`bourse.api.admin.partners`): the same
preview (`Service.partner_end_preview`, rendered by `end_impact_json`), the same command
(`EndPaymentPartner`) citing the preview the person was shown, and the same record of an end
(`end_json`). The engine checks what matters whatever sent it: that the spec is the one
previewed (else PREVIEW_MISMATCH), that its saved cards and pending card deposits have not
changed since (else PREVIEW_STALE), the role and four eyes (on by default for an end: the
command becomes a proposal a second person approves).

A saved card is shown by its partner, the last four digits of its number and its expiry, never
by its token: the token alone can charge the card.
"""

from typing import Any

import msgspec
from fastapi import APIRouter, Request
from starlette.responses import Response

from bourse.api.admin.compliance import utc_ms
from bourse.api.admin.cutoffs import amount
from bourse.api.admin.errors import AdminError
from bourse.api.admin.four_eyes import is_four_eyed
from bourse.api.admin.partners import end_impact_json, end_json, partner_json
from bourse.api.admin.scope import reader_scope, sees_account, sees_customer
from bourse.api.console.banks import sampled_id
from bourse.api.console.policy_form import admin_message, minute_text
from bourse.api.console.web import (
    PREFIX,
    Forbidden,
    NotFound,
    Officer,
    OfficerDep,
    Sent,
    form,
    parse_id,
    reason_problem,
    redirect,
    render,
    require,
    send,
)
from bourse.api.deps import ServiceDep
from bourse.banking.cards import (
    ACTIVE,
    CARD_SCHEME,
    ENDED,
    PENDING,
    PROCESSOR,
    REVERSED,
    SETTLED,
    PartnerEndFingerprint,
    PartnerEndImpact,
    PartnerEndSpec,
    PaymentPartner,
    end_preview_id,
)
from bourse.commands import EndPaymentPartner
from bourse.compliance.staff import Read, four_eyed
from bourse.domain.rejections import RejectCode
from bourse.events import PaymentPartnerEnded, PaymentPartnerEndScheduled
from bourse.server.service import GatewayService
from bourse.view import ReadModel
from bourse.view.model import StaffView

router = APIRouter(prefix=PREFIX, include_in_schema=False)

KINDS = {CARD_SCHEME: "Card scheme", PROCESSOR: "Processor"}
STATUS_BADGES = {ACTIVE: "ok", ENDED: "bad"}
DEPOSIT_STATES = {  # a card deposit's state, in words, and its badge
    PENDING: ("Pending", "warn"),
    SETTLED: ("Settled", "ok"),
    REVERSED: ("Reversed", ""),
}


# --- reading -----------------------------------------------------------------------------------


def card_text(view: ReadModel, card_id: int) -> str:
    """A saved card as a person recognises it: the last four digits and the expiry (never its
    token, which alone can charge it)."""
    card = view.saved_cards.get(card_id)
    if card is None:
        return f"card {card_id}"
    return f"card ending {card.last4}, expires {card.expiry}"


def partner_name(view: ReadModel, code: str) -> str:
    partner = view.payment_partners.get(code)
    return partner.name if partner is not None else code


def _partner_in_path(view: ReadModel, text: str) -> PaymentPartner:
    partner = view.payment_partners.get(text.strip().upper())
    if partner is None:
        raise NotFound(f"{text!r} is not the code of a card partner")
    return partner


def _proposed_ends(view: ReadModel) -> dict[str, list[int]]:
    """Partner code → the proposals to end it that wait for a second person."""
    waiting: dict[str, list[int]] = {}
    for p in sorted(view.proposals.values(), key=lambda p: p.id):
        if isinstance(p.command, EndPaymentPartner):
            waiting.setdefault(p.command.spec.partner, []).append(p.id)
    return waiting


def partner_row(
    view: ReadModel, partner: PaymentPartner, waiting: list[int], scope: StaffView | None
) -> dict[str, Any]:
    """The partner as the pages show it; its pending card deposits counted within `scope`."""
    end = view.partner_ends.get(partner.end_id) if partner.end_id else None
    return {
        **partner_json(partner),
        "kind_text": KINDS.get(partner.kind, partner.kind),
        "badge": STATUS_BADGES.get(partner.status, ""),
        "scheduled": end is not None and end.status == "SCHEDULED",
        "proposals": waiting,
        "open": partner.status == ACTIVE and not partner.end_id,
        "pending": sum(
            1
            for d in view.card_deposits.values()
            if d.partner == partner.code
            and d.status == PENDING
            and sees_account(view, scope, d.account_id)
        ),
    }


def deposit_rows(
    view: ReadModel, scope: StaffView | None, deposits: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], int]:
    """The card deposits (as `deposit_json` gives them) a reader may see, each with its card,
    its customer and its state in words; and how many more are outside their scope."""
    rows = []
    hidden = 0
    for d in deposits:
        if scope is not None and not sees_account(view, scope, d["accountId"]):
            hidden += 1
            continue
        acct = view.accounts.get(d["accountId"])
        cust = view.customers.get(acct.customer_id) if acct is not None else None
        label, badge = DEPOSIT_STATES.get(d["status"], (d["status"], ""))
        rows.append(
            {
                **d,
                "partner_name": partner_name(view, d["partner"]),
                "card": card_text(view, d["cardId"]),
                "customer_id": cust.id if cust is not None else 0,
                "customer_name": cust.legal_name if cust is not None else "",
                "state": label,
                "badge": badge,
            }
        )
    return rows, hidden


def total_rows(view: ReadModel, by_currency: dict[str, dict[str, int]]) -> list[dict[str, str]]:
    """Totals by currency and state, each amount in its asset's decimals."""
    rows = []
    for currency, states in sorted(by_currency.items()):
        for state, raw in sorted(states.items()):
            label, badge = DEPOSIT_STATES.get(state, (state, ""))
            rows.append(
                {
                    "currency": currency,
                    "state": label,
                    "badge": badge,
                    "amount": amount(view, raw, currency),
                }
            )
    return rows


def pending_totals(by_currency: dict[str, int]) -> dict[str, dict[str, int]]:
    """A preview's pending amounts by currency, as totals by currency and state."""
    return {currency: {PENDING: raw} for currency, raw in by_currency.items()}


def _totals_now(view: ReadModel, deposit_ids: tuple[int, ...]) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    for i in deposit_ids:
        d = view.card_deposits[i]
        states = totals.setdefault(d.currency, {})
        states[d.status] = states.get(d.status, 0) + d.amount_raw
    return totals


# --- the partners ------------------------------------------------------------------------------


@router.get("/partners")
async def partners(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.SYSTEM)
    view = service.view
    waiting = _proposed_ends(view)
    scope = reader_scope(view, who.actor)
    rows = [
        partner_row(view, p, waiting.get(p.code, []), scope) for p in view.payment_partners.values()
    ]
    ends = [
        {**end_json(view, e), "name": partner_name(view, e.partner)}
        for e in sorted(view.partner_ends.values(), key=lambda e: e.id, reverse=True)
    ]
    return render(
        request,
        "partners.html",
        who,
        title="Card partners",
        partners=rows,
        ends=ends,
        may_end=who.may("EndPaymentPartner"),
    )


# --- a partner's end: the form, its preview, and sending it citing the preview ----------------


def _parsed(
    partner: PaymentPartner, fields: dict[str, str], now_ms: int
) -> tuple[dict[str, str], PartnerEndSpec | None, dict[str, str]]:
    """The form's values, the end they describe (None if any is wrong), and what is wrong."""
    values = {"effective": fields.get("effective", "").strip()}
    errors: dict[str, str] = {}
    effective_ms = 0
    if values["effective"]:
        try:
            effective_ms = utc_ms(values["effective"], "the effective time")
        except AdminError as exc:
            errors["effective"] = admin_message(exc)
        else:
            if effective_ms <= now_ms:
                errors["effective"] = (
                    "the effective time is in the past: choose one to come, or none to end the "
                    "partnership at once"
                )
    if errors:
        return values, None, errors
    return values, PartnerEndSpec(partner=partner.code, effective_ms=effective_ms), errors


async def _previewed(
    service: GatewayService, spec: PartnerEndSpec, errors: dict[str, str]
) -> PartnerEndImpact | None:
    """The end's impact as of now, or None with why not in `errors` (the partner ended
    meanwhile, the effective time has passed)."""
    try:
        return await service.partner_end_preview(spec)
    except ValueError as exc:
        errors["form"] = (errors["form"] + " " if errors.get("form") else "") + str(exc)
        return None


def _end_page(
    request: Request,
    service: GatewayService,
    who: Officer,
    partner: PaymentPartner,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    impact: PartnerEndImpact | None = None,
    reason: str = "",
) -> Response:
    """The form, and beside it the preview `impact` with the form that sends it."""
    view = service.view
    context: dict[str, Any] = {}
    if impact is not None:
        shown = end_impact_json(view, impact)
        scope = reader_scope(view, who.actor)
        visible = [s for s in impact.sample if sees_customer(view, scope, sampled_id(s))]
        pending, hidden = deposit_rows(view, scope, shown["pending"])
        applied = shown["apply"]
        context["preview"] = {
            **shown,
            "sample": [{**s, "card": card_text(view, sampled_id(s, "card_id"))} for s in visible],
            "hidden_sample": len(impact.sample) - len(visible),
            "pending_rows": pending,
            "hidden_pending": hidden,
            "totals": total_rows(view, pending_totals(impact.by_currency)),
            "spec_json": msgspec.json.encode(applied["spec"]).decode(),
            "previewed_json": msgspec.json.encode(applied["previewed"]).decode(),
        }
    end = view.partner_ends.get(partner.end_id) if partner.end_id else None
    return render(
        request,
        "partners_end.html",
        who,
        status=400 if errors else 200,
        title=f"End the partnership with {partner.name}",
        partner=partner_row(
            view, partner, _proposed_ends(view).get(partner.code, []), reader_scope(view, who.actor)
        ),
        end=None if end is None else {"id": end.id, "status": end.status},
        values=values,
        errors=errors,
        reason=reason,
        may_end=who.may("EndPaymentPartner"),
        proposes=four_eyed(view.four_eyes, "EndPaymentPartner", who.actor),
        **context,
    )


@router.get("/partners/{code}/end")
async def end_form(request: Request, service: ServiceDep, who: OfficerDep, code: str) -> Response:
    require(who, Read.SYSTEM)
    partner = _partner_in_path(service.view, code)
    return _end_page(request, service, who, partner, {"effective": ""}, {})


@router.post("/partners/{code}/end/preview")
async def end_preview(
    request: Request, service: ServiceDep, who: OfficerDep, code: str
) -> Response:
    """Whom and what ending the partner as the form says would touch; changes nothing."""
    require(who, Read.SYSTEM)
    partner = _partner_in_path(service.view, code)
    fields = await form(request, who)
    values, spec, errors = _parsed(partner, fields, service.clock())
    impact = None if spec is None else await _previewed(service, spec, errors)
    return _end_page(request, service, who, partner, values, errors, impact=impact)


async def _unproposable(
    service: GatewayService, cmd: EndPaymentPartner
) -> tuple[RejectCode, str] | None:
    """Why the engine would refuse the end as not the preview it cites, checked before it is
    proposed: a proposed command runs only when approved, so a preview that is stale already
    would be refused then, after a second person spent their time on it."""
    spec = cmd.spec
    if cmd.preview_id != end_preview_id(spec, cmd.previewed):
        code = RejectCode.PREVIEW_MISMATCH
        cited = cmd.preview_id or "(none)"
        return code, f"this end cites preview {cited}, which was not made for it ({code.name})"
    try:
        impact = await service.partner_end_preview(spec)
    except ValueError as exc:
        return RejectCode.INVALID_PARAMETER, f"{exc} ({RejectCode.INVALID_PARAMETER.name})"
    if impact.previewed != cmd.previewed:
        code = RejectCode.PREVIEW_STALE
        return code, (
            f"since preview {cmd.preview_id}, its saved cards or the card deposits pending "
            f"through it have changed: preview it again ({code.name})"
        )
    return None


def _sent(partner: PaymentPartner, spec: PartnerEndSpec, sent: Sent) -> Response:
    """Where the person goes once the end is sent: its report, or the partners under four
    eyes, with what happened."""
    if sent.proposal_id:
        return redirect("/partners", sent.notice(""))
    events = sent.outcome.events
    ended = next((e for e in events if isinstance(e, PaymentPartnerEnded)), None)
    scheduled = next((e for e in events if isinstance(e, PaymentPartnerEndScheduled)), None)
    end_id = ended.end_id if ended else scheduled.end_id if scheduled else 0
    done = (
        f"The partnership with {partner.name} ({partner.code}) has ended: end #{end_id}."
        if ended
        else f"The partnership with {partner.name} ({partner.code}) ends "
        f"{minute_text(spec.effective_ms).replace('T', ' ')} UTC: end #{end_id}."
    )
    return redirect(f"/partner-ends/{end_id}", done)


def _cited(fields: dict[str, str]) -> tuple[PartnerEndSpec, str, PartnerEndFingerprint]:
    """The preview the form cites: its spec, id and what it saw."""
    try:
        spec = msgspec.json.decode(fields.get("spec", ""), type=PartnerEndSpec)
        previewed = msgspec.json.decode(fields.get("previewed", ""), type=PartnerEndFingerprint)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise Forbidden(
            "this form does not carry a preview the console made: preview the end again"
        ) from None
    return spec, fields.get("preview_id", ""), previewed


@router.post("/partners/{code}/end")
async def end_partner(
    request: Request, service: ServiceDep, who: OfficerDep, code: str
) -> Response:
    """End the partnership (or, under four eyes, propose it) as the preview the person was
    shown, citing its id: the engine refuses it if it is not the end previewed or what it would
    touch changed since (a proposal is checked so before it is made); then the impact is
    previewed afresh beside the refusal."""
    require(who, Read.SYSTEM)
    partner = _partner_in_path(service.view, code)
    fields = await form(request, who)
    spec, cited, previewed = _cited(fields)
    if spec.partner != partner.code:
        raise Forbidden(f"this form ends {spec.partner}, not {partner.code}: preview it again")
    reason = fields.get("reason", "").strip()
    errors: dict[str, str] = {}
    if problem := reason_problem(reason):
        errors["reason"] = problem
    if not errors:
        cmd = EndPaymentPartner(
            actor=who.actor,
            ts_ms=service.clock(),
            reason=reason,
            spec=spec,
            preview_id=cited,
            previewed=previewed,
        )
        refused = await _unproposable(service, cmd) if is_four_eyed(service, cmd) else None
        if refused is None:
            sent = await send(service, cmd)
            rejected = sent.rejected
            if rejected is None:
                return _sent(partner, spec, sent)
            refused = rejected.code, sent.refusal
        why, refusal = refused
        stale = why is RejectCode.PREVIEW_STALE
        errors["form"] = f"Refused: {refusal}. Nothing changed." + (
            " What it touches is previewed afresh below." if stale else ""
        )
    impact = await _previewed(service, spec, errors)
    values = {"effective": minute_text(spec.effective_ms)}
    return _end_page(request, service, who, partner, values, errors, impact=impact, reason=reason)


# --- an end's report ---------------------------------------------------------------------------


@router.get("/partner-ends/{end_id}")
async def report(request: Request, service: ServiceDep, who: OfficerDep, end_id: str) -> Response:
    """The end, and each card deposit pending through the partner at it with what became of it
    since (settled, reversed, or pending still)."""
    require(who, Read.SYSTEM)
    view = service.view
    found = view.partner_ends.get(parse_id(end_id, "partner end"))
    if found is None:
        raise NotFound(f"there is no partner end {end_id}")
    shown = end_json(view, found)
    scope = reader_scope(view, who.actor)
    deposits, hidden = deposit_rows(view, scope, shown["pending"])
    partner = view.payment_partners.get(found.partner)
    return render(
        request,
        "partners_report.html",
        who,
        title=f"End #{found.id}: {partner_name(view, found.partner)}",
        e=shown,
        name=partner_name(view, found.partner),
        partner=None if partner is None else partner_row(view, partner, [], scope),
        deposits=deposits,
        hidden_deposits=hidden,
        still_pending=sum(1 for d in deposits if d["status"] == PENDING),
        totals=total_rows(view, _totals_now(view, found.pending)),
    )
