"""The bench commands run and print the JSON the README promises. Speed is never asserted here."""

import json

import pytest

from bourse.bench.flow import mixed
from bourse.commands import encode_command
from tests.runtime.server import run_cli

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
