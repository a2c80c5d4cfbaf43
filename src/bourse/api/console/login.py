"""The console's login desk: a person's one-time setup link (choose a password and a TOTP
second factor), logging in with both, and logging out.

The desk checks the password (argon2id) and the code (TOTP) here, at the edge, and sends the
engine only their results: `SetStaffCredentials` (a hash and a sealed secret) and
`OpenStaffSession` (a session token's SHA-256, and the code's time step, which the engine lets
open one session only). Both are sent as "system:console", which nothing else may send as.
"""

import functools
import io
from collections import deque

import segno
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from bourse.api.console.web import (
    COOKIE,
    PREFIX,
    Forbidden,
    OfficerDep,
    Sent,
    form,
    redirect,
    render,
)
from bourse.api.deps import ServiceDep
from bourse.commands import OpenStaffSession, RevokeStaffToken, SetStaffCredentials
from bourse.compliance.staff import CONSOLE, SESSION_HOURS_MAX, TokenKind
from bourse.keys.console_login import (
    hash_password,
    new_totp_secret,
    open_totp,
    password_matches,
    password_problem,
    provisioning_uri,
    seal_totp,
    totp_step,
)
from bourse.keys.sealing import SealError
from bourse.keys.staff_tokens import new_token, token_digest
from bourse.server.service import GatewayService

router = APIRouter(prefix=PREFIX, include_in_schema=False)
SESSION_MS = SESSION_HOURS_MAX * 3_600_000  # a working day; the engine allows no longer
FAILURES_ALLOWED = 5  # wrong logins per name within the window, then the name waits
FAILURE_WINDOW_MS = 15 * 60_000
_CHECK = "name, password or code is wrong"  # never says which: that would help a guesser


@functools.cache
def _dummy_hash() -> str:
    """A hash to check against when the name is unknown, so an unknown name takes as long as a
    known one (made at the first login, not at every process's import)."""
    return hash_password("not a password of anyone: only here to take the same time")


class Failures:
    """Recent failed logins per name, in this gateway process (a guesser is slowed here; the
    journal records only successes)."""

    def __init__(self) -> None:
        self._by_name: dict[str, deque[int]] = {}

    def blocked(self, name: str, now_ms: int) -> bool:
        recent = self._by_name.get(name)
        if not recent:
            return False
        while recent and now_ms - recent[0] > FAILURE_WINDOW_MS:
            recent.popleft()
        return len(recent) >= FAILURES_ALLOWED

    def failed(self, name: str, now_ms: int) -> None:
        self._by_name.setdefault(name, deque(maxlen=FAILURES_ALLOWED)).append(now_ms)

    def clear(self, name: str) -> None:
        self._by_name.pop(name, None)


@router.get("/login")
async def login_page(request: Request) -> Response:
    name = request.query_params.get("name", "")
    return render(request, "login.html", None, title="Sign in", form={"name": name}, errors={})


@router.post("/login")
async def login(request: Request, service: ServiceDep) -> Response:
    fields = await form(request)
    name = fields.get("name", "").strip().lower()
    password, code = fields.get("password", ""), fields.get("code", "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "enter your staff name"
    if not password:
        errors["password"] = "enter your password"
    if not (len(code.replace(" ", "")) == 6 and code.replace(" ", "").isdigit()):
        errors["code"] = "the 6 digits your authenticator app shows now"
    if not errors:
        failures: Failures = request.app.state.login_failures
        checked = await _check(service, failures, name, password, code)
        if isinstance(checked, int):
            return await _open_session(request, service, failures, name, checked)
        errors["form"] = checked
    shown = {"name": name}
    return render(
        request, "login.html", None, status=400, title="Sign in", form=shown, errors=errors
    )


async def _check(
    service: GatewayService, failures: Failures, name: str, password: str, code: str
) -> int | str:
    """The TOTP time step of `code` when the name, password and code are right, else why not."""
    now = service.clock()
    if failures.blocked(name, now):
        return "too many failed attempts for this name: wait 15 minutes, or ask for a new link"
    member = service.view.staff.get(name)
    stored = member.password_hash if member is not None and member.active else ""
    matches = await run_in_threadpool(password_matches, stored or _dummy_hash(), password)
    if not (stored and matches):
        failures.failed(name, now)
        return _CHECK
    assert member is not None
    try:
        secret = open_totp(service.box, name, member.totp_sealed)
    except SealError:
        return "your second factor cannot be read on this server: ask for a new setup link"
    step = totp_step(secret, code, now)
    if step is None:
        failures.failed(name, now)
        return _CHECK
    return step


async def _open_session(
    request: Request, service: GatewayService, failures: Failures, name: str, step: int
) -> Response:
    now = service.clock()
    token_id, token = new_token()
    where = request.client.host if request.client else "unknown"
    outcome = await service.execute(
        OpenStaffSession(
            name=name,
            token_id=token_id,
            digest=token_digest(token),
            expires_ms=now + SESSION_MS,
            totp_step=step,
            actor=CONSOLE,
            ts_ms=now,
            reason=f"console login from {where}",
        )
    )
    if outcome.refused:  # a code already used, or the person left a moment ago
        errors = {"form": f"not signed in: {Sent(outcome).refusal}"}
        return render(
            request,
            "login.html",
            None,
            status=400,
            title="Sign in",
            form={"name": name},
            errors=errors,
        )
    failures.clear(name)
    target = request.query_params.get("next", "/")
    response = redirect(target if target.startswith("/") and not target.startswith("//") else "/")
    secure = request.url.scheme == "https"
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_MS // 1000,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    return response


@router.post("/logout")
async def logout(request: Request, service: ServiceDep, who: OfficerDep) -> Response:
    await form(request, who)
    await service.execute(
        RevokeStaffToken(
            name=who.name,
            token_id=who.token_id,
            actor=who.actor,
            ts_ms=service.clock(),
            reason="logged out of the console",
        )
    )
    response = redirect("/login", "Signed out.")
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/setup")
async def setup_page(request: Request, service: ServiceDep) -> Response:
    await service.caught_up()
    token = request.query_params.get("token", "")
    found = _setup_link(service, token)
    if found is None:
        return _link_gone(request)
    name = found
    secret = new_totp_secret()
    return _setup_form(request, name, token, secret, {}, 200)


@router.post("/setup")
async def setup(request: Request, service: ServiceDep) -> Response:
    await service.caught_up()
    fields = await form(request)
    token, secret = fields.get("token", ""), fields.get("secret", "")
    name = _setup_link(service, token)
    if name is None:
        return _link_gone(request)
    if len(secret) != 32 or not secret.isalnum():
        raise Forbidden("the setup form was changed: open the setup link again")
    password, confirm = fields.get("password", ""), fields.get("confirm", "")
    code = fields.get("code", "")
    errors: dict[str, str] = {}
    if problem := password_problem(password, confirm, name):
        errors["password"] = problem
    now = service.clock()
    step = totp_step(secret, code, now)
    if step is None:
        errors["code"] = "not the code your authenticator app shows for this secret now"
    if errors:
        return _setup_form(request, name, token, secret, errors, 400)
    assert step is not None
    password_hash = await run_in_threadpool(hash_password, password)
    link = service.view.staff_token(token_digest(token), now, TokenKind.SETUP)
    assert link is not None
    outcome = await service.execute(
        SetStaffCredentials(
            name=name,
            setup_token_id=link[1].token_id,
            password_hash=password_hash,
            totp_sealed=seal_totp(service.box, name, secret),
            totp_step=step,
            actor=CONSOLE,
            ts_ms=now,
            reason="chose a console password and second factor with a setup link",
        )
    )
    if outcome.refused:
        return _link_gone(request)
    return redirect(
        f"/login?name={name}",
        "Your console login is set up. Sign in with the next code your app shows "
        "(each code opens one session).",
    )


def _setup_link(service: GatewayService, token: str) -> str | None:
    if not token:
        return None
    found = service.view.staff_token(token_digest(token), service.clock(), TokenKind.SETUP)
    return None if found is None else found[0].name


def _link_gone(request: Request) -> Response:
    return render(
        request,
        "message.html",
        None,
        status=404,
        title="Setup link not valid",
        message="This setup link was used already, was revoked, or has expired. Ask a staff "
        "administrator for a new one (bourse staff setup-link NAME).",
    )


def _setup_form(
    request: Request, name: str, token: str, secret: str, errors: dict[str, str], status: int
) -> Response:
    uri = provisioning_uri(secret, name)
    buffer = io.BytesIO()
    qr = segno.make(uri, error="m")
    qr.save(buffer, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, title="")
    svg = (
        buffer.getvalue()
        .decode()
        .replace("<svg ", f'<svg role="img" aria-label="QR code of the TOTP secret of {name}" ', 1)
    )
    return render(
        request,
        "setup.html",
        None,
        status=status,
        title="Set up your console login",
        name=name,
        token=token,
        secret=secret,
        grouped=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        uri=uri,
        qr=svg,
        errors=errors,
    )
