"""The tree and its proofs against the RFC 6962 test vectors and by property over random sizes.

The vectors are those of the reference implementation of Certificate Transparency's log
(transparency-dev/merkle, testonly/constants.go and proof/verify_test.go): eight leaf inputs,
every root, and inclusion and consistency proofs; indices there count leaves from 1.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bourse.audit import merkle
from bourse.audit.verify_bundle import (
    EMPTY_ROOT,
    VerificationError,
    leaf_hash,
    root_from_inclusion,
    root_from_range,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
H = bytes.fromhex
INCLUSION = [  # (leaf, counted from 1; tree size; proof)
    (1, 1, []),
    (
        1,
        8,
        [
            H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (3, 3, [H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        2,
        5,
        [
            H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
CONSISTENCY = [  # (size1, size2, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]


def vector_tree() -> merkle.MemoryNodes:
    nodes = merkle.MemoryNodes()
    for leaf in LEAVES:
        nodes.append(leaf_hash(leaf))
    return nodes


def test_roots_of_every_size_match_the_vectors() -> None:
    nodes = vector_tree()
    assert [merkle.root(nodes, n) for n in range(9)] == ROOTS
    assert ROOTS[0] == EMPTY_ROOT


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_vectors_and_verify(
    leaf: int, size: int, proof: list[bytes]
) -> None:
    nodes = vector_tree()
    assert merkle.inclusion_proof(nodes, leaf - 1, size) == proof
    verify_inclusion(leaf - 1, size, leaf_hash(LEAVES[leaf - 1]), proof, ROOTS[size])


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_vectors_and_verify(
    size1: int, size2: int, proof: list[bytes]
) -> None:
    nodes = vector_tree()
    assert merkle.consistency_proof(nodes, size1, size2) == proof
    verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], proof)


@pytest.mark.parametrize(("leaf", "size", "proof"), [v for v in INCLUSION if v[2]])
def test_a_corrupted_inclusion_proof_fails(leaf: int, size: int, proof: list[bytes]) -> None:
    """The corruptions the reference tests probe: wrong index or size, wrong leaf or root,
    garbage before or after, a flipped bit, a removed or inserted hash."""
    index, good, root = leaf - 1, leaf_hash(LEAVES[leaf - 1]), ROOTS[size]
    flipped = [bytes([p[0] ^ 8]) + p[1:] for p in proof]
    probes = [
        (index - 1, size, good, proof, root),
        (index + 1, size, good, proof, root),
        (index ^ 2, size, good, proof, root),
        (index, size * 2, good, proof, root),
        (index, size // 2, good, proof, root),
        (index, size, leaf_hash(b"WrongLeaf"), proof, root),
        (index, size, good, proof, EMPTY_ROOT),
        (index, size, good, [*proof, root], root),
        (index, size, good, [root, *proof], root),
        (index, size, good, proof[:-1], root),
        (index, size, good, [proof[0], H("ab" * 32), *proof[1:]], root),
        *[
            (index, size, good, [*proof[:i], flipped[i], *proof[i + 1 :]], root)
            for i in range(len(proof))
        ],
    ]
    for probe in probes:
        with pytest.raises(VerificationError):
            verify_inclusion(*probe)


@pytest.mark.parametrize(("size1", "size2", "proof"), [v for v in CONSISTENCY if v[2]])
def test_a_corrupted_consistency_proof_fails(size1: int, size2: int, proof: list[bytes]) -> None:
    r1, r2 = ROOTS[size1], ROOTS[size2]
    probes = [
        (size1 - 1, size2, r1, r2, proof),
        (size1 + 1, size2, r1, r2, proof),
        (size1 ^ 2, size2, r1, r2, proof),
        (size1, size2 * 2, r1, r2, proof),
        (size1, size2 // 2, r1, r2, proof),
        (size1, size2, H("00" * 32), r2, proof),
        (size1, size2, r1, H("00" * 32), proof),
        (size1, size2, r2, r1, proof),
        (size1, size2, r1, r2, []),
        (size1, size2, r1, r2, [*proof, r1]),
        (size1, size2, r1, r2, [r2, *proof]),
        (size1, size2, r1, r2, proof[:-1]),
        *[
            (
                size1,
                size2,
                r1,
                r2,
                [*proof[:i], bytes([proof[i][0] ^ 16]) + proof[i][1:], *proof[i + 1 :]],
            )
            for i in range(len(proof))
        ],
    ]
    for probe in probes:
        if probe[0] == probe[1] and probe[2] == probe[3] and not probe[4]:
            continue  # equal sizes and roots with an empty proof are consistent
        with pytest.raises(VerificationError):
            verify_consistency(*probe)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(min_value=1, max_value=300), seed=st.binary(max_size=8))
def test_every_leaf_and_every_pair_of_sizes_proves(size: int, seed: bytes) -> None:
    """Inclusion for every leaf of a random tree, consistency for every pair of its sizes, each
    against the root computed from the leaves alone."""
    nodes = merkle.MemoryNodes()
    roots = [EMPTY_ROOT]
    for i in range(size):
        nodes.append(leaf_hash(seed + i.to_bytes(4, "big")))
        roots.append(merkle.root(nodes, i + 1))
    for n in (size, size // 2 + 1):
        for i in range(n):
            proof = merkle.inclusion_proof(nodes, i, n)
            leaf = nodes.node(0, i)
            assert root_from_inclusion(i, n, leaf, proof) == roots[n]
    for m in range(0, size + 1, max(1, size // 25)):
        for n in range(m, size + 1, max(1, size // 25)):
            verify_consistency(m, n, roots[m], roots[n], merkle.consistency_proof(nodes, m, n))
            if 0 < m < n:
                with pytest.raises(VerificationError):
                    verify_consistency(
                        m,
                        n,
                        roots[m - 1] if m > 1 else H("11" * 32),
                        roots[n],
                        merkle.consistency_proof(nodes, m, n),
                    )


@settings(max_examples=40, deadline=None)
@given(size=st.integers(min_value=1, max_value=200), data=st.data())
def test_a_range_of_leaves_with_its_range_proof_makes_the_root(
    size: int, data: st.DataObject
) -> None:
    nodes = merkle.MemoryNodes()
    for i in range(size):
        nodes.append(leaf_hash(i.to_bytes(4, "big")))
    lo = data.draw(st.integers(min_value=0, max_value=size - 1))
    hi = data.draw(st.integers(min_value=lo + 1, max_value=size))
    leaves = [nodes.node(0, i) for i in range(lo, hi)]
    proof = merkle.range_proof(nodes, lo, hi, size)
    assert len(proof) <= 2 * size.bit_length()
    assert root_from_range(lo, hi, size, leaves, proof) == merkle.root(nodes, size)
    changed = [*leaves[:-1], leaf_hash(b"changed")]
    assert root_from_range(lo, hi, size, changed, proof) != merkle.root(nodes, size)
    for bad in (proof[:-1], [*proof, proof[0] if proof else H("00" * 32)]):
        if bad != proof:
            with pytest.raises(VerificationError):
                root_from_range(lo, hi, size, leaves, bad)
