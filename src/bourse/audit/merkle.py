"""Merkle tree heads and proofs (RFC 9162 section 2.1) over stored complete subtrees.

A tree of n leaves is kept as its complete subtrees: level 0 holds the leaf hashes, level k the
hash of every aligned run of 2**k leaves, appended as each run completes (about one node hash
per leaf). Every subtree that RFC 9162's recursion visits is aligned, so a root or a proof for
any size up to n reads O(log n) stored nodes, plus the hashes of the ragged right edge.

Checking a proof is `verify_bundle`'s (one implementation, which a regulator runs on its own).
"""

from __future__ import annotations

from typing import Protocol

from bourse.audit.verify_bundle import EMPTY_ROOT, node_hash


class Nodes(Protocol):
    """Stored complete subtrees: `node(level, index)` covers leaves [index << level, +2**level)."""

    @property
    def size(self) -> int: ...

    def node(self, level: int, index: int) -> bytes: ...


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(nodes: Nodes, start: int, count: int) -> bytes:
    """MTH of leaves [start, start + count): a stored node when complete, else its two halves."""
    if count & (count - 1) == 0:
        level = count.bit_length() - 1
        return nodes.node(level, start >> level)
    k = _split(count)
    return node_hash(subtree_hash(nodes, start, k), subtree_hash(nodes, start + k, count - k))


def root(nodes: Nodes, size: int) -> bytes:
    """The root hash of the first `size` leaves."""
    _check_size(nodes, size)
    return EMPTY_ROOT if size == 0 else subtree_hash(nodes, 0, size)


def inclusion_proof(nodes: Nodes, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1, leaf-side first."""
    _check_size(nodes, size)
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, count = 0, size
    while count > 1:
        k = _split(count)
        if index - start < k:
            path.append(subtree_hash(nodes, start + k, count - k))
            count = k
        else:
            path.append(subtree_hash(nodes, start, k))
            start, count = start + k, count - k
    path.reverse()
    return path


def consistency_proof(nodes: Nodes, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[0:size2]) of RFC 9162 section 2.1.4.1."""
    _check_size(nodes, size2)
    if not 0 <= size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    if size1 in (0, size2):
        return []
    path: list[bytes] = []
    start, count, m, whole = 0, size2, size1, True
    while m != count:
        k = _split(count)
        if m <= k:
            path.append(subtree_hash(nodes, start + k, count - k))
            count = k
        else:
            path.append(subtree_hash(nodes, start, k))
            start, count, m, whole = start + k, count - k, m - k, False
    if not whole:
        path.append(subtree_hash(nodes, start, count))
    path.reverse()
    return path


def range_proof(nodes: Nodes, lo: int, hi: int, size: int) -> list[bytes]:
    """What proves that leaves [lo, hi) are all of that part of the tree of `size` leaves: the
    hashes of the subtrees outside the range, in the order `verify_bundle.root_from_range`
    takes them (a walk from the root, left before right)."""
    _check_size(nodes, size)
    if not 0 <= lo < hi <= size:
        raise ValueError(f"no range [{lo}, {hi}) in a tree of {size} leaves")
    out: list[bytes] = []

    def walk(start: int, count: int) -> None:
        if start + count <= lo or start >= hi:
            out.append(subtree_hash(nodes, start, count))
        elif not (lo <= start and start + count <= hi):  # partly inside: look at both halves
            k = _split(count)
            walk(start, k)
            walk(start + k, count - k)

    walk(0, size)
    return out


def _check_size(nodes: Nodes, size: int) -> None:
    if not 0 <= size <= nodes.size:
        raise ValueError(f"the log holds {nodes.size} leaves, not {size}")


class MemoryNodes:
    """Complete subtrees in lists (tests, and building a bundle's tree in memory)."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def node(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def append(self, leaf: bytes) -> None:
        """Add a leaf hash and every subtree it completes."""
        level, h = 0, leaf
        while True:
            row = self.levels[level]
            row.append(h)
            if len(row) % 2:
                return
            h = node_hash(row[-2], row[-1])
            level += 1
            if len(self.levels) == level:
                self.levels.append([])
