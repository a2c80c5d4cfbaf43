"""`bourse bench ws` runs end to end on a server of its own and prints the README's figures.
Speed is never asserted here; what is asserted is that every order was answered and every
subscriber received every trade."""

import json

import pytest

from bourse.bench.api_bench import Trader
from bourse.bench.ws_bench import order_frames
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
