"""Faults of the journal on NATS JetStream under a running exchange: the NATS server lost and
back, one node of a three-node cluster lost under load. Orders are refused with a clear error
while nothing can record them; nothing acknowledged is ever lost."""

import itertools
import json
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from bourse.bench.failover_bench import Trader, Traders, open_orders
from tests.natsd import NatsCluster
from tests.net import http
from tests.server.server import Server, wait_for

pytestmark = pytest.mark.slow
ENGINE = ("--no-rate-limits", "--journal")  # then the stream


def test_nats_lost_mid_run_refuses_orders_until_it_is_back(tmp_path: Path) -> None:
    nats = NatsCluster(1, sync_always=True)  # R1 that syncs each write: a kill loses nothing
    server = Server(tmp_path / "data", *ENGINE, f"{nats.url()}/LOST{uuid.uuid4().hex[:8]}")
    client = httpx.Client(timeout=60)
    try:
        key = json.loads((tmp_path / "data" / "demo-api-key.json").read_text())
        trader = Trader(key, [server.url], "before")
        for i in range(20):
            assert trader.place(client, server.url, f"before-{i}").status_code == 200
        nats.kill(0)

        refused: list[httpx.Response] = []
        waited: list[httpx.Response] = []  # sent before the journal knew: answered once back

        def try_until_refused() -> None:
            for i in itertools.count():
                with httpx.Client(timeout=60) as fresh:
                    r = trader.place(fresh, server.url, f"during-{i}")
                (refused if r.status_code == 503 else waited).append(r)
                if refused:
                    return

        attempt = threading.Thread(target=try_until_refused)
        attempt.start()
        wait_for(lambda: bool(refused), "an order refused", 30)
        body = refused[0].json()
        assert body["code"] == -1001
        assert "nothing was done" in body["msg"] and "NATS" in body["msg"]
        ready = http.get(f"{server.url}/health/ready")  # a load balancer stops sending here
        assert ready.status_code == 503
        assert (
            ready.json()["journal"]["ok"] is False and "NATS" in ready.json()["journal"]["problem"]
        )
        assert "bourse_journal_available 0.0" in http.get(f"{server.url}/metrics").text

        nats.start(0)
        nats.wait_ready()
        attempt.join(timeout=60)
        wait_for(
            lambda: (
                trader.place(client, server.url, f"after-{time.monotonic_ns()}").status_code == 200
            ),
            "orders taken again",
            60,
        )
        assert all(r.status_code == 200 for r in waited), [r.text for r in waited]
        assert http.get(f"{server.url}/health/ready").status_code == 200
        ids = {o["clientOrderId"] for o in open_orders(server.url, key)}
        assert {f"before-{i}" for i in range(20)} <= ids
        assert {r.json()["clientOrderId"] for r in waited} <= ids
        assert not {r.request.url.params.get("newClientOrderId") for r in refused} & ids
    finally:
        client.close()
        server.stop()
        nats.stop()


def test_one_nats_node_lost_under_load_loses_nothing(tmp_path: Path) -> None:
    nats = NatsCluster(3)
    server = Server(
        tmp_path / "data", *ENGINE, f"nats://{nats.servers}/NODE{uuid.uuid4().hex[:8]}?replicas=3"
    )
    try:
        key = json.loads((tmp_path / "data" / "demo-api-key.json").read_text())
        traders = Traders(key, [server.url])
        try:
            traders.wait_for(200, 60)
            nats.kill(0)  # one of three: the stream keeps a majority
            traders.wait_for(200, 60)
        finally:
            traders.stop()
        assert not traders.errors()
        acked = traders.acked()
        found = {o["clientOrderId"]: o["orderId"] for o in open_orders(server.url, key)}
        assert all(found.get(cid) == oid for cid, oid in acked.items())
    finally:
        server.stop()
        nats.stop()


def test_a_stop_while_nats_is_gone_ends_without_waiting_for_it(tmp_path: Path) -> None:
    """The engine stopped while its journal's server is down: it does not wait for a record
    that cannot become durable; it stops without a snapshot, and the next start recovers every
    command that was acknowledged from the stream."""
    from bourse.commands import Deposit
    from bourse.server.datadir import DataDir
    from bourse.server.exchange import Exchange, NotRecorded

    nats = NatsCluster(1, sync_always=True)
    journal = f"{nats.url()}/STOP{uuid.uuid4().hex[:8]}"
    try:
        exchange = Exchange(DataDir(tmp_path / "data"), journal=journal)
        deposit = Deposit(actor="test", ts_ms=1, account_id=1, asset="BTC", amount_raw=7)
        acked = exchange.execute(deposit).seq
        nats.kill(0)
        wait_for(
            lambda: exchange.journal.unavailable() is not None, "the journal sees NATS gone", 60
        )
        with pytest.raises(NotRecorded, match="nothing was done"):
            exchange.submit(deposit)
        started = time.monotonic()
        exchange.close()
        assert time.monotonic() - started < 30
        assert exchange.snapshots.list() == []  # none written over a state not all durable

        nats.start(0)
        nats.wait_ready()
        again = Exchange(DataDir(tmp_path / "data"), journal=journal)
        try:
            assert again.last_seq == acked
        finally:
            again.close()
    finally:
        nats.stop()
