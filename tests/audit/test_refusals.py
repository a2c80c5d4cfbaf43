"""Bad input to the audit commands, routes and the verifier is refused with a clear message
naming what is wrong (exit 2, a 4xx, or NOT VERIFIED), never a traceback or a 500; and a refused
command leaves nothing behind: no partial bundle, no state file overwritten, no new exchange."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from tests.audit.conftest import decisions, trade
from typer.testing import CliRunner

from bourse.audit import verify_bundle
from bourse.audit.log import AuditLog
from bourse.cli import app
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange

HUGE = "99999999999999999999"  # beyond 64 bits


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stopped exchange's data directory with its audit log and a signed head (shared: tests
    that change it work on a copy)."""
    data = tmp_path_factory.mktemp("kept") / "data"
    exchange = Exchange(DataDir(data), audit=True)
    trade(exchange, 10)
    decisions(exchange)
    exchange.close()  # signs a head on the way out
    return data


@pytest.fixture
def data(kept: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(kept, copy)
    return copy


def audit(*args: str) -> Result:
    return CliRunner().invoke(app, ["audit", *args])


def refused(ran: Result, *words: str) -> str:
    """The message of a clear refusal (exit 2, no traceback) holding every one of `words`."""
    assert ran.exit_code == 2, (ran.exit_code, ran.output, ran.exception)
    assert ran.exception is None or isinstance(ran.exception, SystemExit), ran.exception
    text = " ".join(ran.output.split())  # a panel may wrap it
    for word in words:
        assert word in text, (word, ran.output)
    return text


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# --- 1: numbers beyond 64 bits --------------------------------------------------------------


@pytest.fixture
def audited_api(tmp_path: Path) -> Iterator[object]:
    from tests.api.conftest import serve

    yield from serve(tmp_path, audit=True)


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("/admin/v1/audit/records", {"after": HUGE}, "after"),
        ("/admin/v1/audit/records", {"from": HUGE}, "from"),
        ("/admin/v1/audit/records", {"to": HUGE}, "to"),
        ("/admin/v1/audit/records", {"customer": HUGE}, "customer"),
        ("/admin/v1/audit/export", {"from": HUGE}, "from"),
        ("/admin/v1/audit/export", {"to": HUGE}, "to"),
        ("/admin/v1/audit/consistency", {"first": HUGE}, "first"),
        ("/admin/v1/audit/consistency", {"first": 1, "second": HUGE}, "second"),
    ],
)
def test_out_of_range_numbers_get_a_400_naming_the_parameter(
    audited_api: object, path: str, params: dict[str, object], named: str
) -> None:
    from tests.api.test_staff import OPERATOR

    r = audited_api.client.get(path, params=params, headers=OPERATOR)  # type: ignore[attr-defined]
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "BAD_REQUEST"
    assert r.json()["message"].startswith(named), r.json()


def test_out_of_range_numbers_on_the_command_line_are_clear_errors(
    kept: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    d = str(kept)
    refused(audit("export", str(out / "b.jsonl"), "--data-dir", d, "--from", HUGE), "--from")
    refused(
        audit("export", str(out / "b.jsonl"), "--data-dir", d, "--customer", HUGE), "--customer"
    )
    refused(audit("dossier", str(out / "d"), "--data-dir", d, "--customer", HUGE), "--customer")
    assert files(out) == set()  # no empty bundle left behind


# --- 2: the monitor's state -----------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"{}", b"[]", b'{"head": "x"}', b'{"head": {"tree_size": 5}}', b"\x00\xff\xfe binary"],
)
def test_the_monitor_refuses_a_state_file_it_did_not_write_and_leaves_it(
    kept: Path, tmp_path: Path, content: bytes
) -> None:
    state = tmp_path / "monitor.json"
    state.write_bytes(content)
    ran = audit("watch", "--once", "--state", str(state), "--data-dir", str(kept))
    refused(ran, str(state))
    assert "first use" not in ran.output
    assert state.read_bytes() == content


def test_only_a_missing_state_file_is_a_first_use(kept: Path, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    refused(audit("watch", "--once", "--state", str(folder), "--data-dir", str(kept)), "folder")
    assert folder.is_dir() and not any(folder.iterdir())
    nowhere = tmp_path / "nowhere" / "monitor.json"
    refused(
        audit("watch", "--once", "--state", str(nowhere), "--data-dir", str(kept)),
        "does not exist",
    )
    assert not nowhere.parent.exists()
    state = tmp_path / "monitor.json"
    ran = audit("watch", "--once", "--state", str(state), "--data-dir", str(kept))
    assert ran.exit_code == 0 and "first use" in ran.output, ran.output
    ran = audit("watch", "--once", "--state", str(state), "--data-dir", str(kept))
    assert ran.exit_code == 0 and "consistent" in ran.output, ran.output


def test_the_monitor_needs_a_positive_interval_and_a_server_it_can_reach(
    kept: Path, tmp_path: Path
) -> None:
    state = tmp_path / "monitor.json"
    for every in ("-1", "0", "nan"):  # -1 first: before, it crashed after one check
        refused(
            audit("watch", "--state", str(state), "--data-dir", str(kept), "--every", every),
            "--every",
        )
    refused(
        audit("watch", "--once", "--state", str(state), "--url", "http://127.0.0.1:1"),
        "cannot reach http://127.0.0.1:1",
    )
    assert not state.exists()


# --- 3 and 4: where a bundle, the verifier and a dossier are written ------------------------


def test_an_export_to_a_bad_place_or_against_a_bad_head_is_refused_leaving_nothing(
    kept: Path, tmp_path: Path
) -> None:
    d = str(kept)
    out = tmp_path / "out"
    out.mkdir()
    refused(audit("export", str(out), "--data-dir", d), "is a directory")
    refused(audit("export", str(out / "no" / "b.jsonl"), "--data-dir", d), "does not exist")
    refused(audit("export", "", "--data-dir", d), "name the file")
    heads = {
        "missing.json": None,
        "binary.json": b"\x00\xff\xfe",
        "empty-object.json": b"{}",
        "a-list.json": b"[1]",
    }
    for name, content in heads.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
    (tmp_path / "folder.json").mkdir()
    for name in [*heads, "folder.json"]:
        against = str(tmp_path / name)
        refused(
            audit("export", str(out / "b.jsonl"), "--data-dir", d, "--against", against),
            "--against",
            name,
        )
    # a head newer than the log: refused by the export itself, once it has begun
    (tmp_path / "newer.json").write_text('{"tree_size": 1000000, "root_hash": "00"}')
    against = str(tmp_path / "newer.json")
    refused(audit("export", str(out / "b.jsonl"), "--data-dir", d, "--against", against), "newer")
    assert files(out) == set()
    # a bundle kept from before is not clobbered by a failed export
    (out / "b.jsonl").write_text("kept\n")
    refused(audit("export", str(out / "b.jsonl"), "--data-dir", d, "--from", HUGE), "--from")
    assert (out / "b.jsonl").read_text() == "kept\n" and files(out) == {"b.jsonl"}
    ran = audit("export", str(out / "b.jsonl"), "--data-dir", d)
    assert ran.exit_code == 0, ran.output
    assert verify_bundle.verify(str(out / "b.jsonl"))["verified"]


def test_the_verifier_and_a_dossier_written_to_a_bad_place_are_clear_errors(
    kept: Path, tmp_path: Path
) -> None:
    refused(audit("verifier", str(tmp_path)), "is a directory")
    refused(audit("verifier", str(tmp_path / "no" / "v.py")), "does not exist")
    refused(audit("verifier", ""), "name the file")
    a_file = tmp_path / "a-file"
    a_file.write_text("mine\n")
    a_file.chmod(0o644)
    d = str(kept)
    ran = audit("dossier", str(a_file), "--customer", "1", "--no-pdf", "--data-dir", d)
    refused(ran, "a-file", "not a directory")
    assert a_file.read_text() == "mine\n" and a_file.stat().st_mode & 0o777 == 0o644
    ran = audit("dossier", str(a_file / "sub"), "--customer", "1", "--no-pdf", "--data-dir", d)
    refused(ran, "cannot write the dossier")


# --- 5: a damaged audit directory -----------------------------------------------------------


def test_a_torn_last_head_is_skipped_saying_so_and_a_damaged_file_is_named(data: Path) -> None:
    heads = data / "audit" / "heads.jsonl"
    whole = heads.read_bytes()
    newest = json.loads(whole.splitlines()[-1])
    heads.write_bytes(whole + b'{"origin": "bourse audit log", "tree_si')  # a crash mid-append
    ran = audit("head", "--data-dir", str(data))
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == newest
    assert "torn" in ran.stderr and "heads.jsonl" in ran.stderr

    # the log's keeper cuts the torn line before it appends the next head after it
    log = AuditLog(data)
    try:
        assert heads.read_bytes() == whole
        assert log.sign_head(10**13) is not None
    finally:
        log.close()
    reader = AuditLog.reader(data)
    try:
        assert reader.latest_head()["timestamp_ms"] == 10**13  # type: ignore[index]
        assert reader.heads_note == ""
    finally:
        reader.close()

    # a last line readers skip (JSON, but no head) is one the keeper cuts too: never left for
    # the next head to turn into a damaged middle line
    signed = heads.read_bytes()
    heads.write_bytes(signed + b"{}\n")
    AuditLog(data).close()
    assert heads.read_bytes() == signed

    lines = heads.read_bytes().splitlines(keepends=True)
    heads.write_bytes(b"".join([lines[0], b"{not a head\n", *lines[1:]]))
    refused(audit("head", "--data-dir", str(data)), "heads.jsonl line 2")
    refused(audit("export", str(data / "b.jsonl"), "--data-dir", str(data)), "heads.jsonl line 2")
    assert not (data / "b.jsonl").exists()


def test_a_corrupt_index_is_an_error_naming_it(data: Path) -> None:
    for name in ("index.sqlite-wal", "index.sqlite-shm"):
        (data / "audit" / name).unlink(missing_ok=True)
    (data / "audit" / "index.sqlite").write_bytes(b"not a database" * 500)
    refused(audit("head", "--data-dir", str(data)), "index.sqlite")
    refused(audit("export", str(data / "b.jsonl"), "--data-dir", str(data)), "index.sqlite")
    assert not (data / "b.jsonl").exists()


# --- 6: no exchange there ---------------------------------------------------------------------


@pytest.mark.file_journal
def test_audit_commands_refuse_a_directory_without_an_exchange_and_create_nothing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "x" / "nonexist"
    empty = tmp_path / "empty"
    empty.mkdir()
    state = str(tmp_path / "monitor.json")
    for where in (missing, empty):
        d = str(where)
        for args in (
            ["head", "--sign", "--data-dir", d],
            ["head", "--data-dir", d],
            ["rebuild", "--data-dir", d],
            ["watch", "--once", "--state", state, "--data-dir", d],
            ["dossier", str(tmp_path / "dossier"), "--customer", "1", "--data-dir", d],
            ["export", str(tmp_path / "b.jsonl"), "--data-dir", d],
        ):
            refused(audit(*args), f"no exchange in {where}")
    assert not missing.parent.exists()
    assert files(tmp_path) == {"empty"}


# --- 7: the verifier on a tampered bundle -----------------------------------------------------


def _bundle(kept: Path, path: Path) -> list[dict[str, object]]:
    ran = audit("export", str(path), "--data-dir", str(kept))
    assert ran.exit_code == 0, ran.output
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_tampered_bundle_is_not_verified_naming_what_never_a_traceback(
    kept: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.audit.test_bundles import standalone

    good = tmp_path / "good.jsonl"
    rows = _bundle(kept, good)
    records = rows[1:]

    def variant(name: str, change: object) -> Path:
        copy = json.loads(json.dumps(rows))
        change(copy)  # type: ignore[operator]
        return _write(tmp_path / f"{name}.jsonl", copy)

    def huge_seq(r: list[dict]) -> None:  # type: ignore[type-arg]
        r[3]["seq"] = int(HUGE)

    def non_hex_proof(r: list[dict]) -> None:  # type: ignore[type-arg]
        r[4]["proof"][0] = "zz" + r[4]["proof"][0][2:]

    cases = {
        variant("huge-seq", huge_seq): "line 4",
        variant("head-x", lambda r: r[0].update(head="x")): "tree head",
        variant("keys-null", lambda r: r[0].update(keys=None)): "keys",
        variant("proof", non_hex_proof): f"record seq {records[3]['seq']}",
    }
    for bundle, named in cases.items():
        assert verify_bundle.main([str(bundle)]) == 1, bundle
        said = capsys.readouterr().err
        assert said.startswith("NOT VERIFIED:") and named in said, said
    ran = standalone(tmp_path, next(iter(cases)))
    assert ran.returncode == 1 and "NOT VERIFIED: line 4" in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr

    a_list = tmp_path / "list.json"
    a_list.write_text("[1, 2]")
    assert verify_bundle.main([str(good), "--head", str(a_list)]) == 1
    said = capsys.readouterr().err
    assert said.startswith("NOT VERIFIED:") and "list.json" in said, said
    missing = tmp_path / "missing.json"
    assert verify_bundle.main([str(good), "--head", str(missing)]) == 2
    said = capsys.readouterr().err
    assert said.startswith(f"cannot read the head {missing}"), said

    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(bytes(range(128, 256)) * 64)
    assert verify_bundle.main([str(binary)]) == 1
    said = capsys.readouterr().err
    assert said.startswith("NOT VERIFIED: line 1") and len(said) < 300, said
    ran = audit("verify", str(binary))
    assert ran.exit_code == 1, (ran.output, ran.exception)
