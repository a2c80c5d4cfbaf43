"""A journal segment's bytes: the record layout, and verifying a segment as read from disk.

``<dir>/journal-<first_seq:020d>.log`` segments, each a run of records

    header  <IIQ  payload length (u32), crc32 (u32), seq (u64)
    payload bytes

where the crc32 covers the 8 seq bytes followed by the payload; in this layout they are
contiguous (``record[8:]``), so verification needs no copying. A scan tells a torn tail (a crash
mid-write: safe to cut) from damage in the middle (refuse to start), for the journal's recovery
and for a read-only check alike.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import NamedTuple

HEADER = struct.Struct("<IIQ")
HEADER_SIZE = HEADER.size  # 16
SEQ = struct.Struct("<Q")
_pack_header = HEADER.pack
_pack_seq = SEQ.pack
_crc32 = zlib.crc32
SEGMENT_RE = re.compile(r"^journal-(\d{20})\.log$")
CORRUPT_HINT = "refusing to start (the journal is corrupted in the middle, not torn at the tail)"


def segment_name(first_seq: int) -> str:
    return f"journal-{first_seq:020d}.log"


def encode_record(seq: int, payload: bytes) -> bytes:
    return _pack_header(len(payload), _crc32(payload, _crc32(_pack_seq(seq))), seq) + payload


class Segment(NamedTuple):
    first_seq: int
    path: Path


class ScanResult(NamedTuple):
    good_end: int  # offset just past the last valid record
    last_seq: int  # seq of the last valid record (first_seq - 1 if none)
    problem: str | None  # None, "torn" (safe to truncate) or a JournalCorrupted message


def find_later_record(data: bytes, start: int, seq: int) -> int | None:
    """Offset of a valid record with seq ``seq`` at or after ``start``, if any.

    Used when a record's length runs past EOF: if the length field itself was damaged,
    valid records still follow, and truncating would silently drop them.
    """
    needle = SEQ.pack(seq)
    pos = data.find(needle, start + 8)
    view = memoryview(data)
    while pos != -1:
        off = pos - 8
        length, crc, _ = HEADER.unpack_from(data, off)
        end = off + HEADER_SIZE + length
        if end <= len(data) and zlib.crc32(view[off + 8 : end]) == crc:
            return off
        pos = data.find(needle, pos + 1)
    return None


def scan_segment(data: bytes, path: Path, first_seq: int) -> ScanResult:
    """Verify every record of one segment; classify the first bad one (if any)."""
    view = memoryview(data)
    size = len(data)
    off = 0
    expected = first_seq
    unpack_from = HEADER.unpack_from
    crc32 = zlib.crc32
    while off < size:
        if off + HEADER_SIZE > size:
            return ScanResult(off, expected - 1, "torn")  # header runs past EOF
        length, crc, seq = unpack_from(data, off)
        end = off + HEADER_SIZE + length
        if end > size:
            later = find_later_record(data, off, expected + 1)
            if later is None:
                return ScanResult(off, expected - 1, "torn")  # payload runs past EOF
            return ScanResult(
                off,
                expected - 1,
                f"journal record seq {expected} in {path} at offset {off} claims length "
                f"{length}, running past EOF, but a valid record seq {expected + 1} follows "
                f"at offset {later}; {CORRUPT_HINT}",
            )
        if crc32(view[off + 8 : end]) != crc:
            if end == size:
                return ScanResult(off, expected - 1, "torn")  # last record, bad checksum
            return ScanResult(
                off,
                expected - 1,
                f"journal record seq {expected} in {path} at offset {off} fails its "
                f"checksum; {CORRUPT_HINT}",
            )
        if seq != expected:
            return ScanResult(
                off,
                expected - 1,
                f"journal record in {path} at offset {off} has seq {seq} but seq {expected} "
                f"was expected (gap or out-of-order record); refusing to start",
            )
        expected += 1
        off = end
    return ScanResult(off, expected - 1, None)
