"""The console's partner banks: each bank with its currencies, the countries it serves, the
exchange's accounts at it and its state; a bank's cut-off, previewed (whom and what it touches)
and then sent citing that preview; and a cut-off's report of where every pending transfer's
money went.

The console reuses the admin API's code for each step (`bourse.api.admin.cutoffs`): the same
preview (`Service.cutoff_preview`, rendered by `impact_json`), the same command (`CutOffBank`)
citing the preview the person was shown, and the same report (`cutoff_json`). The engine checks
what matters whatever sent it: that the spec is the one previewed (else PREVIEW_MISMATCH), that
what it would touch has not changed since (else PREVIEW_STALE), the role and four eyes (on by
default for a cut-off: the command becomes a proposal a second person approves).
"""

from typing import Any

import msgspec
from fastapi import APIRouter, Request
from starlette.responses import Response

from bourse.api.admin.compliance import utc_ms
from bourse.api.admin.cutoffs import amount, cutoff_json, impact_json
from bourse.api.admin.errors import AdminError
from bourse.api.admin.scope import reader_scope, sees_account, sees_customer
from bourse.api.console.policy_form import admin_message, minute_text
from bourse.api.console.web import (
    PREFIX,
    Forbidden,
    NotFound,
    Officer,
    OfficerDep,
    form,
    parse_id,
    reason_problem,
    redirect,
    render,
    require,
    send,
)
from bourse.api.deps import ServiceDep
from bourse.banking.cutoff import (
    CAUSE_TEXT,
    IN_FLIGHT,
    LINE,
    QUEUED,
    REROUTED,
    RETURNED,
    Cause,
    CutOffFingerprint,
    CutOffImpact,
    CutOffSpec,
    Outgoing,
)
from bourse.banking.rails import ACTIVE, CUT_OFF, SUSPENDED, PartnerBank, TransferFate
from bourse.commands import CutOffBank
from bourse.compliance.staff import Read, four_eyed
from bourse.domain.rejections import RejectCode
from bourse.events import BankCutOff, BankCutOffScheduled
from bourse.server.service import GatewayService
from bourse.view import ReadModel
from bourse.view.model import StaffView

router = APIRouter(prefix=PREFIX, include_in_schema=False)

CAUSES = [(c.value, CAUSE_TEXT[c][:1].upper() + CAUSE_TEXT[c][1:]) for c in Cause]
OUTGOING = [
    (
        Outgoing.RETURN.value,
        "Return them: each amount goes back to the customer's balance",
    ),
    (
        Outgoing.REROUTE.value,
        "Reroute them: pending again for another partner bank serving the customer "
        "(returned where none does)",
    ),
]
FATES = {  # a transfer's fate, in words, and its badge
    RETURNED: ("Returned", "ok"),
    REROUTED: ("Rerouted", ""),
    IN_FLIGHT: ("In flight", "warn"),
    QUEUED: ("Queued", "warn"),
}
STATUS_BADGES = {ACTIVE: "ok", SUSPENDED: "warn", CUT_OFF: "bad"}
KINDS = {"PAYOUT": "Payout in its file", "WITHDRAWAL": "Withdrawal to it", "LINE": "Statement line"}


def cause_text(cause: str) -> str:
    try:
        text = CAUSE_TEXT[Cause(cause)]
    except ValueError:
        return cause
    return text[:1].upper() + text[1:]


# --- reading -----------------------------------------------------------------------------------


def _bank_in_path(view: ReadModel, text: str) -> PartnerBank:
    bank = view.banks.get(text.strip().upper())
    if bank is None:
        raise NotFound(f"{text!r} is not the BIC of a partner bank")
    return bank


def _proposed_cutoffs(view: ReadModel) -> dict[str, list[int]]:
    """BIC → the proposals to cut it off that wait for a second person."""
    waiting: dict[str, list[int]] = {}
    for p in sorted(view.proposals.values(), key=lambda p: p.id):
        if isinstance(p.command, CutOffBank):
            waiting.setdefault(p.command.spec.bic, []).append(p.id)
    return waiting


def _bank_row(view: ReadModel, bank: PartnerBank, waiting: list[int]) -> dict[str, Any]:
    cutoff = view.bank_cutoffs.get(bank.cutoff_id) if bank.cutoff_id else None
    return {
        "bic": bank.bic,
        "name": bank.name,
        "country": bank.country,
        "currencies": list(bank.currencies),
        "serves": list(bank.serves),
        "accounts": sorted(bank.accounts.items()),
        "status": bank.status,
        "badge": STATUS_BADGES.get(bank.status, ""),
        "cutoff_id": bank.cutoff_id,
        "cut_from_ms": bank.cut_from_ms,
        "scheduled": cutoff is not None and cutoff.status == "SCHEDULED",
        "proposals": waiting,
        "open": bank.status != CUT_OFF and not bank.cutoff_id,
    }


def total_rows(view: ReadModel, by_currency: dict[str, dict[str, int]]) -> list[dict[str, str]]:
    """Totals by currency and fate, in words, each amount in its asset's decimals."""
    rows = []
    for currency, fates in sorted(by_currency.items()):
        for fate, raw in sorted(fates.items()):
            label, badge = FATES.get(fate, (fate, ""))
            rows.append(
                {
                    "currency": currency,
                    "fate": label,
                    "badge": badge,
                    "amount": amount(view, raw, currency),
                }
            )
    return rows


def _totals_of(report: tuple[TransferFate, ...]) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = {}
    for t in report:
        fates = totals.setdefault(t.currency, {})
        fates[t.fate] = fates.get(t.fate, 0) + t.amount_raw
    return totals


def sampled_id(sampled: dict[str, object], key: str = "customer_id") -> int:
    """An id in a preview's sample row (a dict as the engine built it), 0 when absent."""
    found = sampled.get(key)
    return found if isinstance(found, int) else 0


def transfer_rows(
    view: ReadModel, scope: StaffView | None, transfers: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], int]:
    """The transfers (as `fate_json` gives them) a reader may see, with each one's customer
    and its fate in words; and how many more are outside their scope."""
    rows = []
    hidden = 0
    for t in transfers:
        account_id = t["accountId"]
        if scope is not None and not (account_id and sees_account(view, scope, account_id)):
            hidden += 1
            continue
        acct = view.accounts.get(account_id) if account_id else None
        cust = view.customers.get(acct.customer_id) if acct is not None else None
        label, badge = FATES.get(t["fate"], (t["fate"], ""))
        line = view.bank_queue.get(t["id"]) if t["kind"] == LINE else None
        rows.append(
            {
                **t,
                "kind_text": KINDS.get(t["kind"], t["kind"]),
                "fate_text": label,
                "badge": badge,
                "customer_id": cust.id if cust is not None else 0,
                "customer_name": cust.legal_name if cust is not None else "",
                "open": line is not None,  # a line still waiting in the queue
                "sender": line.entry.counterparty_name if line is not None else "",
            }
        )
    return rows, hidden


# --- the banks ---------------------------------------------------------------------------------


@router.get("/banks")
async def banks(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.SYSTEM)
    view = service.view
    waiting = _proposed_cutoffs(view)
    rows = [_bank_row(view, b, waiting.get(b.bic, [])) for b in view.banks.values()]
    cutoffs = [
        {
            **cutoff_json(view, c),
            "cause_text": cause_text(c.cause),
            "transfers": len(c.report),
        }
        for c in sorted(view.bank_cutoffs.values(), key=lambda c: c.id, reverse=True)
    ]
    return render(
        request,
        "banks.html",
        who,
        title="Partner banks",
        banks=rows,
        cutoffs=cutoffs,
        may_cut_off=who.may("CutOffBank"),
    )


# --- a bank's cut-off: the form, its preview, and sending it citing the preview -----------------


def _blank() -> dict[str, str]:
    return {"cause": "", "outgoing": Outgoing.RETURN.value, "effective": ""}


def _values_of(spec: CutOffSpec) -> dict[str, str]:
    return {
        "cause": spec.cause.value,
        "outgoing": spec.outgoing.value,
        "effective": minute_text(spec.effective_ms),
    }


def _parsed(
    bank: PartnerBank, fields: dict[str, str], now_ms: int
) -> tuple[dict[str, str], CutOffSpec | None, dict[str, str]]:
    """The form's values, the cut-off they describe (None if any is wrong), and what is wrong
    with each field."""
    values = {
        "cause": fields.get("cause", ""),
        "outgoing": fields.get("outgoing", ""),
        "effective": fields.get("effective", "").strip(),
    }
    errors: dict[str, str] = {}
    try:
        cause = Cause(values["cause"])
    except ValueError:
        errors["cause"] = "choose why it is cut off: sanctioned, off SWIFT, or relationship ended"
    try:
        outgoing = Outgoing(values["outgoing"])
    except ValueError:
        errors["outgoing"] = "choose what becomes of payouts already sent: return or reroute"
    effective_ms = 0
    if values["effective"]:
        try:
            effective_ms = utc_ms(values["effective"], "the effective time")
        except AdminError as exc:
            errors["effective"] = admin_message(exc)
        else:
            if effective_ms <= now_ms:
                errors["effective"] = (
                    "the effective time is in the past: choose one to come, or none to cut it "
                    "off at once"
                )
    if errors:
        return values, None, errors
    spec = CutOffSpec(bic=bank.bic, cause=cause, outgoing=outgoing, effective_ms=effective_ms)
    return values, spec, errors


async def _previewed(
    service: GatewayService, spec: CutOffSpec, errors: dict[str, str]
) -> CutOffImpact | None:
    """The cut-off's impact as of now, or None with why not in `errors` (the bank was cut off
    meanwhile, the effective time has passed)."""
    try:
        return await service.cutoff_preview(spec)
    except ValueError as exc:
        errors["form"] = (errors["form"] + " " if errors.get("form") else "") + str(exc)
        return None


def _cutoff_page(
    request: Request,
    service: GatewayService,
    who: Officer,
    bank: PartnerBank,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    impact: CutOffImpact | None = None,
    reason: str = "",
) -> Response:
    """The form, and beside it the preview `impact` with the form that sends it."""
    view = service.view
    context: dict[str, Any] = {}
    if impact is not None:
        shown = impact_json(view, impact)
        scope = reader_scope(view, who.actor)
        visible = [s for s in impact.sample if sees_customer(view, scope, sampled_id(s))]
        transfers, hidden = transfer_rows(view, scope, shown["transfers"])
        applied = shown["apply"]
        context["preview"] = {
            **shown,
            "cause_text": cause_text(shown["cause"]),
            "outgoing_text": dict(OUTGOING)[shown["outgoing"]],
            "sample": visible,
            "hidden_sample": len(impact.sample) - len(visible),
            "transfer_rows": transfers,
            "hidden_transfers": hidden,
            "totals": total_rows(view, impact.by_currency),
            "spec_json": msgspec.json.encode(applied["spec"]).decode(),
            "previewed_json": msgspec.json.encode(applied["previewed"]).decode(),
        }
    cutoff = view.bank_cutoffs.get(bank.cutoff_id) if bank.cutoff_id else None
    return render(
        request,
        "banks_cutoff.html",
        who,
        status=400 if errors else 200,
        title=f"Cut off {bank.name}",
        bank=_bank_row(view, bank, _proposed_cutoffs(view).get(bank.bic, [])),
        cutoff=None if cutoff is None else {"id": cutoff.id, "status": cutoff.status},
        values=values,
        errors=errors,
        reason=reason,
        causes=CAUSES,
        outgoing=OUTGOING,
        may_cut_off=who.may("CutOffBank"),
        proposes=four_eyed(view.four_eyes, "CutOffBank", who.actor),
        **context,
    )


@router.get("/banks/{bic}/cut-off")
async def cutoff_form(request: Request, service: ServiceDep, who: OfficerDep, bic: str) -> Response:
    require(who, Read.SYSTEM)
    bank = _bank_in_path(service.view, bic)
    return _cutoff_page(request, service, who, bank, _blank(), {})


@router.post("/banks/{bic}/cut-off/preview")
async def cutoff_preview(
    request: Request, service: ServiceDep, who: OfficerDep, bic: str
) -> Response:
    """Whom and what cutting the bank off as the form says would touch; changes nothing."""
    require(who, Read.SYSTEM)
    bank = _bank_in_path(service.view, bic)
    fields = await form(request, who)
    values, spec, errors = _parsed(bank, fields, service.clock())
    impact = None if spec is None else await _previewed(service, spec, errors)
    return _cutoff_page(request, service, who, bank, values, errors, impact=impact)


def _cited(fields: dict[str, str]) -> tuple[CutOffSpec, str, CutOffFingerprint]:
    """The preview the form cites: its spec, id and what it saw."""
    try:
        spec = msgspec.json.decode(fields.get("spec", ""), type=CutOffSpec)
        previewed = msgspec.json.decode(fields.get("previewed", ""), type=CutOffFingerprint)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise Forbidden(
            "this form does not carry a preview the console made: preview the cut-off again"
        ) from None
    return spec, fields.get("preview_id", ""), previewed


@router.post("/banks/{bic}/cut-off")
async def cut_off(request: Request, service: ServiceDep, who: OfficerDep, bic: str) -> Response:
    """Cut the bank off (or, under four eyes, propose it) as the preview the person was shown,
    citing its id: the engine refuses it if it is not the cut-off previewed or what it would
    touch changed since; then the impact is previewed afresh beside the refusal."""
    require(who, Read.SYSTEM)
    bank = _bank_in_path(service.view, bic)
    fields = await form(request, who)
    spec, cited, previewed = _cited(fields)
    if spec.bic != bank.bic:
        raise Forbidden(f"this form cuts off {spec.bic}, not {bank.bic}: preview it again")
    reason = fields.get("reason", "").strip()
    errors: dict[str, str] = {}
    if problem := reason_problem(reason):
        errors["reason"] = problem
    if not errors:
        cmd = CutOffBank(
            actor=who.actor,
            ts_ms=service.clock(),
            reason=reason,
            spec=spec,
            preview_id=cited,
            previewed=previewed,
        )
        sent = await send(service, cmd)
        rejected = sent.rejected
        if rejected is None:
            if sent.proposal_id:
                return redirect("/banks", sent.notice(""))
            events = sent.outcome.events
            applied = next((e for e in events if isinstance(e, BankCutOff)), None)
            scheduled = next((e for e in events if isinstance(e, BankCutOffScheduled)), None)
            cutoff_id = applied.cutoff_id if applied else scheduled.cutoff_id if scheduled else 0
            done = (
                f"{bank.name} ({bank.bic}) is cut off: cut-off #{cutoff_id}."
                if applied
                else f"{bank.name} ({bank.bic}) will be cut off "
                f"{minute_text(spec.effective_ms).replace('T', ' ')} UTC: cut-off #{cutoff_id}."
            )
            return redirect(f"/cut-offs/{cutoff_id}", done)
        stale = rejected.code is RejectCode.PREVIEW_STALE
        errors["form"] = f"Refused: {sent.refusal}. Nothing changed." + (
            " What it touches is previewed afresh below." if stale else ""
        )
    impact = await _previewed(service, spec, errors)
    return _cutoff_page(
        request, service, who, bank, _values_of(spec), errors, impact=impact, reason=reason
    )


# --- a cut-off's report ------------------------------------------------------------------------


@router.get("/cut-offs/{cutoff_id}")
async def report(
    request: Request, service: ServiceDep, who: OfficerDep, cutoff_id: str
) -> Response:
    """Every transfer the cut-off found pending through the bank and where its money went."""
    require(who, Read.SYSTEM)
    view = service.view
    found = view.bank_cutoffs.get(parse_id(cutoff_id, "cut-off"))
    if found is None:
        raise NotFound(f"there is no cut-off {cutoff_id}")
    shown = cutoff_json(view, found)
    transfers, hidden = transfer_rows(view, reader_scope(view, who.actor), shown["report"])
    bank = view.banks.get(found.bic)
    return render(
        request,
        "banks_report.html",
        who,
        title=f"Cut-off #{found.id}: {shown['name']}",
        c=shown,
        cause_text=cause_text(found.cause),
        outgoing_text=dict(OUTGOING).get(found.outgoing, found.outgoing),
        bank=None if bank is None else _bank_row(view, bank, []),
        transfers=transfers,
        hidden_transfers=hidden,
        totals=total_rows(view, _totals_of(found.report)),
    )
