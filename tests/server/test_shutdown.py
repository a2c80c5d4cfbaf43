"""A stop signal (SIGTERM from a supervisor, SIGINT from Ctrl-C) ends `bourse run` cleanly:
in-flight requests answered, a snapshot of everything journaled, server.json gone, exit 0."""

import json
import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.server.server import Server, run_cli

pytestmark = pytest.mark.slow
DEPOSIT = {"account_id": 1, "asset": "BTC", "amount": "0.00000001", "reason": "shutdown test"}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_under_load_snapshots_and_exits_0(
    tmp_path: Path, sig: int, shape: tuple[str, ...]
) -> None:
    """In both shapes: with gateway processes, the engine process stops them first (each lets
    its requests finish), then drains and snapshots."""
    data = tmp_path / "data"
    server = Server(data, *shape)
    acked: list[int] = []
    lock = threading.Lock()
    enough = threading.Event()

    def worker() -> None:
        with httpx.Client(headers=server.headers, timeout=30) as client:
            while True:
                try:
                    r = client.post(f"{server.url}/admin/v1/deposits", json=DEPOSIT)
                except httpx.HTTPError:
                    return  # the server stopped accepting
                # an answered request is never an error
                assert r.status_code == 200, f"{r.text}\n{server.output()[-4000:]}"
                with lock:
                    acked.append(r.json()["seq"])
                    if len(acked) >= 100:
                        enough.set()

    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(worker) for _ in range(4)]
        try:
            assert enough.wait(timeout=120), [f.exception() for f in futures if f.done()]
            server.proc.send_signal(sig)  # while four clients have requests in flight
            code = server.proc.wait(timeout=120)
        finally:
            if server.proc.poll() is None:  # a failed test leaves no server (nor workers) behind
                server.kill()
        for f in futures:
            f.result()

    assert code == 0, server.output()
    assert not (data / "server.json").exists()
    replayed = run_cli("replay", "--data-dir", str(data))
    assert replayed.returncode == 0, replayed.stderr
    result = json.loads(replayed.stdout)
    assert result["snapshot"] == f"snapshot at seq {result['commands']} matches"
    assert max(acked) <= result["commands"]


@pytest.mark.file_journal  # that nothing started is read from the journal's folder
@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--trusted-proxy", "localhost"], "--trusted-proxy"),
        (["--stream-queue", "0"], "--stream-queue"),
        (["--refresh-lists", "-1"], "--refresh-lists"),
        (["--refresh-lists", "1", "--list-url", "nonsense"], "--list-url"),
        (["--gateways", "-1"], "--gateways"),
        (["--stream-port", "8100"], "--stream-port needs --gateways"),
        (["--stream-port", "70000", "--gateways", "1"], "'--stream-port'"),
        (["--port", "99999"], "'--port'"),
        (["--snapshot-every", "-1"], "'--snapshot-every'"),  # once: a snapshot every command
    ],
)
def test_a_refused_option_stops_before_anything_starts(
    tmp_path: Path, args: list[str], named: str
) -> None:
    """Refused after recovery, it would have exited without closing the exchange."""
    data = tmp_path / "data"
    done = run_cli("run", "--data-dir", str(data), "--port", "1", *args)
    assert done.returncode == 2 and named in done.stderr, done.stderr
    assert not (data / "journal").exists()


@pytest.mark.file_journal  # that nothing started is read from the journal's folder
def test_a_port_in_use_stops_before_anything_starts(tmp_path: Path) -> None:
    """It was found after recovery: the children were killed as the command failed, and the
    audit log's worker logged a failure that told the operator to rebuild the log."""
    data = tmp_path / "data"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_cli("run", "--data-dir", str(data), "--port", str(port))
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr and "audit" not in done.stderr
    assert not (data / "journal").exists()
