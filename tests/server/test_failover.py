"""Failover on a journal on NATS JetStream: `kill -9` the writing engine under a load of signed
orders, again and again; the standby takes over, and every order ever acknowledged is there.

Two engines (each its own data directory, the same master.key) share one stream: one writes,
the other runs `--standby`. Clients place orders with unique client ids against the writer; when
it dies they go to the other, as through a load balancer. After each takeover the killed one
comes back as the standby. At the end: every acknowledged order is found with the id it was
given, no order id was given twice, and the last writer's state digest is that of a replay of
the stream from empty (`bourse replay --journal`).
"""

import hashlib
import hmac
import itertools
import json
import shutil
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.natsd import NatsCluster, machine_nats
from tests.server.server import Server, run_cli

pytestmark = pytest.mark.slow
TAKEOVERS = 2
ENGINE = ("--no-rate-limits", "--journal")  # then the stream


@pytest.fixture(params=["R1 on the machine's server", "R3 on a three-node cluster"])
def journal(request: pytest.FixtureRequest) -> str:
    stream = f"FAILOVER{uuid.uuid4().hex[:8]}"
    if request.param.startswith("R1"):
        return f"{machine_nats()}/{stream}"
    cluster = NatsCluster(3)
    request.addfinalizer(cluster.stop)
    return f"nats://{cluster.servers}/{stream}?replicas=3"


class Trader:
    """A client placing signed limit orders, each with a client id of its own, against
    whichever engine serves; it records what was acknowledged and what is unknown."""

    def __init__(self, key: dict[str, str], urls: list[str]) -> None:
        self.key = key
        self.urls = urls  # the one that serves now first
        self.acked: dict[str, int] = {}  # client order id -> order id
        self.unknown: set[str] = set()  # sent, and the engine died before it answered
        self.stop = threading.Event()
        self.errors: list[str] = []
        self._ids = itertools.count()

    def run(self) -> None:
        url = self.urls[0]
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                cid = f"t{threading.get_ident() % 10000}-{next(self._ids)}"
                try:
                    r = self._place(client, url, cid)
                except httpx.HTTPError:
                    self.unknown.add(cid)
                    url = self._next(url)
                    continue
                if r.status_code == 200:
                    self.acked[cid] = r.json()["orderId"]
                elif r.status_code == 503:  # refused before it was sequenced: not placed
                    url = self._next(url)
                else:
                    self.errors.append(f"{r.status_code} {r.text}")
                    return

    def _next(self, url: str) -> str:
        """The other engine (as a load balancer does once its health check fails)."""
        return self.urls[(self.urls.index(url) + 1) % len(self.urls)]

    def _place(self, client: httpx.Client, url: str, cid: str) -> httpx.Response:
        query = urlencode({
            "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.001", "price": "50000", "newClientOrderId": cid,
            "timestamp": int(time.time() * 1000),
        })  # fmt: skip
        sig = hmac.new(self.key["secretKey"].encode(), query.encode(), hashlib.sha256)
        return client.post(
            f"{url}/api/v3/order?{query}&signature={sig.hexdigest()}",
            headers={"X-MBX-APIKEY": self.key["apiKey"]},
        )


def _wait_for_orders(traders: list[Trader], more: int, timeout: float) -> None:
    """Until the traders have `more` orders acknowledged than now (their progress, polled)."""
    target = sum(len(t.acked) for t in traders) + more
    deadline = time.monotonic() + timeout
    while sum(len(t.acked) for t in traders) < target:
        errors = [e for t in traders for e in t.errors]
        assert not errors, errors[:3]
        assert time.monotonic() < deadline, f"not {more} more orders within {timeout} s"
        time.sleep(0.05)


def test_kill_9_the_writer_repeatedly_loses_no_acknowledged_order(
    tmp_path: Path, journal: str
) -> None:
    homes = [tmp_path / "a", tmp_path / "b"]
    writer = Server(homes[0], *ENGINE, journal)
    homes[1].mkdir(mode=0o700)
    for name in ("master.key", "operator.token"):  # one journal's engines share them
        shutil.copy(homes[0] / name, homes[1] / name)
    standby = Server(homes[1], *ENGINE, journal, "--standby", wait=False)
    key = json.loads((homes[0] / "demo-api-key.json").read_text())
    traders = [Trader(key, [writer.url, standby.url]) for _ in range(4)]
    threads = [threading.Thread(target=t.run) for t in traders]
    for t in threads:
        t.start()
    try:
        for _ in range(TAKEOVERS):
            _wait_for_orders(traders, 200, 60)
            writer.kill()  # under load: four traders with orders in flight
            killed_at = time.monotonic()
            standby.wait_ready(timeout=30)
            took = time.monotonic() - killed_at
            assert took < 15, f"the standby took {took:.1f} s to serve"
            _wait_for_orders(traders, 50, 30)  # on the new writer
            # the killed engine comes back as the standby of the new writer
            killed = writer
            writer = standby
            standby = Server(killed.data_dir, *ENGINE, journal, "--standby", wait=False)
            for t in traders:
                t.urls = [writer.url, standby.url]
    except BaseException:
        writer.kill()
        standby.kill()
        raise
    finally:
        for t in traders:
            t.stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not [e for t in traders for e in t.errors]

    acked = {cid: oid for t in traders for cid, oid in t.acked.items()}
    assert len(set(acked.values())) == len(acked), "an order id was given twice"
    with httpx.Client(base_url=writer.url, timeout=30) as client:
        opened = _open_orders(client, key)
        state = client.get("/admin/v1/state", headers=writer.headers).json()
    found = {o["clientOrderId"]: o["orderId"] for o in opened}
    lost = {cid for cid in acked if found.get(cid) != acked[cid]}
    assert not lost, f"{len(lost)} acknowledged orders are gone after takeover: {sorted(lost)[:5]}"
    unknown = {cid for t in traders for cid in t.unknown}
    assert set(found) <= set(acked) | unknown  # nothing placed that nobody sent
    writer.stop()
    standby.kill()
    replayed = run_cli("replay", "--journal", journal.split("?")[0])
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["digest"] == state["digest"]


def _open_orders(client: httpx.Client, key: dict[str, str]) -> list[dict[str, object]]:
    query = urlencode({"symbol": "BTCUSDT", "timestamp": int(time.time() * 1000)})
    sig = hmac.new(key["secretKey"].encode(), query.encode(), hashlib.sha256).hexdigest()
    r = client.get(
        f"/api/v3/openOrders?{query}&signature={sig}", headers={"X-MBX-APIKEY": key["apiKey"]}
    )
    assert r.status_code == 200, r.text
    orders: list[dict[str, object]] = r.json()
    return orders
