"""The dashboard: what waits (alerts and approvals, by age), frozen accounts, the jurisdiction
policies in force, and traded volume by venue over the last 24 hours."""

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from bourse.api.admin.scope import reader_scope, sees_account, sees_customer
from bourse.api.console.web import PREFIX, OfficerDep, render
from bourse.api.deps import ServiceDep
from bourse.compliance.policy import Access, PolicySpec
from bourse.compliance.staff import Read
from bourse.domain.money import to_str
from bourse.marketdata.tickers import TickerBook
from bourse.view import ReadModel

router = APIRouter(prefix=PREFIX, include_in_schema=False)
HOUR_MS = 3_600_000
# how old open work is, as a compliance team reports it: the buckets and their upper bounds
AGES = (("under 1 hour", HOUR_MS), ("1 to 24 hours", 24 * HOUR_MS), ("1 to 7 days", 168 * HOUR_MS))
FROZEN_SHOWN = 25


def by_age(times: list[int], now_ms: int) -> list[tuple[str, int]]:
    counts = [0] * (len(AGES) + 1)
    for ts in times:
        waited = now_ms - ts
        counts[next((i for i, (_, top) in enumerate(AGES) if waited < top), len(AGES))] += 1
    return [(label, n) for (label, _), n in zip([*AGES, ("over 7 days", 0)], counts, strict=True)]


def rules_text(spec: PolicySpec) -> str:
    """A policy's rules as a sentence: what is not open, and how."""
    parts = []
    for rule in spec.rules:
        if rule.access is Access.OPEN:
            continue
        text = f"{rule.capability.value.lower().replace('_', ' ')} {rule.access.value.lower()}"
        if rule.condition is not None:
            text += " (above a holdings threshold)"
        parts.append(text.replace("_", " "))
    return "; ".join(parts) or "all open (restored)"


@router.get("/")
async def dashboard(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    view = service.view
    now = service.clock()
    scope = reader_scope(view, who.actor)
    context: dict[str, Any] = {}
    if who.reads(Read.COMPLIANCE):
        open_alerts = [
            a.raised_ms
            for a in view.alerts.values()
            if not a.decision and sees_customer(view, scope, a.customer_id)
        ]
        context["alerts"] = by_age(open_alerts, now)
        context["alerts_open"] = len(open_alerts)
        context["policies"] = _policies(view, scope)
    if who.reads(Read.PROPOSALS):
        waiting = [p.proposed_ms for p in view.proposals.values() if now < p.expires_ms]
        context["approvals"] = by_age(waiting, now)
        context["approvals_open"] = len(waiting)
    if who.reads(Read.CUSTOMERS):
        frozen = [a for a in view.accounts.values() if a.frozen and sees_account(view, scope, a.id)]
        context["frozen_count"] = len(frozen)
        context["frozen"] = sorted(frozen, key=lambda a: a.id)[:FROZEN_SHOWN]
    book: TickerBook = await request.app.state.tickers()
    context["volumes"] = _volumes(view, book, now)
    return render(request, "dashboard.html", who, title="Dashboard", **context)


def _policies(view: ReadModel, scope: Any) -> list[dict[str, Any]]:
    rows = []
    for policies in (view.residence_policies, view.nationality_policies):
        for country, p in sorted(policies.items()):
            if scope is not None and scope.countries and country not in scope.countries:
                continue
            rows.append(
                {
                    "country": country,
                    "basis": p.spec.basis.value.lower(),
                    "name": p.spec.name,
                    "rules": rules_text(p.spec),
                    "deadline_ms": p.spec.deadline_ms,
                    "actor": p.actor,
                    "applied_ms": p.applied_ms,
                    "change_id": p.change_id,
                }
            )
    return rows


def _volumes(view: ReadModel, book: TickerBook, now_ms: int) -> list[dict[str, Any]]:
    """24-hour traded volume per venue in each quote asset, with bar widths for the chart."""
    rows: list[dict[str, Any]] = []
    for venue in sorted(view.venues.values(), key=lambda v: v.code):
        by_quote: dict[str, int] = defaultdict(int)
        trades = 0
        for symbol in sorted(venue.symbols):
            info = view.symbols.get(symbol)
            if info is None:
                continue
            stats = book.stats(symbol, now_ms)
            by_quote[info.spec.quote] += stats.quote_volume
            trades += stats.trades
        for quote, raw in sorted(by_quote.items()):
            precision = next(
                s.spec.quote_precision for s in view.symbols.values() if s.spec.quote == quote
            )
            rows.append(
                {
                    "venue": venue.code,
                    "name": venue.name,
                    "quote": quote,
                    "raw": raw,
                    "volume": to_str(raw, precision),
                    "trades": trades,
                }
            )
    # amounts in different quote assets do not compare: a bar is a venue's share of the largest
    # venue's volume in the same quote asset
    top: dict[str, int] = defaultdict(int)
    for r in rows:
        top[r["quote"]] = max(top[r["quote"]], r["raw"])
    for r in rows:
        most = top[r["quote"]]
        r["width"] = 0 if not most else max(1, r["raw"] * 300 // most)
    return rows
