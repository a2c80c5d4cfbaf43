#!/usr/bin/env python3
"""Check a bourse audit bundle without trusting bourse: one file, Python 3.11+ and `cryptography`.

    pip install cryptography
    python3 verify_bundle.py BUNDLE.jsonl [--key PUBLIC_KEY_HEX] [--head HEAD.json]

A bundle is JSON Lines. Its first line holds the signed tree head the records are checked
against, the exchange's audit keys, and the manifest (which records the export holds, in order),
signed with the exchange's key. Every other line is one journaled command: the command as it was
journaled (`command_raw`), the events it caused (`events_raw`), both decoded for reading, and an
inclusion proof of its leaf in the tree whose root the head signs.

The log is a Merkle tree in the style of Certificate Transparency (RFC 6962, RFC 9162 section
2.1): a leaf hash is SHA-256(0x00 || leaf), a node SHA-256(0x01 || left || right), and leaf i
is the command with sequence number i + 1:

    leaf = 0x01 (version) || seq (8 bytes, big-endian) || SHA-256(events_raw) || command_raw

This file is also what `bourse audit verify` runs, so the exchange and a regulator check the same
way. Pin the exchange's key (`--key`, its fingerprint from a channel you trust) and a head you
keep (`--head`, for instance one published on the exchange's head feed): without them the
bundle is only checked against itself. Exit status 0: verified; 1: a check failed (the message
names the first bad record or proof); 2: the bundle cannot be read.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import struct
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
LEAF_VERSION = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
HEAD_TITLE = "bourse audit tree head v1"
MANIFEST_TITLE = "bourse audit bundle v1"
BUNDLE_FORMAT = "bourse-audit-bundle/1"


SEQ_MAX = 2**63 - 1  # seqs and tree sizes are 64-bit
# what malformed input (of the right JSON, the wrong shapes) raises in the checks below
_MALFORMED = (
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    ValueError,
    OverflowError,
    RecursionError,
    struct.error,
)


class VerificationError(Exception):
    """A check failed; the message names the record, the proof or the signature at fault."""


def _trim(text: object, limit: int = 120) -> str:
    """`text` short enough to print: a binary bundle must not echo kilobytes of itself."""
    shown = str(text)
    return shown if len(shown) <= limit else shown[:limit] + "..."


def _is_int(value: Any, lo: int = 0, hi: int = SEQ_MAX) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _hashes(value: Any, what: str) -> list[bytes]:
    """A list of hex hashes (a proof) as bytes; VerificationError naming `what` otherwise."""
    if not isinstance(value, list) or not all(isinstance(h, str) for h in value):
        raise VerificationError(f"{what} is not a list of hex hashes")
    try:
        return [bytes.fromhex(h) for h in value]
    except ValueError:
        raise VerificationError(f"{what} holds a hash that is not hex") from None


# --- RFC 6962 / RFC 9162 hashing ------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def leaf_data(seq: int, events_raw: bytes, command_raw: bytes) -> bytes:
    """What leaf `seq - 1` holds: the journaled command and a digest of the events it caused."""
    return LEAF_VERSION + struct.pack(">Q", seq) + hashlib.sha256(events_raw).digest() + command_raw


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` makes of leaf hash `leaf` at `index` in a tree of `size` leaves
    (RFC 9162 section 2.1.3.2); VerificationError when the proof cannot be one for them."""
    if index >= size or index < 0:
        raise VerificationError(f"leaf index {index} is outside a tree of {size} leaves")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if len(p) != 32:
            raise VerificationError("a proof hash is not 32 bytes")
        if sn == 0:
            raise VerificationError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise VerificationError(f"leaf {index} is not in the tree of size {size} with that root")


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """That the tree of `size2` leaves with `root2` extends the one of `size1` with `root1`
    (RFC 9162 section 2.1.4.2)."""
    if size1 > size2:
        raise VerificationError(f"a tree of {size2} cannot extend one of {size1}: history shrank")
    if size1 == size2:
        if proof:
            raise VerificationError("a consistency proof between equal sizes must be empty")
        if root1 != root2:
            raise VerificationError(f"two different roots for the same size {size1}")
        return
    if size1 == 0:
        if proof:
            raise VerificationError("a consistency proof from the empty tree must be empty")
        return
    if not proof:
        raise VerificationError("the consistency proof is empty")
    if any(len(p) != 32 for p in proof):
        raise VerificationError("a proof hash is not 32 bytes")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root starts the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("the consistency proof is shorter than the tree is deep")
    if fr != root1:
        raise VerificationError(f"the proof does not lead to the old root of size {size1}")
    if sr != root2:
        raise VerificationError(f"the proof does not lead to the new root of size {size2}")


def root_from_range(
    lo: int, hi: int, size: int, leaves: Sequence[bytes], proof: Sequence[bytes]
) -> bytes:
    """The root that leaf hashes `leaves` (leaves lo..hi-1, every one of them) make with `proof`,
    the hashes of the subtrees outside the range (see `merkle.range_proof`)."""
    if not 0 <= lo < hi <= size or len(leaves) != hi - lo:
        raise VerificationError(f"the range proof is for leaves {lo}..{hi - 1} of {size}")
    given = iter(proof)

    def walk(start: int, count: int) -> bytes:
        if start + count <= lo or start >= hi:
            h = next(given, None)
            if h is None or len(h) != 32:
                raise VerificationError("the range proof is too short")
            return h
        if count == 1:
            return leaves[start - lo]
        k = 1 << ((count - 1).bit_length() - 1)
        return node_hash(walk(start, k), walk(start + k, count - k))

    root = walk(0, size)
    if next(given, None) is not None:
        raise VerificationError("the range proof is longer than the tree needs")
    return root


# --- signatures -------------------------------------------------------------------------------


def key_id(public_key: bytes) -> str:
    """A key's fingerprint: the first 16 hex digits of SHA-256 of its 32 raw bytes."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def head_text(head: dict[str, Any]) -> bytes:
    """What a tree head's signature covers."""
    return (
        f"{HEAD_TITLE}\n{head['origin']}\n{int(head['tree_size'])}\n{head['root_hash']}\n"
        f"{int(head['timestamp_ms'])}\n"
    ).encode()


def manifest_text(manifest: dict[str, Any]) -> bytes:
    """What a bundle manifest's signature covers: its canonical JSON."""
    body = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return f"{MANIFEST_TITLE}\n{body}\n".encode()


def check_signature(public_key: bytes, signature_b64: str, message: bytes, what: str) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        signature = base64.b64decode(signature_b64, validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise VerificationError(f"the signature of {what} does not verify") from exc


def head_problem(head: Any) -> str:
    """Why `head` is not shaped as a signed tree head ("" if it is)."""
    if not isinstance(head, dict):
        return "is not a JSON object"
    for field, ok in (
        ("origin", isinstance(head.get("origin"), str)),
        ("tree_size", _is_int(head.get("tree_size"))),
        ("root_hash", isinstance(head.get("root_hash"), str)),
        ("timestamp_ms", _is_int(head.get("timestamp_ms"), -SEQ_MAX - 1)),
        ("key_id", isinstance(head.get("key_id"), str)),
        ("signature", isinstance(head.get("signature"), str)),
    ):
        if not ok:
            return f"has no valid {field}"
    return ""


def as_head(value: Any, what: str) -> dict[str, Any]:
    """`value` if shaped as a signed tree head; VerificationError naming `what` otherwise."""
    problem = head_problem(value)
    if problem:
        raise VerificationError(f"{what} {problem}")
    head: dict[str, Any] = value
    return head


def check_head(head: Any, keys: dict[str, bytes], what: str = "the tree head") -> bytes:
    """That `head` is signed by one of `keys` (by key id); its root hash."""
    head = as_head(head, what)
    kid = head["key_id"]
    if kid not in keys:
        raise VerificationError(f"{what} is signed by key {_trim(repr(kid))}, which is not known")
    check_signature(keys[kid], head["signature"], head_text(head), what)
    try:
        root = bytes.fromhex(head["root_hash"])
    except ValueError:
        raise VerificationError(f"{what}'s root hash is not hex") from None
    if len(root) != 32:
        raise VerificationError(f"{what}'s root hash is not 32 bytes")
    return root


# --- reading what was journaled ---------------------------------------------------------------


_fast_decode: Callable[[bytes], Any] | None
try:  # bourse's own environment has msgspec: decoding then runs in C (never needed)
    from msgspec.msgpack import decode as _fast_decode
except ImportError:
    _fast_decode = None


def _decoded_equal(shown: Any, raw: bytes) -> bool:
    """Whether `shown` is what `raw` decodes to (the C decoder's answer first, where it can be
    trusted to agree: it differs only for bytes, which bourse never journals)."""
    if _fast_decode is not None and raw[:1] not in (b"{", b"["):
        try:
            if shown == _fast_decode(raw):
                return True
        except Exception:
            pass
    try:
        return bool(shown == decode_raw(raw))
    except (VerificationError, *_MALFORMED):  # what was journaled does not decode
        return False


def decode_quick(data: bytes) -> Any:
    """`decode_raw`'s answer, from msgspec's C decoder where it is installed; the same for every
    record bourse writes, except one holding bytes (left as bytes here: a caller that writes
    JSON finds out at once, and uses `decode_raw`)."""
    if _fast_decode is not None and data[:1] not in (b"{", b"["):
        return _fast_decode(data)
    return decode_raw(data)


def decode_raw(data: bytes) -> Any:
    """A journaled command or an events list as plain values: msgpack, or JSON where an integer
    was beyond 64 bits (bytes become base64 text, so the result is JSON)."""
    if data[:1] in (b"{", b"["):
        return json.loads(data)
    value, end = _unpack(data, 0)
    if end != len(data):
        raise VerificationError("trailing bytes after a msgpack value")
    return value


def _unpack(b: bytes, i: int) -> tuple[Any, int]:
    t = b[i]
    i += 1
    if t <= 0x7F:
        return t, i
    if t >= 0xE0:
        return t - 0x100, i
    if 0x80 <= t <= 0x8F:
        return _unpack_map(b, i, t & 0x0F)
    if 0x90 <= t <= 0x9F:
        return _unpack_array(b, i, t & 0x0F)
    if 0xA0 <= t <= 0xBF:
        n = t & 0x1F
        return b[i : i + n].decode(), i + n
    if t == 0xC0:
        return None, i
    if t in (0xC2, 0xC3):
        return t == 0xC3, i
    sizes = {0xC4: 1, 0xC5: 2, 0xC6: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4}
    if t in sizes:
        w = sizes[t]
        n = int.from_bytes(b[i : i + w], "big")
        i += w
        raw = b[i : i + n]
        text = raw.decode() if t >= 0xD9 else base64.b64encode(raw).decode()
        return text, i + n
    if t in (0xCA, 0xCB):
        fmt, w = (">f", 4) if t == 0xCA else (">d", 8)
        return struct.unpack(fmt, b[i : i + w])[0], i + w
    ints = {0xCC: (1, False), 0xCD: (2, False), 0xCE: (4, False), 0xCF: (8, False)}
    ints |= {0xD0: (1, True), 0xD1: (2, True), 0xD2: (4, True), 0xD3: (8, True)}
    if t in ints:
        w, signed = ints[t]
        return int.from_bytes(b[i : i + w], "big", signed=signed), i + w
    if t in (0xDC, 0xDD):
        w = 2 if t == 0xDC else 4
        return _unpack_array(b, i + w, int.from_bytes(b[i : i + w], "big"))
    if t in (0xDE, 0xDF):
        w = 2 if t == 0xDE else 4
        return _unpack_map(b, i + w, int.from_bytes(b[i : i + w], "big"))
    raise VerificationError(f"msgpack type 0x{t:02x} is not one bourse writes")


def _unpack_array(b: bytes, i: int, n: int) -> tuple[list[Any], int]:
    out = []
    for _ in range(n):
        v, i = _unpack(b, i)
        out.append(v)
    return out, i


def _unpack_map(b: bytes, i: int, n: int) -> tuple[dict[str, Any], int]:
    out = {}
    for _ in range(n):
        k, i = _unpack(b, i)
        v, i = _unpack(b, i)
        out[k] = v
    return out, i


def evidence_text(value: Any) -> str:
    """Evidence as a sentence: a screening hit's fields read out, any other value as text."""
    if isinstance(value, dict):
        score = int(value.get("score_bp", 0))
        return (
            f"{value.get('source')} entry {value.get('entry_id')} ({value.get('listed_name')}), "
            f"list version {str(value.get('list_sha256', ''))[:12]}, score {score / 10_000:.4f}: "
            f"{value.get('explanation', '')}"
        )
    return "" if value is None else str(value)


def summary(command: dict[str, Any], events: list[Any]) -> dict[str, Any]:
    """Who did what and why, read off a command and its events: the fields a person reads
    first. For an approved proposal, `actor` and `approval_reason` are the approver's, and
    `proposed_by` and `reason` those of the person who proposed it."""
    decided = [e for e in events if isinstance(e, dict) and e.get("type") == "ProposalDecided"]
    out: dict[str, Any] = {
        "type": command.get("type", ""),
        "actor": command.get("actor", ""),
        "reason": command.get("reason", ""),
        "evidence": evidence_text(command.get("evidence")),
        "refused": any(isinstance(e, dict) and e.get("type") == "CommandRejected" for e in events),
    }
    if decided:
        out["decision"] = decided[0].get("decision", "")
        out["proposal_id"] = decided[0].get("proposal_id")
    if command.get("type") == "ProposeCommand":
        out["proposed"] = command.get("command", {}).get("type", "")
    for e in events:  # the approved command's own events name its proposer and their reason
        if isinstance(e, dict) and decided and e.get("actor") not in (None, command.get("actor")):
            out["proposed_by"] = e["actor"]
            out["approved_by"] = command.get("actor", "")
            out["approval_reason"] = command.get("reason", "")
            out["reason"] = e.get("reason", out["reason"])
            if e.get("evidence"):
                out["evidence"] = evidence_text(e["evidence"])
            break
    return out


# --- a bundle -----------------------------------------------------------------------------------


def _b64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (TypeError, ValueError) as exc:
        raise VerificationError(f"{what} is not base64") from exc


def read_lines(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise VerificationError(f"line {number} is not text (UTF-8)") from None
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise VerificationError(f"line {number} is not JSON: {exc.msg}") from None
            except RecursionError:
                raise VerificationError(f"line {number} is not JSON: nested too deep") from None
            if not isinstance(value, dict):
                raise VerificationError(f"line {number} is not a JSON object")
            yield number, value


def check_record(
    record: dict[str, Any], size: int, root: bytes, line: int, *, in_range: bool = False
) -> tuple[int, bytes]:
    """One record against the tree head: its readable fields against what was journaled, and
    its inclusion proof (unless the bundle proves its records as a range); its seq and leaf."""
    seq = record.get("seq")
    if not isinstance(seq, int) or not _is_int(seq, 1):
        raise VerificationError(
            f"line {line}: a record without a valid seq ({_trim(repr(seq), 40)})"
        )
    where = f"record seq {seq} (line {line})"
    command_raw = _b64(record.get("command_raw"), f"{where}: command_raw")
    events_raw = _b64(record.get("events_raw"), f"{where}: events_raw")
    leaf = leaf_hash(leaf_data(seq, events_raw, command_raw))
    if not in_range:
        proof = _hashes(record.get("proof", []), f"{where}: its inclusion proof")
        try:
            verify_inclusion(seq - 1, size, leaf, proof, root)
        except VerificationError as exc:
            raise VerificationError(f"{where}: its inclusion proof fails: {exc}") from None
    command, events = record.get("command"), record.get("events")
    if not _decoded_equal(command, command_raw):
        raise VerificationError(f"{where}: the decoded command differs from what was journaled")
    if not _decoded_equal(events, events_raw):
        raise VerificationError(f"{where}: the decoded events differ from what the command caused")
    if not isinstance(command, dict) or not isinstance(events, list):
        raise VerificationError(f"{where}: the command or its events are malformed")
    try:
        summarized = summary(command, events)
    except _MALFORMED:
        raise VerificationError(f"{where}: the command or its events are malformed") from None
    if record.get("summary") != summarized:
        raise VerificationError(f"{where}: its summary differs from the command and its events")
    return seq, leaf


def expand(runs: list[list[int]]) -> Iterator[int]:
    """A manifest's seqs, written as runs [first, last] of consecutive seqs."""
    for first, last in runs:
        yield from range(first, last + 1)


def runs_of(seqs: Sequence[int]) -> list[list[int]]:
    out: list[list[int]] = []
    for seq in seqs:
        if out and out[-1][1] == seq - 1:
            out[-1][1] = seq
        else:
            out.append([seq, seq])
    return out


def verify(
    path: str, *, pinned_key: str | None = None, trusted_head: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Check the bundle at `path`; what was verified, or VerificationError naming the first
    bad record, proof or signature."""
    lines = read_lines(path)
    first = next(lines, None)
    if first is None:
        raise VerificationError("the bundle is empty")
    _, header = first
    if header.get("format") != BUNDLE_FORMAT:
        raise VerificationError(f"line 1 is not a {BUNDLE_FORMAT} header")
    keys = _keys(header.get("keys"))
    for kid, public in keys.items():
        if key_id(public) != kid:
            raise VerificationError(f"key {kid} does not match its public key")
    if pinned_key is not None and not any(
        pinned_key in (kid, public.hex()) for kid, public in keys.items()
    ):
        raise VerificationError(f"no key of the bundle is the pinned key {pinned_key}")
    head = as_head(header.get("head"), "the tree head")
    root = check_head(head, keys)
    size = int(head["tree_size"])
    if trusted_head is not None:
        consistency = header.get("consistency") or {}
        if not isinstance(consistency, dict):
            raise VerificationError("line 1: the consistency proof is malformed")
        _check_against_trusted(head, root, trusted_head, consistency, keys)
    manifest = header.get("manifest")
    if not isinstance(manifest, dict):
        raise VerificationError("line 1: the bundle holds no manifest")
    manifest_key = header.get("manifest_key_id", "")
    if not isinstance(manifest_key, str) or manifest_key not in keys:
        raise VerificationError("the manifest is signed by a key the bundle does not hold")
    check_signature(
        keys[manifest_key],
        header.get("manifest_signature", ""),
        manifest_text(manifest),
        "the manifest",
    )
    if manifest.get("tree_size") != size or manifest.get("root_hash") != head["root_hash"]:
        raise VerificationError("the manifest names another tree head than the bundle's")
    count = manifest.get("count", 0)
    runs = manifest.get("seqs", [])
    if (
        not _is_int(count)
        or not isinstance(runs, list)
        or not all(
            isinstance(r, list) and len(r) == 2 and _is_int(r[0], 1) and _is_int(r[1], r[0])
            for r in runs
        )
    ):
        raise VerificationError("the manifest's count or seqs are malformed")
    expected = expand(runs)
    range_proof = header.get("range_proof")
    in_range = range_proof is not None
    proof = _hashes(range_proof, "the range proof") if in_range else []
    leaves: list[bytes] = []
    position = 0
    for line, record in lines:
        want = next(expected, None)
        if want is None:
            raise VerificationError(f"line {line}: a record the manifest does not list")
        try:
            seq, leaf = check_record(record, size, root, line, in_range=in_range)
        except _MALFORMED as exc:  # a shape no check above foresaw: still named, never a crash
            raise VerificationError(
                f"line {line}: record seq {_trim(repr(record.get('seq')), 40)} is malformed "
                f"({type(exc).__name__}: {_trim(exc)})"
            ) from None
        if seq != want:
            raise VerificationError(
                f"line {line}: record seq {seq} where the manifest lists seq {want}"
                " (a record is missing, added or out of order)"
            )
        if in_range:
            leaves.append(leaf)
        position += 1
    missing = next(expected, None)
    if missing is not None or position != count:
        raise VerificationError(
            f"the bundle ends after {position} of {count} records: record seq {missing} is missing"
        )
    if in_range and position:
        first_seq = int(runs[0][0])
        made = root_from_range(first_seq - 1, first_seq - 1 + position, size, leaves, proof)
        if made != root:
            raise VerificationError(
                f"records {first_seq}..{first_seq + position - 1} do not make the signed root: "
                "one of them differs from what was journaled"
            )
    return {
        "verified": True,
        "records": position,
        "tree_size": size,
        "root_hash": head["root_hash"],
        "key_ids": sorted(keys),
        "pinned": pinned_key is not None,
        "against_trusted_head": trusted_head is not None,
    }


def _keys(value: Any) -> dict[str, bytes]:
    """The bundle's keys (key id: public key)."""
    if not isinstance(value, list) or not all(
        isinstance(k, dict) and isinstance(k.get("key_id"), str) for k in value
    ):
        raise VerificationError("line 1: the bundle's keys are malformed")
    keys = {}
    for k in value:
        public = k.get("public_key")
        try:
            keys[k["key_id"]] = bytes.fromhex(public) if isinstance(public, str) else b""
        except ValueError:
            keys[k["key_id"]] = b""
        if len(keys[k["key_id"]]) != 32:
            raise VerificationError(
                f"line 1: key {_trim(k['key_id'], 40)} has no valid public key (32 bytes, hex)"
            )
    return keys


def _check_against_trusted(
    head: dict[str, Any],
    root: bytes,
    trusted: dict[str, Any],
    consistency: dict[str, Any],
    keys: dict[str, bytes],
) -> None:
    """That the bundle's head extends (or is) a head the verifier kept from before (the export
    was asked for a consistency proof from that head's size: `--against`)."""
    trusted_root = check_head(trusted, keys, "the trusted head")
    size1 = int(trusted["tree_size"])
    if size1 < int(head["tree_size"]) and consistency.get("from_size") != size1:
        raise VerificationError(
            f"the bundle holds no consistency proof from the trusted head's size {size1}: "
            "export it again with --against that head"
        )
    proof = _hashes(consistency.get("proof", []), "the bundle's consistency proof")
    try:
        verify_consistency(
            int(trusted["tree_size"]), int(head["tree_size"]), trusted_root, root, proof
        )
    except VerificationError as exc:
        raise VerificationError(
            f"the bundle's tree head does not extend the trusted head: {exc}"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", help="the bundle (.jsonl) to check")
    parser.add_argument("--key", help="the exchange's audit key (hex public key or key id)")
    parser.add_argument("--head", help="a signed tree head you kept (JSON) the bundle must extend")
    args = parser.parse_args(argv)
    trusted = None
    if args.head:
        try:
            with open(args.head, "rb") as f:
                trusted = json.loads(f.read())
        except OSError as exc:
            print(f"cannot read the head {args.head}: {exc.strerror or exc}", file=sys.stderr)
            return 2
        except (ValueError, RecursionError):  # not UTF-8, or not JSON
            print(f"cannot read the head {args.head}: it is not JSON", file=sys.stderr)
            return 2
        problem = head_problem(trusted)
        if problem:
            print(
                f"NOT VERIFIED: the head you kept ({args.head}) is no signed tree head: it "
                f"{problem}",
                file=sys.stderr,
            )
            return 1
    try:
        result = verify(args.bundle, pinned_key=args.key, trusted_head=trusted)
    except VerificationError as exc:
        print(f"NOT VERIFIED: {_trim(exc, 500)}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot read the bundle {args.bundle}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except _MALFORMED as exc:  # a shape no check foresaw: said in a line, never a traceback
        print(
            f"NOT VERIFIED: the bundle is malformed ({type(exc).__name__}: {_trim(exc)})",
            file=sys.stderr,
        )
        return 1
    print(json.dumps(result))
    if not result["pinned"]:
        print(
            "note: no --key given: the signatures were checked against the keys the bundle "
            f"carries ({', '.join(result['key_ids'])}); compare them with a fingerprint you trust",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
