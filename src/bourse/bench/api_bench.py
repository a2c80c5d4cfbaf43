"""`bourse bench api`: signed `POST /api/v3/order` from concurrent keep-alive clients on loopback.

`--processes N` spreads the connections over N load processes, to check that the generator's
own Python is not the limit (on this 2-core machine, alternating runs of 1 and 2 processes at
32 connections measured the same within the noise, so the default is 1).

Half the orders rest (sells at one price) and half cross them (buys at that price), spread over
funded accounts of their own. Requests are signed before the clock starts (recvWindow 60 s) and
sent by a minimal HTTP/1.1 client on raw asyncio streams, so the client spends as little of the
machine's two cores as possible on itself: what is measured is the server.
"""

import asyncio
import hashlib
import hmac
import multiprocessing
import os
import socket
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

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()}


@dataclass
class LocalServer:
    url: str
    token: str  # the operator's
    pid: int


@contextmanager
def local_server() -> Iterator[LocalServer]:
    """A `bourse run` in a temporary data directory without rate limits."""
    with tempfile.TemporaryDirectory(prefix="bourse-bench-") as tmp:
        data = Path(tmp) / "data"
        log = Path(tmp) / "server.log"  # a file, not a pipe nobody drains while the bench runs
        port = free_port()
        with log.open("wb") as log_file:
            proc = subprocess.Popen(
                [*BOURSE_RUN, "--data-dir", str(data), "--port", str(port), "--no-rate-limits"],
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                env={
                    **os.environ,
                    "BOURSE_DATABASE_URL": os.environ.get("BOURSE_DATABASE_URL", ""),
                },
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_healthy(url, proc, log)
            yield LocalServer(url, DataDir(data).token_file.read_text().strip(), proc.pid)
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
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # itself, or its parent is
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (tests use it too)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the bench server exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)  # polling a starting process
    raise RuntimeError("the bench server did not answer /health within 60 s")


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
) -> Result:
    if url is None:
        with local_server() as server:
            return run(
                orders=orders,
                concurrency=concurrency,
                accounts=accounts,
                url=server.url,
                token=server.token,
                processes=processes,
                progress=progress,
            )
    if token is None:
        raise ValueError("--url needs --token (the server's operator token)")
    ts = traders(url, token, accounts)
    host = urlsplit(url).netloc
    requests = signed_requests(host, ts, orders, "BTCUSDT")
    seconds, latencies, errors = _drive_processes(url, requests, concurrency, processes, progress)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000

    return Result(
        orders=orders,
        seconds=seconds,
        orders_per_s=orders / seconds,
        p50_ms=pct(0.50),
        p99_ms=pct(0.99),
        errors=errors,
        concurrency=concurrency,
        accounts=len(ts),
        processes=processes,
    )
