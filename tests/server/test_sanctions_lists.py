"""Sanctions list versions in a data directory, and `bourse lists load|show|diff`, on the shared
OFAC and UN files and on modified and malformed copies of them."""

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bourse.bench.screening_bench import DATA
from bourse.cli import app
from bourse.commands import ForceListVersion, decode_command
from bourse.compliance.sanctions.entries import ListFormatError
from bourse.compliance.sanctions.versions import (
    Forcing,
    ListShrinkRefused,
    ListSourceError,
    ListStore,
    Shrink,
)
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange
from tests.journals import journal_of

SDN = DATA / "ofac_sdn_2021-08-18.csv"
UN = DATA / "un_consolidated_2026-02-27.xml"
CONS = [DATA / f"ofac_cons_{p}.csv" for p in ("prim", "alt", "add", "comments")]


def sdn_lines() -> list[bytes]:
    """The SDN records, counted without the loader: lines that start with an ent_num."""
    return [line for line in SDN.read_bytes().split(b"\n") if re.match(rb"\d+,", line)]


def un_count() -> int:
    text = UN.read_text(encoding="utf-8")
    return text.count("<INDIVIDUAL>") + text.count("<ENTITY>")


def files(store: ListStore, source: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (store.root / source).iterdir()}


def lists(*args: str) -> Any:
    result = CliRunner().invoke(app, ["lists", *args])
    return result


def lists_json(*args: str) -> Any:
    result = lists(*args, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("source", "origin", "expected"),
    [
        ("ofac_sdn", [SDN], lambda: len(sdn_lines())),
        ("ofac_cons", [DATA], lambda: CONS[0].read_bytes().count(b"\n")),
        ("ofac_cons", CONS, lambda: CONS[0].read_bytes().count(b"\n")),
        ("un_sc", [UN], un_count),
    ],
)
def test_each_shared_file_loads_once_and_a_reload_changes_nothing(
    tmp_path: Path, source: str, origin: list[Path], expected: Any
) -> None:
    store = ListStore(tmp_path)
    first = store.load(source, origin)
    assert not first.already_current and first.previous is None
    assert len(first.version.entries) == expected() > 400
    assert len(first.diff.added) == len(first.version.entries)
    assert store.current(source) == first.version
    [info] = store.versions(source)
    assert (info.sha256, info.entries) == (first.version.content_sha256, expected())
    assert info.file == f"{first.version.published}-{info.sha256[:12]}.msgpack"
    before = files(store, source)

    again = store.load(source, origin)
    assert again.already_current and again.diff.empty
    assert files(store, source) == before  # not even `current` was rewritten
    assert len(store.versions(source)) == 1


def test_published_dates(tmp_path: Path) -> None:
    store = ListStore(tmp_path)
    assert store.load("ofac_sdn", SDN).version.published == "2021-08-18"  # from the file name
    assert store.load("un_sc", UN).version.published == "2026-02-27"  # from dateGenerated
    cons = store.load("ofac_cons", DATA, published="2021-08-19").version
    assert cons.published == "2021-08-19"


def modified_sdn(tmp_path: Path) -> tuple[Path, set[str], str, str]:
    """A copy of the SDN file without two records, with one new record and with one alias
    changed: the copy, the removed ids, the added id and the changed id."""
    lines = SDN.read_bytes().split(b"\n")
    removed = {b"173", b"424"}
    kept = [line for line in lines if line.split(b",", 1)[0] not in removed]
    assert len(kept) == len(lines) - 2
    changed = b"306"
    [at] = [i for i, line in enumerate(kept) if line.startswith(changed + b",")]
    assert b"a.k.a. 'BNC'" in kept[at]
    kept[at] = kept[at].replace(b"a.k.a. 'BNC'", b"a.k.a. 'BNCUBA'")
    new = b'99999001,"TEST HOLDINGS LTD.",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r'
    kept.insert(1, new)
    copy = tmp_path / "sdn_2021-08-25.csv"
    copy.write_bytes(b"\n".join(kept))
    return copy, {r.decode() for r in removed}, "99999001", changed.decode()


def test_a_new_version_reports_exactly_what_it_added_removed_and_changed(
    tmp_path: Path,
) -> None:
    store = ListStore(tmp_path / "data")
    old = store.load("ofac_sdn", SDN).version
    copy, removed, added, changed = modified_sdn(tmp_path)
    result = store.load("ofac_sdn", copy)
    assert result.previous == old and not result.already_current
    assert result.version.published == "2021-08-25"
    assert [e.entry_id for e in result.diff.added] == [added]
    assert result.diff.added[0].name == "TEST HOLDINGS LTD."
    assert {e.entry_id for e in result.diff.removed} == removed
    [change] = result.diff.changed
    assert change.entry_id == changed
    # The SDN file keeps aliases in the remarks column, so both differ; nothing else does.
    assert change.fields == ("aliases", "remarks")
    after, before = change.after, change.before
    assert "BNCUBA" in after.aliases + after.weak_aliases
    assert "BNC" in before.aliases + before.weak_aliases
    assert store.diff(old, result.version) == result.diff
    assert [v.sha256 for v in store.versions("ofac_sdn")] == [
        old.content_sha256,
        result.version.content_sha256,
    ]

    # Putting the old publication back in force is a new step in the history, reversing the diff.
    back = store.load("ofac_sdn", SDN)
    assert {e.entry_id for e in back.diff.added} == removed
    assert [e.entry_id for e in back.diff.removed] == [added]
    assert len(store.versions("ofac_sdn")) == 3
    assert len(list((store.root / "ofac_sdn").glob("*.msgpack"))) == 2


def test_a_malformed_file_is_refused_and_the_version_in_force_stays(tmp_path: Path) -> None:
    store = ListStore(tmp_path / "data")
    store.load("ofac_sdn", SDN)
    before = files(store, "ofac_sdn")
    lines = SDN.read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b",", b";", 3)  # line 5 loses three of its columns
    broken = tmp_path / "sdn_2021-08-26.csv"
    broken.write_bytes(b"\n".join(lines))
    with pytest.raises(ListFormatError) as refused:
        store.load("ofac_sdn", broken)
    assert refused.value.where == "sdn line 5"
    assert files(store, "ofac_sdn") == before
    assert store.current("ofac_sdn") is not None

    result = lists("load", "ofac_sdn", str(broken), "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert message.startswith("error: refused:") and "sdn line 5" in message
    assert "stays in force" in message
    assert files(store, "ofac_sdn") == before


def test_a_malformed_first_load_leaves_no_version(tmp_path: Path) -> None:
    xml = UN.read_text(encoding="utf-8")
    first_id = re.search(r"<DATAID>(\d+)</DATAID>", xml)
    assert first_id is not None
    broken = tmp_path / "un.xml"
    broken.write_text(xml.replace(first_id.group(0), "<DATAID>x1</DATAID>", 1), encoding="utf-8")
    store = ListStore(tmp_path / "data")
    with pytest.raises(ListFormatError, match=r"INDIVIDUAL\[1\]: DATAID 'x1' is not a number"):
        store.load("un_sc", broken)
    assert store.current("un_sc") is None and store.versions("un_sc") == []


def test_cli_round_trip(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    dd = ("--data-dir", str(data))
    loaded = lists_json("load", "ofac_sdn", str(SDN), *dd)
    assert loaded["version"]["entries"] == len(sdn_lines())
    assert loaded["diff"]["counts"] == {"added": len(sdn_lines()), "removed": 0, "changed": 0}
    assert (
        lists_json("load", "ofac_cons", *map(str, CONS), "--published", "2021-08-18", *dd)[
            "version"
        ]["published"]
        == "2021-08-18"
    )
    lists_json("load", "un_sc", str(UN), *dd)
    assert lists_json("load", "un_sc", str(UN), *dd)["alreadyCurrent"] is True

    copy, removed, added, changed = modified_sdn(tmp_path)
    second = lists_json("load", "ofac_sdn", str(copy), *dd)
    assert second["previous"]["sha256"] == loaded["version"]["sha256"]
    assert second["diff"]["counts"] == {"added": 1, "removed": 2, "changed": 1}
    assert second["diff"]["changed"] == [
        {"entryId": changed, "schema": "Organization", "name": "BANCO NACIONAL DE CUBA",
         "fields": ["aliases", "remarks"]}
    ]  # fmt: skip

    shown = lists_json("show", *dd)
    assert [(r["source"], r["inForce"]) for r in shown] == [
        ("ofac_sdn", True), ("ofac_cons", True), ("un_sc", True)
    ]  # fmt: skip
    assert shown[0]["sha"] == second["version"]["sha256"]
    every = lists_json("show", "ofac_sdn", "--all", *dd)
    assert [r["inForce"] for r in every] == [False, True]

    by_default = lists_json("diff", "ofac_sdn", *dd)
    assert by_default["counts"] == second["diff"]["counts"]
    assert {e["entryId"] for e in by_default["removed"]} == removed
    backwards = lists_json(
        "diff", "ofac_sdn", "--from", second["version"]["sha256"][:8],
        "--to", loaded["version"]["sha256"][:8], *dd,
    )  # fmt: skip
    assert [e["entryId"] for e in backwards["removed"]] == [added]
    assert {e["entryId"] for e in backwards["added"]} == removed

    table = lists("load", "ofac_sdn", str(copy), *dd)
    assert table.exit_code == 0 and "already in force" in table.stdout
    shown_table = lists("show", *dd).stdout
    assert "ofac_cons" in shown_table and second["version"]["sha256"][:12] in shown_table
    diff_table = lists("diff", "ofac_sdn", *dd).stdout
    assert "1 added, 2 removed, 1 changed" in diff_table and "TEST HOLDINGS LTD." in diff_table


def test_cli_refuses_what_it_cannot_run(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    cases = [
        (["load", "ofac_eu", str(SDN)], "unknown list 'ofac_eu'"),
        (["load", "ofac_sdn", str(tmp_path / "nope.csv")], "cannot read"),
        (["load", "ofac_cons", str(SDN)], "lacks cons_prim.csv"),
        (["load", "un_sc", str(UN), "--published", "2026-03-01"], "not 2026-03-01"),
        (["load", "ofac_sdn", str(SDN), "--published", "2099-01-01"], "2099-01-01 is after today"),
        (["diff", "un_sc"], "no un_sc version loaded"),
    ]
    for args, message in cases:
        result = lists(*args, "--data-dir", str(data))
        assert result.exit_code == 2, (args, result.stdout)
        assert message in " ".join(result.stderr.split()), args
    missing = lists("show", "--data-dir", str(tmp_path / "typo"))
    assert missing.exit_code == 2 and "no data directory" in missing.stderr
    assert not (tmp_path / "typo").exists()
    shutil.rmtree(data)


def sdn_without(tmp_path: Path, removed: int, name: str = "sdn_2021-08-27.csv") -> Path:
    """A copy of the SDN file without its first `removed` records."""
    lines = SDN.read_bytes().split(b"\n")
    copy = tmp_path / name
    copy.write_bytes(b"\n".join(lines[removed:]))
    return copy


def un_without(tmp_path: Path, *groups: str) -> Path:
    """A copy of the UN XML with the given groups (INDIVIDUALS, ENTITIES) emptied."""
    xml = UN.read_text(encoding="utf-8")
    for group in groups:
        xml = re.sub(rf"<{group}>.*</{group}>", f"<{group}/>", xml, flags=re.DOTALL)
    copy = tmp_path / "un_partial.xml"
    copy.write_text(xml, encoding="utf-8")
    return copy


def cons_with_empty(tmp_path: Path, part: str) -> Path:
    """A copy of the consolidated files with one of them 0 bytes: no entry goes, but what that
    file gave every entry does."""
    copy = tmp_path / "cons"
    copy.mkdir()
    for path in CONS:
        shutil.copy(path, copy / path.name)
    (copy / f"ofac_cons_{part}.csv").write_bytes(b"")
    return copy


def _empty(tmp_path: Path) -> Path:
    (tmp_path / "empty.csv").write_bytes(b"")
    return tmp_path / "empty.csv"


GUARD_CASES = [  # (source, first, next publication, refused, words of the refusal)
    ("ofac_sdn", SDN, _empty, True, "would remove 9,083 of the 9,083 entries in force (100%"),
    ("ofac_sdn", SDN, lambda t: sdn_without(t, 1817), True, "would remove 1,817 of the 9,083"),
    ("ofac_sdn", SDN, lambda t: sdn_without(t, 1816), False, ""),  # 20% of 9,083 may go
    ("un_sc", UN, lambda t: un_without(t, "INDIVIDUALS", "ENTITIES"), True, "1,003 of the 1,003"),
    ("un_sc", UN, lambda t: un_without(t, "INDIVIDUALS"), True, "would remove 730 of the 1,003"),
    ("un_sc", None, lambda t: un_without(t, "INDIVIDUALS", "ENTITIES"), True, "has no entries"),
    ("ofac_sdn", None, _empty, True, "has no entries: refused, nothing is in force"),
    ("ofac_cons", DATA, lambda t: cons_with_empty(t, "alt"), True, "aliases of the entries"),
    ("ofac_cons", DATA, lambda t: cons_with_empty(t, "add"), True, "countries of the entries"),
    ("ofac_cons", DATA, lambda t: cons_with_empty(t, "comments"), False, ""),
]


@pytest.mark.parametrize(("source", "first", "publication", "refused", "words"), GUARD_CASES)
def test_a_version_that_removes_too_much_is_refused_and_the_one_in_force_stays(
    tmp_path: Path, source: str, first: Path | None, publication: Any, refused: bool, words: str
) -> None:
    store = ListStore(tmp_path / "data")
    if first is not None:
        store.load(source, first)
    before = store.in_force(source)
    path = publication(tmp_path)
    if not refused:
        assert not store.load(source, path).diff.empty
        assert store.refused(source) is None
        return
    with pytest.raises(ListShrinkRefused) as caught:
        store.load(source, path)
    assert words in str(caught.value)
    assert store.in_force(source) == before
    shown = store.refused(source)
    assert shown is not None and shown.problem == str(caught.value)
    assert shown.sha256 == caught.value.shrink.sha256


def test_a_forced_version_is_journaled_before_it_goes_into_force(tmp_path: Path) -> None:
    store = ListStore(tmp_path / "data")
    old = store.load("ofac_sdn", SDN).version
    with pytest.raises(ListShrinkRefused):
        store.load("ofac_sdn", _empty(tmp_path))
    journaled: list[Shrink] = []

    def refuse(shrink: Shrink) -> int:
        raise ListSourceError("the journal is unavailable")

    with pytest.raises(ListSourceError):
        store.load("ofac_sdn", _empty(tmp_path), force=Forcing("ops:ann", "why", refuse))
    assert store.current("ofac_sdn") == old  # not journaled: not in force

    def journal(shrink: Shrink) -> int:
        assert store.current("ofac_sdn") == old  # journaled first
        journaled.append(shrink)
        return 42

    reason = "OFAC withdrew the publication (notice 2026-01-05)"
    result = store.load("ofac_sdn", _empty(tmp_path), force=Forcing("ops:ann", reason, journal))
    [shrink] = journaled
    assert (shrink.count_before, shrink.count_after, shrink.removed) == (9083, 0, 9083)
    assert (shrink.previous_sha256, shrink.sha256) == (
        old.content_sha256,
        result.version.content_sha256,
    )
    cmd = shrink.command("ops:ann", reason, 5)
    assert (cmd.list_sha256, cmd.removed, cmd.reason) == (shrink.sha256, 9083, reason)
    info = store.in_force("ofac_sdn")
    assert info is not None and info.sha256 == result.version.content_sha256
    assert (info.forced_by, info.reason, info.journal_seq) == ("ops:ann", reason, 42)
    assert store.refused("ofac_sdn") is None
    # The guard compares with the version in force: the full list back is no shrink.
    assert not store.load("ofac_sdn", SDN).already_current


def test_cli_refuses_a_shrink_and_journals_a_forced_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BOURSE_DATABASE_URL", raising=False)
    data = tmp_path / "new" / "data"  # not there yet: a load creates it
    dd = ("--data-dir", str(data))
    assert lists_json("load", "ofac_sdn", str(SDN), *dd)["version"]["entries"] == 9083
    empty = str(_empty(tmp_path))
    refused = lists("load", "ofac_sdn", empty, *dd)
    message = " ".join(refused.stderr.split())
    assert refused.exit_code == 1, refused.stdout
    assert "would remove 9,083 of the 9,083 entries in force" in message
    assert "--force --reason" in message
    shown = lists("show", *dd).stdout
    assert "not in force" in " ".join(shown.split()) and "9,083 of the 9,083" in shown
    for args, words in [
        (["--force"], "--force needs --reason"),
        (["--reason", "why"], "--reason goes with --force"),
        (["--force", "--reason", "OFAC withdrew it"], "has no journal"),  # no exchange yet
    ]:
        done = lists("load", "ofac_sdn", empty, *args, *dd)
        assert done.exit_code == 2 and words in " ".join(done.stderr.split()), args

    Exchange(DataDir(data)).close()  # the exchange's first start: a journal to record in
    reason = "OFAC withdrew the publication"
    forced = lists_json("load", "ofac_sdn", empty, "--force", "--reason", reason, *dd)
    assert forced["version"]["entries"] == 0
    assert forced["forced"]["by"] == "operator" and forced["forced"]["reason"] == reason
    with journal_of(data) as journal:
        records = {seq: decode_command(payload) for seq, payload in journal.replay(1)}
    cmd_seq = forced["forced"]["seq"]
    cmd = records[cmd_seq]
    assert isinstance(cmd, ForceListVersion)
    assert (cmd.actor, cmd.reason, cmd.source) == ("operator", reason, "ofac_sdn")
    assert (cmd.count_before, cmd.count_after, cmd.removed) == (9083, 0, 9083)
    assert cmd.list_sha256 == forced["version"]["sha256"]
    [row] = lists_json("show", "ofac_sdn", *dd)
    assert row["forced"] == forced["forced"] and row["refused"] is None
    assert f"forced by operator (journal seq {cmd_seq}): {reason}" in " ".join(
        lists("show", *dd).stdout.split()
    )
