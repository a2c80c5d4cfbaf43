"""The bench commands run and print the JSON the README promises. Speed is never asserted here."""

import errno
import json
from pathlib import Path

import pytest

from bourse.bench.flow import mixed
from bourse.commands import encode_command
from tests.server.server import Server, run_cli

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
def test_bench_api_measures_bourse_between_two_runs_of_the_bare_endpoint() -> None:
    args = ["bench", "api", "--orders", "400", "--accounts", "4"]
    result = run_cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"orders", "seconds", "orders_per_s", "p50_ms", "p99_ms"} <= set(out)
    assert out["orders"] == 400 and out["errors"] == 0  # every signed order answered 200
    assert 0 < out["p50_ms"] <= out["p99_ms"]
    assert out["server_cpu_s"] > 0
    assert out["server_cpu_us_per_order"] == pytest.approx(out["server_cpu_s"] / 400 * 1e6, 0.01)
    ceiling = out["ceiling"]
    assert ceiling["errors"] == 0 and ceiling["workers"] == 1
    assert len(ceiling["runs"]) == 2  # before bourse and after
    rates = [run["orders_per_s"] for run in ceiling["runs"]]
    assert ceiling["orders_per_s"] == pytest.approx(sum(rates) / 2, abs=0.01)
    assert 0 < ceiling["p50_ms"] <= ceiling["p99_ms"]
    assert ceiling["server_cpu_us_per_order"] > 0
    assert out["ratio"] == pytest.approx(out["orders_per_s"] / ceiling["orders_per_s"], abs=0.002)
    assert out["cpu_ratio"] == pytest.approx(
        out["server_cpu_us_per_order"] / ceiling["server_cpu_us_per_order"], abs=0.01
    )


@pytest.mark.slow
def test_bench_api_without_the_ceiling_from_two_load_processes() -> None:
    args = ["bench", "api", "--orders", "400", "--accounts", "4", "--processes", "2"]
    result = run_cli(*args, "--no-ceiling", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["orders"] == 400 and out["errors"] == 0 and out["processes"] == 2
    assert "ceiling" not in out and "ratio" not in out
    assert out["ceiling_skipped"] == "--no-ceiling"


@pytest.mark.slow
def test_bench_api_skips_the_ceiling_against_a_server_at_a_url(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", "--no-rate-limits")
    try:
        args = ["--orders", "200", "--accounts", "2", "--url", server.url, "--token", server.token]
        result = run_cli("bench", "api", *args, "--json")
        wrong_token = [
            run_cli("bench", kind, "--orders", "10", "--url", server.url, "--token", "wrong")
            for kind in ("api", "ws")
        ]
    finally:
        server.stop()
    for refused in wrong_token:  # one line that says what the server did, not a traceback
        assert refused.returncode == 2
        assert "answered HTTP 401 to POST /admin/v1/accounts" in refused.stderr
        assert "--token" in refused.stderr and "Traceback" not in refused.stderr
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["orders"] == 200 and out["errors"] == 0
    assert "ceiling" not in out and "server_cpu_s" not in out  # not its process: not measured
    assert out["ceiling_skipped"].startswith("--url")


@pytest.mark.parametrize("kind", ["api", "ws"])
def test_a_url_nothing_listens_on_ends_the_bench_with_one_line(kind: str) -> None:
    result = run_cli("bench", kind, "--url", "http://127.0.0.1:1", "--token", "t")
    assert result.returncode == 2
    assert "cannot reach the server at http://127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["engine", "--commands", "0"], "--commands"),
        (["journal", "--batch", "0"], "--batch"),
        (["audit", "--commands", "-1"], "--commands"),
        (["api", "--orders", "0"], "--orders"),
        (["api", "--concurrency", "0"], "--concurrency"),
        (["api", "--accounts", "0"], "--accounts"),
        (["api", "--processes", "0"], "--processes"),
        (["ws", "--subscriber-processes", "0"], "--subscriber-processes"),
    ],
)
def test_a_count_below_its_least_is_a_usage_error(args: list[str], option: str) -> None:
    """Each once ended in a traceback (a division by zero, an empty list, a zero step)."""
    result = run_cli("bench", *args)
    assert result.returncode == 2
    assert f"Invalid value for '{option}'" in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_api_refuses_negative_gateways() -> None:
    result = run_cli("bench", "api", "--gateways", "-1")
    assert result.returncode == 2
    assert "--gateways: 0 (one process) or more" in result.stderr


def test_a_bench_server_that_cannot_start_ends_the_bench_with_its_log() -> None:
    # a store nobody listens on: the server exits at once, and the bench says why
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    result = run_cli("bench", "api", "--orders", "10", "--no-ceiling", database_url=unreachable)
    assert result.returncode == 2, result.stderr
    assert "the bench server exited" in result.stderr and "127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_api_needs_a_token_with_a_url() -> None:
    result = run_cli("bench", "api", "--url", "http://127.0.0.1:1")
    assert result.returncode == 2
    assert "--url needs --token" in result.stderr


@pytest.mark.slow
def test_bench_console_times_three_pages_through_a_real_server() -> None:
    args = ["bench", "console", "--accounts", "300", "--alerts", "5", "--requests", "3"]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["accounts"] == 300 and out["target_p95_ms"] == 300
    pages = out["pages"]
    assert set(pages) == {"reference_health", "dashboard", "alert_queue", "customer_page"}
    for page in ("dashboard", "alert_queue", "customer_page"):
        figures = pages[page]
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
        assert figures["ratio_to_health_p95"] > 0
    assert out["met"] == all(
        pages[p]["p95_ms"] < 300 for p in ("dashboard", "alert_queue", "customer_page")
    )


def test_bench_audit_prints_its_json(tmp_path: Path) -> None:
    result = run_cli(
        "bench", "audit", "--commands", "2000", "--pairs", "1", "--dir", str(tmp_path), "--json"
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["commands"] == 2000
    assert len(out["ratio_per_round"]) == 1 and out["ratio_with_to_without"] > 0
    assert {len(runs) for runs in out["engine_s"].values()} == {1}
    assert set(out["engine_s"]) == {"without", "with", "busy_neighbour"}
    assert out["ratio_busy_neighbour_to_without"] > 0
    # the log of the run with the consumer holds every command, the key's and the set-up's too
    assert out["log_records"] == out["bundle_records"] > 2000
    assert 0 < out["inclusion_proof_p50_ms"] <= out["inclusion_proof_p99_ms"]
    assert out["verify_records_per_s"] > 0
    assert list(tmp_path.iterdir()) == []  # what it wrote is gone


def test_bench_banks_prints_its_json() -> None:
    result = run_cli("bench", "banks", "--customers", "400", "--statement-lines", "300",
                     "--pending", "40", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["customers"], out["statement_lines"], out["credited"], out["queued"]) == (
        400, 300, 300, 0
    )  # fmt: skip
    assert out["import_commands"] == 1 and out["statement_ratio"] > 0
    # VTB holds a quarter of the customers (its only rail: none of them has a second account)
    # and the second accounts of every tenth customer of the bank before it (one in twenty)
    assert (out["cutoff_customers"], out["cutoff_only_rail"]) == (100 + 20, 100)
    assert sum(out["cutoff_transfers"].values()) > 0 and out["preview_ratio"] > 0
    assert out["apply_events"] > 0


def test_bench_banks_refuses_a_statement_longer_than_its_customers() -> None:
    result = run_cli("bench", "banks", "--customers", "100", "--statement-lines", "101")
    assert result.returncode != 0 and "--statement-lines must be 1 to --customers" in result.stderr


def test_bench_journal_on_nats_beside_the_file_journal() -> None:
    from tests.natsd import machine_nats

    result = run_cli(
        "bench", "journal", "--commands", "3000", "--json", "--journal", f"{machine_nats()}/BENCH"
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out["file"]) >= REQUIRED
    (nats,) = out["nats"]
    assert REQUIRED | {"journal", "ratio_to_file"} <= set(nats)
    assert nats["commands"] == 3000 and nats["trades"] == out["file"]["trades"]


def test_bench_failover_counts_what_the_new_writer_lost() -> None:
    from tests.natsd import machine_nats

    result = run_cli("bench", "failover", "--json", "--journal", f"{machine_nats()}/FAILOVER")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["orders_lost"] == 0
    assert out["orders_acknowledged"] >= 500
    assert 0 < out["seconds_to_first_ack_on_new_writer"] < 60


def test_bench_journal_refuses_a_bad_nats_url() -> None:
    result = run_cli("bench", "journal", "--journal", "nats://host:4222")
    assert result.returncode == 2
    assert "names no stream" in result.stderr


def test_running_out_of_file_descriptors_is_said_as_such() -> None:
    """Asked for more connections than `ulimit -n` allows, the bench is what failed, not the
    server it measures."""
    from bourse.cli.bench import _server_problem

    said = _server_problem(None, OSError(errno.EMFILE, "Too many open files"))
    assert "ran out of file descriptors" in said and "ulimit -n" in said
    assert "cannot reach" in _server_problem(None, OSError(errno.ECONNREFUSED, "refused"))
