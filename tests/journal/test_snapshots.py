"""Tests for SnapshotStore: atomic writes, verification, fallback and retention."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bourse.journal.snapshots import SnapshotStore, snapshot_name

HEADER_SIZE = 8 + 8 + 8 + 32


def test_empty_store(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path / "snaps")
    assert store.latest() is None
    assert store.list() == []


def test_write_then_latest(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    path = store.write(10, b"state at 10")
    assert path == tmp_path / "snapshot-00000000000000000010.bin"
    assert path.read_bytes().startswith(b"BRSNAP1\0")
    store.write(25, b"state at 25")
    assert store.list() == [10, 25]
    assert store.latest() == (25, b"state at 25")
    # A fresh store on the same directory sees the same thing.
    assert SnapshotStore(tmp_path).latest() == (25, b"state at 25")


def test_empty_payload_round_trips(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.write(1, b"")
    assert store.latest() == (1, b"")


def test_keeps_only_the_newest_three(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    for seq in (5, 10, 15, 20, 25):
        store.write(seq, b"s%d" % seq)
    assert store.list() == [15, 20, 25]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        snapshot_name(15),
        snapshot_name(20),
        snapshot_name(25),
    ]


def test_leftover_temp_file_is_ignored(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.write(10, b"good")
    # What a crash between "write temp" and "rename" leaves behind, for a newer seq.
    (tmp_path / f".{snapshot_name(20)}.abc123.tmp").write_bytes(b"BRSNAP1\0 half-written")
    assert store.list() == [10]
    assert store.latest() == (10, b"good")


def test_failed_write_leaves_previous_snapshot_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SnapshotStore(tmp_path)
    store.write(10, b"good")

    def crash(src: object, dst: object) -> None:
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        store.write(20, b"never visible")
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == [snapshot_name(10)]
    assert store.latest() == (10, b"good")


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "payload-byte":
        data[HEADER_SIZE + 2] ^= 0x01
    elif how == "truncated-payload":
        del data[-3:]
    elif how == "truncated-header":
        del data[10:]
    elif how == "magic":
        data[0:8] = b"NOTSNAP\0"
    elif how == "digest":
        data[HEADER_SIZE - 1] ^= 0x01
    elif how == "empty":
        data = bytearray()
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "how",
    ["payload-byte", "truncated-payload", "truncated-header", "magic", "digest", "empty"],
)
def test_damaged_newest_falls_back_to_older(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    store = SnapshotStore(tmp_path)
    store.write(10, b"older state")
    newest = store.write(20, b"newer state")
    _damage(newest, how)
    with caplog.at_level(logging.WARNING):
        assert store.latest() == (10, b"older state")
    assert any(snapshot_name(20) in r.getMessage() for r in caplog.records)


def test_snapshot_renamed_to_another_seq_is_rejected(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.write(10, b"older state")
    p = store.write(20, b"state at 20")
    p.rename(tmp_path / snapshot_name(30))  # header still says 20
    assert store.latest() == (10, b"older state")


def test_all_damaged_returns_none(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    for seq in (1, 2):
        _damage(store.write(seq, b"state"), "payload-byte")
    assert store.latest() is None


def test_latest_at_most_picks_the_newest_not_after_a_seq(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    for seq in (10, 20, 30):
        store.write(seq, b"state-%d" % seq)
    assert store.latest(at_most=25) == (20, b"state-20")
    assert store.latest(at_most=30) == (30, b"state-30")
    assert store.latest(at_most=9) is None
