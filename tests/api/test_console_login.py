"""Console logins in-process: a one-time setup link, a password (argon2id) and a TOTP second
factor, sessions that end at logout and at offboarding, and every bad input refused next to
its field with nothing changed."""

import re

import pytest

from bourse.compliance.staff import Role, TokenKind
from bourse.keys.console_login import code_at
from bourse.keys.staff_tokens import token_digest
from tests.api.conftest import Api
from tests.api.console import PASSWORD, add, log_in, secret_of, set_up, setup_link
from tests.api.test_staff import OPERATOR


def test_a_setup_link_lets_a_person_choose_a_password_and_a_second_factor(api: Api) -> None:
    add(api, "olga")
    link = setup_link(api, "olga")
    page = api.client.get(link)
    assert page.status_code == 200
    assert "<svg" in page.text  # the QR code, drawn on the server
    secret = secret_of(page.text)
    token = page.url.params["token"]
    base = {"token": token, "secret": secret, "code": code_at(secret, api.service.clock())}
    # bad input: each refused next to its field, the link still unused
    short = api.client.post(
        "/console/setup", data={**base, "password": "short", "confirm": "short"}
    )
    assert short.status_code == 400
    assert 'id="e-password"' in short.text and "at least 12 characters" in short.text
    differ = api.client.post(
        "/console/setup", data={**base, "password": PASSWORD, "confirm": PASSWORD + "!"}
    )
    assert differ.status_code == 400 and "the two passwords differ" in differ.text
    wrong = api.client.post(
        "/console/setup", data={**base, "password": PASSWORD, "confirm": PASSWORD, "code": "000000"}
    )
    assert wrong.status_code == 400 and 'id="e-code"' in wrong.text
    member = api.service.view.staff["olga"]
    assert member.password_hash == ""
    ok = api.client.post(
        "/console/setup",
        data={**base, "password": PASSWORD, "confirm": PASSWORD},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert member.password_hash.startswith("$argon2id$")
    assert secret not in member.totp_sealed and PASSWORD not in member.password_hash
    # the link worked once
    again = api.client.get(link)
    assert again.status_code == 404 and "used already" in again.text
    assert (
        api.service.view.staff_token(token_digest(token), api.service.clock(), TokenKind.SETUP)
        is None
    )


def test_a_login_needs_the_password_and_a_fresh_code_and_ends_at_logout(api: Api) -> None:
    add(api, "olga")
    secret = set_up(api, "olga")
    assert (
        api.client.get("/console/", follow_redirects=False).headers["location"] == "/console/login"
    )
    wrong_password = log_in(api, "olga", secret, password="not the password at all")
    assert wrong_password.status_code == 400
    assert "name, password or code is wrong" in wrong_password.text
    wrong_code = log_in(api, "olga", secret, code="123456")
    assert wrong_code.status_code == 400 and "name, password or code is wrong" in wrong_code.text
    malformed = log_in(api, "olga", secret, code="12ab")
    assert malformed.status_code == 400 and 'id="e-code"' in malformed.text
    unknown = log_in(api, "nobody", secret)
    assert unknown.status_code == 400 and "name, password or code is wrong" in unknown.text
    assert not any(
        t.kind is TokenKind.SESSION for t in api.service.view.staff["olga"].tokens.values()
    )
    r = log_in(api, "olga", secret)
    assert r.status_code == 303 and r.headers["location"] == "/console/"
    cookie = api.client.cookies.get("bourse_console")
    assert cookie
    page = api.client.get("/console/")
    assert page.status_code == 200 and "Dashboard" in page.text and "olga" in page.text
    # the same code a second time opens nothing: it was used
    api.client.cookies.clear()
    now = api.service.clock()
    replay = api.client.post(
        "/console/login",
        data={"name": "olga", "password": PASSWORD, "code": code_at(secret, now)},
        follow_redirects=False,
    )
    assert replay.status_code == 400 and "already used" in replay.text
    api.client.cookies.set("bourse_console", cookie, path="/console")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    forged = api.client.post("/console/logout", data={"csrf": "forged"}, follow_redirects=False)
    assert forged.status_code == 403  # a form from elsewhere ends nothing
    out = api.client.post("/console/logout", data={"csrf": csrf.group(1)}, follow_redirects=False)
    assert out.status_code == 303
    api.client.cookies.set("bourse_console", cookie, path="/console")
    after = api.client.get("/console/", follow_redirects=False)
    assert after.status_code == 303  # the session ended with the logout


def test_an_offboarded_persons_session_is_refused_at_once(api: Api) -> None:
    add(api, "olga")
    add(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    secret = set_up(api, "olga")
    assert log_in(api, "olga", secret).status_code == 303
    assert api.client.get("/console/").status_code == 200
    r = api.client.post(
        "/admin/v1/staff/olga/offboard",
        json={"reason": "left the company", "reassignTo": "sid"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text
    refused = api.client.get("/console/", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/console/login"
    api.client.cookies.clear()
    again = log_in(api, "olga", secret)
    assert again.status_code == 400  # nor can they sign in again


def test_failed_logins_are_throttled_per_name(api: Api) -> None:
    add(api, "olga")
    secret = set_up(api, "olga")
    for _ in range(5):
        assert log_in(api, "olga", secret, password="wrong password here").status_code == 400
    blocked = log_in(api, "olga", secret)
    assert blocked.status_code == 400 and "too many failed attempts" in blocked.text


@pytest.mark.parametrize("kind", [TokenKind.API, TokenKind.SETUP], ids=["api-token", "setup-link"])
def test_only_a_session_opens_the_console_and_only_an_api_token_the_admin_api(
    api: Api, kind: TokenKind
) -> None:
    add(api, "olga")
    if kind is TokenKind.API:
        r = api.client.post("/admin/v1/staff/olga/tokens", json={"reason": "cli"}, headers=OPERATOR)
        token = r.json()["token"]
    else:
        token = setup_link(api, "olga").split("token=")[1]
    api.client.cookies.set("bourse_console", token, path="/console")
    assert api.client.get("/console/", follow_redirects=False).status_code == 303
    admin = api.client.get("/admin/v1/alerts", headers={"Authorization": f"Bearer {token}"})
    assert admin.status_code == (200 if kind is TokenKind.API else 401)


def test_a_page_that_does_not_exist_is_a_page_saying_so(api: Api) -> None:
    r = api.client.get("/console/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "no such page" in r.text
    assert api.client.get("/api/v3/no-such-route").json()["code"] == -1000  # Binance's elsewhere


def test_pages_are_never_framed_cached_or_referred_elsewhere(api: Api) -> None:
    page = api.client.get("/console/login")
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
