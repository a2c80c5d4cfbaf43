"""What the user types never steers the admin API elsewhere, and bad input is a clear CLI error.

In process, against a fake httpx that records each request and answers it: a value typed into a
command is ONE path segment (a `?`, `#`, `..` or `/` in it never reaches another route or the
query), an empty one is refused before any request, and so are a too-long reason, an empty
update, a team with no name, a tampered saved preview, a binary "PEM" file and an empty --at.
"""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from bourse.cli import app

URL = ("--url", "http://bourse.test", "--token", "t0k")
BANK = ("--name", "n", "--country", "DE", "--currencies", "EUR", "--serves", "DE")
PARTNER = ("--name", "n", "--kind", "PROCESSOR", "--currencies", "EUR", "--serves", "DE")
STOP = {"error": "THING_NOT_FOUND", "message": "stop here"}  # what the fake answers by default


class FakeServer:
    """httpx.request/get as the CLI calls them: each request kept, answered with `answer`."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []
        self.status = 404
        self.answer: Any = STOP
        self.content = b""

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        sent = httpx.Request(
            method, url, params=kw.get("params"), json=kw.get("json"), content=kw.get("content")
        )
        self.sent.append(sent)
        if self.answer is None:
            return httpx.Response(self.status, content=self.content, request=sent)
        return httpx.Response(self.status, json=self.answer, request=sent)

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    @property
    def paths(self) -> list[str]:
        return [r.url.raw_path.split(b"?")[0].decode() for r in self.sent]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeServer:
    server = FakeServer()
    monkeypatch.setattr(httpx, "request", server.request)
    monkeypatch.setattr(httpx, "get", server.get)
    monkeypatch.chdir(tmp_path)
    return server


def bourse(*args: str) -> Result:
    return CliRunner().invoke(app, [*args, *URL])


def said(result: Result) -> str:
    """What the command printed on stderr, on one line (Rich wraps long lines)."""
    return " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("argv", "path"),
    [
        (["venues", "define", "v1?x=1", "--name", "n"], "/venues/v1%3Fx%3D1"),
        (["staff", "revoke-token", "bob", "a?b#c"], "/staff/bob/tokens/a%3Fb%23c"),
        (["staff", "token", ".."], "/staff/%2E%2E/tokens"),
        (["staff", "setup-link", "."], "/staff/%2E/setup-link"),
        (["staff", "change", "a b%2F", "--role", "support"], "/staff/a%20b%252F"),
        (["staff", "offboard", "x?"], "/staff/x%3F/offboard"),
        (["keys", "revoke", "k#1"], "/keys/k%231"),
        (
            [
                "banks",
                "define",
                " COBA?DEFF ",
                *BANK,
            ],
            "/banks/COBA%3FDEFF",
        ),
        (["banks", "suspend", ".."], "/banks/%2E%2E/suspension"),
        (
            [
                "partners",
                "define",
                "bad code",
                *PARTNER,
            ],
            "/partners/bad%20code",
        ),
        (["partners", "end-preview", "P?"], "/partners/P%3F/end/preview"),
        (["prices", "set", "bt?c", "eur#", "1"], "/reference-prices/BT%3FC/EUR%23"),
        (["policy", "reverse", "r?"], "/policies/RESIDENCE/R%3F/reversal/preview"),
    ],
)
def test_what_the_user_types_is_one_path_segment(
    fake: FakeServer, argv: list[str], path: str
) -> None:
    previews = argv[:2] in (["policy", "reverse"], ["partners", "end-preview"])  # no reason
    done = bourse(*argv, *([] if previews else ["--reason", "why"]))
    assert fake.paths == [f"/admin/v1{path}"], done.output
    assert done.exit_code == 1 and said(done) == "error: stop here"


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["staff", "revoke-token", "bob", "../../../policies/schedule/1"], "the token id"),
        (["staff", "token", "../customers/3/accounts?"], "the staff name"),
        (
            [
                "partners",
                "define",
                "bad code/with slash",
                *PARTNER,
            ],
            "the partner code",
        ),
        # the server decodes %2F before routing: this would reach PUT /banks/X/suspension
        (
            [
                "banks",
                "define",
                "X/suspension",
                *BANK,
            ],
            "the BIC",
        ),
    ],
)
def test_a_slash_in_a_value_is_refused_before_any_request(
    fake: FakeServer, argv: list[str], what: str
) -> None:
    done = bourse(*argv, "--reason", "why")
    assert fake.sent == [] and done.exit_code == 2, done.output
    assert said(done).startswith(f"error: {what} ") and "cannot contain '/'" in said(done)


@pytest.mark.parametrize(
    ("argv", "what"),
    [
        (["venues", "define", "", "--name", "n", "--reason", "r"], "the venue code"),
        (["staff", "change", "", "--role", "support", "--reason", "r"], "the staff name"),
        (["staff", "revoke-token", "bob", "", "--reason", "r"], "the token id"),
        (["staff", "revoke-token", " ", "t1", "--reason", "r"], "the staff name"),
        (["staff", "token", "", "--reason", "r"], "the staff name"),
        (["staff", "setup-link", "", "--reason", "r"], "the staff name"),
        (["staff", "offboard", "", "--reason", "r"], "the staff name"),
        (["staff", "offboard-many", "a", ""], "a staff name"),
        (
            [
                "banks",
                "define",
                "",
                *BANK,
                "--reason",
                "r",
            ],
            "the BIC",
        ),
        (["banks", "suspend", "", "--reason", "r"], "the BIC"),
        (["banks", "resume", " ", "--reason", "r"], "the BIC"),
        (["banks", "cut-off-preview", "", "--cause", "sanctioned"], "the BIC"),
        (
            [
                "partners",
                "define",
                "",
                *PARTNER,
                "--reason",
                "r",
            ],
            "the partner code",
        ),
        (["partners", "end-preview", ""], "the partner code"),
        (
            [
                "partners",
                "deposit",
                "",
                "--card",
                "1",
                "--amount",
                "1",
                "--currency",
                "EUR",
                "--ref",
                "x",
                "--reason",
                "r",
            ],
            "the partner code",
        ),
        (["prices", "set", "", "USDT", "1", "--reason", "r"], "the asset"),
        (["prices", "set", "BTC", "", "1", "--reason", "r"], "the quote asset"),
        (["keys", "revoke", "", "--reason", "r"], "the API key"),
        (["policy", "reverse", ""], "the country"),
        (["customers", "update", "4", "--reason", "r", "--name", ""], "--name"),
        (["customers", "update", "4", "--reason", "r", "--nationality", ""], "--nationality"),
        (["customers", "update", "4", "--reason", "r", "--residence", " "], "--residence"),
        (["staff", "assign", "proposal:25", "--to", "", "--reason", "r"], "--to"),
    ],
)
def test_an_empty_value_is_refused_before_any_request(
    fake: FakeServer, argv: list[str], what: str
) -> None:
    done = bourse(*argv)
    assert fake.sent == [] and done.exit_code == 2, done.output
    assert said(done).startswith(f"error: {what} must not be empty"), said(done)


@pytest.mark.parametrize(
    "argv",
    [
        ["staff", "assign", "proposal:25", "--to", "team:"],
        ["staff", "assign", "proposal:25", "--to", "staff: "],
        ["staff", "offboard", "bob", "--reassign-to", "team:"],
        ["staff", "offboard-many", "bob", "--reassign-to", "team:"],
    ],
)
def test_a_team_or_colleague_without_a_name_is_refused(fake: FakeServer, argv: list[str]) -> None:
    done = bourse(*argv, "--reason", "r")
    assert fake.sent == [] and done.exit_code == 2, done.output
    assert "names no" in said(done) and ":NAME" in said(done)


@pytest.mark.parametrize(
    "argv",
    [
        ["customers", "open-account", "1"],
        ["staff", "offboard", "bob"],
        ["venues", "define", "V1", "--name", "n"],
    ],
)
def test_a_reason_over_500_characters_is_refused_saying_so(
    fake: FakeServer, argv: list[str]
) -> None:
    done = bourse(*argv, "--reason", "x" * 501)
    assert fake.sent == [] and done.exit_code == 2, done.output
    assert said(done) == "error: the reason is 501 characters; at most 500"
    assert "required" not in said(done)


def test_a_reason_in_the_query_is_checked_too(fake: FakeServer) -> None:
    done = bourse("keys", "revoke", "k1", "--reason", "y" * 600)
    assert fake.sent == [] and said(done) == "error: the reason is 600 characters; at most 500"
    done = bourse("keys", "revoke", "k1", "--reason", "y" * 500)  # the longest it takes
    assert fake.paths == ["/admin/v1/keys/k1"] and said(done) == "error: stop here"


def test_a_route_nobody_serves_names_the_request_not_a_bare_not_found(fake: FakeServer) -> None:
    fake.answer = {"error": "NOT_FOUND", "message": "Not Found"}  # the framework's own 404
    done = bourse("venues", "define", "V1", "--name", "n", "--reason", "r")
    assert done.exit_code == 1
    assert said(done) == (
        "error: PUT /admin/v1/venues/V1 failed: the server answered HTTP 404 Not Found"
    )
    fake.answer, fake.status = None, 307  # a redirect with no body
    done = bourse("staff", "token", "bob", "--reason", "r")
    assert said(done) == (
        "error: POST /admin/v1/staff/bob/tokens failed: the server answered "
        "HTTP 307 Temporary Redirect"
    )
    fake.answer, fake.status = {"error": "STAFF_NOT_FOUND", "message": "no staff bob"}, 404
    assert said(bourse("staff", "token", "bob", "--reason", "r")) == "error: no staff bob"


def test_offboarding_a_name_twice_counts_them_once(fake: FakeServer) -> None:
    fake.status = 200
    fake.answer = {"moves": [], "tokensEnded": ["t1", "t2"], "proposalsWithdrawn": [],
                   "refused": False, "why": "", "previewId": "p1"}  # fmt: skip
    done = bourse("staff", "offboard-many", "demo.officer", "demo.officer", "x")
    assert done.exit_code == 0, done.output
    [sent] = fake.sent
    assert json.loads(sent.content)["names"] == ["demo.officer", "x"]
    assert "named more than once, counted once: demo.officer" in said(done)


def test_pain001_writes_a_file_or_stdout_and_refuses_a_directory(
    fake: FakeServer, tmp_path: Path
) -> None:
    fake.status, fake.answer, fake.content = 200, None, b"<Document/>"
    done = bourse("banks", "pain001", "1", "-")
    assert done.exit_code == 0, done.output
    assert done.stdout == "<Document/>" and not (tmp_path / "-").exists()
    assert bourse("banks", "pain001", "1", "out.xml").exit_code == 0
    assert (tmp_path / "out.xml").read_bytes() == b"<Document/>"
    for where in (str(tmp_path), ""):
        done = bourse("banks", "pain001", "1", where)
        assert done.exit_code == 2 and "is not a file to write" in said(done), done.output
    done = bourse("banks", "pain001", "1", str(tmp_path / "missing" / "x.xml"))
    assert done.exit_code == 2 and done.exception is not None  # typer.Exit, not a traceback
    assert isinstance(done.exception, SystemExit), done.exception
    assert "cannot write" in said(done) and "No such file or directory" in said(done)
    helped = CliRunner().invoke(app, ["banks", "pain001", "--help"]).stdout
    assert "to stdout given -" in " ".join(helped.split())


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("x", "its spec is not an object"),
        ([1], "its spec is not an object"),
        ({}, "its spec has no {field}"),
        ({"bic": 5, "partner": 5}, "its spec's {field} is 5, not a code"),
        ({"bic": "", "partner": ""}, 'its spec\'s {field} is "", not a code'),
    ],
)
@pytest.mark.parametrize(
    ("command", "field"), [(["banks", "cut-off"], "bic"), (["partners", "end"], "partner")]
)
def test_a_tampered_saved_preview_names_the_file_and_the_field(
    fake: FakeServer, tmp_path: Path, spec: Any, problem: str, command: list[str], field: str
) -> None:
    saved = tmp_path / "preview.json"
    saved.write_text(json.dumps({"spec": spec, "preview_id": "p", "previewed": {}}))
    done = bourse(*command, str(saved), "--reason", "r")
    assert fake.sent == [] and done.exit_code == 2, done.output
    assert isinstance(done.exception, SystemExit), done.exception
    assert said(done).startswith(f"error: {saved} is not a saved preview")
    assert said(done).endswith(problem.format(field=field))


def test_a_public_key_that_is_not_text_is_refused(fake: FakeServer, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)))
    done = bourse("keys", "create", "--account", "1", "--ed25519-public-key", str(garbage),
                  "--reason", "r")  # fmt: skip
    assert fake.sent == [] and done.exit_code == 2, done.output
    assert isinstance(done.exception, SystemExit), done.exception
    assert said(done) == f"error: {garbage} is not a PEM file (not text): give the Ed25519 " + (
        "public key as PEM"
    )


@pytest.mark.parametrize("at", ["", "  "])
def test_an_empty_schedule_time_is_refused(fake: FakeServer, tmp_path: Path, at: str) -> None:
    saved = tmp_path / "policy.json"
    saved.write_text(json.dumps({"spec": {"name": "x"}, "preview_id": "p", "previewed": {}}))
    done = bourse("policy", "schedule", str(saved), "--at", at, "--reason", "r")
    assert fake.sent == [] and done.exit_code == 2, done.output
    assert said(done).startswith("error: --at must not be empty")
