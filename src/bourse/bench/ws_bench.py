"""`bourse bench ws`: orders over the WebSocket API from several processes while market-data
subscribers listen, against a server the bench starts (or the one at `--url`).

Orders: `--connections` WebSocket API connections, one funded account each, spread over
`--processes` load processes. Each connection keeps `--window` signed `order.place` requests in
flight (the server answers a connection's requests in order, so the window only hides the round
trip). Half the orders rest a sell at one price and half cross it with a buy, as `bench api`.
Requests are signed before the clock starts (recvWindow 60 s). `--rate` paces the orders at
that many a second in all (spread evenly over the connections) instead of as fast as the server
answers: the lag and latency of a server that is not saturated.

Streams: `--subscribers` connections to `/stream?streams=btcusdt@trade/btcusdt@depth@100ms`
(what a bot keeping a local book and the tape listens to), in their own processes. Stream lag is
the time from an order's acceptance, the trade event's `E` (the command's timestamp), to its
arrival at a subscriber, in milliseconds on the one machine's clock.

Server CPU (a server the bench started): its CPU time and its child processes', read from /proc,
from the start of the orders until the subscribers have everything and the store has projected
every order, per order.

`--find-rate`: after that run, on the same server, a few short runs (doubling from the highest
rate that held, then bisecting; see `search_rate`) find the highest order rate whose stream lag
p99 stays under `--lag-target-ms` with the same subscribers: `max_rate_under_target`.

Every process is on the same 2-core machine as the server: the figures are for comparing runs
made here, not a capacity claim.
"""

import asyncio
import hashlib
import hmac
import multiprocessing
import os
import time
from collections.abc import Callable
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import aiohttp
import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect

from bourse.bench.api_bench import (
    PRICE,
    QTY,
    Trader,
    cpu_seconds,
    local_server,
    traders,
    wait_projected,
)

Progress = Callable[[int], None]
SYMBOL = "BTCUSDT"
STREAMS = "btcusdt@trade/btcusdt@depth@100ms"
START_DELAY_S = 3.0  # every load process has connected by then
QUIET_S = 1.0  # subscribers stop after this long without a message, once the orders are done
DRAIN_LIMIT_S = 60.0  # ... or after this long at most
LAG_TARGET_MS = 50.0  # the target for stream lag p99
# --find-rate: each step a short run (its overhead, processes and connecting, is ~5 s more)
FIND_STEPS = 6
FIND_STEP_S = 5.0
FIND_MIN_ORDERS = 400
FIND_RESOLUTION = 50.0  # orders/s: rates are tried in steps of this
_decode = msgspec.json.decode
_encode = msgspec.json.Encoder().encode


def order_frames(traders: list[Trader], orders: int) -> list[list[str]]:
    """The signed `order.place` frames for each connection (one trader each), in sending order:
    even ones rest a sell, odd ones cross it with a buy."""
    now = str(time.time_ns() // 1_000_000)
    frames: list[list[str]] = [[] for _ in traders]
    for i in range(orders):
        c = i % len(traders)
        t = traders[c]
        params = {
            "apiKey": t.key,
            "symbol": SYMBOL,
            "side": "SELL" if i % 2 == 0 else "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": QTY,
            "price": PRICE,
            "newOrderRespType": "ACK" if i % 4 < 2 else "FULL",
            "recvWindow": "60000",
            "timestamp": now,
        }
        payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        params["signature"] = hmac.new(
            t.secret.encode(), payload.encode(), hashlib.sha256
        ).hexdigest()
        request = {"id": i, "method": "order.place", "params": params}
        frames[c].append(_encode(request).decode())
    return frames


async def _place(
    ws: ClientConnection,
    frames: list[str],
    window: int,
    done: "Synchronized[int]",
    every_s: float = 0.0,
    offset_s: float = 0.0,
) -> tuple[list[float], int]:
    """Send `frames` keeping at most `window` in flight (and, with `every_s`, one every
    `every_s`, from `offset_s` on); latencies (s) of the answers, as they arrive, and the
    errors."""
    sent = [0.0] * len(frames)
    latencies: list[float] = []
    errors = 0
    room = asyncio.Semaphore(window)
    t0 = time.perf_counter() + offset_s

    async def send() -> None:
        for k, frame in enumerate(frames):
            await room.acquire()
            delay = t0 + k * every_s - time.perf_counter()
            if every_s and delay > 0:
                await asyncio.sleep(delay)
            sent[k] = time.perf_counter()
            await ws.send(frame)

    async def receive() -> None:
        nonlocal errors
        for n in range(len(frames)):  # answered in order
            answer = _decode(await ws.recv())
            latencies.append(time.perf_counter() - sent[n])
            room.release()
            if answer.get("status") != 200:
                errors += 1
            if n % 100 == 99:
                with done.get_lock():
                    done.value += 100

    await asyncio.gather(send(), receive())
    return latencies, errors


async def _load(
    url: str,
    frames: list[list[str]],
    window: int,
    every_s: float,
    start_at: float,
    done: "Synchronized[int]",
) -> tuple[float, float, list[float], int]:
    endpoint = f"{url}/ws-api/v3?returnRateLimits=false"
    sockets = [await connect(endpoint, compression=None, max_size=None) for _ in frames]
    try:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        began = time.time()
        n = len(sockets)
        results = await asyncio.gather(
            *(
                _place(ws, f, window, done, every_s, every_s * i / n)  # spread over the interval
                for i, (ws, f) in enumerate(zip(sockets, frames, strict=True))
            )
        )
        ended = time.time()
    finally:
        for ws in sockets:
            await ws.close()
    return began, ended, [x for r in results for x in r[0]], sum(r[1] for r in results)


def _load_process(
    url: str,
    frames: list[list[str]],
    window: int,
    every_s: float,
    start_at: float,
    done: "Synchronized[int]",
    out: "multiprocessing.Queue[Any]",
) -> None:
    out.put(("load", asyncio.run(_load(url, frames, window, every_s, start_at, done))))


async def _subscribe(url: str, count: int, ready: Any, stop: Any) -> tuple[list[int], int, int]:
    """`count` subscribers in this process until `stop`: each trade's lag, the messages
    received, and how many subscribers the server cut off. aiohttp reads their frames in C: the
    `websockets` client, in Python, took ~0.9 of this 2-core machine's CPU to read 100
    subscribers' 100,000 messages/s, and that CPU was taken from the server it measured."""
    ws_url = "ws" + url.removeprefix("http")
    endpoint = f"{ws_url}/stream?streams={STREAMS}"
    lags: list[int] = []
    counts, last = [0], [time.monotonic()]

    async def listen(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:  # ends at the server's close
            now_ms = time.time() * 1000
            last[0] = time.monotonic()
            counts[0] += 1
            data = _decode(message.data)["data"]
            if data.get("e") == "trade":
                lags.append(int(now_ms - data["E"]))

    async with aiohttp.ClientSession() as session:
        sockets = [
            await session.ws_connect(endpoint, compress=0, max_msg_size=0) for _ in range(count)
        ]
        listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
        ready.release()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        deadline = time.monotonic() + DRAIN_LIMIT_S
        while time.monotonic() - last[0] < QUIET_S and time.monotonic() < deadline:
            await asyncio.sleep(0.05)  # what the server still holds for us
        closed = sum(1 for t in listeners if t.done())  # ended early: cut off by the server
        for t in listeners:
            t.cancel()
        for ws in sockets:
            await ws.close()
    return lags, counts[0], closed


def _subscriber_process(
    url: str, count: int, ready: Any, stop: Any, out: "multiprocessing.Queue[Any]"
) -> None:
    out.put(("streams", asyncio.run(_subscribe(url, count, ready, stop))))


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(len(ordered) * p))])


def run(
    *,
    orders: int,
    connections: int,
    processes: int,
    window: int,
    subscribers: int,
    subscriber_processes: int,
    url: str | None,
    token: str | None,
    rate: float = 0.0,
    progress: Progress | None = None,
    server_pid: int | None = None,
    find_rate: bool = False,
    lag_target_ms: float = LAG_TARGET_MS,
    gateways: int | None = None,
    stream_url: str | None = None,
) -> dict[str, Any]:
    """The figures; with `server_pid` (a server the bench started), also the server's CPU time
    from the start of the orders until the subscribers have everything and the store has
    projected every order. `gateways` (a server the bench starts): `bourse run --gateways N`
    with the streams on a port of their own (`--stream-port`), where the subscribers connect;
    `stream_url` (with `url`): where the streams are served, if not at `url`. With
    `find_rate`, then the highest rate found whose stream lag p99 stays under
    `lag_target_ms` (`max_rate_under_target`, and each step in `find_rate_steps`)."""
    if min(orders, connections, processes, window) < 1 or subscribers < 0:
        raise ValueError("orders, connections, processes and window must be at least 1")
    if rate < 0:
        raise ValueError("--rate must be 0 (as fast as the server answers) or more")
    if lag_target_ms <= 0:
        raise ValueError("--lag-target-ms must be more than 0")
    if gateways is not None and gateways < 0:
        raise ValueError("--gateways: 0 (one process) or more")
    if url is None:
        with local_server(gateways, streams=True) as server:
            figures = run(
                orders=orders,
                connections=connections,
                processes=processes,
                window=window,
                subscribers=subscribers,
                subscriber_processes=subscriber_processes,
                url=server.url,
                token=server.token,
                rate=rate,
                progress=progress,
                server_pid=server.pid,
                find_rate=find_rate,
                lag_target_ms=lag_target_ms,
                stream_url=server.stream_url,
            )
        if gateways is not None:
            figures["gateways"] = gateways
        return figures
    if token is None:
        raise ValueError("--url needs --token (the server's operator token)")

    def measure(orders: int, rate: float, progress: Progress | None) -> dict[str, Any]:
        return _measure(
            url=url,
            stream_url=stream_url or url,
            token=token,
            server_pid=server_pid,
            orders=orders,
            connections=connections,
            processes=processes,
            window=window,
            subscribers=subscribers,
            subscriber_processes=subscriber_processes,
            rate=rate,
            progress=progress,
        )

    cut_off = _cut_off(url, token) if find_rate else 0  # a server at --url may have some
    figures = measure(orders, rate, progress)
    if find_rate:
        steps = search_rate(measure, figures, lag_target_ms, cut_off)
        ok = [s["rate"] for s in steps if s["ok"]]
        figures["lag_target_ms"] = lag_target_ms
        figures["max_rate_under_target"] = max(ok) if ok else None
        figures["find_rate_steps"] = steps
    return figures


Measure = Callable[[int, float, Progress | None], dict[str, Any]]


def search_rate(
    measure: Measure,
    first: dict[str, Any],
    lag_target_ms: float,
    cut_off_before: int = 0,
    max_steps: int = FIND_STEPS,
) -> list[dict[str, Any]]:
    """The steps of a bounded search for the highest order rate whose stream lag p99 stays
    under `lag_target_ms`, starting from `first`, a run already made: doubling from the highest
    rate that held until one fails, then bisecting, `max_steps` short runs at most.

    A rate holds when the server kept up with it (placed at least 90 % of it a second), answered
    every order and cut off no subscriber, and the lag p99 was under the target. A run at full
    speed (rate 0) counts as one at the rate it reached."""
    steps = [_step(first, first["rate"] or first["orders_per_s"], lag_target_ms, cut_off_before)]
    cut_off = first["subscribers_cut_off"]
    if not first["rate"] and steps[0]["ok"]:
        return steps  # it held at full speed: no rate above the one it reached can be placed
    for _ in range(max_steps):
        held = [s["rate"] for s in steps if s["ok"]]
        # a server that could not keep up failed at the rate it reached, too
        failed = [min(s["rate"], s["orders_per_s"]) for s in steps if not s["ok"]]
        low, high = max(held, default=0.0), min(failed, default=None)
        if high is None:
            rate = low * 2
        elif high - low <= max(FIND_RESOLUTION, high * 0.05):
            break  # close enough: another step would not tell the two apart
        else:
            rate = (low + high) / 2
        rate = max(FIND_RESOLUTION, round(rate / FIND_RESOLUTION) * FIND_RESOLUTION)
        if any(rate == s["rate"] for s in steps):
            break
        figures = measure(max(FIND_MIN_ORDERS, int(rate * FIND_STEP_S)), rate, None)
        steps.append(_step(figures, rate, lag_target_ms, cut_off))
        cut_off = figures["subscribers_cut_off"]  # the server's count since it started
    return steps


def _step(
    figures: dict[str, Any], rate: float, lag_target_ms: float, cut_off_before: int
) -> dict[str, Any]:
    cut_off = figures["subscribers_cut_off"] - cut_off_before
    ok = (
        figures["orders_per_s"] >= 0.9 * rate
        and figures["errors"] == 0
        and cut_off == 0
        and figures["stream_lag_p99_ms"] < lag_target_ms
    )
    step = {
        "rate": round(rate, 1),
        "orders": figures["orders"],
        "orders_per_s": figures["orders_per_s"],
        "p99_ms": figures["p99_ms"],
        "stream_lag_p50_ms": figures["stream_lag_p50_ms"],
        "stream_lag_p99_ms": figures["stream_lag_p99_ms"],
        "subscribers_cut_off": cut_off,
        "ok": ok,
    }
    if "server_cpu_us_per_order" in figures:
        step["server_cpu_us_per_order"] = figures["server_cpu_us_per_order"]
    return step


def _measure(
    *,
    url: str,
    stream_url: str,
    token: str,
    server_pid: int | None,
    orders: int,
    connections: int,
    processes: int,
    window: int,
    subscribers: int,
    subscriber_processes: int,
    rate: float,
    progress: Progress | None,
) -> dict[str, Any]:
    """One run against the server at `url`."""
    every_s = connections / rate if rate else 0.0  # between two orders of one connection
    processes = min(processes, connections)
    ts = traders(url, token, connections)
    frames = order_frames(ts, orders)
    ws_url = "ws" + url.removeprefix("http")

    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[Any] = ctx.Queue()
    done = ctx.Value("q", 0)
    ready, stop = ctx.Semaphore(0), ctx.Event()
    sub_procs = min(subscriber_processes, subscribers)
    listeners = [
        ctx.Process(
            target=_subscriber_process,
            args=(
                stream_url,
                subscribers // sub_procs + (i < subscribers % sub_procs),
                ready,
                stop,
                out,
            ),
        )
        for i in range(sub_procs)
    ]
    for p in listeners:
        p.start()
    for _ in listeners:
        if not ready.acquire(timeout=60):
            raise RuntimeError("the stream subscribers did not connect within 60 s")
    start_at = time.time() + START_DELAY_S
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    loaders = [
        ctx.Process(
            target=_load_process,
            args=(ws_url, frames[i::processes], window, every_s, start_at, done, out),
        )
        for i in range(processes)
    ]
    for p in loaders:
        p.start()
    reported = 0
    results: dict[str, list[Any]] = {"load": [], "streams": []}
    while len(results["load"]) < len(loaders):
        while not out.empty():
            kind, value = out.get()
            results[kind].append(value)
        if progress is not None and done.value > reported:
            progress(done.value - reported)
            reported = done.value
        if any(p.exitcode not in (None, 0) for p in loaders):
            raise RuntimeError("a load process failed (see its traceback above)")
        time.sleep(0.1)
    stop.set()
    while len(results["streams"]) < len(listeners):
        kind, value = out.get(timeout=DRAIN_LIMIT_S + 30)
        results[kind].append(value)
    cpu = None
    if server_pid:
        wait_projected(url)  # the store projection is part of an order's cost
        cpu = cpu_seconds(server_pid) - cpu_before
    for p in [*loaders, *listeners]:
        p.join(timeout=30)
    cut_off = _cut_off(url, token)

    began = min(r[0] for r in results["load"])
    ended = max(r[1] for r in results["load"])
    latencies = [x * 1000 for r in results["load"] for x in r[2]]
    lags = [float(x) for r in results["streams"] for x in r[0]]
    seconds = ended - began
    figures = {
        "orders": orders,
        "seconds": round(seconds, 3),
        "orders_per_s": round(orders / seconds, 1),
        "p50_ms": round(_pct(latencies, 0.50), 3),
        "p99_ms": round(_pct(latencies, 0.99), 3),
        "errors": sum(r[3] for r in results["load"]),
        "stream_lag_p50_ms": _pct(lags, 0.50),
        "stream_lag_p99_ms": _pct(lags, 0.99),
        "messages_delivered": sum(r[1] for r in results["streams"]),
        "trades_delivered": len(lags),
        "subscribers": subscribers,
        "subscribers_cut_off": cut_off,
        "connections": connections,
        "processes": processes,
        "window": window,
        "rate": rate,
        "cpus": os.cpu_count(),
    }
    if cpu is not None:
        figures["server_cpu_s"] = round(cpu, 2)
        figures["server_cpu_us_per_order"] = round(cpu / orders * 1e6, 1)
    return figures


def _cut_off(url: str, token: str) -> int:
    """Subscribers the server cut off as too slow during the run (its own count)."""
    r = httpx.get(
        f"{url}/admin/v1/streams", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    r.raise_for_status()
    return int(r.json()["cutOff"])
