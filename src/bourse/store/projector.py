"""The store projection: applies outcomes, in seq order and in batches, to the SQL tables.

A batch is first folded into rows in Python (one insert per new order with its fills in the same
batch already applied, one update per touched order, one row per minute of klines, the last
balance per account and asset), then written one bulk statement per table (see `bulk`) together
with the batch's last seq, in one transaction: the store is always exactly "everything up to
last_seq", so a replay resumes where it stopped.

Amounts are never added up in SQL (SQLite keeps them as TEXT, see `schema`): where a row needs an
existing value (fills of an older order, a minute that spans two batches), it is read first and
the sum is made in Python. That is safe because the projector is the only writer of these tables
and holds the write lock (SQLite BEGIN IMMEDIATE, an advisory lock on PostgreSQL).
"""

from collections.abc import Collection, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from bourse.events import Outcome
from bourse.store import schema as s
from bourse.store.batch import Batch, Kline, Row
from bourse.store.bulk import BulkWriter, bulk_writer
from bourse.store.db import create_store_engine, unreachable
from bourse.store.migrate import upgrade

PROJECTION = "store"  # this projection's row in projection_state
_PG_PROJECTOR_LOCK = 0x626F75727365_01  # advisory lock key of the store projector
_IN_CHUNK = 900  # keys per IN (...) list: well below SQLite's and PostgreSQL's parameter limits


class ProjectionError(RuntimeError):
    """The outcomes do not fit the store (e.g. a fill of an order it never saw)."""


class StoreUnreachable(RuntimeError):
    """The store cannot take a write now (locked past the busy timeout, down, disk full): the
    same outcomes can be applied again later, as `apply` skips what was already committed."""


def _write(conn: sa.Connection, bulk: BulkWriter, batch: Batch) -> None:
    bulk.insert(conn, s.orders, list(batch.new_orders.values()))
    _write_order_patches(conn, bulk, batch)
    bulk.insert(conn, s.trades, batch.trades)
    _write_klines(conn, bulk, batch)
    bulk.insert(conn, s.balance_history, batch.history)
    bulk.upsert(conn, s.balances, list(batch.balances.values()))
    bulk.insert(conn, s.rejections, batch.rejections)
    bulk.insert(conn, s.assets, batch.assets)
    bulk.insert(conn, s.accounts, list(batch.new_accounts.values()))
    _write_patches(conn, bulk, s.accounts, s.accounts.c.account_id, batch.account_patches)
    bulk.insert(conn, s.symbols, list(batch.new_symbols.values()))
    _write_patches(conn, bulk, s.symbols, s.symbols.c.name, batch.symbol_patches)
    _write_compliance(conn, bulk, batch)
    _write_screening(conn, bulk, batch)


def _write_compliance(conn: sa.Connection, bulk: BulkWriter, batch: Batch) -> None:
    """Customers, venues, policy changes and exit-window closures (see `compliance_queries`)."""
    bulk.upsert(conn, s.customers, list(batch.customers.values()))
    bulk.insert(conn, s.customer_history, batch.customer_history)
    bulk.insert(conn, s.withdrawals, list(batch.new_withdrawals.values()))
    w = s.withdrawals
    _write_patches(conn, bulk, w, w.c.withdrawal_id, batch.withdrawal_patches)
    bulk.upsert(conn, s.venues, list(batch.venues.values()))
    bulk.insert(conn, s.scheduled_policy_changes, list(batch.new_schedules.values()))
    sched = s.scheduled_policy_changes
    _write_patches(conn, bulk, sched, sched.c.schedule_id, batch.schedule_patches)
    bulk.insert(conn, s.policy_changes, batch.policy_changes)
    bulk.insert(conn, s.exit_closures, list(batch.new_closures.values()))
    closures = s.exit_closures
    _write_patches(conn, bulk, closures, closures.c.change_id, batch.closure_patches)
    bulk.insert(conn, s.closure_balances, batch.closure_balances)


def _write_screening(conn: sa.Connection, bulk: BulkWriter, batch: Batch) -> None:
    """Alerts and decisions, rescreens, list versions (see `screening_queries`)."""
    sb, alerts = batch.screening, s.screening_alerts
    bulk.insert(conn, alerts, list(sb.new_alerts.values()))
    _write_patches(conn, bulk, alerts, alerts.c.alert_id, sb.alert_patches)
    bulk.insert(conn, s.rescreens, sb.rescreens)
    bulk.insert(conn, s.rescreen_lists, sb.rescreen_lists)
    bulk.insert(conn, s.sanctions_list_versions, sb.list_versions)


def _write_order_patches(conn: sa.Connection, bulk: BulkWriter, batch: Batch) -> None:
    """Fills, cancels, expiries and triggers of orders accepted by earlier batches."""
    if not batch.order_patches:
        return
    o = s.orders.c
    cols = (o.order_id, o.status, o.executed_qty_raw, o.cum_quote_raw, o.working)
    base = {r.order_id: r for r in _select_in(conn, cols, o.order_id, batch.order_patches)}
    rows = []
    for order_id, p in batch.order_patches.items():
        if (r := base.get(order_id)) is None:
            raise ProjectionError(f"order {order_id} changes but was never accepted")
        rows.append(
            {
                "order_id": order_id,
                "status": r.status if p.status is None else p.status,
                "executed_qty_raw": r.executed_qty_raw + p.filled,
                "cum_quote_raw": r.cum_quote_raw + p.quote,
                "working": r.working if p.working is None else p.working,
                "updated_ms": p.updated_ms,
            }
        )
    bulk.update(conn, s.orders, "order_id", rows)


def _write_klines(conn: sa.Connection, bulk: BulkWriter, batch: Batch) -> None:
    """Upsert the batch's minutes, each merged after the stored part of that minute if any."""
    if not batch.klines:
        return
    k = s.klines_1m.c
    key = sa.tuple_(k.symbol, k.open_time_ms)
    stored = {
        (r.symbol, r.open_time_ms): r
        for chunk in _chunks(list(batch.klines))
        for r in conn.execute(sa.select(s.klines_1m).where(key.in_(chunk)))
    }
    rows = []
    for (symbol, minute), kline in batch.klines.items():
        if (r := stored.get((symbol, minute))) is not None:
            merged = Kline.of_row(r)
            merged.extend(kline)
            kline = merged
        rows.append(kline.row(symbol, minute))
    bulk.upsert(conn, s.klines_1m, rows)


def _write_patches(
    conn: sa.Connection,
    bulk: BulkWriter,
    table: sa.Table,
    key: sa.Column[Any],
    patches: dict[Any, Row],
) -> None:
    """Overlay patches on the stored rows and write them back whole (one bulk update)."""
    if not patches:
        return
    base = {r._mapping[key.name]: r._mapping for r in _select_in(conn, table.c, key, patches)}
    rows = []
    for k, patch in patches.items():
        if (r := base.get(k)) is None:
            raise ProjectionError(f"{table.name} row {k!r} changes but was never created")
        rows.append({**r, **patch})
    bulk.update(conn, table, key.name, rows)


def _chunks(keys: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(keys), _IN_CHUNK):
        yield keys[i : i + _IN_CHUNK]


def _select_in(
    conn: sa.Connection, cols: Any, key: sa.Column[Any], keys: Collection[Any]
) -> Iterator[sa.Row[Any]]:
    for chunk in _chunks(list(keys)):
        yield from conn.execute(sa.select(*cols).where(key.in_(chunk)))


class Projector:
    """Keeps the SQL store at `url` up to date with the outcomes it is given."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        if migrate:
            upgrade(url)
        self._engine = create_store_engine(url, writer=True)
        self._bulk = bulk_writer(self._engine.dialect)

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def last_seq(self) -> int:
        """The seq of the last outcome applied, 0 for an empty store."""
        with self._engine.connect() as conn:
            return self._read_last_seq(conn, lock=False)

    def apply(self, outcomes: Sequence[Outcome]) -> None:
        """Apply outcomes given in increasing seq order, in one transaction.

        Outcomes at or below `last_seq()` are skipped, so re-applying a batch is harmless: after
        StoreUnreachable (nothing was committed), the caller retries the same outcomes later.
        """
        previous = None
        for o in outcomes:
            if previous is not None and o.seq <= previous:
                raise ValueError(f"outcomes out of seq order: {o.seq} after {previous}")
            previous = o.seq
        if previous is None:
            return
        try:
            self._apply(outcomes, previous)
        except sa.exc.DBAPIError as exc:
            if unreachable(exc):
                raise StoreUnreachable(str(exc.orig).strip() or type(exc.orig).__name__) from exc
            raise

    def _apply(self, outcomes: Sequence[Outcome], previous: int) -> None:
        with self._engine.begin() as conn:
            done = self._read_last_seq(conn, lock=True)
            if previous <= done:
                return
            batch = Batch()
            for o in outcomes:
                if o.seq > done:
                    batch.add(o)
            _write(conn, self._bulk, batch)
            self._bulk.upsert(
                conn, s.projection_state, [{"name": PROJECTION, "last_seq": previous}]
            )

    def reset(self) -> None:
        """Drop and recreate every projection table: empty, at seq 0, ready for a replay."""
        with self._engine.begin() as conn:
            s.metadata.drop_all(conn)
            s.metadata.create_all(conn)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> "Projector":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @staticmethod
    def _read_last_seq(conn: sa.Connection, *, lock: bool) -> int:
        if lock and conn.dialect.name == "postgresql":
            # A second projector on the same database waits here instead of double-applying.
            # (On SQLite, BEGIN IMMEDIATE already holds the database's write lock.)
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_PROJECTOR_LOCK)))
        return applied_seq(conn)


def applied_seq(conn: sa.Connection) -> int:
    """The seq of the last outcome the store holds, 0 for an empty store (a reader's view:
    another process may be applying more)."""
    stmt = sa.select(s.projection_state.c.last_seq).where(s.projection_state.c.name == PROJECTION)
    value = conn.execute(stmt).scalar_one_or_none()
    return 0 if value is None else int(value)
