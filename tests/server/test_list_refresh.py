"""Sanctions lists from URLs: `bourse lists load SOURCE URL`, `bourse lists refresh`, and the
scheduled refresh of `bourse run --refresh-lists`, all against a loopback mirror of the shared
publications (the official URLs are the default where the machine has a network)."""

import email.utils
import functools
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from bourse.bench.screening_bench import DATA, SDN_FILE, UN_FILE
from bourse.compliance.sanctions.entries import ListFormatError
from bourse.compliance.sanctions.versions import ListSourceError, ListStore
from bourse.workers.list_fetch import OFFICIAL_URLS, fetch_and_load, mirror_urls
from tests.api.test_screening_flow import LISTED, NEW_ROW
from tests.net import free_port, http
from tests.server.server import Server, run_cli

CONS = [f"ofac_cons_{part}.csv" for part in ("prim", "alt", "add", "comments")]
PUBLISHED = "2021-08-18"  # the mirror's Last-Modified date


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class Mirror:
    """A loopback HTTP server over a directory holding copies of the shared publications."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        for name in (SDN_FILE, UN_FILE, *CONS):
            self.put(name, (DATA / name).read_bytes())
        handler = functools.partial(_Quiet, directory=str(root))
        self.http = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.base = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def put(self, name: str, data: bytes) -> None:
        path = self.root / name
        path.write_bytes(data)
        stamp = email.utils.parsedate_to_datetime("Wed, 18 Aug 2021 12:00:00 GMT").timestamp()
        os.utime(path, (stamp, stamp))  # served as Last-Modified

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def options(self, un: str = UN_FILE) -> list[str]:
        """--list-url/--url options for all three lists."""
        cons = ",".join(self.url(n) for n in CONS)
        return [
            f"ofac_sdn={self.url(SDN_FILE)}",
            f"ofac_cons={cons}",
            f"un_sc={self.url(un)}",
        ]


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[Mirror]:
    m = Mirror(tmp_path / "mirror")
    yield m
    m.http.shutdown()
    m.http.server_close()


def _sdn_with_listed() -> bytes:
    data = (DATA / SDN_FILE).read_bytes()
    return data[:-1] + NEW_ROW.encode() + b"\r\n\x1a"


def test_each_list_loads_from_its_urls(mirror: Mirror, tmp_path: Path) -> None:
    store = ListStore(tmp_path / "data")
    sdn = fetch_and_load(store, "ofac_sdn", [mirror.url(SDN_FILE)])
    assert not sdn.already_current and len(sdn.version.entries) > 5000
    assert sdn.version.origin == mirror.url(SDN_FILE)
    assert sdn.version.published == PUBLISHED  # from Last-Modified
    assert (
        sdn.version.content_sha256 == store.load("ofac_sdn", DATA / SDN_FILE).version.content_sha256
    )
    cons = fetch_and_load(store, "ofac_cons", [mirror.url(n) for n in CONS])
    assert len(cons.version.entries) > 100 and cons.version.published == PUBLISHED
    un = fetch_and_load(store, "un_sc", [mirror.url(UN_FILE)])
    assert un.version.published == "2026-02-27"  # the XML states its own date
    again = fetch_and_load(store, "ofac_sdn", [mirror.url(SDN_FILE)])
    assert again.already_current


def test_a_failed_or_malformed_download_keeps_the_version_in_force(
    mirror: Mirror, tmp_path: Path
) -> None:
    store = ListStore(tmp_path / "data")
    fetch_and_load(store, "ofac_sdn", [mirror.url(SDN_FILE)])
    before = store.in_force("ofac_sdn")
    with pytest.raises(ListSourceError, match="answered HTTP 404"):
        fetch_and_load(store, "ofac_sdn", [mirror.url("missing.csv")])
    mirror.put("broken.csv", b'1,"ONLY TWO COLUMNS"\r\n')
    with pytest.raises(ListFormatError) as refused:
        fetch_and_load(store, "ofac_sdn", [mirror.url("broken.csv")])
    assert refused.value.origin == mirror.url("broken.csv") and "line 1" in str(refused.value)
    with pytest.raises(ListSourceError, match="four URLs"):
        fetch_and_load(store, "ofac_cons", [mirror.url(CONS[0])])
    with pytest.raises(ListSourceError, match="cannot download"):
        fetch_and_load(store, "un_sc", [f"http://127.0.0.1:{free_port()}/un.xml"], timeout=5)
    assert store.in_force("ofac_sdn") == before


def test_official_urls_and_mirror_options() -> None:
    assert set(OFFICIAL_URLS) == {"ofac_sdn", "ofac_cons", "un_sc"}
    assert all(u.startswith("https://") for urls in OFFICIAL_URLS.values() for u in urls)
    assert len(OFFICIAL_URLS["ofac_cons"]) == 4
    assert mirror_urls(["un_sc=http://m/un.xml", "ofac_cons=http://a, http://b"]) == {
        "un_sc": ["http://m/un.xml"],
        "ofac_cons": ["http://a", "http://b"],
    }
    for bad in ("un_sc", "eu_fsf=http://m", "un_sc="):
        with pytest.raises(ListSourceError, match="SOURCE=URL"):
            mirror_urls([bad])


def test_cli_load_from_a_url_and_refresh_everything(mirror: Mirror, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    done = run_cli(
        "lists", "load", "ofac_sdn", mirror.url(SDN_FILE), "--json", "--data-dir", str(data)
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"]["origin"] == mirror.url(SDN_FILE)
    args = ["lists", "refresh", "--json", "--data-dir", str(data)]
    for option in mirror.options(un="missing.xml"):
        args += ["--url", option]
    done = run_cli(*args)
    assert done.returncode == 1, done.stderr  # one list failed
    results = {r["source"]: r for r in json.loads(done.stdout)["results"]}
    assert results["ofac_sdn"]["status"] == "unchanged"
    assert results["ofac_cons"]["status"] == "loaded" and results["ofac_cons"]["added"] > 100
    assert results["un_sc"]["status"] == "failed" and "404" in results["un_sc"]["problem"]
    mixed = run_cli(
        "lists",
        "load",
        "ofac_sdn",
        mirror.url(SDN_FILE),
        str(DATA / SDN_FILE),
        "--data-dir",
        str(data),
    )
    assert mixed.returncode == 2 and "not both" in mixed.stderr


def test_a_refresh_refuses_an_empty_download_and_keeps_the_version_in_force(
    mirror: Mirror, tmp_path: Path
) -> None:
    data = tmp_path / "new-data"  # not there yet: a refresh creates it
    store = ListStore(data)
    args = ["lists", "refresh", "--json", "--data-dir", str(data)]
    for option in mirror.options():
        args += ["--url", option]
    assert run_cli(*args).returncode == 0
    in_force = store.in_force("ofac_sdn")
    mirror.put(SDN_FILE, b"")
    done = run_cli(*args)
    assert done.returncode == 1, done.stderr
    results = {r["source"]: r for r in json.loads(done.stdout)["results"]}
    assert results["ofac_sdn"]["status"] == "refused"
    assert "would remove 9,083 of the 9,083 entries" in results["ofac_sdn"]["problem"]
    assert results["un_sc"]["status"] == "unchanged"
    assert store.in_force("ofac_sdn") == in_force


@pytest.mark.slow
def test_the_server_refreshes_at_start_and_a_change_rescreens(
    mirror: Mirror, tmp_path: Path, shape: tuple[str, ...]
) -> None:
    """In both shapes: with gateway processes, the refresh an operator asks for is made by the
    gateway that takes the request, from the same mirror."""
    args = ["--refresh-lists", "24", *shape]
    for option in mirror.options(un="missing.xml"):
        args += ["--list-url", option]
    server = Server(tmp_path / "data", *args)
    try:
        store = ListStore(server.data_dir)
        deadline = time.monotonic() + 60
        while store.in_force("ofac_cons") is None:  # the first pass runs in the background
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        assert "sanctions lists refreshed every 24 h" in server.output()
        onboard = {
            "legal_name": LISTED,
            "date_of_birth": "1980-03-14",
            "nationality": "DE",
            "residence": "DE",
            "reason": "KYC approved",
        }
        admin = f"{server.url}/admin/v1"
        r = http.post(f"{admin}/customers", json=onboard, headers=server.headers, timeout=30)
        assert r.status_code == 200, r.text
        mirror.put(SDN_FILE, _sdn_with_listed())
        r = http.post(f"{admin}/lists/refresh", headers=server.headers, timeout=120)
        assert r.status_code == 200, r.text
        body = r.json()
        statuses = {x["source"]: x["status"] for x in body["results"]}
        assert statuses == {"ofac_sdn": "loaded", "ofac_cons": "unchanged", "un_sc": "failed"}
        assert (
            body["rescreen"]["mode"] == "incremental" and body["rescreen"]["entriesScreened"] == 1
        )
        assert len(body["rescreen"]["alertsRaised"]) == 1
        again = http.post(f"{admin}/lists/refresh", headers=server.headers, timeout=120).json()
        assert again["rescreen"] is None
        assert "un_sc kept as it was" in server.output()
    finally:
        server.stop()


def test_bad_refresh_options_exit_2(tmp_path: Path) -> None:
    done = run_cli(
        "run",
        "--data-dir",
        str(tmp_path / "d"),
        "--refresh-lists",
        "1",
        "--list-url",
        "xx=http://m",
    )
    assert done.returncode == 2 and "SOURCE=URL" in done.stderr
    shutil.rmtree(tmp_path / "d", ignore_errors=True)


@pytest.mark.slow
def test_the_guard_holds_on_a_running_server_until_an_operator_forces_it(
    mirror: Mirror, tmp_path: Path
) -> None:
    args = ["--refresh-lists", "24"]
    for option in mirror.options(un="missing.xml"):
        args += ["--list-url", option]
    server = Server(tmp_path / "data", *args)
    try:
        store = ListStore(server.data_dir)
        deadline = time.monotonic() + 60
        while store.in_force("ofac_cons") is None:  # the first pass runs in the background
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.1)
        full = store.in_force("ofac_sdn")
        assert full is not None and full.entries == 9083
        mirror.put(SDN_FILE, b"")  # a 0-byte publication: a failed export, not a delisting

        def refresh(body: object = None) -> httpx.Response:
            url = f"{server.url}/admin/v1/lists/refresh"
            return http.post(url, json=body, headers=server.headers, timeout=120)

        r = refresh()
        assert r.status_code == 200, r.text
        sdn = next(x for x in r.json()["results"] if x["source"] == "ofac_sdn")
        assert sdn["status"] == "refused" and "9,083 of the 9,083" in sdn["detail"]
        assert store.in_force("ofac_sdn") == full
        assert "ofac_sdn REFUSED" in server.output()

        for bad, error, words in [  # the admin API's errors: {"error": NAME, "message": ...}
            ({"force": ["ofac_eu"], "reason": "x"}, "BAD_REQUEST", "not ofac_eu"),
            ({"force": ["ofac_sdn"]}, "REASON_REQUIRED", "needs a reason"),
            ({"forse": []}, "BAD_REQUEST", "forse"),
        ]:
            r = refresh(bad)
            assert r.status_code == 400, r.text
            assert r.json()["error"] == error and words in r.json()["message"], r.text
        assert store.in_force("ofac_sdn") == full

        reason = "OFAC withdrew the SDN publication (test)"
        r = refresh({"force": ["ofac_sdn"], "reason": reason})
        assert r.status_code == 200, r.text
        statuses = {x["source"]: x["status"] for x in r.json()["results"]}
        assert statuses["ofac_sdn"] == "loaded" and statuses["ofac_cons"] == "unchanged"
        forced = store.in_force("ofac_sdn")
        assert forced is not None and forced.entries == 0
        assert (forced.forced_by, forced.reason) == ("operator", reason)
        assert forced.journal_seq > 0

        # `bourse lists load --force` on a running server journals through it.
        mirror.put(SDN_FILE, (DATA / SDN_FILE).read_bytes())
        assert refresh().status_code == 200  # the full list back: no shrink, no force
        back = store.in_force("ofac_sdn")
        assert back is not None and back.sha256 == full.sha256 and not back.forced_by
        empty = tmp_path / "empty.csv"
        empty.write_bytes(b"")
        dd = ["--data-dir", str(server.data_dir)]
        refused = run_cli("lists", "load", "ofac_sdn", str(empty), *dd)
        assert refused.returncode == 1 and "--force" in refused.stderr
        done = run_cli(
            "lists", "load", "ofac_sdn", str(empty), "--force", "--reason", reason, "--json", *dd
        )
        assert done.returncode == 0, done.stderr
        by_cli = json.loads(done.stdout)["forced"]
        assert by_cli["by"] == "operator" and by_cli["seq"] > forced.journal_seq
    finally:
        server.stop()
