"""`bourse run --gateways 2`: one engine process and two gateway processes sharing the port.

Real processes, real kills: the engine process killed under load loses nothing acknowledged;
a gateway killed under load fails only the requests it had in flight, and another takes its
place; rate limits and order counts are counted once for all gateways.
"""

import hashlib
import hmac
import json
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.net import free_port, http
from tests.server.server import Server, wait_for
from tests.server.test_crash import (
    GENESIS_BTC_RAW,
    GENESIS_COMMANDS,
    SATOSHI_DEPOSIT,
    _btc_free_raw,
    assert_recovered,
)

pytestmark = pytest.mark.slow
GATEWAYS = ("--gateways", "2")


def children(pid: int) -> set[int]:
    """The pids of `pid`'s living gateway processes (not its SQL projector)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[1]) == pid and fields[0] != "Z" and b"gateway" in argv:
            found.add(int(entry.name))
    return found


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2] == "Z"  # exited, not yet reaped


class Load:
    """`workers` threads sending 1-satoshi deposits, each on its own connection (a new one after
    an error), counting what was acknowledged and what failed."""

    def __init__(self, server: Server, workers: int = 8) -> None:
        self.server = server
        self.acked: list[int] = []
        self.sent = 0
        self.failed = 0  # errors and non-200 answers
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(workers)
        self.futures = [self.pool.submit(self._worker) for _ in range(workers)]

    def _worker(self) -> None:
        url = f"{self.server.url}/admin/v1/deposits"
        # A connection that failed leaves the client's pool: the next request opens a new one.
        with httpx.Client(headers=self.server.headers, timeout=10) as client:
            while not self.stop.is_set():
                with self.lock:
                    self.sent += 1
                try:
                    r = client.post(url, json=SATOSHI_DEPOSIT)
                except httpx.HTTPError:
                    with self.lock:
                        self.failed += 1
                    self.stop.wait(0.02)  # back off while the server is away, as a client would
                    continue
                with self.lock:
                    if r.status_code == 200:
                        self.acked.append(r.json()["seq"])
                    else:
                        self.failed += 1

    def until(self, acked: int) -> None:
        wait_for(lambda: len(self.acked) >= acked, f"{acked} acknowledged deposits", 120)

    def end(self) -> None:
        self.stop.set()
        for f in self.futures:
            f.result()
        self.pool.shutdown()


def _state(server: Server) -> dict[str, object]:
    return http.get(f"{server.url}/admin/v1/state", headers=server.headers).json()


def test_the_engine_process_killed_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", *GATEWAYS)
    gateways = children(server.proc.pid)
    assert len(gateways) == 2
    load = Load(server)
    load.until(400)
    server.kill()  # the engine process, with requests in flight in both gateways
    load.end()
    for pid in gateways:  # their link is gone: they stop by themselves
        wait_for(lambda pid=pid: gone(pid), f"gateway {pid} exits")  # type: ignore[misc]

    assert_recovered(tmp_path / "data", load.acked, load.sent, *GATEWAYS)


def test_a_gateway_killed_under_load_fails_only_its_own_requests(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", *GATEWAYS)
    try:
        first = children(server.proc.pid)
        load = Load(server, workers=8)
        load.until(200)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: len(children(server.proc.pid) - first) == 1, "a replacement gateway")
        before = len(load.acked)
        load.until(before + 200)  # order entry goes on through the survivor and the newcomer
        load.end()
        # Each connection had at most one request in flight on the killed gateway.
        assert load.failed <= 8, load.failed
        credited = _btc_free_raw(server) - GENESIS_BTC_RAW
        assert len(load.acked) <= credited <= load.sent
        assert credited == _state(server)["last_seq"] - GENESIS_COMMANDS  # type: ignore[operator]
        assert "exited with -9; starting another" in server.output()
    finally:
        server.stop()
    assert server.proc.returncode == 0


def _gateway_of(client: httpx.Client) -> str:
    process: str = client.get("/health").json()["process"]
    return process


def test_weights_and_order_counts_are_exact_across_gateways(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", *GATEWAYS)
    try:
        key = json.loads((tmp_path / "data" / "demo-api-key.json").read_text())
        # Not across the top of a minute: the weight window would restart mid-test.
        wait_for(lambda: time.time() % 60 < 40, "a minute with 20 s left", 25)
        weights: list[int] = []
        orders: list[int] = []
        served: set[str] = set()
        for i in range(60):
            with httpx.Client(base_url=server.url, timeout=10) as client:  # a new connection
                served.add(_gateway_of(client))
                weights.append(int(client.get("/api/v3/ping").headers["x-mbx-used-weight-1m"]))
                if i % 6 == 0:
                    query = urlencode({
                        "symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                        "quantity": "0.01", "price": str(40000 + i),
                        "timestamp": int(time.time() * 1000),
                    })  # fmt: skip
                    sig = hmac.new(key["secretKey"].encode(), query.encode(), hashlib.sha256)
                    r = client.post(
                        f"/api/v3/order?{query}&signature={sig.hexdigest()}",
                        headers={"X-MBX-APIKEY": key["apiKey"]},
                    )
                    assert r.status_code == 200, r.text
                    orders.append(int(r.headers["x-mbx-order-count-1d"]))
                    weights.append(int(r.headers["x-mbx-used-weight-1m"]))
        assert served == {"gateway-1", "gateway-2"}  # both counted
        # one IP's weight, counted once for both gateways: every request exactly once
        assert weights == list(range(1, len(weights) + 1))
        assert orders == list(range(1, len(orders) + 1))
    finally:
        server.stop()


def test_streams_served_by_their_own_process_are_counted_by_every_gateway(
    tmp_path: Path,
) -> None:
    from websockets.sync.client import connect

    stream_port = free_port()
    server = Server(tmp_path / "data", *GATEWAYS, "--stream-port", str(stream_port))
    try:
        url = f"ws://127.0.0.1:{stream_port}/stream?streams=btcusdt@trade/btcusdt@depth"
        with connect(url) as ws:
            with httpx.Client(base_url=server.url, headers=server.headers) as admin:
                status = admin.get("/admin/v1/streams").json()  # on an API gateway
                health = http.get(f"http://127.0.0.1:{stream_port}/health").json()
            ws.close()
        assert status["connections"] == 1
        assert status["streams"] == {"btcusdt@depth": 1, "btcusdt@trade": 1}
        assert health["process"] == "streams-1"
        assert "1 engine + 2 gateways + 1 for streams" in server.output()
    finally:
        server.stop()
    assert server.proc.returncode == 0


def _signed(
    client: httpx.Client, key: dict[str, str], method: str, path: str, **params: object
) -> httpx.Response:
    query = urlencode({**params, "timestamp": int(time.time() * 1000)})
    sig = hmac.new(key["secret"].encode(), query.encode(), hashlib.sha256).hexdigest()
    return client.request(
        method, f"{path}?{query}&signature={sig}", headers={"X-MBX-APIKEY": key["key"]}
    )


def test_what_one_gateway_answered_the_next_request_reads_through_any_other(
    tmp_path: Path,
) -> None:
    """A key made, an order placed, then read, each on a new connection (any gateway): every
    step sees the one before it, however the connections fall on the two processes."""
    server = Server(tmp_path / "data", *GATEWAYS)
    served: set[str] = set()
    try:
        for i in range(12):
            with httpx.Client(base_url=server.url, headers=server.headers, timeout=10) as admin:
                served.add(_gateway_of(admin))
                account = admin.post(
                    "/admin/v1/accounts", json={"deposits": {"USDT": "1000"}, "reason": "t"}
                ).json()["accountId"]
                made = admin.post("/admin/v1/keys", json={"accountId": account, "reason": "t"})
                key = {"key": made.json()["apiKey"], "secret": made.json()["secretKey"]}
            with httpx.Client(base_url=server.url, timeout=10) as client:
                served.add(_gateway_of(client))
                placed = _signed(
                    client, key, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY",
                    type="LIMIT", timeInForce="GTC", quantity="0.01", price=str(30000 + i),
                )  # fmt: skip
                assert placed.status_code == 200, placed.text
            with httpx.Client(base_url=server.url, timeout=10) as client:
                served.add(_gateway_of(client))
                open_orders = _signed(client, key, "GET", "/api/v3/openOrders")
                assert [o["orderId"] for o in open_orders.json()] == [placed.json()["orderId"]]
                usdt = next(
                    b for b in _signed(client, key, "GET", "/api/v3/account").json()["balances"]
                    if b["asset"] == "USDT"
                )  # fmt: skip
                assert Decimal(usdt["locked"]) == Decimal("0.01") * (30000 + i)
            with httpx.Client(base_url=server.url, headers=server.headers, timeout=10) as admin:
                held = admin.get(f"/admin/v1/accounts/{account}").json()
                assert held["openOrders"] == 1
        assert served == {"gateway-1", "gateway-2"}
    finally:
        server.stop()


def test_a_staff_token_works_and_ends_at_once_through_every_gateway(tmp_path: Path) -> None:
    """Issued through one connection, used through new ones (either gateway); once offboarded
    through any, refused by every gateway at the next request."""
    server = Server(tmp_path / "data", *GATEWAYS)
    served: set[str] = set()
    try:
        for i in range(8):
            name = f"officer-{i}"
            with httpx.Client(base_url=server.url, headers=server.headers, timeout=10) as admin:
                added = admin.post(
                    "/admin/v1/staff",
                    json={"name": name, "role": "compliance_officer", "reason": "hired"},
                )
                assert added.status_code == 200, added.text
                issued = admin.post(f"/admin/v1/staff/{name}/tokens", json={"reason": "hired"})
                token = {"Authorization": f"Bearer {issued.json()['token']}"}
            with httpx.Client(base_url=server.url, headers=token, timeout=10) as officer:
                served.add(_gateway_of(officer))
                assert officer.get("/admin/v1/policies").status_code == 200
            with httpx.Client(base_url=server.url, headers=server.headers, timeout=10) as admin:
                served.add(_gateway_of(admin))
                r = admin.post(f"/admin/v1/staff/{name}/offboard", json={"reason": "left"})
                assert r.status_code == 200, r.text
            with httpx.Client(base_url=server.url, headers=token, timeout=10) as officer:
                served.add(_gateway_of(officer))
                assert officer.get("/admin/v1/policies").status_code == 401
        assert served == {"gateway-1", "gateway-2"}
    finally:
        server.stop()


def test_the_streams_process_killed_is_replaced_and_its_subscribers_reconnect(
    tmp_path: Path,
) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    stream_port = free_port()
    server = Server(tmp_path / "data", *GATEWAYS, "--stream-port", str(stream_port))
    url = f"ws://127.0.0.1:{stream_port}/ws/btcusdt@trade"
    key = json.loads((tmp_path / "data" / "demo-api-key.json").read_text())
    demo = {"key": key["apiKey"], "secret": key["secretKey"]}

    def trade(price: str) -> None:  # the demo account buys from the demo book's best ask
        with httpx.Client(base_url=server.url, timeout=10) as client:
            r = _signed(client, demo, "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY",
                        type="LIMIT", timeInForce="IOC", quantity="0.001", price=price)  # fmt: skip
            assert r.status_code == 200 and r.json()["status"] == "FILLED", r.text

    try:
        streams = [p for p in children(server.proc.pid) if p not in _api_gateways(server)]
        assert len(streams) == 1
        with connect(url) as ws:
            trade("60010")
            first = json.loads(ws.recv(timeout=10))
            assert first["e"] == "trade"
            os.kill(streams[0], signal.SIGKILL)
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=10)
        wait_for(lambda: _healthy(f"http://127.0.0.1:{stream_port}"), "a new streams process")
        with connect(url) as ws:  # the new process follows the releases from where they are
            trade("60010")
            assert json.loads(ws.recv(timeout=10))["t"] == first["t"] + 1
        assert "streams-1 (pid" in server.output() and "starting another" in server.output()
    finally:
        server.stop()
    assert server.proc.returncode == 0


def _api_gateways(server: Server) -> set[int]:
    """The pids of the gateways on the API port (their command line names gateway-N)."""
    return {
        pid for pid in children(server.proc.pid)
        if b"gateway-" in Path(f"/proc/{pid}/cmdline").read_bytes()
    }  # fmt: skip


def _healthy(url: str) -> bool:
    try:
        return http.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_data_directory_too_deep_for_a_unix_socket_still_serves_gateways(
    tmp_path: Path,
) -> None:
    deep = tmp_path / ("d" * 100) / "data"  # its engine.sock would pass 108 bytes
    server = Server(deep, *GATEWAYS)
    try:
        assert http.get(f"{server.url}/health").json()["process"].startswith("gateway-")
    finally:
        server.stop()
    assert server.proc.returncode == 0
