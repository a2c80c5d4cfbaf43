"""Reads of the store for sanctions screening: alerts for review, a customer's alerts, the alerts
on one listed entry, the rescreen history and the list versions given to the engine.

Each takes an open connection and returns plain dicts (camelCase keys, as the admin API sends
them). An alert reads as `GET /admin/v1/alerts` answers it, plus its raising seq and who decided
it, when and why.
"""

from typing import Any

import sqlalchemy as sa

from bourse.compliance.alerts import BENEFICIARY, CONFIRMED, DELISTING, DISMISSED, HIT
from bourse.compliance.evidence import Evidence, evidence_json, score_text
from bourse.domain.calendar import utc_text
from bourse.store import schema as s

OPEN = "open"  # no decision yet
STATUSES = (OPEN, CONFIRMED, DISMISSED)
KINDS = (HIT, DELISTING, BENEFICIARY)
PAGE, MAX_PAGE = 500, 5000  # alerts per page, as the admin API pages them
MAX_LIMIT = 1000  # rescreens and list versions per read


def alerts_page(
    conn: sa.Connection,
    status: str | None = None,
    kind: str | None = None,
    from_id: int = 1,
    limit: int = PAGE,
) -> dict[str, Any]:
    """Alerts in the order raised from alert `from_id` on, filtered by status (open, confirmed,
    dismissed) and kind (hit, delisting, beneficiary): {alerts, nextFromId}, where nextFromId is
    the first alert of the next page, 0 when there is none."""
    _check_limit(limit, MAX_PAGE)
    if from_id < 1:
        raise ValueError(f"fromId {from_id} is not an alert id (1 or more)")
    a = s.screening_alerts.c
    stmt = _alerts().where(a.alert_id >= from_id)
    if status is not None:
        if status not in STATUSES:
            raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        stmt = stmt.where(a.decision.is_(None) if status == OPEN else a.decision == status)
    if kind is not None:
        if kind not in KINDS:
            raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        stmt = stmt.where(a.kind == kind)
    rows = list(conn.execute(stmt.order_by(a.alert_id).limit(limit + 1)))
    next_from = rows.pop().alert_id if len(rows) > limit else 0
    return {"alerts": [_alert(r) for r in rows], "nextFromId": next_from}


def customer_alerts(
    conn: sa.Connection, customer_id: int, limit: int = MAX_PAGE
) -> list[dict[str, Any]]:
    """Every alert on one customer, in the order raised: hits, delisting reviews of their
    freezes, and reviews of the payees of their withdrawals."""
    _check_limit(limit, MAX_PAGE)
    a = s.screening_alerts.c
    stmt = _alerts().where(a.customer_id == customer_id).order_by(a.alert_id).limit(limit)
    return [_alert(r) for r in conn.execute(stmt)]


def entry_alerts(
    conn: sa.Connection, source: str, entry_id: str, limit: int = MAX_PAGE
) -> list[dict[str, Any]]:
    """Every alert citing one listed entry, in the order raised: whom it matched, and what was
    decided (e.g. when the entry changes or leaves its list)."""
    _check_limit(limit, MAX_PAGE)
    a = s.screening_alerts.c
    stmt = (
        _alerts()
        .where(a.source == source, a.entry_id == entry_id)
        .order_by(a.alert_id)
        .limit(limit)
    )
    return [_alert(r) for r in conn.execute(stmt)]


def rescreen_history(
    conn: sa.Connection, limit: int = 100, before_seq: int | None = None
) -> list[dict[str, Any]]:
    """Rescreens of every customer, newest first (older ones: pass the last seq of a page as
    `before_seq`): when, how (full or incremental), by which matcher, against which versions."""
    _check_limit(limit, MAX_LIMIT)
    r = s.rescreens.c
    stmt = sa.select(s.rescreens).order_by(r.seq.desc()).limit(limit)
    if before_seq is not None:
        stmt = stmt.where(r.seq < before_seq)
    rows = conn.execute(stmt).all()
    lists: dict[int, list[dict[str, str]]] = {row.seq: [] for row in rows}
    if rows:
        rl = s.rescreen_lists.c
        versions = (
            sa.select(rl.seq, rl.source, rl.list_sha256)
            .where(rl.seq.in_(list(lists)))
            .order_by(rl.seq, rl.position)
        )
        for seq, source, sha in conn.execute(versions):
            lists[seq].append({"source": source, "listSha256": sha})
    return [
        {
            "seq": row.seq,
            "rescreenedMs": row.ts_ms,
            "rescreened": utc_text(row.ts_ms),
            "mode": row.mode,
            "matcher": row.matcher,
            "customers": row.customers,
            "lists": lists[row.seq],
        }
        for row in rows
    ]


def list_versions(
    conn: sa.Connection, source: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """List versions whose addresses were given to the engine, newest first; the newest of each
    source is the one in force (withdrawals to its addresses are refused, payees are screened
    against it)."""
    _check_limit(limit, MAX_LIMIT)
    v = s.sanctions_list_versions.c
    stmt = sa.select(s.sanctions_list_versions).order_by(v.seq.desc()).limit(limit)
    if source is not None:
        stmt = stmt.where(v.source == source)
    return [
        {
            "seq": row.seq,
            "setMs": row.ts_ms,
            "source": row.source,
            "listSha256": row.list_sha256,
            "addresses": row.addresses,
        }
        for row in conn.execute(stmt)
    ]


def _check_limit(limit: int, most: int) -> None:
    if not 1 <= limit <= most:
        raise ValueError(f"limit {limit} is not between 1 and {most}")


def _alerts() -> sa.Select[Any]:
    """Alerts with their customer's name ("" for a customer the store has not seen)."""
    a, c = s.screening_alerts, s.customers
    joined = a.outerjoin(c, c.c.customer_id == a.c.customer_id)
    return sa.select(a, c.c.legal_name).select_from(joined)


def _alert(r: sa.Row[Any]) -> dict[str, Any]:
    ev = Evidence(
        source=r.source,
        list_sha256=r.list_sha256,
        entry_id=r.entry_id,
        listed_name=r.listed_name,
        score_bp=r.score_bp,
        explanation=r.explanation,
        entry_fingerprint=r.entry_fingerprint,
    )
    decision = None
    if r.decision is not None:
        decision = {
            "decision": r.decision,
            "actor": r.decided_by,
            "reason": r.decision_reason,
            "seq": r.decided_seq,
            "decidedMs": r.decided_ms,
            "decided": utc_text(r.decided_ms),
            "approvedBy": r.approved_by,  # under four eyes: the second person (actor proposed)
            "approvalReason": r.approval_reason,
        }
    return {
        "alertId": r.alert_id,
        "kind": r.kind,
        "reviewsAlert": r.reviews,
        "withdrawalId": r.withdrawal_id,
        "beneficiary": r.beneficiary,
        "status": r.decision or OPEN,
        "customerId": r.customer_id,
        "customerName": r.legal_name or "",
        "score": score_text(ev.score_bp),
        "raisedSeq": r.raised_seq,
        "raisedMs": r.raised_ms,
        "raised": utc_text(r.raised_ms),
        "evidence": evidence_json(ev),
        "decision": decision,
    }
