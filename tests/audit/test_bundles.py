"""Export a bundle and verify it, with bourse and with the standalone verifier alone; every kind
of tampering fails naming the first bad record or proof."""

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bourse.audit import verify_bundle
from bourse.audit.export import write_bundle
from bourse.audit.log import AuditLog, Query
from bourse.audit.verify_bundle import VerificationError, verify
from bourse.server.exchange import Exchange

# runs the verifier file with bourse and msgspec unimportable: it needs Python and cryptography
_ISOLATED = (
    "import runpy, sys; sys.modules['bourse'] = None; sys.modules['msgspec'] = None; "
    "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def export(exchange: Exchange, path: Path, query: Query | None = None) -> dict:
    audit = AuditLog.reader(exchange.data_dir.path)
    try:
        with open(path, "w") as f:
            return write_bundle(
                audit, query or Query(), f, signer_dir=exchange.data_dir.path, now_ms=5
            )
    finally:
        audit.close()


def standalone(tmp_path: Path, bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    verifier = tmp_path / "verify_bundle.py"
    if not verifier.exists():
        shutil.copyfile(verify_bundle.__file__, verifier)
    return subprocess.run(
        [sys.executable, "-c", _ISOLATED, str(verifier), str(bundle), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_an_untouched_bundle_verifies_with_bourse_and_alone(
    audited: Exchange, tmp_path: Path
) -> None:
    bundle = tmp_path / "all.jsonl"
    manifest = export(audited, bundle)
    assert manifest["count"] == manifest["tree_size"] == audited.last_seq
    result = verify(str(bundle))
    assert result["records"] == audited.last_seq
    ran = standalone(tmp_path, bundle, "--key", result["key_ids"][0])
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["records"] == audited.last_seq


def test_records_read_as_decisions_with_actor_reason_and_events(
    audited: Exchange, tmp_path: Path
) -> None:
    bundle = tmp_path / "freezes.jsonl"
    export(audited, bundle, Query(type="FreezeAccount"))
    (record,) = lines(bundle)[1:]
    assert record["summary"]["actor"] == "operator"
    assert record["summary"]["reason"] == "court order 17/2026"
    assert record["command"]["account_id"] == 2
    assert next(e["type"] for e in record["events"]) == "AccountFrozen"
    assert verify(str(bundle))["records"] == 1


def test_a_filter_by_actor_type_and_time(audited: Exchange, tmp_path: Path) -> None:
    audit = AuditLog.reader(audited.data_dir.path)
    try:
        by_operator = audit.select(Query(actor="operator"))
        in_window = audit.select(Query(from_ms=2_000_000, to_ms=2_000_002))
        frozen = audit.select(Query(actor="operator", type="FreezeAccount"))
    finally:
        audit.close()
    assert len(in_window) == 2  # the deposit and the freeze, not the unfreeze
    assert set(in_window) <= set(by_operator)
    assert frozen == [in_window[1]]


@pytest.mark.parametrize(
    "tamper",
    ["byte", "summary", "delete", "swap", "truncate", "head", "manifest", "proof"],
)
def test_tampering_fails_and_names_the_first_bad_record(
    audited: Exchange, tmp_path: Path, tamper: str
) -> None:
    bundle = tmp_path / "b.jsonl"
    export(audited, bundle)
    rows = lines(bundle)
    header, records = rows[0], rows[1:]
    victim = records[40]
    expect = ""
    if tamper == "byte":  # one byte of one journaled command
        raw = bytearray(base64.b64decode(victim["command_raw"]))
        raw[-1] ^= 1
        victim["command_raw"] = base64.b64encode(bytes(raw)).decode()
        expect = f"record seq {victim['seq']}"
    elif tamper == "summary":  # the readable part says something else than what was journaled
        victim["summary"]["reason"] = "nothing to see"
        expect = f"record seq {victim['seq']}"
    elif tamper == "delete":
        del records[40]
        expect = f"record seq {victim['seq'] + 1}"
    elif tamper == "swap":
        records[40], records[41] = records[41], records[40]
        expect = f"record seq {victim['seq'] + 1} where the manifest lists seq {victim['seq']}"
    elif tamper == "truncate":
        records = records[:40]
        expect = f"record seq {victim['seq']} is missing"
    elif tamper == "head":  # a head re-signed by another key, or a changed root
        header["head"]["root_hash"] = "00" * 32
        expect = "signature of the tree head"
    elif tamper == "manifest":
        header["manifest"]["seqs"] = header["manifest"]["seqs"][:-1]
        expect = "signature of the manifest"
    elif tamper == "proof":
        victim["proof"][0] = "11" * 32
        expect = f"record seq {victim['seq']}"
    write(bundle, [header, *records])
    with pytest.raises(VerificationError, match=expect):
        verify(str(bundle))
    ran = standalone(tmp_path, bundle)
    assert ran.returncode == 1
    assert "NOT VERIFIED" in ran.stderr and expect.split(" where")[0] in ran.stderr


def test_another_exchanges_key_is_refused_when_pinned(audited: Exchange, tmp_path: Path) -> None:
    bundle = tmp_path / "b.jsonl"
    export(audited, bundle)
    with pytest.raises(VerificationError, match="pinned key"):
        verify(str(bundle), pinned_key="ab" * 32)
    ran = standalone(tmp_path, bundle, "--key", "0123456789abcdef")
    assert ran.returncode == 1


def test_an_empty_or_garbled_bundle_is_refused_clearly(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(VerificationError, match="empty"):
        verify(str(empty))
    garbled = tmp_path / "garbled.jsonl"
    garbled.write_text("{not json\n")
    with pytest.raises(VerificationError, match="line 1 is not JSON"):
        verify(str(garbled))
    ran = standalone(tmp_path, garbled)
    assert ran.returncode == 1 and "line 1" in ran.stderr


def test_a_bundle_proves_it_extends_a_head_the_reader_kept(
    audited: Exchange, tmp_path: Path
) -> None:
    from tests.audit.conftest import trade

    assert audited.audit is not None
    kept = audited.audit.sign_head()
    assert kept is not None
    trade(audited, 7, start_ms=3_000_000)
    audited.audit.sign_head()
    bundle = tmp_path / "b.jsonl"
    audit = AuditLog.reader(audited.data_dir.path)
    try:
        with open(bundle, "w") as f:
            write_bundle(
                audit,
                Query(from_ms=3_000_000, to_ms=4_000_000),
                f,
                signer_dir=audited.data_dir.path,
                against=kept,
                now_ms=9,
            )
    finally:
        audit.close()
    result = verify(str(bundle), trusted_head=kept)
    assert result["records"] == 7 and result["against_trusted_head"]
    head_file = tmp_path / "kept.json"
    head_file.write_text(json.dumps(kept))
    assert standalone(tmp_path, bundle, "--head", str(head_file)).returncode == 0
    forged = dict(kept, root_hash="22" * 32)
    with pytest.raises(VerificationError):
        verify(str(bundle), trusted_head=forged)


def test_a_range_bundle_proves_its_records_together(audited: Exchange, tmp_path: Path) -> None:
    bundle = tmp_path / "range.jsonl"
    audit = AuditLog.reader(audited.data_dir.path)
    try:
        with open(bundle, "w") as f:
            manifest = write_bundle(
                audit, Query(after_seq=10, until_seq=60), f,
                signer_dir=audited.data_dir.path, now_ms=5, as_range=True,
            )  # fmt: skip
    finally:
        audit.close()
    assert manifest["seqs"] == [[11, 60]] and manifest["count"] == 50
    rows = lines(bundle)
    assert "range_proof" in rows[0] and all("proof" not in r for r in rows[1:])
    assert verify(str(bundle))["records"] == 50
    assert standalone(tmp_path, bundle).returncode == 0
    raw = bytearray(base64.b64decode(rows[20]["command_raw"]))
    raw[-1] ^= 1
    rows[20]["command_raw"] = base64.b64encode(bytes(raw)).decode()
    write(bundle, rows)
    with pytest.raises(VerificationError, match=r"do not make the signed root|record seq 30"):
        verify(str(bundle))
