"""Atomic, self-verifying snapshot files.

File ``snapshot-<seq:020d>.bin`` = header ``<8sQQ32s`` (magic, seq, payload length,
sha256 of payload) followed by the payload. A snapshot is written to a temp file in the
same directory, fsynced, renamed into place and the directory fsynced, so a crash leaves
either the old set of snapshots or the new one, plus at worst an ignored temp file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import struct
import tempfile
from pathlib import Path

from bourse.journal.file_journal import fsync_path
from bourse.private_files import private_dir

log = logging.getLogger(__name__)

MAGIC = b"BRSNAP1\0"
_HEADER = struct.Struct("<8sQQ32s")
_NAME_RE = re.compile(r"^snapshot-(\d{20})\.bin$")
_KEEP = 3


def snapshot_name(seq: int) -> str:
    return f"snapshot-{seq:020d}.bin"


class SnapshotStore:
    """Keeps the newest ``keep`` (default 3) snapshots of engine state, keyed by seq."""

    def __init__(self, directory: Path, *, keep: int = _KEEP) -> None:
        if keep < 1:
            raise ValueError("keep must be >= 1")
        self.directory = Path(directory)
        self.keep = keep
        private_dir(self.directory)  # mkstemp already creates the files 0600

    def write(self, seq: int, payload: bytes) -> Path:
        """Atomically store ``payload`` as the snapshot at ``seq``; prune old ones."""
        header = _HEADER.pack(MAGIC, seq, len(payload), hashlib.sha256(payload).digest())
        final = self.directory / snapshot_name(seq)
        fd, tmp_name = tempfile.mkstemp(
            dir=self.directory, prefix=f".{snapshot_name(seq)}.", suffix=".tmp"
        )
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(header)
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_path(self.directory)  # make the rename itself durable
        self._apply_retention()
        return final

    def list(self) -> list[int]:
        """Seqs of the snapshot files present (verified or not), ascending."""
        seqs = []
        for p in self.directory.iterdir():
            m = _NAME_RE.match(p.name)
            if m:
                seqs.append(int(m.group(1)))
        return sorted(seqs)

    def latest(self, at_most: int | None = None) -> tuple[int, bytes] | None:
        """The newest snapshot that verifies (with seq <= ``at_most``, if given), as
        ``(seq, payload)``; None if there is none.

        Damaged snapshots are skipped with a warning so recovery can fall back to an
        older one (and replay more of the journal).
        """
        for seq in reversed(self.list()):
            if at_most is not None and seq > at_most:
                continue
            path = self.directory / snapshot_name(seq)
            try:
                return seq, self._read_verified(path, seq)
            except (OSError, ValueError) as exc:
                log.warning("snapshot %s is unusable, trying an older one: %s", path, exc)
        return None

    def _read_verified(self, path: Path, seq: int) -> bytes:
        data = path.read_bytes()
        if len(data) < _HEADER.size:
            raise ValueError(f"truncated header ({len(data)} bytes)")
        magic, hdr_seq, length, digest = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise ValueError(f"bad magic {magic!r}")
        if hdr_seq != seq:
            raise ValueError(f"header says seq {hdr_seq}, file name says {seq}")
        payload = data[_HEADER.size :]
        if len(payload) != length:
            raise ValueError(f"payload is {len(payload)} bytes, header says {length}")
        if hashlib.sha256(payload).digest() != digest:
            raise ValueError("sha256 mismatch")
        return payload

    def _apply_retention(self) -> None:
        for seq in self.list()[: -self.keep]:
            (self.directory / snapshot_name(seq)).unlink(missing_ok=True)
