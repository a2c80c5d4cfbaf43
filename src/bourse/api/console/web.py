"""What every console page shares: who is signed in, what they may read, forms, rendering, and
sending a command as the person (run at once, or proposed where four eyes apply).

The console is a gateway like the admin API: it reads the read model and the SQL store, and
changes nothing except by sending commands, which the engine checks (role, scope, four eyes)
whatever sent them. Pages are rendered on the server (Jinja2); htmx, served from the package,
only swaps them in place, so every page and form works as plain HTML too.
"""

import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bourse.api.admin.compliance import REASON_MAX
from bourse.api.admin.four_eyes import DEFAULT_HOURS, is_four_eyed, made, send_proposal
from bourse.api.deps import get_service
from bourse.commands import Command, RecordAccess
from bourse.compliance.staff import ROLES, Read, Role, TokenKind
from bourse.domain.limits import INT64_MAX
from bourse.events import CommandRejected, Outcome
from bourse.keys.console_login import csrf_token
from bourse.keys.staff_tokens import token_digest
from bourse.server.service import GatewayService
from bourse.view.model import StaffView

PREFIX = "/console"
COOKIE = "bourse_console"
FLASH = "bourse_flash"
FORM_MAX = 64 * 1024  # bytes of a form: far above any console form
TEMPLATES = Path(__file__).parent / "templates"
# Every page: never framed by another site (an approve button under someone else's page), no
# address (a setup link's token) sent on to another site, no copy of a customer's record kept
# by the browser or a proxy after sign-out.
PAGE_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a misspelt name fails the page's test, not silently
    trim_blocks=True,
    lstrip_blocks=True,
)


def utc(ms: int) -> str:
    """A time as people read it in a compliance record: UTC, to the minute."""
    if not ms:
        return "—"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def age(ms: int, now_ms: int) -> str:
    minutes = max(0, now_ms - ms) // 60_000
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} d"


_env.filters["utc"] = utc


@dataclass(frozen=True)
class Officer:
    """The staff member signed in to the console, and their session."""

    member: StaffView
    token_id: str
    csrf: str

    @property
    def name(self) -> str:
        return self.member.name

    @property
    def actor(self) -> str:
        return f"staff:{self.member.name}"

    def reads(self, read: Read) -> bool:
        return read in ROLES[self.member.role].reads

    def may(self, command: str) -> bool:
        return command in ROLES[self.member.role].commands

    def approves(self, command: str) -> bool:
        return command in ROLES[self.member.role].approves


class LoginRequired(Exception):
    """No live console session: answered by a redirect to the login page."""


class Forbidden(Exception):
    """Signed in, but this page or form is not theirs to use: answered 403 with the reason."""


class NotFound(Exception):
    """A customer, alert or proposal the page names does not exist: answered 404."""


async def officer(
    request: Request, service: Annotated[GatewayService, Depends(get_service)]
) -> Officer:
    # catch up first: a session ended a moment ago (offboarded, logged out) is refused at once
    await service.caught_up()
    token = request.cookies.get(COOKIE, "")
    found = None
    if token:
        found = service.view.staff_token(token_digest(token), service.clock(), TokenKind.SESSION)
    if found is None:
        raise LoginRequired()
    member, session = found
    if member.role is Role.AUDITOR:  # every read of an auditor is on the record
        actor = f"staff:{member.name}"
        path, query = request.url.path, request.url.query
        await service.execute(
            RecordAccess(path=path, query=query, actor=actor, ts_ms=service.clock())
        )
    return Officer(member, session.token_id, csrf_token(token))


OfficerDep = Annotated[Officer, Depends(officer)]


def require(who: Officer, read: Read) -> None:
    if not who.reads(read):
        title = ROLES[who.member.role].title.lower()
        raise Forbidden(f"a {title} does not read {read.value} in the console")


async def form(request: Request, who: Officer | None = None) -> dict[str, str]:
    """A posted form (application/x-www-form-urlencoded) as field → value; with `who`, the
    form must carry their session's form token."""
    body = await request.body()
    if len(body) > FORM_MAX:
        raise Forbidden(f"a form of {len(body)} bytes is too large (at most {FORM_MAX})")
    try:
        pairs = urllib.parse.parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise Forbidden("the form is not UTF-8 text") from None
    fields = {k: v for k, v in pairs}
    if who is not None and fields.get("csrf") != who.csrf:
        raise Forbidden("this form is from an older session: reload the page and send it again")
    return fields


def parse_id(text: str, what: str) -> int:
    """A number in a path or query, or NotFound naming what was asked for (never a 422 JSON
    error or a 500): the id of a customer, account, alert, proposal or scheduled change."""
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > INT64_MAX:
        raise NotFound(f"there is no {what} {text!r}: {what} numbers are whole numbers")
    return int(text)


def reason_problem(reason: str) -> str | None:
    """Why `reason` (stripped) cannot be recorded with a staff action, or None: every action
    says why, within what the journal keeps."""
    if not reason:
        return "say why: the reason is kept in the journal with what you do"
    if len(reason) > REASON_MAX:
        return f"at most {REASON_MAX} characters, not {len(reason)}"
    return None


def render(
    request: Request,
    template: str,
    who: Officer | None,
    *,
    status: int = 200,
    title: str = "",
    **context: Any,
) -> HTMLResponse:
    """The page `template` with the layout's context: who is signed in, what they may read,
    the notice a previous action left (shown once)."""
    service: GatewayService = request.app.state.service
    flash = request.cookies.get(FLASH, "")
    html = _env.get_template(template).render(
        request=request,
        who=who,
        Read=Read,
        roles=ROLES,
        title=title,
        notice=urllib.parse.unquote(flash),
        now_ms=service.clock(),
        age=age,
        prefix=PREFIX,
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
    if flash:
        response.delete_cookie(FLASH, path=PREFIX)
    return response


def redirect(to: str, notice: str = "") -> Response:
    """303 to `to` (post, redirect, get: a reload never sends a form twice), leaving `notice`
    for the next page to show."""
    response = RedirectResponse(PREFIX + to, status_code=303)
    if notice:
        response.set_cookie(
            FLASH, urllib.parse.quote(notice[:1500]), path=PREFIX, httponly=True, samesite="strict"
        )
    return response


@dataclass(frozen=True)
class Sent:
    """What became of a command sent from the console."""

    outcome: Outcome
    proposal_id: int = 0  # a proposal was made instead (four eyes)

    @property
    def rejected(self) -> CommandRejected | None:
        return next((e for e in self.outcome.events if isinstance(e, CommandRejected)), None)

    @property
    def refusal(self) -> str:
        rejected = self.rejected
        return "" if rejected is None else f"{rejected.reason} ({rejected.code.name})"

    def notice(self, done: str) -> str:
        """`done`, or that it waits for a second person, or why it was refused."""
        if self.refusal:
            return f"Refused: {self.refusal}"
        if self.proposal_id:
            return (
                f"Proposed as #{self.proposal_id}: it takes effect when a second, entitled "
                "person approves it in Approvals."
            )
        return done


async def send(
    service: GatewayService, cmd: Command, *, evidence: str = "", hours: int = DEFAULT_HOURS
) -> Sent:
    """Run `cmd`, or propose it where four eyes apply to it and its actor."""
    if is_four_eyed(service, cmd):
        outcome = await send_proposal(service, cmd, evidence=evidence, hours=hours)
        return Sent(outcome, 0 if outcome.refused else made(outcome).proposal_id)
    return Sent(await service.execute(cmd))
