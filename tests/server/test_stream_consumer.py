"""`bourse consume streams`: the WebSocket streams served on a machine of their own, fed by the
journal's stream on NATS (here the machine's server) and the SQL store the SQL consumer writes
(here the writer's own SQLite file)."""

import json
import subprocess
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bourse.bench.failover_bench import Trader
from bourse.store.db import sqlite_url
from tests.natsd import machine_nats
from tests.net import free_port, http
from tests.server.server import BOURSE, Server, wait_for

pytestmark = pytest.mark.slow


class StreamConsumer:
    def __init__(self, journal: str, writer: Server, state: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = state.parent / f"consumer-{self.port}.log"
        store = sqlite_url(writer.data_dir / "store.sqlite")
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [*BOURSE, "consume", "streams", "--journal", journal, "--database-url", store,
                 "--state-dir", str(state), "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_for(self._ready, "the stream consumer serves", timeout=60)
        except BaseException:
            self.proc.kill()  # not left running by a failed start
            self.proc.wait()
            raise

    def _ready(self) -> bool:
        assert self.proc.poll() is None, self.log.read_text()
        try:
            return http.get(f"{self.url}/health/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        assert self.proc.wait(timeout=30) == 0, self.log.read_text()


def _first(ws: Any, wanted: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The first message each of `wanted` (name -> test) accepts, whatever their order."""
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 15
    while len(found) < len(wanted):
        left = deadline - time.monotonic()
        assert left > 0, f"none of {sorted(set(wanted) - set(found))} within 15 s"
        msg = json.loads(ws.recv(timeout=left))
        for name, test in wanted.items():
            if name not in found and test(msg):
                found[name] = msg
    return found


def test_streams_served_from_the_journal_on_another_machine(tmp_path: Path) -> None:
    """A listenKey made on the writer a moment ago and the public depth stream, on one
    connection to the consumer; an order placed on the writer reaches both. Stopped and started
    again, the consumer resumes from its own snapshot and serves what came meanwhile."""
    from websockets.sync.client import connect

    journal = f"{machine_nats()}/STREAMS{uuid.uuid4().hex[:8]}"
    writer = Server(tmp_path / "w", "--no-rate-limits", "--journal", journal)
    key = json.loads((writer.data_dir / "demo-api-key.json").read_text())
    consumer = StreamConsumer(journal, writer, tmp_path / "c")
    consumers = [consumer]
    try:
        trader = Trader(key, [writer.url])
        with httpx.Client(timeout=10) as client:
            made = client.post(
                f"{writer.url}/api/v3/userDataStream", headers={"X-MBX-APIKEY": key["apiKey"]}
            )
            listen_key = made.json()["listenKey"]
            url = f"ws://127.0.0.1:{consumer.port}/stream?streams=btcusdt@depth/{listen_key}"
            with connect(url) as ws:
                assert trader.place(client, writer.url, "far-1").status_code == 200
                got = _first(
                    ws,
                    {
                        "report": lambda m: m["data"].get("c") == "far-1",
                        "depth": lambda m: (
                            m["stream"] == "btcusdt@depth"
                            and any(Decimal(p) == 50000 for p, _ in m["data"]["b"])
                        ),
                    },
                )
                assert got["report"]["stream"] == listen_key
                assert got["report"]["data"]["X"] == "NEW"
                assert got["depth"]["data"]["e"] == "depthUpdate"
            metrics = client.get(f"{consumer.url}/metrics").text
            assert 'bourse_consumer_lag_commands{consumer="streams"} 0.0' in metrics
        consumer.stop()
        stopped_at = http.get(f"{writer.url}/health").json()["durable_seq"]

        with httpx.Client(timeout=10) as client:
            assert trader.place(client, writer.url, "far-2").status_code == 200
        again = StreamConsumer(journal, writer, tmp_path / "c")
        consumers.append(again)
        assert "(from seq 1)" not in again.log.read_text()  # from the snapshot it left
        health = http.get(f"{again.url}/health").json()
        assert health["status"] == "ok" and health["seq"] > stopped_at
        again.stop()
    finally:
        for left in consumers:  # a failed test leaves no consumer running
            if left.proc.poll() is None:
                left.proc.kill()
                left.proc.wait()
        writer.stop()
