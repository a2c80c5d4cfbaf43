"""Reads of the store for compliance officers: policy history, closure reports, who lives where.

Each takes an open connection and returns plain dicts and lists (camelCase keys, as the admin API
sends them), amounts as decimal strings in each asset's precision.
"""

from typing import Any

import msgspec
import sqlalchemy as sa

from bourse.compliance.countries import country_problem
from bourse.compliance.policy import PolicySpec
from bourse.domain.money import to_str
from bourse.store import schema as s

MAX_LIMIT = 1000


def policy_history(
    conn: sa.Connection, country: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Jurisdiction policy changes, newest first: what was applied, over what, by whom, citing
    which preview, and whom it named (as previewed, and as it applied)."""
    _check_limit(limit)
    p = s.policy_changes.c
    stmt = sa.select(s.policy_changes).order_by(p.change_id.desc()).limit(limit)
    if country is not None:
        _check_country(country, "country")
        stmt = stmt.where(p.country == country)
    rows = conn.execute(stmt).all()
    precisions = _precisions(conn)
    closed = _closed_windows(conn, [r.change_id for r in rows])
    return [
        {
            "changeId": r.change_id,
            "seq": r.seq,
            "appliedMs": r.ts_ms,
            "name": r.name,
            "country": r.country,
            "basis": r.basis,
            "spec": _spec(r.spec_json, precisions),
            "previous": None if r.previous_json is None else _spec(r.previous_json, precisions),
            "previewId": r.preview_id,
            "previewed": {"customers": r.previewed_customers, "accounts": r.previewed_accounts},
            "affected": {"customers": r.affected_customers, "accounts": r.affected_accounts},
            "scheduleId": r.schedule_id,
            "exitWindowClosed": r.change_id in closed,
            "actor": r.actor,
            "reason": r.reason,
        }
        for r in rows
    ]


def customer_history(
    conn: sa.Connection, customer_id: int, limit: int = 100
) -> list[dict[str, Any]]:
    """Every version of a customer's KYC record, newest first, with who recorded it and why and
    which fields changed from the version before (all of them for the first)."""
    _check_limit(limit)
    h = s.customer_history.c
    stmt = (
        sa.select(s.customer_history)
        .where(h.customer_id == customer_id)
        .order_by(h.seq.desc())
        .limit(limit + 1)  # one older than shown, to tell what the oldest shown changed
    )
    rows = [dict(r._mapping) for r in conn.execute(stmt)]
    fields = ("legal_name", "date_of_birth", "nationality", "residence", "kyc_level",
              "risk_tier", "venue")  # fmt: skip
    versions = []
    for i, row in enumerate(rows[:limit]):
        before = rows[i + 1] if i + 1 < len(rows) else None
        versions.append(
            {
                "seq": row["seq"],
                "tsMs": row["ts_ms"],
                "actor": row["actor"],
                "reason": row["reason"],
                "record": {_camel(f): row[f] for f in fields},
                "changed": [_camel(f) for f in fields if before is None or before[f] != row[f]],
            }
        )
    return versions


def withdrawals_of(
    conn: sa.Connection, account_ids: list[int], limit: int = 100
) -> list[dict[str, Any]]:
    """The withdrawals of these accounts, newest first: requested, then completed (with the
    transfer's reference) or failed (with why), amounts in each asset's precision."""
    _check_limit(limit)
    w = s.withdrawals.c
    stmt = (
        sa.select(s.withdrawals)
        .where(w.account_id.in_(account_ids))
        .order_by(w.withdrawal_id.desc())
        .limit(limit)
    )
    precisions = _precisions(conn)
    return [
        {
            "withdrawalId": r.withdrawal_id,
            "accountId": r.account_id,
            "asset": r.asset,
            "amount": to_str(r.amount_raw, _precision(precisions, r.asset)),
            "destination": r.destination,
            "beneficiary": r.beneficiary,
            "onRequestRef": r.on_request_ref,
            "held": r.held,
            "requestedMs": r.requested_ms,
            "status": r.status,
            "txRef": r.tx_ref,
            "failure": r.failure,
            "settledMs": r.settled_ms,
        }
        for r in conn.execute(stmt)
    ]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def closure_report(conn: sa.Connection, change_id: int) -> dict[str, Any] | None:
    """What the customers of a closed exit window still held when it closed, customer by
    customer, with totals per asset; None if change `change_id` closed no exit window.

    The report arrives in batches: `complete` is false until every named customer is covered.
    """
    closure = conn.execute(
        sa.select(s.exit_closures).where(s.exit_closures.c.change_id == change_id)
    ).first()
    if closure is None:
        return None
    b, c = s.closure_balances.c, s.customers.c
    stmt = (
        sa.select(b.customer_id, b.account_id, b.asset, b.free_raw, b.locked_raw, c.legal_name)
        .select_from(s.closure_balances.outerjoin(s.customers, c.customer_id == b.customer_id))
        .where(b.change_id == change_id)
        .order_by(b.customer_id, b.account_id, b.asset)
    )
    precisions = _precisions(conn)
    customers: list[dict[str, Any]] = []
    totals: dict[str, int] = {}
    for r in conn.execute(stmt):
        precision = _precision(precisions, r.asset)
        if not customers or customers[-1]["customerId"] != r.customer_id:
            customers.append(
                {"customerId": r.customer_id, "legalName": r.legal_name or "", "accounts": []}
            )
        accounts = customers[-1]["accounts"]
        if not accounts or accounts[-1]["accountId"] != r.account_id:
            accounts.append({"accountId": r.account_id, "balances": []})
        accounts[-1]["balances"].append(
            {
                "asset": r.asset,
                "free": to_str(r.free_raw, precision),
                "locked": to_str(r.locked_raw, precision),
            }
        )
        # summed here, never in SQL: SQLite keeps amounts as text (see `schema`)
        totals[r.asset] = totals.get(r.asset, 0) + r.free_raw + r.locked_raw
    return {
        "changeId": closure.change_id,
        "name": closure.name,
        "country": closure.country,
        "basis": closure.basis,
        "closedMs": closure.ts_ms,
        "namedCustomers": closure.customers,
        "namedAccounts": closure.accounts,
        "complete": closure.reported >= closure.customers,
        "customers": customers,
        "totals": {
            asset: to_str(raw, _precision(precisions, asset))
            for asset, raw in sorted(totals.items())
        },
    }


def customers_by_country(
    conn: sa.Connection,
    residence: str | None = None,
    nationality: str | None = None,
    limit: int = 100,
    after: int = 0,
) -> list[dict[str, Any]]:
    """Customers by residence and/or nationality (neither: everyone), by id from `after` on
    (exclusive: pass the last id of a page to get the next), each with their account ids."""
    _check_limit(limit)
    if after < 0:
        raise ValueError(f"after {after} is not a customer id (0 or more)")
    c = s.customers.c
    stmt = sa.select(s.customers).where(c.customer_id > after)
    if residence is not None:
        _check_country(residence, "residence")
        stmt = stmt.where(c.residence == residence)
    if nationality is not None:
        _check_country(nationality, "nationality")
        stmt = stmt.where(c.nationality == nationality)
    rows = conn.execute(stmt.order_by(c.customer_id).limit(limit)).all()
    accounts: dict[int, list[int]] = {r.customer_id: [] for r in rows}
    if rows:
        a = s.accounts.c
        owned = (
            sa.select(a.customer_id, a.account_id)
            .where(a.customer_id.in_(list(accounts)))
            .order_by(a.account_id)
        )
        for owner, account_id in conn.execute(owned):
            accounts[owner].append(account_id)
    return [
        {
            "customerId": r.customer_id,
            "legalName": r.legal_name,
            "dateOfBirth": r.date_of_birth,
            "nationality": r.nationality,
            "residence": r.residence,
            "kycLevel": r.kyc_level,
            "riskTier": r.risk_tier,
            "venue": r.venue,
            "accounts": accounts[r.customer_id],
        }
        for r in rows
    ]


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit {limit} is not between 1 and {MAX_LIMIT}")


def _check_country(code: str, what: str) -> None:
    problem = country_problem(code, what)
    if problem:
        raise ValueError(problem)


def _precisions(conn: sa.Connection) -> dict[str, int]:
    return {r.asset: r.precision for r in conn.execute(sa.select(s.assets))}


def _precision(precisions: dict[str, int], asset: str) -> int:
    precision = precisions.get(asset)
    if precision is None:
        raise LookupError(f"asset {asset} is not in the store's assets table: no precision")
    return precision


def _closed_windows(conn: sa.Connection, change_ids: list[int]) -> set[int]:
    """Which of these changes closed an exit window (their closure report is readable)."""
    if not change_ids:
        return set()
    e = s.exit_closures.c
    return set(conn.execute(sa.select(e.change_id).where(e.change_id.in_(change_ids))).scalars())


def _spec(spec_json: str, precisions: dict[str, int]) -> dict[str, Any]:
    """A stored PolicySpec for reading, a holdings condition's limit as a decimal string."""
    spec = msgspec.json.decode(spec_json, type=PolicySpec)
    rules = []
    for rule in spec.rules:
        condition = None
        if (c := rule.condition) is not None:
            condition = {
                "asset": c.asset,
                "limit": to_str(c.limit_raw, _precision(precisions, c.asset)),
            }
        rules.append(
            {
                "capability": rule.capability.value,
                "access": rule.access.value,
                "condition": condition,
            }
        )
    return {
        "name": spec.name,
        "country": spec.country,
        "basis": spec.basis.value,
        "rules": rules,
        "deadlineMs": spec.deadline_ms,
    }
