"""A data directory: journal, snapshots, embedded store, operator token, and the owner's lock.

One process owns a data directory at a time. The lock is an flock on `bourse.lock`, released by
the kernel when the process dies, so a crash never leaves a stale lock behind.
"""

import fcntl
import json
import os
import secrets
from pathlib import Path

from bourse.private_files import create_private, private_dir, tighten, write_private


class DataDirInUse(RuntimeError):
    """Another process owns the data directory."""


class DataDir:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).absolute()
        self._lock_fd: int | None = None

    journal = property(lambda self: self.path / "journal")
    snapshots = property(lambda self: self.path / "snapshots")
    token_file = property(lambda self: self.path / "operator.token")
    server_file = property(lambda self: self.path / "server.json")
    lock_file = property(lambda self: self.path / "bourse.lock")
    master_key_file = property(lambda self: self.path / "master.key")
    demo_key_file = property(lambda self: self.path / "demo-api-key.json")
    demo_staff_file = property(lambda self: self.path / "demo-staff.json")
    demo_links_file = property(lambda self: self.path / "demo-links.json")
    previews = property(lambda self: self.path / "previews")  # saved by `bourse policy preview`

    def create(self) -> None:
        """Make the data directory if it is not there yet (a server, or a tool writing into it
        before any server ran, such as `bourse lists load`), private to its owner (0700)."""
        private_dir(self.path)

    def lock(self) -> None:
        """Take ownership, or raise DataDirInUse naming the owner."""
        if self._lock_fd is not None:
            return  # owned already (`bourse run` takes it before it binds its port)
        self.create()
        fd = create_private(self.lock_file, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DataDirInUse(
                f"data directory {self.path} is in use by another bourse process (pid {owner}); "
                "stop it first, or send operator commands to it through its admin endpoint"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd
        tighten(self.path)  # what an earlier version, or a copy, left readable by others

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def is_locked_by_other(self) -> bool:
        if not self.lock_file.exists():
            return False
        fd = os.open(self.lock_file, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def operator_token(self) -> str:
        """The operator token, created at first start, readable only by its owner."""
        try:
            fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            existing: str = self.token_file.read_text().strip()
            return existing
        token = secrets.token_urlsafe(32)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        return token

    def write_server_info(self, url: str) -> None:
        write_private(self.server_file, json.dumps({"url": url, "pid": os.getpid()}).encode())

    def server_url(self) -> str | None:
        """Where the owning server listens, if one runs."""
        if not self.is_locked_by_other() or not self.server_file.exists():
            return None
        url: str = json.loads(self.server_file.read_text())["url"]
        return url

    def write_demo_key(self, key: dict[str, object]) -> None:
        """Keep the demo account's key pair in plain text (0600), so every `bourse run` can print
        it. Deliberately the one unsealed secret, for the demo account only: every other HMAC
        secret is shown once and kept only sealed under master.key."""
        write_private(self.demo_key_file, (json.dumps(key) + "\n").encode())

    def demo_key(self) -> dict[str, object] | None:
        """The demo key pair, if this data directory has one."""
        return _read_json(self.demo_key_file)

    def write_demo_staff(self, tokens: dict[str, str]) -> None:
        """The demo staff members' tokens (name → token), in plain text (0600) as the demo key:
        for a demo data directory only."""
        write_private(self.demo_staff_file, (json.dumps(tokens) + "\n").encode())

    def demo_staff(self) -> dict[str, object] | None:
        return _read_json(self.demo_staff_file)

    def write_demo_links(self, tokens: dict[str, str]) -> None:
        """The demo staff's one-time console setup tokens (name → token), for the demo only."""
        write_private(self.demo_links_file, (json.dumps(tokens) + "\n").encode())

    def demo_links(self) -> dict[str, object] | None:
        return _read_json(self.demo_links_file)

    def existing_operator_token(self) -> str | None:
        """The operator token if a server created one (clients must not create it)."""
        try:
            return self.token_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def clear_server_info(self) -> None:
        self.server_file.unlink(missing_ok=True)


def _read_json(path: Path) -> dict[str, object] | None:
    try:
        value: dict[str, object] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return value
