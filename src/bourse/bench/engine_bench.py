"""`bourse bench engine`: the mixed flow through the full engine path, in memory."""

import platform
import time
from typing import Any

from bourse.bench.flow import prepared
from bourse.engine import Engine
from bourse.events import TradeExecuted


def percentile(sorted_values: list[int], q: float) -> int:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def summary(commands: int, seconds: float, trades: int, latencies_ns: list[int]) -> dict[str, Any]:
    """The keys every bench prints; latencies in ns, any order."""
    latencies_ns = sorted(latencies_ns)
    return {
        "commands": commands,
        "seconds": round(seconds, 3),
        "commands_per_s": round(commands / seconds),
        "trades": trades,
        "p50_us": round(percentile(latencies_ns, 0.50) / 1000, 2),
        "p99_us": round(percentile(latencies_ns, 0.99) / 1000, 2),
    }


def run(commands: int, progress: Any = None) -> dict[str, Any]:
    engine = Engine()
    before, flow = prepared(commands)
    for seq, cmd in enumerate(before, 1):
        engine.execute(seq, cmd)
    seq = len(before)
    execute = engine.execute
    clock = time.perf_counter_ns
    latencies = [0] * len(flow)
    trades = 0
    started = clock()
    for i, cmd in enumerate(flow):
        t0 = clock()
        events = execute(seq + i + 1, cmd)
        latencies[i] = clock() - t0
        for e in events:
            if type(e) is TradeExecuted:
                trades += 1
        if progress is not None and i % 10_000 == 0:
            progress(10_000)
    seconds = (clock() - started) / 1e9
    book = engine.state.symbols["BTCUSDT"].book
    return {
        **summary(len(flow), seconds, trades, latencies),
        "resting_orders": sum(len(lv) for lv in book.bids.values())
        + sum(len(lv) for lv in book.asks.values()),
        "python": platform.python_version(),
    }
