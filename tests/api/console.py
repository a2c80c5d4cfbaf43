"""Signing in to the console in-process, for the console's page tests: a staff member added,
their login set up through a one-time link, a session opened with a fresh TOTP code."""

import re
from typing import Any

from bourse.commands import AddStaff
from bourse.compliance.staff import Role
from bourse.keys.console_login import code_at
from tests.api.conftest import Api
from tests.api.test_staff import OPERATOR

PASSWORD = "correct horse battery staple"
STEP_MS = 30_000


def add(api: Api, name: str, role: Role = Role.COMPLIANCE_OFFICER, **scope: Any) -> None:
    """A staff member, added as `bourse run` seeds its demo staff (AddStaff is four-eyed by
    default, and nobody could approve the first ones)."""
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in scope.items()}
    cmd = AddStaff(
        name=name,
        role=role,
        actor="system:genesis",
        ts_ms=api.service.clock(),
        reason="hired",
        **fields,
    )
    outcome = api.execute(cmd)
    assert not outcome.refused, outcome


def setup_link(api: Api, name: str) -> str:
    """The path of a new one-time setup link of `name`."""
    r = api.client.post(
        f"/admin/v1/staff/{name}/setup-link", json={"reason": "joined"}, headers=OPERATOR
    )
    assert r.status_code == 200, r.text
    link: str = r.json()["link"]
    return link.removeprefix("http://testserver")


def secret_of(html: str) -> str:
    found = re.search(r'data-secret="([A-Z2-7]{32})"', html)
    assert found, html
    return found.group(1)


def tick(api: Api) -> None:
    """The next TOTP time step: a code opens one session only."""
    now = api.service.clock()
    api.service.clock = lambda: now + STEP_MS  # type: ignore[method-assign]


def set_up(api: Api, name: str) -> str:
    """`name`'s console login, through their setup link; their TOTP secret."""
    page = api.client.get(setup_link(api, name))
    assert page.status_code == 200
    secret = secret_of(page.text)
    r = api.client.post(
        "/console/setup",
        data={
            "token": page.url.params["token"],
            "secret": secret,
            "password": PASSWORD,
            "confirm": PASSWORD,
            "code": code_at(secret, api.service.clock()),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return secret


def log_in(api: Api, name: str, secret: str, **overrides: Any) -> Any:
    """POST the login form with the next code (`overrides` replace fields)."""
    tick(api)
    fields = {"name": name, "password": PASSWORD, "code": code_at(secret, api.service.clock())}
    return api.client.post("/console/login", data={**fields, **overrides}, follow_redirects=False)


def sign_in(api: Api, name: str, role: Role = Role.COMPLIANCE_OFFICER, **scope: Any) -> str:
    """`name` added, set up and signed in (the client holds the session cookie; sign in as
    someone else to switch); the session's form token, for the `csrf` field of a POST."""
    if name not in api.service.view.staff:
        add(api, name, role, **scope)
    api.client.cookies.clear()
    secret = set_up(api, name)
    r = log_in(api, name, secret)
    assert r.status_code == 303, r.text
    return csrf(api.client.get("/console/").text)


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)
