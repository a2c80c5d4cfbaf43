"""Staff credentials: one bearer token per staff member, kept beside the operator token.

`staff.json` (mode 0600) maps each name to the SHA-256 of its token, never the token itself, so
reading the file does not let anyone act as staff. A running server re-reads the file whenever it
changes, so `add` or `remove` from another process takes effect at the next request.
"""

import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path

from bourse.private_files import private_dir

FILE_NAME = "staff.json"
_NAME = re.compile(r"[a-z0-9._-]{1,32}")


class StaffError(ValueError):
    """A staff name that is malformed, taken, or unknown."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffRegistry:
    def __init__(self, data_dir: str | Path) -> None:
        self.file = Path(data_dir) / FILE_NAME
        self._hashes: dict[str, str] = {}
        self._seen: tuple[int, int, int] | None = None  # (inode, size, mtime_ns) last read

    def add(self, name: str) -> str:
        """A new token for `name` (shown once: only its digest is kept)."""
        if not _NAME.fullmatch(name):
            raise StaffError(
                f"staff name {name!r} must be 1 to 32 characters of a-z, 0-9, '.', '_' or '-'"
            )
        hashes = dict(self._current())
        if name in hashes:
            raise StaffError(f"staff member {name!r} already has a token: remove it first")
        token = secrets.token_urlsafe(32)
        hashes[name] = _digest(token)
        self._write(hashes)
        return token

    def remove(self, name: str) -> None:
        """End `name`'s access (at once, for every server reading this data directory)."""
        hashes = dict(self._current())
        if hashes.pop(name, None) is None:
            raise StaffError(f"no staff member is named {name!r}")
        self._write(hashes)

    def names(self) -> list[str]:
        return sorted(self._current())

    def who(self, token: str) -> str | None:
        """The staff member whose token this is, or None."""
        wanted = _digest(token).encode()
        found = None
        for name, digest in self._current().items():
            # compare with every entry, so the time taken says nothing about which one matched
            if hmac.compare_digest(wanted, digest.encode()):
                found = name
        return found

    def _current(self) -> dict[str, str]:
        try:
            st = self.file.stat()
        except FileNotFoundError:
            self._hashes, self._seen = {}, None
            return self._hashes
        seen = (st.st_ino, st.st_size, st.st_mtime_ns)
        if seen != self._seen:
            loaded = json.loads(self.file.read_text())
            self._hashes = {str(k): str(v) for k, v in loaded.items()}
            self._seen = seen
        return self._hashes

    def _write(self, hashes: dict[str, str]) -> None:
        # a new file replaces the old one whole: readers see the old or the new, and the new inode
        # tells a reader that it changed even within one mtime tick
        private_dir(self.file.parent)
        tmp = self.file.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(dict(sorted(hashes.items())), indent=1) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.file)
        self._hashes, self._seen = hashes, None  # re-stat on next read
