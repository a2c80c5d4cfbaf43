"""The founders of a new exchange: `bourse staff bootstrap` on the data directory prints a
one-time setup link (there is no default password); the person chooses a password and a TOTP
second factor there and signs in to the console of the running server. Two founders, since
adding staff is four-eyed, and then no more."""

import re
from pathlib import Path

import httpx
import pytest

from bourse.keys.console_login import code_at
from bourse.server.exchange import now_ms
from tests.server.server import Server, run_cli

pytestmark = pytest.mark.slow
PASSWORD = "a long passphrase for the first operator"


def test_bootstrap_prints_a_link_once_and_its_person_signs_in_to_the_console(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    done = run_cli("staff", "bootstrap", "root", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    link = re.search(r"http://127\.0\.0\.1:8000/console/setup\?token=(\S+)", done.stdout)
    assert link, done.stdout
    token = link.group(1)
    # a second founder approves the first's staff changes (four eyes); a third is refused
    support = run_cli("staff", "bootstrap", "sam", "--role", "support", "--data-dir", str(data))
    assert support.returncode == 2 and "a founder approves staff changes" in support.stderr
    second = ("staff", "bootstrap", "sid", "--role", "senior_compliance_officer")
    assert run_cli(*second, "--data-dir", str(data)).returncode == 0
    again = run_cli("staff", "bootstrap", "eve", "--data-dir", str(data))
    said = " ".join(again.stderr.split())
    assert again.returncode == 2 and "root and sid already approve each other's" in said

    server = Server(data, four_eyes=True)
    try:
        assert f"console         {server.url}/console" in server.output()
        busy = run_cli("staff", "bootstrap", "eve", "--data-dir", str(data))
        assert busy.returncode == 2 and "stop the server first" in " ".join(busy.stderr.split())
        with httpx.Client(base_url=server.url, follow_redirects=True) as web:
            page = web.get("/console/setup", params={"token": token})
            assert page.status_code == 200
            found = re.search(r'data-secret="([A-Z2-7]{32})"', page.text)
            assert found
            secret = found.group(1)
            fields = {"token": token, "secret": secret, "password": PASSWORD, "confirm": PASSWORD}
            # the code the app shows now confirms the secret; the next one signs in
            now = now_ms()
            r = web.post("/console/setup", data={**fields, "code": code_at(secret, now)})
            assert r.status_code == 200 and "Sign in" in r.text, r.text  # followed the redirect
            login = {"name": "root", "password": PASSWORD, "code": code_at(secret, now + 30_000)}
            r = web.post("/console/login", data=login)
            assert r.status_code == 200 and "Dashboard" in r.text and "root" in r.text, r.text
            assert web.get("/console/setup", params={"token": token}).status_code == 404
    finally:
        server.stop()
