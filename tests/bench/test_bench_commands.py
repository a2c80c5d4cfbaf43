"""The bench commands run and print the JSON the README promises. Speed is never asserted here."""

import json

import pytest

from bourse.bench.flow import mixed
from bourse.commands import encode_command
from tests.server.server import run_cli

REQUIRED = {"commands", "seconds", "commands_per_s", "trades", "p50_us", "p99_us"}


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["bench", "engine", "--commands", "3000", "--json"], {"resting_orders"}),
        (["bench", "journal", "--commands", "3000", "--json"], {"fsyncs", "writer"}),
        (["bench", "journal", "--commands", "3000", "--writer", "thread", "--json"], {"fsyncs"}),
    ],
)
def test_bench_prints_its_json(args: list[str], extra: set[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert REQUIRED | extra <= set(out)
    assert out["commands"] == 3000
    assert out["trades"] > 0


def test_bench_rejects_an_unknown_writer() -> None:
    result = run_cli("bench", "journal", "--writer", "carrier-pigeon")
    assert result.returncode == 2
    assert "--writer must be inline or thread" in result.stderr


def test_the_flow_is_the_same_every_run() -> None:
    first = [encode_command(c) for c in mixed(2000)]
    assert first == [encode_command(c) for c in mixed(2000)]


@pytest.mark.slow
@pytest.mark.parametrize("processes", ["1", "2"])
def test_bench_api_places_every_order_on_a_server_of_its_own(processes: str) -> None:
    args = ["bench", "api", "--orders", "400", "--accounts", "4", "--processes", processes]
    result = run_cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"orders", "seconds", "orders_per_s", "p50_ms", "p99_ms"} <= set(out)
    assert out["orders"] == 400 and out["errors"] == 0  # every signed order answered 200
    assert out["p50_ms"] <= out["p99_ms"]


def test_bench_api_needs_a_token_with_a_url() -> None:
    result = run_cli("bench", "api", "--url", "http://127.0.0.1:1")
    assert result.returncode == 2
    assert "--url needs --token" in result.stderr
