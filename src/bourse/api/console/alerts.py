"""The sanctions alert queue: open screening alerts oldest first; one alert's customer beside the
listed entry, its score explained part by part; and the decision, confirm or dismiss, with the
reason, sent as the admin API sends it (`ConfirmScreeningAlert` / `DismissScreeningAlert`), or
proposed for a second person where four eyes apply.

An alert's evidence carries the matcher's explanation as one sentence (compliance/evidence.py);
`score_parts` reads it back into its parts, in the words and numbers the matcher wrote
(compliance/sanctions/matching/screen.py `_name_hit`, names.py `score_prepared`), never
recomputing any. The listed entry itself comes from the list version the evidence cites, as
stored beside the engine (`ListStore`): names, aliases, dates of birth, countries, programmes.
"""

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import msgspec
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from bourse.api.admin.alerts import KINDS, confirmed_render
from bourse.api.admin.compliance import REASON_MAX
from bourse.api.admin.scope import out_of_scope, reader_scope, sees_customer
from bourse.api.binance.gateway import Gateway
from bourse.api.binance.replies import ApiError
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
from bourse.commands import ConfirmScreeningAlert, DismissScreeningAlert
from bourse.compliance.alerts import BENEFICIARY, CONFIRMED, DELISTING
from bourse.compliance.evidence import Evidence, score_text
from bourse.compliance.sanctions.entries import ListEntry
from bourse.compliance.sanctions.matching.index import (
    ALIAS,
    ORIGINAL_SCRIPT,
    PRIMARY,
    WEAK_ALIAS,
)
from bourse.compliance.sanctions.versions import ListSourceError, ListStore, VersionInfo
from bourse.compliance.staff import Read
from bourse.events import Outcome
from bourse.server.service import GatewayService
from bourse.store.screening_queries import alerts_page
from bourse.view import ReadModel
from bourse.view.model import AlertView

router = APIRouter(prefix=PREFIX, include_in_schema=False)
PAGE = 200  # alerts per page of the queue
DECISIONS = ("confirm", "dismiss")
COMMANDS = {"confirm": ConfirmScreeningAlert, "dismiss": DismissScreeningAlert}


# --- the score, part by part ----------------------------------------------------------------


@dataclass(frozen=True)
class PartPair:
    """One part of the customer's name aligned with one part of the listed name."""

    query: str
    listed: str
    how: str  # "identical", "similar", "initial"
    similarity: str = ""  # as the matcher wrote it ("0.92"), "" where it wrote none
    note: str = ""  # "by sound", "read ..."


@dataclass(frozen=True)
class ScorePart:
    """One component of a match score, as the evidence records it."""

    part: str  # what was compared: "Name", "Date of birth", "Country", ...
    text: str  # the matcher's own words
    effect: str  # its weight or contribution as written ("0.95", "+0.05", "x0.9"), or a word
    pairs: tuple[PartPair, ...] = ()  # a name: its parts as aligned
    notes: tuple[str, ...] = ()  # a name: what else the alignment noted


_KIND = "|".join(re.escape(k) for k in (PRIMARY, ALIAS, WEAK_ALIAS, ORIGINAL_SCRIPT))
_HEAD = re.compile(r"(?P<source>\S+) (?P<entry>\S+) at (?P<score>\d\.\d\d): ")
_NAME = re.compile(
    rf"name '(?P<query>.*)' ~ (?P<kind>{_KIND}) '(?P<listed>.*)' (?P<score>\d\.\d\d) "
    r"\[(?P<notes>.*)\]"
)
_POINTS = re.compile(r"\((?P<points>[+-]\d\.\d\d)\)$")
_FACTOR = re.compile(r"weighted x(?P<factor>\d+(?:\.\d+)?)$")
_SAME = re.compile(r"(?P<q>[^\s=~:]+)=(?P<l>\S+)")
_NEAR = re.compile(r"(?P<q>[^\s=~:]+)~(?P<l>\S+) \((?P<sim>\d\.\d\d)(?:, (?P<how>.*))?\)")
_INITIAL = re.compile(r"(?P<q>[^\s=~:]+):(?P<l>\S+) \(initial\)")
_ALSO = "name also matches: "
_NOTES = {
    "unmatched in query: ": "only in the customer's name: ",
    "unmatched in listed: ": "only in the listed name: ",
}


def _split(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside parentheses and brackets."""
    pieces, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(sep, i):
            pieces.append(text[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    pieces.append(text[start:])
    return [p for p in pieces if p]


def _name_notes(text: str) -> tuple[tuple[PartPair, ...], tuple[str, ...]]:
    pairs: list[PartPair] = []
    notes: list[str] = []
    for note in _split(text, ", "):
        if m := _SAME.fullmatch(note):
            pairs.append(PartPair(m["q"], m["l"], "identical"))
        elif m := _NEAR.fullmatch(note):
            pairs.append(PartPair(m["q"], m["l"], "similar", m["sim"], m["how"] or ""))
        elif m := _INITIAL.fullmatch(note):
            pairs.append(PartPair(m["q"], m["l"], "initial"))
        else:
            prefix = next((p for p in _NOTES if note.startswith(p)), "")
            notes.append(_NOTES[prefix] + note.removeprefix(prefix) if prefix else note)
    return tuple(pairs), tuple(notes)


def _part(segment: str) -> ScorePart:
    if m := _NAME.fullmatch(segment):
        pairs, notes = _name_notes(m["notes"])
        text = f"the customer's name “{m['query']}” against the listed {m['kind']} name "
        text += f"“{m['listed']}”"
        return ScorePart("Name", text, m["score"], pairs, notes)
    points = _POINTS.search(segment)
    factor = _FACTOR.search(segment)
    if segment.startswith("weak alias"):
        return ScorePart("Weak alias", segment, f"x{factor['factor']}" if factor else "")
    if " vs listed " in segment and factor:
        return ScorePart("Kind of party", segment, f"x{factor['factor']}")
    if segment.startswith("DOB "):
        effect = points["points"] if points else "ignored" if "ignored" in segment else ""
        return ScorePart("Date of birth", segment, effect)
    if segment.startswith("country "):
        effect = points["points"] if points else "no weight" if "no weight" in segment else ""
        return ScorePart("Country", segment, effect)
    if " matches " in segment and " listed " in segment:
        return ScorePart("Identifier", segment, "decides alone")
    pairs, notes = _name_notes(segment)
    if pairs:  # the name parts alone, as some evidence records them
        return ScorePart("Name parts", segment, "", pairs, notes)
    return ScorePart("Explanation", segment, "")


def score_parts(explanation: str) -> list[ScorePart]:
    """The components of a match score as the matcher's explanation states them, each with the
    weight or points it gave; an explanation in no form the matcher writes is one part."""
    text = explanation.strip()
    if head := _HEAD.match(text):
        text = text[head.end() :]
    parts: list[ScorePart] = []
    segments = _split(text, "; ")
    for i, segment in enumerate(segments):
        if segment.startswith(_ALSO):  # an identifier hit whose name matches as well
            rest = "; ".join([segment.removeprefix(_ALSO), *segments[i + 1 :]])
            parts.extend(
                ScorePart(f"{p.part} (also)", p.text, p.effect, p.pairs, p.notes)
                for p in score_parts(rest)
            )
            break
        parts.append(_part(segment))
    return parts


# --- the listed entry, from the list version the evidence cites ------------------------------


@dataclass(frozen=True)
class Listed:
    version: VersionInfo
    entry: ListEntry | None  # None: the version does not hold the entry


_listed: dict[tuple[str, str, str, str], Listed] = {}  # versions never change: cache what is found
_LISTED_KEPT = 512
_listed_lock = threading.Lock()


def listed_entry(data_dir: Path, ev: Evidence) -> Listed | None:
    """The version and entry `ev` cites, or None when that version is not stored here."""
    key = (str(data_dir), ev.source, ev.list_sha256, ev.entry_id)
    with _listed_lock:
        if key in _listed:
            return _listed[key]
    store = ListStore(data_dir)
    try:
        info = store.find(ev.source, ev.list_sha256)
        version = store.read(ev.source, info.file)
    except (ListSourceError, OSError, msgspec.MsgspecError):
        return None
    entry = next((e for e in version.entries if e.entry_id == ev.entry_id), None)
    found = Listed(info, entry)
    with _listed_lock:  # pages are rendered on worker threads
        if len(_listed) >= _LISTED_KEPT:
            _listed.pop(next(iter(_listed)))
        _listed[key] = found
    return found


# --- rows as the pages show them ------------------------------------------------------------


def kind_text(alert: AlertView) -> str:
    if alert.kind == DELISTING:
        return f"delisting review of alert {alert.reviews}"
    if alert.kind == BENEFICIARY:
        return f"withdrawal payee (withdrawal {alert.withdrawal_id})"
    return "onboarding hit" if alert.holds else "screening hit"


def holds_text(view: ReadModel, alert: AlertView) -> str:
    """What the alert holds now: the customer, a withdrawal, or "" (nothing)."""
    cust = view.customers.get(alert.customer_id)
    if cust is not None and alert.id in cust.held_by:
        return "holds the customer"
    payment = view.withdrawals.get(alert.withdrawal_id) if alert.withdrawal_id else None
    if payment is not None and alert.id in payment.held_by:
        return f"holds withdrawal {payment.id}"
    return ""


def pending(view: ReadModel, now_ms: int) -> dict[int, list[dict[str, Any]]]:
    """Alert id → the decisions proposed for it and waiting for a second person."""
    found: dict[int, list[dict[str, Any]]] = {}
    for p in view.proposals.values():
        cmd = p.command
        if isinstance(cmd, ConfirmScreeningAlert | DismissScreeningAlert) and now_ms < p.expires_ms:
            decision = "confirm" if isinstance(cmd, ConfirmScreeningAlert) else "dismiss"
            found.setdefault(cmd.alert_id, []).append(
                {"id": p.id, "decision": decision, "proposer": p.proposer, "reason": p.reason}
            )
    return found


def row(view: ReadModel, alert: AlertView, waiting: dict[int, list[dict[str, Any]]]) -> Any:
    cust = view.customers.get(alert.customer_id)
    ev = alert.evidence
    return {
        "id": alert.id,
        "customer_id": alert.customer_id,
        "customer": cust.legal_name if cust is not None else "",
        "residence": cust.residence if cust is not None else "",
        "listed_name": ev.listed_name,
        "source": ev.source,
        "entry_id": ev.entry_id,
        "score": score_text(ev.score_bp),
        "kind": kind_text(alert),
        "holds": holds_text(view, alert),
        "raised_ms": alert.raised_ms,
        "owner": view.owners.get(f"alert:{alert.id}", ""),
        "status": alert.decision or "open",
        "proposed": waiting.get(alert.id, []),
    }


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 18 else None


# --- the queue ------------------------------------------------------------------------------


@router.get("/alerts")
async def queue(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    require(who, Read.COMPLIANCE)
    view = service.view
    params = request.query_params
    decided = params.get("decided", "") == "1"
    kind = params.get("kind", "")
    start = _number(params.get("from", "1") or "1")
    errors: dict[str, str] = {}
    if kind and kind not in KINDS:
        errors["kind"] = f"not a kind of alert: one of {', '.join(KINDS)}"
    if start is None or start < 1:
        errors["form"] = "the page starts at an alert number (1 or more)"
    scope = reader_scope(view, who.actor)
    now = service.clock()
    waiting = pending(view, now)
    rows: list[Any] = []
    total = 0
    next_from = 0
    if not errors:
        assert start is not None
        for alert_id in range(1, len(view.alerts) + 1):  # dense ids, in raising order
            a = view.alerts[alert_id]
            if (a.decision and not decided) or (kind and a.kind != kind):
                continue
            if not sees_customer(view, scope, a.customer_id):
                continue
            total += 1
            if alert_id < start:
                continue
            if len(rows) == PAGE:
                next_from = next_from or alert_id
                continue
            rows.append(row(view, a, waiting))
    return render(
        request,
        "alerts.html",
        who,
        status=400 if errors else 200,
        title="Sanctions alerts",
        rows=rows,
        total=total,
        decided=decided,
        kind=kind,
        kinds=KINDS,
        next_from=next_from,
        errors=errors,
    )


# --- one alert ------------------------------------------------------------------------------


def _alert(service: GatewayService, who: Officer, alert_id: str) -> AlertView:
    require(who, Read.COMPLIANCE)
    alert = service.view.alerts.get(parse_id(alert_id, "alert"))
    if alert is None:
        raise NotFound(f"there is no alert {alert_id}")
    scope = reader_scope(service.view, who.actor)
    if scope is not None and not sees_customer(service.view, scope, alert.customer_id):
        what = f"alert {alert.id} (customer {alert.customer_id})"
        body = cast(dict[str, str], out_of_scope(scope, what).detail)  # the admin API's words
        raise Forbidden(body["message"])
    return alert


async def _decision_record(request: Request, alert: AlertView) -> dict[str, Any] | None:
    """Who decided the alert, when and why, from the SQL store (None if it cannot say now)."""
    if not alert.decision:
        return None
    gw: Gateway | None = getattr(request.app.state, "gateway", None)
    if gw is None:  # no store reader in this process
        return None
    try:
        found = await gw.read(alerts_page, None, None, alert.id, 1)
    except ApiError:  # the store is behind or unreachable: the page shows the decision only
        return None
    alerts = found["alerts"]
    if not alerts or alerts[0]["alertId"] != alert.id:
        return None
    decision: dict[str, Any] | None = alerts[0]["decision"]
    return decision


async def _detail(
    request: Request,
    service: GatewayService,
    who: Officer,
    alert: AlertView,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    view = service.view
    ev = alert.evidence
    listed = await run_in_threadpool(listed_entry, service.data_dir, ev)
    waiting = pending(view, service.clock())
    context = {
        "alert": alert,
        "row": row(view, alert, waiting),
        "ev": ev,
        "score": score_text(ev.score_bp),
        "parts": score_parts(ev.explanation),
        "listed": listed,
        "customer": view.customers.get(alert.customer_id) if who.reads(Read.CUSTOMERS) else None,
        "accounts": _accounts(view, alert.customer_id) if who.reads(Read.CUSTOMERS) else [],
        "payment": view.withdrawals.get(alert.withdrawal_id) if alert.withdrawal_id else None,
        "decision": await _decision_record(request, alert),
        "may_decide": not alert.decision
        and who.may("ConfirmScreeningAlert")
        and who.may("DismissScreeningAlert"),
        "errors": errors or {},
        "values": values or {},
        "reason_max": REASON_MAX,
    }
    return render(
        request,
        "alerts_detail.html",
        who,
        status=400 if errors else 200,
        title=f"Alert {alert.id}",
        **context,
    )


def _accounts(view: ReadModel, customer_id: int) -> list[Any]:
    cust = view.customers.get(customer_id)
    if cust is None:
        return []
    return [view.accounts[a] for a in cust.accounts if a in view.accounts]


@router.get("/alerts/{alert_id}")
async def detail(request: Request, service: ServiceDep, who: OfficerDep, alert_id: str) -> Response:
    alert = _alert(service, who, alert_id)
    return await _detail(request, service, who, alert)


@router.post("/alerts/{alert_id}/decide")
async def decide(request: Request, service: ServiceDep, who: OfficerDep, alert_id: str) -> Response:
    alert = _alert(service, who, alert_id)
    fields = await form(request, who)
    choice, reason = fields.get("decision", ""), fields.get("reason", "").strip()
    values = {"decision": choice, "reason": reason}
    errors: dict[str, str] = {}
    if choice not in DECISIONS:
        errors["decision"] = "choose: confirm the match, or dismiss it as a false positive"
    if problem := reason_problem(reason):
        errors["reason"] = problem
    if alert.decision:
        errors["form"] = f"alert {alert.id} is {alert.decision} already"
    if errors:
        return await _detail(request, service, who, alert, errors=errors, values=values)
    cmd = COMMANDS[choice](actor=who.actor, ts_ms=service.clock(), reason=reason, alert_id=alert.id)
    ev = alert.evidence
    evidence = (
        f"screening alert {alert.id}: {ev.source} entry {ev.entry_id} ({ev.listed_name}), "
        f"score {score_text(ev.score_bp)}, customer {alert.customer_id}"
    )
    sent = await send(service, cmd, evidence=evidence)
    if sent.refusal:
        errors["form"] = f"Refused: {sent.refusal}"
        return await _detail(request, service, who, alert, errors=errors, values=values)
    done = ""
    if not sent.proposal_id:
        done = _done(service, alert.id, choice, sent.outcome)
    return redirect(f"/alerts/{alert.id}", sent.notice(done))


def _done(service: GatewayService, alert_id: int, choice: str, outcome: Outcome) -> str:
    """What the decision did, in a sentence, from its events (as the admin API answers it)."""
    if choice == "dismiss":
        if service.view.alerts[alert_id].kind == DELISTING:
            return f"Alert {alert_id} dismissed: the freeze stays."
        return f"Alert {alert_id} dismissed as a false positive."
    did = confirmed_render(service, alert_id)(outcome)
    said = [f"Alert {alert_id} {CONFIRMED}."]
    for key, words in (
        ("frozen", "Accounts frozen"),
        ("unfrozen", "Accounts unfrozen"),
        ("keptFrozen", "Accounts kept frozen"),
        ("withdrawalsFailed", "Withdrawals failed"),
    ):
        if did[key]:
            said.append(f"{words}: {', '.join(str(n) for n in did[key])}.")
    for s in did["standing"]:
        said.append(f"Still listed: alert {s['alertId']} ({s['source']} entry {s['entryId']}).")
    return " ".join(said)
