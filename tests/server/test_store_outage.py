"""The SQL store out of reach: a lock held past the busy timeout while orders flow. Trading goes
on; /health says `degraded` with the store's lag and /health/ready answers 503; store reads
answer 503 at once; once the lock is released the projection catches up by itself, to the row."""

import contextlib
import os
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bourse.api.binance.replies import ApiError
from bourse.commands import Deposit
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange, now_ms
from bourse.store import schema as s
from bourse.store.db import sqlite_url
from tests.api.conftest import Api, serve, wait_until

BID = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
ORDERS = 20


def _until(api: Api, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """/health's body once `predicate` holds for it (the projection works on its own thread or
    process: there is nothing to join)."""
    wait_until(lambda: predicate(api.client.get("/health").json()), timeout=60)
    body: dict[str, Any] = api.client.get("/health").json()
    return body


@pytest.mark.parametrize("projector_process", [False, True], ids=["thread", "process"])
def test_a_locked_store_degrades_health_then_catches_up_by_itself(
    tmp_path: Path, projector_process: bool
) -> None:
    store = tmp_path / "store.sqlite"
    url = sqlite_url(store) + "?timeout=0.2"  # the busy timeout, in seconds
    with contextlib.closing(
        serve(tmp_path, database_url=url, projector_process=projector_process)
    ) as served:
        api = next(served)
        assert api.client.get("/health/ready").status_code == 200
        holder = sqlite3.connect(store, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another process's long write transaction
        placed = []
        for i in range(ORDERS):  # matching goes on without the store
            r = api.signed(
                "POST", "/api/v3/order", body=True, quantity="0.001", price=str(30000 + i), **BID
            )
            assert r.status_code == 200, r.text
            placed.append(r.json()["orderId"])
        last_seq = api.exchange.engine.state.last_seq

        body = _until(api, lambda b: b["status"] == "degraded")
        store_lag = body["store"]
        assert store_lag["state"] == "unreachable" and "locked" in store_lag["error"]
        assert store_lag["released_seq"] == last_seq
        assert store_lag["behind"] == last_seq - store_lag["seq"] >= ORDERS
        assert store_lag["age_s"] > 0
        r = api.client.get("/health/ready")
        assert r.status_code == 503 and r.json()["status"] == "degraded"
        r = api.signed("GET", "/api/v3/allOrders", symbol="BTCUSDT")  # a store read
        assert r.status_code == 503 and r.json()["code"] == -1001, r.text

        holder.rollback()
        holder.close()
        body = _until(api, lambda b: b["status"] == "ok")
        assert body["store"] == {
            "state": "ok",
            "seq": last_seq,
            "released_seq": last_seq,
            "behind": 0,
            "age_s": 0.0,
            "error": None,
        }
        assert api.client.get("/health/ready").status_code == 200
        r = api.signed("GET", "/api/v3/allOrders", symbol="BTCUSDT")
        assert r.status_code == 200, r.text
        assert [o["orderId"] for o in r.json()] == placed
        assert [o["price"] for o in r.json()] == [f"{30000 + i}.00000000" for i in range(ORDERS)]

    engine = sa.create_engine(sqlite_url(store))
    with engine.connect() as conn:
        rows = conn.execute(sa.select(s.orders.c.order_id).where(s.orders.c.account_id == 1))
        assert sorted(r.order_id for r in rows) == sorted(placed)
        state = conn.execute(sa.select(s.projection_state.c.last_seq)).scalar_one()
        assert state == last_seq
    engine.dispose()


def test_stopping_while_the_store_is_locked_then_starting_catches_it_up(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    url = sqlite_url(store) + "?timeout=0.2"
    dd = DataDir(tmp_path / "data")
    exchange = Exchange(dd, database_url=url)
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    for _ in range(5):
        exchange.execute(
            Deposit(actor="t", ts_ms=now_ms(), account_id=1, asset="BTC", amount_raw=1)
        )
    wait_until(lambda: exchange.projection.lag().unreachable is not None, timeout=60)
    last_seq = exchange.engine.state.last_seq
    exchange.close()  # gives up on the store after one more try instead of waiting for it
    holder.rollback()
    holder.close()

    restarted = Exchange(dd, database_url=url)
    try:
        assert restarted.engine.state.last_seq == last_seq
        assert restarted.projector.last_seq() == last_seq  # caught up from the journal
        assert restarted.projection.lag().behind == 0
    finally:
        restarted.close()


def test_a_killed_projector_process_is_replaced_and_catches_up(tmp_path: Path) -> None:
    with contextlib.closing(serve(tmp_path, projector_process=True)) as served:
        api = next(served)
        killed = api.exchange.projection.child_pid
        assert killed is not None
        os.kill(killed, signal.SIGKILL)
        placed = []
        for i in range(ORDERS):
            order = {**BID, "quantity": "0.001", "price": str(30000 + i)}
            r = api.signed("POST", "/api/v3/order", body=True, **order)
            assert r.status_code == 200, r.text
            placed.append(r.json()["orderId"])
        last_seq = api.exchange.engine.state.last_seq
        _until(api, lambda b: b["status"] == "ok" and b["store"]["seq"] == last_seq)
        assert api.exchange.projection.child_pid not in (None, killed)
        r = api.signed("GET", "/api/v3/allOrders", symbol="BTCUSDT")
        assert [o["orderId"] for o in r.json()] == placed


def _locked(conn: sa.Connection) -> None:
    raise sa.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))


def _wrong(conn: sa.Connection) -> None:
    raise sa.exc.ProgrammingError("SELECT nonsense", {}, sqlite3.ProgrammingError("a bug"))


def test_a_store_read_that_cannot_reach_the_store_answers_503_not_500(tmp_path: Path) -> None:
    with contextlib.closing(serve(tmp_path)) as served:
        api = next(served)
        gateway = api.client.app.state.gateway  # type: ignore[attr-defined]
        portal = api.client.portal  # type: ignore[attr-defined]
        with pytest.raises(ApiError) as refused:
            portal.call(gateway.read, _locked)
        assert (refused.value.status, refused.value.code) == (503, -1001)
        with pytest.raises(sa.exc.ProgrammingError):  # a bug stays a bug (500, logged)
            portal.call(gateway.read, _wrong)
