"""`bourse bench api`: signed `POST /api/v3/order` from concurrent keep-alive clients on loopback.

`--processes N` spreads the connections over N load processes, to check that the generator's
own Python is not the limit (on this 2-core machine, alternating runs of 1 and 2 processes at
32 connections measured the same within the noise, so the default is 1).

Half the orders rest (sells at one price) and half cross them (buys at that price), spread over
funded accounts of their own. Requests are signed before the clock starts (recvWindow 60 s) and
sent by a minimal HTTP/1.1 client on raw asyncio streams, so the client spends as little of the
machine's two cores as possible on itself: what is measured is the server.

The ceiling: the same load, from the same generator, against `bare_app` (a bare signed endpoint
under the same uvicorn settings, with as many processes as bourse's gateways), once before
bourse and once after; `ratio` is bourse's rate over the mean of the two bare rates, and the
spread of the two shows how much the machine drifted meanwhile. With `--url` the ceiling is
skipped: the bench cannot start the bare endpoint beside a server it did not start, and a ratio
across machines or settings would mislead. Server CPU is read from /proc for servers the bench
starts (their child processes included), for bourse until its store has projected every order.
"""

import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
import secrets
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from bourse.server.datadir import DataDir

Progress = Callable[[int], None]
BOURSE_RUN = [sys.executable, "-m", "bourse", "run"]
BARE_APP = [sys.executable, "-m", "bourse.bench.bare_app"]
PRICE = "60000.00"  # between the demo ladder's best bid and best ask
QTY = "0.00100"


@dataclass
class Trader:
    account_id: int
    key: str
    secret: str


@dataclass
class Result:
    orders: int
    seconds: float
    orders_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    concurrency: int
    accounts: int
    processes: int
    server_cpu_s: float | None = None  # None: not known (a server at --url)
    latencies_ms: tuple[float, ...] = ()  # sorted; kept to pool the bare runs' percentiles

    @classmethod
    def of(
        cls,
        seconds: float,
        latencies: list[float],
        errors: int,
        cpu: float | None,
        concurrency: int,
        accounts: int,
        processes: int,
    ) -> "Result":
        ordered = sorted(x * 1000 for x in latencies)
        return cls(
            orders=len(latencies),
            seconds=seconds,
            orders_per_s=len(latencies) / seconds,
            p50_ms=_percentile(ordered, 0.50),
            p99_ms=_percentile(ordered, 0.99),
            errors=errors,
            concurrency=concurrency,
            accounts=accounts,
            processes=processes,
            server_cpu_s=cpu,
            latencies_ms=tuple(ordered),
        )

    @property
    def cpu_us_per_order(self) -> float | None:
        return None if self.server_cpu_s is None else self.server_cpu_s / self.orders * 1e6

    def as_dict(self) -> dict[str, Any]:
        out = {
            k: round(v, 3) if isinstance(v, float) else v
            for k, v in self.__dict__.items()
            if k not in ("server_cpu_s", "latencies_ms")
        }
        if self.server_cpu_s is not None:
            out["server_cpu_s"] = round(self.server_cpu_s, 3)
            out["server_cpu_us_per_order"] = round(self.server_cpu_s / self.orders * 1e6, 1)
        return out


@dataclass
class Report:
    """Bourse's run and the bare endpoint's runs around it (none: `skipped` says why)."""

    bourse: Result
    bare: list[Result]
    skipped: str | None
    gateways: int | None

    def ceiling(self) -> dict[str, Any] | None:
        """The bare runs: the mean of their rates, percentiles over all their requests, CPU
        over all their orders, and each run."""
        if not self.bare:
            return None
        ordered = sorted(x for r in self.bare for x in r.latencies_ms)
        orders = sum(r.orders for r in self.bare)
        cpu = sum(r.server_cpu_s or 0.0 for r in self.bare)
        return {
            "orders_per_s": round(sum(r.orders_per_s for r in self.bare) / len(self.bare), 3),
            "p50_ms": round(_percentile(ordered, 0.50), 3),
            "p99_ms": round(_percentile(ordered, 0.99), 3),
            "server_cpu_us_per_order": round(cpu / orders * 1e6, 1),
            "errors": sum(r.errors for r in self.bare),
            "workers": self.gateways or 1,
            "runs": [
                {
                    "orders_per_s": round(r.orders_per_s, 3),
                    "p50_ms": round(r.p50_ms, 3),
                    "p99_ms": round(r.p99_ms, 3),
                    "server_cpu_us_per_order": round(r.cpu_us_per_order or 0.0, 1),
                }
                for r in self.bare
            ],
        }

    def as_dict(self) -> dict[str, Any]:
        out = self.bourse.as_dict()
        if self.gateways is not None:
            out["gateways"] = self.gateways
        ceiling = self.ceiling()
        if ceiling is None:
            out["ceiling_skipped"] = self.skipped
            return out
        out["ceiling"] = ceiling
        out["ratio"] = round(self.bourse.orders_per_s / ceiling["orders_per_s"], 3)
        cpu = self.bourse.cpu_us_per_order
        if cpu is not None:
            out["cpu_ratio"] = round(cpu / ceiling["server_cpu_us_per_order"], 2)
        return out


@dataclass
class LocalServer:
    url: str
    token: str  # the operator's
    pid: int
    stream_url: str = ""  # where its streams are served (http://…), if not at `url`


@contextmanager
def local_server(gateways: int | None = None, streams: bool = False) -> Iterator[LocalServer]:
    """A `bourse run` in a temporary data directory without rate limits (with `gateways`, in
    that many gateway processes; with `streams` too, the streams on a port of their own)."""
    with tempfile.TemporaryDirectory(prefix="bourse-bench-") as tmp:
        data = Path(tmp) / "data"
        # four eyes would make every opening deposit a proposal: this measures trading
        args = ["--data-dir", str(data), "--no-rate-limits", "--no-four-eyes"]
        if gateways is not None:
            args += ["--gateways", str(gateways)]
        stream_url = ""
        if streams and gateways:
            stream_port = free_port()
            args += ["--stream-port", str(stream_port)]
            stream_url = f"http://127.0.0.1:{stream_port}"
        env = {"BOURSE_DATABASE_URL": os.environ.get("BOURSE_DATABASE_URL", "")}
        also = [stream_url] if stream_url else []
        with serving([*BOURSE_RUN, *args], Path(tmp), env, also) as (url, pid):
            token = DataDir(data).token_file.read_text().strip()
            yield LocalServer(url, token, pid, stream_url or url)


@contextmanager
def bare_server(keys: list[Trader], workers: int = 1) -> Iterator[LocalServer]:
    """The bare signed endpoint (bare_app) for `keys`, in `workers` processes."""
    with tempfile.TemporaryDirectory(prefix="bourse-bare-") as tmp:
        secrets_file = Path(tmp) / "keys.json"
        secrets_file.touch(mode=0o600)
        secrets_file.write_text(json.dumps({t.key: t.secret for t in keys}))
        args = ["--keys", str(secrets_file), "--workers", str(workers)]
        with serving([*BARE_APP, *args], Path(tmp), {}) as (url, pid):
            yield LocalServer(url, "", pid)


@contextmanager
def serving(
    command: list[str],
    tmp: Path,
    env: dict[str, str],
    also: list[str] | None = None,
    start_timeout_s: float = 60,
) -> Iterator[tuple[str, int]]:
    """`command --port P` started and healthy (and the URLs `also`) within `start_timeout_s`:
    its URL and pid; terminated on exit."""
    log = tmp / "server.log"  # a file, not a pipe nobody drains while the bench runs
    port = free_port()
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [*command, "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            env={**os.environ, **env},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for healthy in [url, *(also or [])]:
            _wait_healthy(healthy, proc, log, start_timeout_s)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()  # never leave a server behind in a deleted directory
            proc.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by process `pid` and its child processes (Linux's /proc; 0.0
    elsewhere): the server's own cost, apart from the bench's clients on the same machine."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = sum(int(f[11]) + int(f[12]) for _, f in _family(pid))  # utime, stime
    return total / ticks


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux's /proc; none elsewhere)."""
    return [p for p, _ in _family(pid) if p != pid]


def _family(pid: int) -> Iterator[tuple[int, list[str]]]:
    """Process `pid` and its children, each with the fields of its /proc stat after the name."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # itself, or its parent is
            yield int(stat.parent.name), fields


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (tests use it too)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerFailed(RuntimeError):
    """The bench's own server did not start, or did not keep up (the message says how, with
    the server's log where it exited)."""


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerFailed(f"the bench server exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)  # polling a starting process
    raise ServerFailed(f"the bench server did not answer /health within {timeout_s:.0f} s")


def traders(url: str, token: str, count: int) -> list[Trader]:
    """`count` accounts, each funded for its whole share of the run, each with a trading key."""
    out = []
    with httpx.Client(
        base_url=f"{url}/admin/v1", headers={"Authorization": f"Bearer {token}"}
    ) as c:
        for _ in range(count):
            funds = {"BTC": "1000", "USDT": "100000000"}
            r = c.post("/accounts", json={"deposits": funds, "reason": "bench trader"})
            r.raise_for_status()
            account_id = r.json()["accountId"]
            k = c.post("/keys", json={"accountId": account_id, "reason": "bench trader"})
            k.raise_for_status()
            out.append(Trader(account_id, k.json()["apiKey"], k.json()["secretKey"]))
    return out


def signed_requests(host: str, traders: list[Trader], orders: int, symbol: str) -> list[bytes]:
    """Every request as raw bytes; even ones rest a sell, odd ones cross it with a buy."""
    now = time.time_ns() // 1_000_000
    out = []
    for i in range(orders):
        t = traders[i % len(traders)]
        side = "SELL" if i % 2 == 0 else "BUY"
        fields = {
            "symbol": symbol,
            "side": side,
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": QTY,
            "price": PRICE,
            "newOrderRespType": "ACK" if i % 4 < 2 else "FULL",
            "recvWindow": "60000",
            "timestamp": str(now),
        }
        body = urlencode(fields)
        sig = hmac.new(t.secret.encode(), body.encode(), hashlib.sha256).hexdigest()
        payload = f"{body}&signature={sig}".encode()
        head = (
            f"POST /api/v3/order HTTP/1.1\r\nHost: {host}\r\nX-MBX-APIKEY: {t.key}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n"
        )
        out.append(head.encode() + payload)
    return out


async def _client(
    host: str,
    port: int,
    requests: list[bytes],
    latencies: list[float],
    errors: list[int],
    progress: Progress | None,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for n, request in enumerate(requests, 1):
            if progress is not None and n % 100 == 0:
                progress(100)
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status_line.split(b" ", 2)[1] != b"200":
                errors.append(1)
    finally:
        writer.close()


async def _drive(
    url: str, requests: list[bytes], concurrency: int, progress: Progress | None
) -> tuple[float, list[float], int]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    shares = [requests[i::concurrency] for i in range(concurrency)]
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(host, port, s, latencies, errors, progress) for s in shares))
    return time.perf_counter() - started, latencies, len(errors)


def _drive_from_process(
    url: str, requests: list[bytes], concurrency: int, start_at: float
) -> tuple[float, float, list[float], int]:
    """One load process: waits for the common start, drives its share, returns its wall clock
    start and end, latencies and errors."""
    time.sleep(max(0.0, start_at - time.time()))
    began = time.time()
    _seconds, latencies, errors = asyncio.run(_drive(url, requests, concurrency, None))
    return began, time.time(), latencies, errors


def _drive_processes(
    url: str, requests: list[bytes], concurrency: int, processes: int, progress: Progress | None
) -> tuple[float, list[float], int]:
    """The load from `processes` processes, so the generator's own Python is not the limit."""
    if processes <= 1:
        return asyncio.run(_drive(url, requests, concurrency, progress))
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 2.0  # every process has started by then
    per_process = max(1, concurrency // processes)
    with ctx.Pool(processes) as pool:
        jobs = [
            pool.apply_async(
                _drive_from_process, (url, requests[i::processes], per_process, start_at)
            )
            for i in range(processes)
        ]
        results = []
        for job in jobs:
            results.append(job.get())
            if progress is not None:
                progress(len(requests) // processes)
    began = min(r[0] for r in results)
    ended = max(r[1] for r in results)
    latencies = [x for r in results for x in r[2]]
    return ended - began, latencies, sum(r[3] for r in results)


def run(
    *,
    orders: int,
    concurrency: int,
    accounts: int,
    url: str | None,
    token: str | None,
    processes: int = 1,
    progress: Progress | None = None,
    ceiling: bool = True,
    gateways: int | None = None,
) -> "Report":
    """Bourse's figures and, on a server the bench starts, the bare endpoint's around them
    (bare, bourse, bare: the machine's drift within the run shows in the two bare runs).
    `gateways`: the server's gateway processes (0: one process) and the bare endpoint's."""
    if gateways is not None and gateways < 0:
        raise ValueError("--gateways: 0 (one process) or more")
    if url is not None:
        if token is None:
            raise ValueError("--url needs --token (the server's operator token)")
        result = _bourse(url, token, None, orders, concurrency, accounts, processes, progress)
        skipped = "--url: the ceiling is only measured beside a server the bench starts"
        return Report(result, [], skipped if ceiling else "--no-ceiling", gateways)
    workers = gateways or 1
    bare: list[Result] = []
    if ceiling:
        bare.append(_bare(workers, orders, concurrency, accounts, processes, progress))
    with local_server(gateways) as server:
        result = _bourse(
            server.url, server.token, server.pid, orders, concurrency, accounts, processes, progress
        )
    if ceiling:
        bare.append(_bare(workers, orders, concurrency, accounts, processes, progress))
    return Report(result, bare, None if ceiling else "--no-ceiling", gateways)


def _bourse(
    url: str,
    token: str,
    pid: int | None,
    orders: int,
    concurrency: int,
    accounts: int,
    processes: int,
    progress: Progress | None,
) -> "Result":
    """Bourse at `url`; with its `pid`, its CPU until the store has projected every order."""
    ts = traders(url, token, accounts)
    requests = signed_requests(urlsplit(url).netloc, ts, orders, "BTCUSDT")
    cpu_before = cpu_seconds(pid) if pid else 0.0
    seconds, latencies, errors = _drive_processes(url, requests, concurrency, processes, progress)
    cpu = None
    if pid:
        wait_projected(url)  # the store projection is part of an order's cost
        cpu = cpu_seconds(pid) - cpu_before
    return Result.of(seconds, latencies, errors, cpu, concurrency, len(ts), processes)


def _bare(
    workers: int,
    orders: int,
    concurrency: int,
    accounts: int,
    processes: int,
    progress: Progress | None,
) -> "Result":
    """One run against the bare endpoint, with keys of its own, the same load otherwise."""
    ts = [Trader(0, _token(), _token()) for _ in range(accounts)]
    with bare_server(ts, workers) as server:
        requests = signed_requests(urlsplit(server.url).netloc, ts, orders, "BTCUSDT")
        cpu_before = cpu_seconds(server.pid)
        seconds, latencies, errors = _drive_processes(
            server.url, requests, concurrency, processes, progress
        )
        cpu = cpu_seconds(server.pid) - cpu_before
    return Result.of(seconds, latencies, errors, cpu, concurrency, len(ts), processes)


def _token() -> str:
    """A key or secret shaped like bourse's (64 letters and digits)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(64))


def wait_projected(url: str, timeout_s: float = 60.0) -> None:
    """Until the server's SQL store has projected every command the engine has run (its
    /health's store_seq reaches last_seq), or `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=url, timeout=5) as c:
        while time.monotonic() < deadline:
            health = c.get("/health").json()
            if health.get("store_seq", 0) >= health.get("last_seq", 0):
                return
            time.sleep(0.02)  # polling another process's progress
    raise ServerFailed(f"the server's store did not catch up within {timeout_s:g} s")


def _percentile(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0
