"""The Merkle tree's complete subtrees on disk: one append-only file of 32-byte hashes per level.

`level-00.bin` holds the leaf hashes in seq order, `level-KK.bin` the hash of every aligned run
of 2**K leaves. A leaf appends about one node hash in all, so the tree is kept as outcomes are
released and a restart reads it back instead of hashing the journal again. The files may be
ahead of, or behind, what the audit index committed when the process died: `open` cuts them back
to the committed size and recomputes any node that is missing from the level below.
"""

from __future__ import annotations

import os
from pathlib import Path

from bourse.audit.verify_bundle import node_hash
from bourse.private_files import FILE_MODE, private_dir

HASH = 32


class FileNodes:
    """Complete subtrees in level files under `path` (see `merkle.Nodes`)."""

    def __init__(
        self, path: Path, size: int, leaves: list[bytes] | None = None, *, read_only: bool = False
    ) -> None:
        """Open the tree at `size` leaves, the size the index committed. `leaves`: the leaf
        hashes from `len(level 0)` up to `size`, when level 0 fell behind (from the index).
        `read_only`: a reader beside the process that keeps the tree (it never writes, and reads
        only nodes below `size`, which are final)."""
        self.path = path
        self._fds: list[int] = []
        self._counts: list[int] = []
        self._pending: list[bytearray] = []  # appended, not yet written
        if read_only:
            level = 0
            while (path / f"level-{level:02d}.bin").exists():
                self._fds.append(os.open(path / f"level-{level:02d}.bin", os.O_RDONLY))
                self._counts.append(size >> level)
                self._pending.append(bytearray())
                level += 1
            self.size = size
            return
        private_dir(path)
        level0 = self._open(0)
        have = min(self._counts[0], size)
        os.ftruncate(level0, have * HASH)
        self._counts[0] = have
        if have < size:
            missing = leaves or []
            if len(missing) != size - have:
                raise ValueError(f"the audit tree holds {have} leaves, the index {size}")
            self._pending[0] += b"".join(missing)
            self._counts[0] = size
            self.flush()
        self._repair_levels()
        self.size = size

    def _open(self, level: int) -> int:
        name = self.path / f"level-{level:02d}.bin"
        fd = os.open(name, os.O_RDWR | os.O_CREAT, FILE_MODE)
        self._fds.append(fd)
        self._counts.append(os.fstat(fd).st_size // HASH)
        self._pending.append(bytearray())
        return fd

    def _repair_levels(self) -> None:
        """Each level k holds exactly size >> k nodes, each the hash of its two children."""
        size = self._counts[0]
        level = 1
        while size >> level or (self.path / f"level-{level:02d}.bin").exists():
            fd = self._fds[level] if level < len(self._fds) else self._open(level)
            want = size >> level
            have = min(self._counts[level], want)
            os.ftruncate(fd, have * HASH)
            self._counts[level] = have
            for index in range(have, want):
                left, right = self.node(level - 1, 2 * index), self.node(level - 1, 2 * index + 1)
                self._pending[level] += node_hash(left, right)
                self._counts[level] += 1
            self.flush()
            level += 1

    def node(self, level: int, index: int) -> bytes:
        written = self._counts[level] - len(self._pending[level]) // HASH
        if index >= written:
            start = (index - written) * HASH
            return bytes(self._pending[level][start : start + HASH])
        return os.pread(self._fds[level], HASH, index * HASH)

    def append(self, leaf: bytes) -> None:
        """Add a leaf hash and every subtree it completes (written by `flush`)."""
        level, h = 0, leaf
        while True:
            if level == len(self._fds):
                self._open(level)
            self._pending[level] += h
            self._counts[level] += 1
            if self._counts[level] % 2:
                break
            h = node_hash(self.node(level, self._counts[level] - 2), h)
            level += 1
        self.size += 1

    def flush(self) -> None:
        """Hand what was appended to the files (the index's commit makes it count)."""
        for fd, count, pending in zip(self._fds, self._counts, self._pending, strict=True):
            if pending:
                os.pwrite(fd, pending, count * HASH - len(pending))
                pending.clear()

    def close(self) -> None:
        self.flush()
        for fd in self._fds:
            os.close(fd)
        self._fds = []
