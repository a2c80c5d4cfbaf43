"""The monitor accepts honest growth and alarms on a rewritten history; the tree is rebuilt
identically from the journal, and comes back consistent after kill -9."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from tests.audit.conftest import trade

from bourse.audit.log import AuditLog
from bourse.audit.watch import check
from bourse.commands import PlaceOrder, decode_command, encode_command
from bourse.journal.file_journal import FileJournal
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange


def watch(data: Path, state: Path) -> tuple[bool, str]:
    audit = AuditLog.reader(data)
    try:
        result = check(audit, state)
    finally:
        audit.close()
    return result.ok, result.message


def rebuild(data: Path) -> tuple[int, str]:
    from typer.testing import CliRunner

    from bourse.cli import app

    ran = CliRunner().invoke(app, ["audit", "rebuild", "--data-dir", str(data)])
    assert ran.exit_code == 0, ran.output
    import json

    answer = json.loads(ran.stdout.strip().splitlines()[-1])
    return answer["tree_size"], answer["root_hash"]


@pytest.mark.file_journal
def test_watch_accepts_growth_and_alarms_on_a_rewritten_history(tmp_path: Path) -> None:
    data = tmp_path / "data"
    state = tmp_path / "monitor.json"
    exchange = Exchange(DataDir(data), audit=True)
    trade(exchange, 20)
    exchange.close()  # signs a head on the way out
    ok, message = watch(data, state)
    assert ok and "first use" in message
    ok, message = watch(data, state)
    assert ok and "consistent" in message

    exchange = Exchange(DataDir(data), audit=True)
    trade(exchange, 15, start_ms=50_000)
    size = exchange.last_seq
    exchange.close()
    ok, message = watch(data, state)
    assert ok and f"-> {size} records" in message

    # The same journal with one order changed, its log rebuilt and a new head signed over it.
    forged = tmp_path / "forged"
    shutil.copytree(data, forged)
    for name in os.listdir(forged / "journal"):
        (forged / "journal" / name).unlink()
    original, rewritten = FileJournal(data / "journal"), FileJournal(forged / "journal")
    for seq, payload in original.replay():
        cmd = decode_command(payload)
        if seq == size - 3:
            assert isinstance(cmd, PlaceOrder)
            payload = encode_command(msgspec.structs.replace(cmd, qty_raw=cmd.qty_raw * 2))
        rewritten.append(seq, payload)
    rewritten.close()
    original.close()
    for name in os.listdir(forged / "snapshots"):
        (forged / "snapshots" / name).unlink()
    (forged / "store.sqlite").unlink(missing_ok=True)
    rebuild(forged)
    ok, message = watch(forged, state)
    assert not ok
    assert "history was rewritten" in message and f"size {size}" in message


def test_the_tree_is_rebuilt_identically_from_the_journal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    exchange = Exchange(DataDir(data), audit=True)
    trade(exchange, 25)
    assert exchange.audit is not None
    head = exchange.audit.sign_head()
    exchange.close()
    assert head is not None
    size, _root = rebuild(data)
    assert size >= head["tree_size"]
    audit = AuditLog.reader(data)
    try:
        assert audit.root(head["tree_size"]).hex() == head["root_hash"]
        assert watch(data, tmp_path / "state.json")[0]
    finally:
        audit.close()


_WRITER = """
import sys
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange
from tests.audit.conftest import trade
exchange = Exchange(DataDir(sys.argv[1]), audit=True, audit_process=True)
exchange.audit.sign_head()
print("ready", flush=True)
i = 0
while True:
    trade(exchange, 50, start_ms=10_000 + 50 * i)
    i += 1
    if i % 3 == 0:
        exchange.audit.sign_head()
        print("signed", flush=True)
"""


def test_after_kill_9_the_tree_and_heads_are_consistent_with_the_journal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(data)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        for _ in range(3):  # kill it under load, once it has signed a few heads
            assert proc.stdout.readline().strip() == "signed", "the writer died on its own"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    # the log's process follows the engine again, from a snapshot at the recovered seq
    exchange = Exchange(DataDir(data), audit=True, audit_process=True)
    try:
        assert exchange.audit is not None
        assert exchange.audit.size == exchange.last_seq  # caught up while recovering
        exchange.audit.sign_head()
        trade(exchange, 5)
        assert exchange.audit.sign_head() is not None
        assert exchange.audit.size == exchange.last_seq
    finally:
        exchange.close()
    ok, message = watch(data, tmp_path / "state.json")  # trusts the first head...
    assert ok, message
    # ...and every head, signed before the kill or by the follower after it, is in the tree
    # rebuilt from the journal alone
    assert rebuild(data)[0] == exchange.last_seq
    audit = AuditLog.reader(data)
    try:
        heads = list(audit.heads())
        assert heads[-1]["tree_size"] == exchange.last_seq
        for head in heads:
            assert audit.root(head["tree_size"]).hex() == head["root_hash"], head
    finally:
        audit.close()
