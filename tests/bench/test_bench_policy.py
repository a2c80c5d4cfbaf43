"""`bourse bench policy` suspends one country among many customers while the others trade, and
prints the JSON the issue asks for. Speed is never asserted here."""

import json
from itertools import pairwise

import pytest

from bourse.bench.policy_bench import in_target, run
from tests.server.server import run_cli

REQUIRED = {
    "accounts",
    "affected",
    "preview_s",
    "apply_s",
    "max_engine_pause_ms",
    "others_orders_per_s",
}


def test_bench_policy_suspends_one_country_while_the_others_trade() -> None:
    args = ["--accounts", "3000", "--sweep-batch", "50", "--flow-between", "5"]
    result = run_cli("bench", "policy", *args, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert REQUIRED | {"sweep_batches", "canceled_orders", "preview_max_slice_ms"} <= set(out)
    assert out["accounts"] == 3000
    assert out["affected"] == 300  # the default 10 %
    assert out["sweep_batches"] == 6  # 300 customers, 50 a batch
    # A fifth of the country's accounts rested an order: the preview saw them, the sweep canceled
    # every one, and a named customer's new order is refused by the policy.
    assert out["preview_open_orders"] == 60
    assert out["canceled_orders"] == 60
    assert out["open_orders_left_affected"] == 0
    assert out["affected_order_refused"] is True
    # The others traded between the batches, and the policy refused none of them.
    assert out["others_orders"] == 5 * 5
    assert out["others_orders_per_s"] > 0
    assert out["others_refused_by_policy"] == 0


def test_the_share_decides_whom_the_policy_names() -> None:
    out = run(1000, affected_share=0.25, flow_between=3, sweep_batch=100)
    assert out["affected"] == 250
    assert out["sweep_batches"] == 3
    assert out["canceled_orders"] == out["preview_open_orders"] == 50
    assert out["open_orders_left_affected"] == 0
    assert out["others_orders"] == 2 * 3


def test_the_target_country_is_spread_evenly() -> None:
    picked = [i for i in range(1000) if in_target(i, 0.1)]
    assert len(picked) == 100
    assert {b - a for a, b in pairwise(picked)} == {10}
    assert sum(in_target(i, 0.07) for i in range(1000)) == 70


def test_the_table_is_printed_without_json() -> None:
    result = run_cli("bench", "policy", "--accounts", "500", "--sweep-batch", "10")
    assert result.returncode == 0, result.stderr
    assert "max_engine_pause_ms" in result.stdout
    assert "open_orders_left_affected" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--affected-share", "1.5"], "--affected-share must be a fraction between 0 and 1"),
        (["--sweep-batch", "0"], "--sweep-batch must be 1 to 10000 customers"),
        (["--accounts", "10"], "--accounts must be at least 100"),
        (["--flow-between", "0"], "--flow-between must be at least 1"),
    ],
)
def test_bench_policy_rejects_bad_options(args: list[str], message: str) -> None:
    result = run_cli("bench", "policy", *args)
    assert result.returncode == 2
    assert message in result.stderr
