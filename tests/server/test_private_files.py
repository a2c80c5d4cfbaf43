"""Everything in a data directory holds or leads to customers' data: files 0600 and directories
0700 whatever the umask, and a directory left readable by others is tightened on start."""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from bourse.bench.screening_bench import DATA
from tests.net import http
from tests.server.server import BOURSE, Server

pytestmark = pytest.mark.slow
CUSTOMER = {
    "legal_name": "Ada Example",
    "date_of_birth": "1990-01-02",
    "nationality": "DE",
    "residence": "DE",
    "reason": "onboarding",
}


def _modes(root: Path) -> dict[str, str]:
    """Every path under `root` (and root) whose mode is not 0700 (dirs) or 0600 (files)."""
    loose = {}
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            loose[str(path.relative_to(root.parent))] = oct(mode)
    return loose


def _cli(umask: int, *args: str) -> None:
    done = subprocess.run([*BOURSE, *args], capture_output=True, text=True, umask=umask)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask-022", "umask-000"])
def test_every_file_is_0600_and_every_directory_0700(tmp_path: Path, umask: int) -> None:
    data = tmp_path / "data"
    server = Server(data, umask=umask)
    try:
        r = http.post(f"{server.url}/admin/v1/customers", json=CUSTOMER, headers=server.headers)
        assert r.status_code == 200, r.text
        _cli(
            umask,
            "staff",
            "add",
            "alice",
            "--role",
            "support",
            "--reason",
            "hired",
            "--data-dir",
            str(data),
        )
        _cli(umask, "lists", "load", "ofac_cons", str(DATA), "--data-dir", str(data))
        r = http.post(f"{server.url}/admin/v1/snapshot", headers=server.headers)
        assert r.status_code == 200, r.text
        assert (data / "store.sqlite-wal").exists() and (data / "server.json").exists()
        assert _modes(data) == {}  # while it runs: the store's -wal and -shm, server.json
    finally:
        server.stop()
    assert _modes(data) == {}


def test_a_data_directory_left_readable_is_tightened_on_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    Server(data).stop()
    for path in [data, *data.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    assert _modes(data) != {}
    server = Server(data, umask=0o022)
    try:
        assert _modes(data) == {}
    finally:
        server.stop()
