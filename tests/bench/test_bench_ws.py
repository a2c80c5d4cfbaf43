"""`bourse bench ws` runs end to end on a server of its own and prints the README's figures.
Speed is never asserted here; what is asserted is that every order was answered and every
subscriber received every trade."""

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from aiohttp import web

from bourse.bench.api_bench import Trader
from bourse.bench.ws_bench import (
    FIND_MIN_ORDERS,
    FIND_STEPS,
    Measure,
    _subscribe,
    order_frames,
    search_rate,
)
from tests.net import free_port
from tests.server.server import run_cli

FIGURES = {"orders", "orders_per_s", "p50_ms", "p99_ms", "stream_lag_p99_ms", "messages_delivered"}


@pytest.mark.slow
@pytest.mark.parametrize("rate", ["0", "400"])
def test_bench_ws_answers_every_order_and_streams_every_trade(rate: str) -> None:
    args = ["bench", "ws", "--orders", "600", "--connections", "4", "--subscribers", "6"]
    result = run_cli(*args, "--rate", rate, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= FIGURES
    assert out["orders"] == 600 and out["errors"] == 0
    assert out["trades_delivered"] == 6 * 300  # half the orders cross: 300 trades, 6 listeners
    assert out["messages_delivered"] >= out["trades_delivered"]  # and the depth diffs
    assert out["subscribers_cut_off"] == 0
    assert 0 < out["p50_ms"] <= out["p99_ms"]
    assert out["server_cpu_s"] > 0
    assert out["server_cpu_us_per_order"] == pytest.approx(out["server_cpu_s"] / 600 * 1e6, 0.01)
    assert "max_rate_under_target" not in out  # only with --find-rate


@pytest.mark.slow
def test_bench_ws_find_rate_stops_when_full_speed_holds_the_target() -> None:
    args = ["bench", "ws", "--orders", "300", "--connections", "2", "--subscribers", "2"]
    result = run_cli(*args, "--find-rate", "--lag-target-ms", "600000", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["lag_target_ms"] == 600000
    [step] = out["find_rate_steps"]  # nothing is faster than as fast as answered
    assert step["ok"] and step["rate"] == pytest.approx(out["orders_per_s"], abs=0.1)
    assert out["max_rate_under_target"] == step["rate"] > 0
    assert step["server_cpu_us_per_order"] == out["server_cpu_us_per_order"] > 0


def fake_server(capacity: float, lag_ms_per_order_s: float) -> tuple[Measure, list[float]]:
    """A measure() whose server places at most `capacity` orders/s, with a stream lag p99
    growing with the rate; and the rates it was asked for."""
    asked: list[float] = []

    def measure(orders: int, rate: float, _progress: object) -> dict[str, Any]:
        asked.append(rate)
        placed = min(rate or capacity, capacity)
        return {
            "rate": rate,
            "orders": orders,
            "orders_per_s": placed,
            "p99_ms": 1.0,
            "errors": 0,
            "stream_lag_p50_ms": 1.0,
            "stream_lag_p99_ms": placed * lag_ms_per_order_s,
            "subscribers_cut_off": 0,
        }

    return measure, asked


@pytest.mark.parametrize("first_rate", [0.0, 100.0, 2000.0])
def test_the_rate_search_is_bounded_and_brackets_the_target(first_rate: float) -> None:
    measure, asked = fake_server(capacity=1500, lag_ms_per_order_s=0.1)  # 50 ms at 500/s
    steps = search_rate(measure, measure(1000, first_rate, None), lag_target_ms=50)
    assert len(asked) == len(steps) <= 1 + FIND_STEPS
    assert all(s["ok"] == (s["stream_lag_p99_ms"] < 50) for s in steps)
    best = max(s["rate"] for s in steps if s["ok"])
    assert 400 <= best < 500
    assert all(orders >= FIND_MIN_ORDERS for orders in [s["orders"] for s in steps[1:]])


def test_a_rate_the_server_cannot_keep_up_with_does_not_hold() -> None:
    measure, _ = fake_server(capacity=300, lag_ms_per_order_s=0.0)  # never any lag
    steps = search_rate(measure, measure(1000, 1000.0, None), lag_target_ms=50)
    assert not steps[0]["ok"]  # 300 placed of 1,000 asked
    assert 250 <= max(s["rate"] for s in steps if s["ok"]) <= 300


def test_half_the_orders_rest_sells_and_half_cross_them_with_buys() -> None:
    traders = [Trader(1, "k1", "s1"), Trader(2, "k2", "s2")]
    frames = order_frames(traders, 4)
    sides = [[json.loads(f)["params"]["side"] for f in conn] for conn in frames]
    assert sides == [["SELL", "SELL"], ["BUY", "BUY"]]
    signed = json.loads(frames[0][0])["params"]
    assert signed["apiKey"] == "k1" and len(signed["signature"]) == 64


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "http://127.0.0.1:1"], "--url needs --token"),
        (["--rate", "-5"], "--rate must be 0"),
    ],
)
def test_bench_ws_rejects_bad_options(args: list[str], message: str) -> None:
    result = run_cli("bench", "ws", *args)
    assert result.returncode == 2
    assert message in result.stderr


@pytest.mark.parametrize("server_closes", [True, False])
def test_a_subscriber_the_server_closes_counts_as_cut_off(server_closes: bool) -> None:
    """The subscribers' reader counts each trade's lag and every message, and a connection the
    server ends (as it cuts off a subscriber that falls behind) as cut off."""

    async def stream(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        trade = {"e": "trade", "E": int(time.time() * 1000), "s": "BTCUSDT"}
        await ws.send_str(json.dumps({"stream": "btcusdt@trade", "data": trade}))
        await ws.send_str(json.dumps({"stream": "btcusdt@depth@100ms", "data": {"e": "x"}}))
        if server_closes:
            await ws.close(code=1008, message=b"too slow")
        else:
            await ws.receive()  # until the subscriber closes
        return ws

    async def run() -> tuple[list[int], int, int]:
        app = web.Application()
        app.router.add_get("/stream", stream)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop = threading.Event()
        stop.set()  # no orders to wait for: only the quiet period after the last message
        try:
            return await _subscribe(f"http://127.0.0.1:{port}", 3, threading.Semaphore(0), stop)
        finally:
            await runner.cleanup()

    lags, messages, cut_off = asyncio.run(run())
    assert len(lags) == 3 and all(0 <= lag < 5000 for lag in lags)
    assert messages == 6
    assert cut_off == (3 if server_closes else 0)
