"""`bourse screen` on a data directory holding the shared OFAC SDN and UN lists, and the admin
route `POST /admin/v1/screen` it calls when a server runs (here an in-process app)."""

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from bourse.api.app import create_app
from bourse.bench.screening_bench import DATA
from bourse.cli import app
from bourse.compliance.sanctions.versions import ListStore
from bourse.keys.sealing import SecretBox
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange
from bourse.server.service import Service
from bourse.store.db import sqlite_url

SDN = DATA / "ofac_sdn_2021-08-18.csv"
UN = DATA / "un_consolidated_2026-02-27.xml"
TOKEN = "operator-token"


def raw_sdn_line(ent_num: str) -> str:
    """One SDN record as the file has it, found without the loader."""
    lines = SDN.read_text(encoding="latin-1").splitlines()
    return next(line for line in lines if line.startswith(f"{ent_num},"))


@pytest.fixture(scope="module")
def lists_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with SDN and UN in force (never written by the tests)."""
    root = tmp_path_factory.mktemp("screen") / "data"
    root.mkdir()
    store = ListStore(root)
    store.load("ofac_sdn", SDN)
    store.load("un_sc", UN)
    return root


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["screen", *args])


def run_json(data_dir: Path, *args: str) -> Any:
    result = run(*args, "--json", "--data-dir", str(data_dir))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def test_a_listed_name_with_a_typo_and_its_dob_hits_both_lists(lists_dir: Path) -> None:
    # The file itself lists Eric Badege, born 1971, as SDN 15718 and UN DATAID 6907993.
    assert '"BADEGE, Eric"' in raw_sdn_line("15718") and "DOB 1971" in raw_sdn_line("15718")
    un = UN.read_text(encoding="utf-8")
    assert re.search(r"<DATAID>6907993</DATAID>.*?<FIRST_NAME>ERIC</FIRST_NAME>", un, re.S)

    body = run_json(lists_dir, "Eric Baddege", "--dob", "1971-05-02", "--schema", "Person")
    hits = {(h["source"], h["entryId"]): h for h in body["hits"]}
    assert {("ofac_sdn", "15718"), ("un_sc", "6907993")} <= set(hits)
    sdn = hits[("ofac_sdn", "15718")]
    assert sdn["listedName"] == "BADEGE, Eric" and sdn["schema"] == "Person"
    assert re.fullmatch(r"[01]\.\d\d", sdn["score"]) and float(sdn["score"]) >= 0.7
    assert "Baddege" in sdn["explanation"] and "DOB 1971-05-02" in sdn["explanation"]
    # The versions used, newest publication first, each with its full content hash.
    store = ListStore(lists_dir)
    assert [(v["source"], v["sha256"]) for v in body["lists"]] == [
        ("un_sc", store.in_force("un_sc").sha256),  # type: ignore[union-attr]
        ("ofac_sdn", store.in_force("ofac_sdn").sha256),  # type: ignore[union-attr]
    ]
    table = run("Eric Baddege", "--dob", "1971-05-02", "--data-dir", str(lists_dir))
    assert table.exit_code == 0 and "15718" in table.stdout and "6907993" in table.stdout
    assert "un_sc 2026-02-27" in table.stdout


def test_a_listed_bic_given_as_id_scores_one(lists_dir: Path) -> None:
    assert "SWIFT/BIC HAVIGB2L" in raw_sdn_line("906")
    body = run_json(lists_dir, "--id", "HAVIGB2L")
    assert [(h["score"], h["source"], h["entryId"]) for h in body["hits"]] == [
        ("1.00", "ofac_sdn", "906")
    ]
    assert "BIC HAVIGB2L" in body["hits"][0]["explanation"]
    # A branch code of the same institution still finds it, and says so.
    branch = run_json(lists_dir, "--id", "HAVIGB2LXXX")["hits"][0]
    assert branch["entryId"] == "906" and "institution" in branch["explanation"]


def test_an_innocent_name_has_no_hits(lists_dir: Path) -> None:
    body = run_json(lists_dir, "Margaret Thompson", "--dob", "1980-02-03", "--country", "US")
    assert body["hits"] == []
    table = run("Margaret Thompson", "--data-dir", str(lists_dir))
    assert table.exit_code == 0 and "no hits at or above 0.70" in table.stdout


def test_a_lower_threshold_and_limit_bound_the_hits(lists_dir: Path) -> None:
    loose = run_json(lists_dir, "Mohammed Ali", "--threshold", "0.5", "--limit", "3")["hits"]
    assert 0 < len(loose) <= 3
    scores = [h["score"] for h in loose]
    assert scores == sorted(scores, reverse=True) and all(s >= "0.50" for s in scores)


def people_csv(path: Path) -> Path:
    path.write_text(
        "name,dob,country\n"
        "Eric Baddege,1971,CD\n"
        "Margaret Thompson,1980-02-03,US\n"
        "Havin Bank Limited,,GB\n"
        "Jonathan Wexley,1975-07-21,GB\n"
        "Priya Raman,,\n"
    )
    return path


def test_a_csv_of_five_names_prints_each_row_and_a_summary(lists_dir: Path, tmp_path: Path) -> None:
    people = people_csv(tmp_path / "people.csv")
    body = run_json(lists_dir, "--file", str(people))
    by_line = {r["line"]: r for r in body["rows"]}
    hits = sum(len(r["hits"]) for r in body["rows"])
    assert body["summary"] == {"file": str(people), "rows": 5, "rowsWithHits": 2, "hits": hits}
    assert {h["entryId"] for h in by_line[2]["hits"]} == {"15718", "6907993"}
    assert [h["entryId"] for h in by_line[4]["hits"]] == ["906"]
    assert [by_line[n]["hits"] for n in (3, 5, 6)] == [[], [], []]
    assert by_line[3]["query"] == {
        "name": "Margaret Thompson", "dob": "1980-02-03", "country": "US", "schema": "", "ids": [],
    }  # fmt: skip

    lines = run("--file", str(people), "--jsonl", "--data-dir", str(lists_dir))
    assert lines.exit_code == 0, lines.stderr
    printed = [json.loads(line) for line in lines.stdout.splitlines()]
    assert [r.get("line") for r in printed[:-1]] == [2, 3, 4, 5, 6]
    assert printed[-1]["summary"]["rowsWithHits"] == 2

    table = run("--file", str(people), "--data-dir", str(lists_dir))
    assert table.exit_code == 0
    assert "5 rows, 2 with hits" in table.stdout and "HAVIN BANK LIMITED" in table.stdout


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("full_name,dob\nEric,1971\n", "line 1 has no 'name' column"),
        ("name,dob\nEric Badege,1971\nAnn Lee,1980-13-01\n", "line 3: date of birth"),
        ("name,country\nAnn Lee,Russia\n", "line 2: country 'RUSSIA'"),
        ("name,dob\n,1971\n", "line 2: a name or an identifier"),
        # a quote never closed once swallowed the lines after it: their parties went unscreened
        (
            'name,dob,country\n"John Smith,1970,US\nManuel Antonio Noriega,1934,PA\n',
            "line 2: unexpected end of data",
        ),
        ('name,dob\n"Ann" Lee,1980\n', "line 2: ',' expected after '\"'"),
        ("name,name\nfoo,Manuel Noriega\n", "line 1 names a column twice"),
    ],
)
def test_a_malformed_csv_is_refused_naming_the_line(
    lists_dir: Path, tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(text)
    result = run("--file", str(path), "--data-dir", str(lists_dir))
    assert result.exit_code == 2 and problem in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["Ann Lee", "--dob", "1980-02-30"], "date of birth '1980-02-30'"),
        (["Ann Lee", "--schema", "Company"], "schema 'Company'"),
        (["Ann Lee", "--threshold", "1.5"], "threshold 1.5"),
        ([], "a name or an identifier"),
        (["Ann Lee", "--jsonl"], "--jsonl goes with --file"),
    ],
)
def test_bad_options_exit_2(lists_dir: Path, args: list[str], problem: str) -> None:
    result = run(*args, "--data-dir", str(lists_dir))
    assert result.exit_code == 2 and problem in " ".join(result.stderr.split())


def test_no_lists_loaded_exits_2_saying_how_to_load_one(tmp_path: Path) -> None:
    result = run("Eric Badege", "--data-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "load a list first: bourse lists load" in " ".join(result.stderr.split())
    missing = run("Eric Badege", "--data-dir", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "no data directory" in missing.stderr


@pytest.fixture
def server(tmp_path: Path, lists_dir: Path) -> Iterator[tuple[TestClient, Path]]:
    """An in-process server whose data directory holds the same lists as `lists_dir`."""
    dd = DataDir(tmp_path / "data")
    exchange = Exchange(dd, database_url=sqlite_url(tmp_path / "store.sqlite"))
    service = Service(exchange, TOKEN, SecretBox.at(dd.master_key_file))
    try:
        with TestClient(create_app(service)) as client:
            yield client, dd.path
    finally:
        exchange.close(snapshot_on_close=False)


def test_the_admin_route_answers_like_the_local_command(
    server: tuple[TestClient, Path], lists_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, data = server
    auth = {"Authorization": f"Bearer {TOKEN}"}
    query = {"queries": [{"name": "Eric Baddege", "dob": "1971-05-02"}]}
    empty = client.post("/admin/v1/screen", json=query, headers=auth)
    assert empty.status_code == 409 and "load a list first" in empty.json()["message"]
    assert client.post("/admin/v1/screen", json=query).status_code == 401
    bad = client.post("/admin/v1/screen", json={"queries": [{"name": "A", "country": "XX"}]},
                      headers=auth)  # fmt: skip
    assert bad.status_code == 400 and "'XX'" in bad.json()["message"]

    shutil.copytree(lists_dir / "lists", data / "lists")
    answer = client.post("/admin/v1/screen", json=query, headers=auth).json()
    local = run_json(lists_dir, "Eric Baddege", "--dob", "1971-05-02")
    assert answer["lists"] == local["lists"]
    assert answer["results"][0]["hits"] == local["hits"]

    # The CLI pointed at the server (--url) prints what it prints locally.
    def post(url: str, timeout: float, **kw: Any) -> Any:
        return client.post(url.removeprefix("http://testserver"), **kw)

    monkeypatch.setattr("httpx.post", post)  # screen imports httpx when it calls
    remote = ["--url", "http://testserver", "--token", TOKEN, "--data-dir", str(data)]
    assert run_json(data, "Eric Baddege", "--dob", "1971-05-02", *remote[:4]) == local
    people = people_csv(data.parent / "people.csv")
    from_server = run_json(data, "--file", str(people), *remote[:4])
    from_here = run_json(lists_dir, "--file", str(people))
    assert from_server == from_here and from_server["summary"]["rowsWithHits"] == 2

    # A new version in force is used by the next request (the cached index is rebuilt).
    ListStore(data).load("ofac_cons", DATA)
    again = client.post("/admin/v1/screen", json=query, headers=auth).json()
    assert "ofac_cons" in [v["source"] for v in again["lists"]]


def test_the_review_threshold_is_shown_set_and_used_by_default(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    ListStore(data).load("ofac_sdn", SDN)
    threshold = ["lists", "threshold", "--data-dir", str(data)]
    shown = CliRunner().invoke(app, [*threshold, "--json"])
    assert json.loads(shown.stdout)["reviewThreshold"] == "0.70"
    loose = run_json(data, "Viktor Bout")
    changed = CliRunner().invoke(app, [*threshold, "0.99"])
    assert changed.exit_code == 0 and "0.70 -> 0.99" in changed.stdout
    strict = run_json(data, "Viktor Bout")
    assert len(strict["hits"]) < len(loose["hits"])
    assert all(float(h["score"]) >= 0.99 for h in strict["hits"])
    refused = CliRunner().invoke(app, [*threshold, "0.3"])
    assert refused.exit_code == 2 and "not between 0.5 and 1" in refused.stderr


def test_a_device_is_not_read_as_a_csv(lists_dir: Path) -> None:
    result = run("--file", "/dev/zero", "--data-dir", str(lists_dir))  # it once never returned
    assert result.exit_code == 2 and "/dev/zero is not a file" in result.stderr
