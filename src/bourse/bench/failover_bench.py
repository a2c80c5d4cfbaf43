"""`bourse bench failover`: how long trading stops when the writing engine dies, and what is lost.

Two engines on loopback share a journal stream on NATS, each with a data directory of its own
(the same master.key): one writes, the other runs `--standby`. Traders place signed limit orders
against the writer, each with a client id of its own, and go to the other engine when it stops
answering, as through a load balancer. After a warm-up the writer is killed (-9) under that
load. Measured: seconds from the kill to the first order the new writer acknowledges, and the
acknowledged orders it does not have (the target is none).
"""

import contextlib
import hashlib
import hmac
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bourse.bench.api_bench import free_port
from bourse.journal.nats_address import parse_nats_url
from bourse.journal.nats_stream import delete_journal

ENGINE = ("--no-rate-limits", "--no-four-eyes")
RETRY_S = 0.02  # a client's pause before it tries the other engine when nothing listens


class Trader:
    """A client placing signed limit orders, each with a client id of its own, against whichever
    engine serves; it records what was acknowledged (and when) and what is unknown."""

    def __init__(self, key: dict[str, str], urls: list[str], name: str = "t") -> None:
        self.key = key
        self.urls = urls  # the one that serves now first
        self.acked: dict[str, int] = {}  # client order id -> order id
        self.acked_at: dict[str, float] = {}  # client order id -> time.monotonic() of the answer
        self.unknown: set[str] = set()  # sent, and the engine died before it answered
        self.stop = threading.Event()
        self.errors: list[str] = []
        self._ids = itertools.count()
        self._name = name

    def run(self) -> None:
        url = self.urls[0]
        with httpx.Client(timeout=10) as client:
            while not self.stop.is_set():
                cid = f"{self._name}-{next(self._ids)}"
                try:
                    r = self.place(client, url, cid)
                except httpx.ConnectError:  # nothing listens there: the order never left
                    url = self._next(url)
                    time.sleep(RETRY_S)
                    continue
                except httpx.HTTPError:  # sent, and the engine died before it answered
                    self.unknown.add(cid)
                    url = self._next(url)
                    continue
                if r.status_code == 200:
                    self.acked[cid] = r.json()["orderId"]
                    self.acked_at[cid] = time.monotonic()
                elif r.status_code == 503:  # refused before it was sequenced: not placed
                    url = self._next(url)
                else:
                    self.errors.append(f"{r.status_code} {r.text}")
                    return

    def _next(self, url: str) -> str:
        """The other engine (as a load balancer does once its health check fails)."""
        return self.urls[(self.urls.index(url) + 1) % len(self.urls)]

    def place(
        self, client: httpx.Client, url: str, cid: str, recv_window_ms: int = 5000
    ) -> httpx.Response:
        query = urlencode({
            "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.001", "price": "50000", "newClientOrderId": cid,
            "recvWindow": recv_window_ms, "timestamp": int(time.time() * 1000),
        })  # fmt: skip
        sig = hmac.new(self.key["secretKey"].encode(), query.encode(), hashlib.sha256)
        return client.post(
            f"{url}/api/v3/order?{query}&signature={sig.hexdigest()}",
            headers={"X-MBX-APIKEY": self.key["apiKey"]},
        )


class Traders:
    """`count` traders placing orders against `urls` (the serving one first), each in a thread."""

    def __init__(self, key: dict[str, str], urls: list[str], count: int = 4) -> None:
        self.each = [Trader(key, urls, f"t{i}") for i in range(count)]
        self._threads = [threading.Thread(target=t.run, daemon=True) for t in self.each]
        for thread in self._threads:
            thread.start()

    def point_at(self, urls: list[str]) -> None:
        for t in self.each:
            t.urls = urls

    def acked(self) -> dict[str, int]:
        """Every acknowledged order: client order id -> order id."""
        return {cid: oid for t in self.each for cid, oid in list(t.acked.items())}

    def unknown(self) -> set[str]:
        return {cid for t in self.each for cid in t.unknown}

    def errors(self) -> list[str]:
        return [e for t in self.each for e in t.errors]

    def wait_for(self, more: int, timeout: float) -> None:
        """Until `more` orders more than now are acknowledged (AssertionError if a trader got
        an answer it did not expect, or not within `timeout`)."""
        target = sum(len(t.acked) for t in self.each) + more
        deadline = time.monotonic() + timeout
        while sum(len(t.acked) for t in self.each) < target:
            if self.errors():
                raise AssertionError(f"a trader was answered: {self.errors()[:3]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"not {more} more orders within {timeout} s")
            time.sleep(0.01)  # the traders' progress, polled

    def stop(self) -> None:
        for t in self.each:
            t.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def open_orders(url: str, key: dict[str, str]) -> list[dict[str, Any]]:
    query = urlencode({"symbol": "BTCUSDT", "timestamp": int(time.time() * 1000)})
    sig = hmac.new(key["secretKey"].encode(), query.encode(), hashlib.sha256).hexdigest()
    r = httpx.get(
        f"{url}/api/v3/openOrders?{query}&signature={sig}",
        headers={"X-MBX-APIKEY": key["apiKey"]},
        timeout=30,
    )
    r.raise_for_status()
    orders: list[dict[str, Any]] = r.json()
    return orders


def share_secrets(first: Path, second: Path) -> None:
    """What every engine of one journal needs alike, copied from `first`'s data directory into
    `second`'s (made if missing): the master key sealing API key secrets, the operator token and
    the audit log's signing keys."""
    second.mkdir(mode=0o700, exist_ok=True)
    for name in ("master.key", "operator.token"):
        shutil.copy2(first / name, second / name)
    keys = first / "audit" / "keys"
    if keys.is_dir():
        (second / "audit").mkdir(mode=0o700, exist_ok=True)
        shutil.copytree(keys, second / "audit" / "keys", dirs_exist_ok=True)


class Engine:
    """A `bourse run` on loopback for the bench (its output in a log file beside its data)."""

    def __init__(self, home: Path, journal: str, *extra: str) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with (home.parent / f"{home.name}.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bourse", "run", "--data-dir", str(home),
                 "--port", str(self.port), *ENGINE, "--journal", journal, *extra],
                stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its machine lost: its child processes with it
            )  # fmt: skip

    def serving(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.serving():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.home.parent / f"{self.home.name}.log").read_text(errors="replace")
                raise RuntimeError(f"the engine in {self.home} does not serve:\n{log[-3000:]}")
            time.sleep(0.02)  # a process starting on its own time

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def run(journal: str, traders: int = 4, warmup_orders: int = 500) -> dict[str, Any]:
    address = parse_nats_url(journal)
    hosts = ",".join(s.removeprefix("nats://") for s in address.servers)
    url = f"nats://{hosts}/{address.stream}_{uuid.uuid4().hex[:8]}?replicas={address.replicas}"
    with tempfile.TemporaryDirectory(prefix="bourse-failover-") as tmp:
        first = Engine(Path(tmp) / "a", url)
        try:
            first.wait_serving()
            second_home = Path(tmp) / "b"
            share_secrets(first.home, second_home)
            second = Engine(second_home, url, "--standby")
            key = json.loads((first.home / "demo-api-key.json").read_text())
            clients = Traders(key, [first.url, second.url], traders)
            clients.wait_for(warmup_orders, 120)
            first.kill()
            killed = time.monotonic()
            second.wait_serving()
            while not any(at > killed for c in clients.each for at in c.acked_at.values()):
                time.sleep(0.005)  # until the new writer has acknowledged an order
            clients.stop()
            first_ack = min(at for c in clients.each for at in c.acked_at.values() if at > killed)
            acked = clients.acked()
            found = {o["clientOrderId"]: o["orderId"] for o in open_orders(second.url, key)}
            lost = [cid for cid, oid in acked.items() if found.get(cid) != oid]
        finally:
            first.kill()
            if "second" in locals():
                second.kill()
            delete_journal(parse_nats_url(url))
    return {
        "journal": f"{journal} (R{address.replicas})",
        "traders": traders,
        "orders_acknowledged": len(acked),
        "unknown_at_the_kill": len(clients.unknown()),  # sent, never answered
        "seconds_to_first_ack_on_new_writer": round(first_ack - killed, 3),
        "orders_lost": len(lost),
        "target_seconds": 5,
    }
