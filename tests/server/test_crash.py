"""A real crash: `kill -9` a loaded `bourse` process, restart it, and account for every command.

Acknowledged commands must all be there after the restart; unacknowledged ones may or may not be,
but never half-applied: the recovered state equals a replay of whole journal records.
"""

import json
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bourse.commands import CreateAsset, OpenAccount
from bourse.demo import ASSETS, DEMO_FUNDS, genesis
from bourse.domain.money import to_raw
from bourse.engine import Engine, snapshot
from bourse.journal.file_journal import FileJournal
from bourse.journal.segment_format import segment_name
from bourse.journal.sequencer import Sequencer
from tests.net import http
from tests.server.server import Server, run_cli

pytestmark = pytest.mark.slow
SATOSHI_DEPOSIT = {"account_id": 1, "asset": "BTC", "amount": "0.00000001", "reason": "test"}
GENESIS_BTC_RAW = to_raw(DEMO_FUNDS["BTC"], ASSETS["BTC"])
# and `bourse run` announces the audit log's first key, sets four eyes, adds the two demo staff
# with a token and a console setup link each, and registers the demo API key
GENESIS_COMMANDS = len(genesis(0)) + 1 + 1 + 6 + 1


def _btc_free_raw(server: Server) -> int:
    account = http.get(f"{server.url}/admin/v1/accounts/1", headers=server.headers).json()
    btc = next(b for b in account["balances"] if b["asset"] == "BTC")
    return int(btc["free"].replace(".", "")) + int(btc["locked"].replace(".", ""))


def test_kill_9_mid_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    server = Server(tmp_path / "data")
    acked: list[int] = []
    sent = 0
    lock = threading.Lock()
    enough = threading.Event()

    def worker() -> None:
        nonlocal sent
        with httpx.Client(headers=server.headers, timeout=10) as client:
            while not enough.is_set():
                with lock:
                    sent += 1
                try:
                    r = client.post(f"{server.url}/admin/v1/deposits", json=SATOSHI_DEPOSIT)
                except httpx.HTTPError:
                    return  # the server died under us: this one was never acknowledged
                assert r.status_code == 200, r.text
                with lock:
                    acked.append(r.json()["seq"])
                    if len(acked) >= 400:
                        enough.set()

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(worker) for _ in range(8)]
        enough.wait(timeout=120)
        server.kill()  # SIGKILL while 8 clients still have requests in flight
        for f in futures:
            f.result()
    assert len(acked) >= 400

    assert_recovered(tmp_path / "data", acked, sent)


def assert_recovered(data: Path, acked: list[int], sent: int, *args: str) -> None:
    """Restarted (`bourse run ARGS`) after a kill under a load of 1-satoshi deposits: every
    acknowledged one is there, no more than were sent, and the state is a replay's."""
    restarted = Server(data, *args)
    try:
        state = http.get(f"{restarted.url}/admin/v1/state", headers=restarted.headers).json()
        assert state["last_seq"] >= max(acked), "an acknowledged command was lost"
        credited = _btc_free_raw(restarted) - GENESIS_BTC_RAW
        assert len(acked) <= credited <= sent  # every acked deposit, no more than were sent
        # Each journaled deposit is whole: the deposits in the journal are exactly the credits.
        assert credited == state["last_seq"] - GENESIS_COMMANDS  # then only deposits
        digest = state["digest"]
    finally:
        restarted.stop()
    replayed = run_cli("replay", "--data-dir", str(data))
    assert replayed.returncode == 0, replayed.stderr
    assert f'"digest": "{digest}"' in replayed.stdout


@pytest.mark.file_journal
def test_torn_last_record_is_truncated_and_the_rest_recovers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Server(data)
    server.stop()
    segment = sorted((data / "journal").glob("journal-*.log"))[-1]
    with segment.open("ab") as f:  # half a record: a header promising 100 bytes, then 10
        f.write(struct.pack("<IIQ", 100, 0, GENESIS_COMMANDS + 1) + b"x" * 10)
    restarted = Server(data)
    try:
        state = http.get(f"{restarted.url}/admin/v1/state", headers=restarted.headers).json()
        assert state["last_seq"] == GENESIS_COMMANDS
    finally:
        restarted.stop()


@pytest.mark.file_journal
def test_corrupted_middle_record_refuses_to_start_naming_its_seq(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Server(data).stop()
    for snap in (data / "snapshots").glob("*.bin"):
        snap.unlink()  # force recovery to read the whole journal
    segment = sorted((data / "journal").glob("journal-*.log"))[0]
    raw = bytearray(segment.read_bytes())
    offset = 0
    for _ in range(9):  # skip records 1..9; flip a payload byte of record 10
        length = struct.unpack_from("<I", raw, offset)[0]
        offset += 16 + length
    raw[offset + 16] ^= 0xFF
    segment.write_bytes(bytes(raw))
    result = run_cli("run", "--data-dir", str(data), "--port", "1")
    assert result.returncode == 2
    assert "seq 10" in result.stderr
    assert "checksum" in result.stderr


# `bourse replay` checks a data directory: it reads the journal and never changes a byte of it.


def _journaled(data: Path, n: int) -> str:
    """A data directory whose journal holds `n` commands (no server ran); their state's digest."""
    journal = FileJournal(data / "journal")
    sequencer = Sequencer(engine := Engine(), journal)
    sequencer.submit(CreateAsset(asset="BTC", precision=8, actor="test", ts_ms=1, reason="test"))
    for _ in range(n - 1):
        sequencer.submit(OpenAccount(actor="test", ts_ms=1, reason="test"))
    sequencer.flush()
    journal.close()
    return snapshot.digest(engine.state)


def _journal_files(data: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (data / "journal").iterdir() if p.is_file()}


@pytest.mark.file_journal
def test_replay_reports_a_torn_tail_and_leaves_it_for_the_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    digest = _journaled(data, 30)
    with (data / "journal" / segment_name(1)).open("ab") as f:  # half a record, as a crash leaves
        f.write(struct.pack("<IIQ", 100, 0, 31) + b"x" * 10)
    before = _journal_files(data)
    replayed = run_cli("replay", "--data-dir", str(data))
    assert replayed.returncode == 0, replayed.stderr
    assert _journal_files(data) == before
    result = json.loads(replayed.stdout)
    assert (result["commands"], result["digest"]) == (30, digest)
    assert "torn tail of 26 bytes after seq 30" in replayed.stderr
    assert "truncating" not in replayed.stderr


@pytest.mark.file_journal
def test_replay_of_a_segment_of_garbage_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "journal").mkdir(parents=True)
    (data / "journal" / segment_name(1)).write_bytes(b"\xff" * 5000)
    before = _journal_files(data)
    replayed = run_cli("replay", "--data-dir", str(data))
    assert replayed.returncode == 0, replayed.stderr
    assert _journal_files(data) == before  # not cut to 0 bytes, no journal.lock either
    assert json.loads(replayed.stdout)["commands"] == 0
    assert "torn tail of 5000 bytes after seq 0" in replayed.stderr


@pytest.mark.file_journal
def test_replay_of_a_journal_corrupted_in_the_middle_fails_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _journaled(data, 30)
    segment = data / "journal" / segment_name(1)
    raw = bytearray(segment.read_bytes())
    offset = 0
    for _ in range(9):  # skip records 1..9; flip a payload byte of record 10
        offset += 16 + struct.unpack_from("<I", raw, offset)[0]
    raw[offset + 16] ^= 0xFF
    segment.write_bytes(bytes(raw))
    before = _journal_files(data)
    replayed = run_cli("replay", "--data-dir", str(data))
    assert replayed.returncode == 2
    assert "Traceback" not in replayed.stderr
    assert replayed.stderr.startswith("error: ")
    assert "seq 10" in replayed.stderr
    assert "checksum" in replayed.stderr
    assert _journal_files(data) == before


@pytest.mark.file_journal
def test_replay_of_an_unreadable_segment_fails_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "journal" / segment_name(1)).mkdir(parents=True)  # a directory where a segment goes
    replayed = run_cli("replay", "--data-dir", str(data))
    assert replayed.returncode == 2
    assert "Traceback" not in replayed.stderr
    assert replayed.stderr.startswith("error: ")
    assert segment_name(1) in replayed.stderr
