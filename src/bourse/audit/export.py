"""An audit bundle: the records a query names, each decoded and with its inclusion proof, checked
against a signed tree head, with a manifest (which records, in which order) the exchange signs.

The format is `verify_bundle`'s (its docstring describes it); this module only writes it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bourse.audit.log import AuditLog, Query
from bourse.audit.verify_bundle import (
    BUNDLE_FORMAT,
    VerificationError,
    check_head,
    decode_quick,
    decode_raw,
    manifest_text,
    runs_of,
    summary,
)
from bourse.domain.limits import INT64_MAX


class ExportError(ValueError):
    """The export cannot be made as asked (the message says why)."""


def parse_time(value: str, what: str) -> int:
    """An ISO 8601 date or time (UTC unless it says otherwise), or epoch milliseconds, as epoch
    milliseconds; ExportError naming `what` otherwise."""
    if value.isdigit():
        if len(value) > 19 or int(value) > INT64_MAX:
            raise ExportError(
                f"{what} {value!r} is beyond any time the log holds (at most {INT64_MAX} "
                "epoch milliseconds)"
            )
        return int(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ExportError(
            f"{what} {value!r} is not an ISO 8601 date or time (like 2026-12-01T00:00:00Z) "
            "or epoch milliseconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat(timespec="milliseconds")


def record_view(audit: AuditLog, seq: int, *, plain: bool = False) -> dict[str, Any]:
    """One record decoded for reading: what a bundle line holds without its proof (`plain`:
    decoded by the verifier's own reader, for a record the quick one left bytes in)."""
    ts_ms, command_raw, events_raw = audit.record(seq)
    decode = decode_raw if plain else decode_quick
    command, events = decode(command_raw), decode(events_raw)
    return {
        "seq": seq,
        "time": iso(ts_ms),
        "summary": summary(command, events),
        "command": command,
        "events": events,
        "command_raw": base64.b64encode(command_raw).decode(),
        "events_raw": base64.b64encode(events_raw).decode(),
    }


def covering_head(audit: AuditLog) -> dict[str, Any]:
    head = audit.latest_head()
    if head is None:
        raise ExportError(
            "no tree head has been signed yet: sign one with `bourse audit head --sign`"
        )
    if int(head["tree_size"]) > audit.size:
        raise ExportError(
            f"the newest head covers {head['tree_size']} records but this log holds "
            f"{audit.size}: the log was rebuilt shorter than what it signed"
        )
    return head


def write_bundle(
    audit: AuditLog,
    query: Query,
    out: IO[str],
    *,
    signer_dir: Path,
    against: dict[str, Any] | None = None,
    now_ms: int,
    as_range: bool = False,
) -> dict[str, Any]:
    """Write the bundle of `query`'s records to `out`, checked against the newest signed head
    (only records it covers); `against`: a head the reader keeps, to prove the new one extends
    it. `as_range`: the records are consecutive, proved together by one range proof instead of
    one inclusion proof each (a large export: a few hashes instead of ~20 a record). Returns
    the manifest."""
    from bourse.audit.keys import Signer

    head = covering_head(audit)
    size = int(head["tree_size"])
    keys = audit.signing_keys()
    key_bytes = {k["key_id"]: bytes.fromhex(k["public_key"]) for k in keys}
    try:
        check_head(head, key_bytes)
    except VerificationError as exc:
        raise ExportError(f"the newest signed head does not verify: {exc}") from None
    until = size if query.until_seq is None else min(size, query.until_seq)
    seqs = audit.select(Query(**{**asdict(query), "until_seq": until}))
    manifest = {
        "tree_size": size,
        "root_hash": head["root_hash"],
        "query": {k: v for k, v in asdict(query).items() if v not in (None, 0)},
        "exported_at": iso(now_ms),
        "count": len(seqs),
        "seqs": runs_of(seqs),
    }
    signer = Signer(signer_dir, keys[-1]["key_id"])
    header: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "head": head,
        "keys": [{"key_id": k["key_id"], "public_key": k["public_key"]} for k in keys],
        "manifest": manifest,
        "manifest_key_id": signer.key_id,
        "manifest_signature": signer.sign(manifest_text(manifest)),
    }
    if against is not None:
        size1 = against.get("tree_size") if isinstance(against, dict) else None
        if not isinstance(size1, int) or isinstance(size1, bool) or size1 < 0:
            raise ExportError(
                "the head to prove against is not a signed tree head (no tree_size in it)"
            )
        if size1 > size:
            raise ExportError(
                f"the head to prove against ({size1}) is newer than the log's ({size})"
            )
        header["consistency"] = {
            "from_size": size1,
            "proof": [h.hex() for h in audit.consistency_proof(size1, size)],
        }
    if as_range and seqs:
        if seqs[-1] - seqs[0] + 1 != len(seqs):
            raise ExportError("a range proof needs consecutive records: export without --range")
        proof = audit.range_proof(seqs[0], seqs[-1], size)
        header["range_proof"] = [h.hex() for h in proof]
    out.write(json.dumps(header, sort_keys=True) + "\n")
    for line in _records(audit, seqs, size, proofs=not as_range):
        out.write(line)
    return manifest


def _records(audit: AuditLog, seqs: list[int], size: int, *, proofs: bool) -> Iterator[str]:
    for seq in seqs:
        view = record_view(audit, seq)
        if proofs:
            view["proof"] = [h.hex() for h in audit.inclusion_proof(seq, size)]
        try:
            yield json.dumps(view) + "\n"
        except TypeError:  # bytes in the record: as the verifier reads them, base64 text
            plain = record_view(audit, seq, plain=True)
            yield json.dumps({**plain, **({"proof": view["proof"]} if proofs else {})}) + "\n"
