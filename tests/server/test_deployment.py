"""The three-machine deployment of `deploy/`, run on loopback: each machine's units started as
systemd would (their ExecStart lines, with the variables of `bourse.env` set for that machine),
then the writing engine's machine lost.

Machine 1 and 2: a NATS node and an engine (`--standby --gateways 2`); machine 3: a NATS node,
the SQL consumer into PostgreSQL and the WebSocket streams' consumer. The first engine takes
the free lease and serves; the second follows. Orders placed on the first; it is killed (-9,
with its gateways); the second serves and has them all; the first, started again by its unit,
follows as the standby; both consumers have followed everything across the takeover.
"""

import hashlib
import hmac
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from bourse.bench.failover_bench import share_secrets
from tests.natsd import READY_S, nats_server_binary, wait_jetstream
from tests.net import free_port, http
from tests.server.server import wait_for

pytestmark = pytest.mark.slow
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _env_file() -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in (DEPLOY / "bourse.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    return dict(pairs)


def _exec_start(unit: str, env: dict[str, str]) -> list[str]:
    """The unit's ExecStart, its ${VARIABLES} expanded as systemd does, and /etc/bourse/ read as
    the repository's deploy/ (where the files are before they are installed)."""
    line = next(
        x
        for x in (DEPLOY / "systemd" / unit).read_text().splitlines()
        if x.startswith("ExecStart=")
    )
    expanded = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], line.removeprefix("ExecStart="))
    return [a.replace("/etc/bourse/", f"{DEPLOY}/nats/") for a in shlex.split(expanded)]


class Machine:
    def __init__(self, n: int, tmp: Path, shared: dict[str, str]) -> None:
        self.n = n
        self.home = tmp / f"machine{n}"
        self.home.mkdir(mode=0o700)
        self.env = {
            **_env_file(),
            **shared,
            "NATS_NAME": f"n{n}",
            "NATS_LISTEN": f"127.0.0.1:{shared[f'_PORT_{n}']}",
            "NATS_CLUSTER_LISTEN": shared[f"NATS_ROUTE_{n}"].removeprefix("nats://"),
            "NATS_STORE": str(self.home / "nats"),
            "BOURSE_DATA": str(self.home / "bourse"),
            "BOURSE_HOST": "127.0.0.1",
            "BOURSE_PORT": str(free_port()),
            "BOURSE_CONSUMER_PORT": str(free_port()),
            "BOURSE_STREAMS_PORT": str(free_port()),
        }
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['BOURSE_PORT']}"

    def start(self, unit: str) -> None:
        with (self.home / f"{unit}.log").open("ab") as log:
            self.procs[unit] = subprocess.Popen(
                _exec_start(unit, self.env),
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a machine lost takes its gateways with it
            )

    def lose(self, unit: str) -> None:
        proc = self.procs.pop(unit)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def log(self, unit: str) -> str:
        return (self.home / f"{unit}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _answers(url: str) -> bool:
    try:
        return http.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _order(url: str, key: dict[str, str], cid: str) -> httpx.Response:
    query = urlencode({
        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
        "quantity": "0.001", "price": "50000", "newClientOrderId": cid,
        "timestamp": int(time.time() * 1000),
    })  # fmt: skip
    sig = hmac.new(key["secretKey"].encode(), query.encode(), hashlib.sha256).hexdigest()
    return http.post(
        f"{url}/api/v3/order?{query}&signature={sig}",
        headers={"X-MBX-APIKEY": key["apiKey"]},
        timeout=30,
    )


def test_three_machines_on_loopback_lose_the_writer(tmp_path: Path, pg_url: str) -> None:
    if nats_server_binary() is None:
        pytest.skip("no nats-server binary")
    ports = [free_port() for _ in range(3)]
    shared = {
        **{f"_PORT_{i + 1}": str(p) for i, p in enumerate(ports)},
        **{f"NATS_ROUTE_{i + 1}": f"nats://127.0.0.1:{free_port()}" for i in range(3)},
        "BOURSE_JOURNAL": "nats://"
        + ",".join(f"127.0.0.1:{p}" for p in ports)
        + f"/DEPLOY{uuid.uuid4().hex[:8]}?replicas=3",
        "BOURSE_REPORTING_URL": pg_url,
        "BOURSE_BIN": str(Path(sys.executable).parent),
    }
    machines = [Machine(n, tmp_path, shared) for n in (1, 2, 3)]
    one, two, three = machines
    try:
        for m in machines:
            m.start("bourse-nats.service")
        wait_jetstream(
            [f"nats://127.0.0.1:{p}" for p in ports],
            READY_S,
            lambda: "\n".join(m.log("bourse-nats.service")[-2000:] for m in machines),
        )
        one.start("bourse-engine.service")
        wait_for(lambda: _answers(one.url), "machine 1 serving", 60)
        data1, data2 = Path(one.env["BOURSE_DATA"]), Path(two.env["BOURSE_DATA"])
        share_secrets(data1, data2)  # as the guide says
        two.start("bourse-engine.service")
        three.start("bourse-consume-sql.service")
        three.start("bourse-consume-streams.service")
        key = json.loads((data1 / "demo-api-key.json").read_text())
        placed = {}
        for i in range(30):
            r = _order(one.url, key, f"m1-{i}")
            assert r.status_code == 200, r.text
            placed[f"m1-{i}"] = r.json()["orderId"]
        assert not _answers(two.url)  # the standby serves nothing yet

        one.lose("bourse-engine.service")
        wait_for(lambda: _answers(two.url), "machine 2 serving", 30)
        for i in range(10):
            r = _order(two.url, key, f"m2-{i}")
            assert r.status_code == 200, r.text
            placed[f"m2-{i}"] = r.json()["orderId"]
        one.start("bourse-engine.service")  # systemd's Restart=always: now the standby
        wait_for(
            lambda: "standby: following" in one.log("bourse-engine.service"),
            "machine 1 following",
            60,
        )
        assert not _answers(one.url)

        token = (data1 / "operator.token").read_text().strip()
        state = http.get(
            f"{two.url}/admin/v1/state", headers={"Authorization": f"Bearer {token}"}
        ).json()
        for port in ("BOURSE_CONSUMER_PORT", "BOURSE_STREAMS_PORT"):  # across the takeover
            consumer = f"http://127.0.0.1:{three.env[port]}"

            def caught_up(consumer: str = consumer) -> bool:
                try:
                    seq = http.get(f"{consumer}/health", timeout=1).json()["seq"]
                except httpx.HTTPError:
                    return False
                return bool(seq >= state["last_seq"])

            wait_for(caught_up, f"the consumer on {port} has everything", 60)
        query = urlencode({"symbol": "BTCUSDT", "timestamp": int(time.time() * 1000)})
        sig = hmac.new(key["secretKey"].encode(), query.encode(), hashlib.sha256).hexdigest()
        opened = http.get(
            f"{two.url}/api/v3/openOrders?{query}&signature={sig}",
            headers={"X-MBX-APIKEY": key["apiKey"]},
        ).json()
        assert {o["clientOrderId"]: o["orderId"] for o in opened} == placed
    finally:
        for m in machines:
            m.stop()
