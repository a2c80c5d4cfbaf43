"""`bourse staff ...`: staff members, roles, scopes and tokens, on the running server.

Staff are engine state: every change here is a journaled command carrying who made it (the
operator token from the data directory, or `--token` of a staff member) and why.
"""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel

from bourse.cli.common import ReasonOpt, TokenOpt, print_json, rows_table
from bourse.cli.console import err, fail, out
from bourse.cli.operator import AdminClient, DataDirOpt, JsonOpt, UrlOpt, segment
from bourse.compliance.staff import ROLES, Role
from bourse.keys.staff_tokens import DEFAULT_TOKEN_DAYS

staff_app = typer.Typer(
    help="Staff, their roles and tokens, on the running server.", no_args_is_help=True
)

NameArg = Annotated[str, typer.Argument(help="The staff member's name (1-32 of a-z 0-9 . _ -).")]
RoleOpt = Annotated[
    Role,
    typer.Option(
        "--role", case_sensitive=False, help="What they may do (see `bourse staff roles`)."
    ),
]
VenueOpt = Annotated[
    list[str] | None, typer.Option("--venue", help="A venue of their scope (repeatable).")
]
CountryOpt = Annotated[
    list[str] | None,
    typer.Option("--country", help="A country of their scope, like KZ (repeatable)."),
]
TeamOpt = Annotated[str, typer.Option("--team", help="The team whose queue their work goes to.")]
DaysOpt = Annotated[int, typer.Option("--days", help="How long the token is valid (1-366).")]


def _staff(name: str) -> str:
    """The staff member's name as one segment of an admin path."""
    return segment(name, "the staff name")


def _owner(value: str, option: str) -> str:
    """`--to`/`--reassign-to`: a name or team:NAME (staff:NAME), never with the name left out."""
    kind, sep, rest = value.partition(":")
    if sep and kind.strip().lower() in ("team", "staff") and not rest.strip():
        fail(f"{option} {value!r} names no {kind.strip().lower()}: give {kind.strip()}:NAME")
    return value


def _body(
    role: Role, venue: list[str] | None, country: list[str] | None, team: str, reason: str
) -> dict[str, Any]:
    return {
        "role": role.value,
        "venues": venue or [],
        "countries": country or [],
        "team": team,
        "reason": reason,
    }


def _show_token(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(answer)
        return
    lines = [
        f"staff     {escape(answer['name'])}",
        f"token id  {escape(answer['tokenId'])}",
        f"token     {answer['token']}",
        "",
        "[bold yellow]The token is shown only once: hand it over now.[/]",
        f"Use it as: --token {answer['token']}",
    ]
    out.print(Panel("\n".join(lines), title="new staff token", expand=False))


@staff_app.command("add")
def staff_add(
    name: NameArg,
    role: RoleOpt,
    reason: ReasonOpt,
    venue: VenueOpt = None,
    country: CountryOpt = None,
    team: TeamOpt = "",
    token_days: Annotated[
        int,
        typer.Option("--token-days", help="Issue a first token valid this many days (0: none)."),
    ] = DEFAULT_TOKEN_DAYS,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Add a staff member in a role (a regional manager or auditor within --venue/--country),
    and issue their first token (shown once)."""
    client = AdminClient(data_dir, url, token)
    added = client.call(
        "POST", "/staff", json={"name": name, **_body(role, venue, country, team, reason)}
    )
    if token_days:
        issued = client.call(
            "POST", f"/staff/{_staff(name)}/tokens", json={"days": token_days, "reason": reason}
        )
        _show_token(issued, as_json)
    elif as_json:
        print_json(added)
    else:
        out.print(f"added {escape(name)} as {escape(added['roleTitle'])}")


@staff_app.command("change")
def staff_change(
    name: NameArg,
    role: RoleOpt,
    reason: ReasonOpt,
    venue: VenueOpt = None,
    country: CountryOpt = None,
    team: TeamOpt = "",
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Give a staff member a new role, scope and team (all of them, as they are to be)."""
    path = f"/staff/{_staff(name)}"
    changed = AdminClient(data_dir, url, token).call(
        "PUT", path, json=_body(role, venue, country, team, reason)
    )
    if as_json:
        print_json(changed)
        return
    out.print(f"{escape(name)} is now {escape(changed['roleTitle'])}")


@staff_app.command("bootstrap")
def staff_bootstrap(
    name: NameArg,
    role: Annotated[
        Role,
        typer.Option(
            "--role",
            case_sensitive=False,
            help="operator (the first founder), or for the second: operator or "
            "senior_compliance_officer.",
        ),
    ] = Role.OPERATOR,
    data_dir: DataDirOpt = Path("data"),
    url: Annotated[
        str,
        typer.Option("--url", help="Where the console will be served, for the printed link."),
    ] = "http://127.0.0.1:8000",
) -> None:
    """Create a founding staff member of a data directory (the server stopped) and print their
    one-time console setup link: there is no default password. Two founders, since adding
    staff needs a second person's approval: an operator first, then an operator or a senior
    compliance officer. Refused once two such people exist: from then on they add people."""
    from bourse.compliance.staff import StaffError
    from bourse.keys.staff_tokens import SETUP_LINK_DAYS, setup_link
    from bourse.server.datadir import DataDir, DataDirInUse
    from bourse.server.exchange import Exchange
    from bourse.server.governance import bootstrap

    dd = DataDir(data_dir)
    try:
        exchange = Exchange(dd, demo=False)
    except DataDirInUse as exc:
        fail(f"{exc}: stop the server first (bootstrap works on the data directory itself)")
    try:
        setup = bootstrap(exchange, name, role)
    except StaffError as exc:
        exchange.close()
        fail(str(exc))
    exchange.close()
    link = setup_link(url, setup)
    lines = [
        f"{ROLES[role].title.lower()}  {escape(name)} (data directory {escape(str(dd.path))})",
        f"link  {link}",
        "",
        f"[bold yellow]Open it within {SETUP_LINK_DAYS} days, once, to choose a password and a "
        "TOTP second factor. It is shown only now.[/]",
        "Then start the exchange (bourse run) and sign in at the console.",
    ]
    out.print("\n".join(lines), soft_wrap=True)  # the link on one line, to copy whole


@staff_app.command("setup-link")
def staff_setup_link(
    name: NameArg,
    reason: ReasonOpt,
    days: Annotated[int, typer.Option("--days", help="How long the link is valid (1-7).")] = 3,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """A one-time link (shown once) where the person chooses their console password and second
    factor: for a new colleague, or one who lost their phone (their old login ends)."""
    path = f"/staff/{_staff(name)}/setup-link"
    issued = AdminClient(data_dir, url, token).call(
        "POST", path, json={"days": days, "reason": reason}
    )
    _show_link(issued, as_json)


def _show_link(answer: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(answer)
        return
    lines = [
        f"staff  {escape(answer['name'])}",
        f"link   {answer['link']}",
        "",
        "[bold yellow]Shown only once, and it works once: hand it to them now.[/]",
    ]
    out.print("\n".join(lines), soft_wrap=True)  # the link on one line, to copy whole


@staff_app.command("token")
def staff_token(
    name: NameArg,
    reason: ReasonOpt,
    days: DaysOpt = DEFAULT_TOKEN_DAYS,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Issue another token (shown once) for a staff member."""
    issued = AdminClient(data_dir, url, token).call(
        "POST", f"/staff/{_staff(name)}/tokens", json={"days": days, "reason": reason}
    )
    _show_token(issued, as_json)


@staff_app.command("revoke-token")
def staff_revoke_token(
    name: NameArg,
    token_id: Annotated[str, typer.Argument(help="The token's id (from `bourse staff list`).")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Revoke one token: it stops working at once."""
    path = f"/staff/{_staff(name)}/tokens/{segment(token_id, 'the token id')}"
    revoked = AdminClient(data_dir, url, token).call("DELETE", path, params={"reason": reason})
    if as_json:
        print_json(revoked)
        return
    out.print(f"revoked token {escape(token_id)} of {escape(name)}")


@staff_app.command("offboard")
def staff_offboard(
    name: NameArg,
    reason: ReasonOpt,
    reassign_to: Annotated[
        str,
        typer.Option(
            "--reassign-to",
            help="Who takes what they own: a colleague's name, or team:NAME (default: their "
            "team's queue).",
        ),
    ] = "",
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """End a staff member's access at once (every token, their proposals withdrawn) and hand
    what they own to a colleague or a queue; their past actions stay theirs."""
    body = {"reason": reason, "reassignTo": _owner(reassign_to, "--reassign-to")}
    left = AdminClient(data_dir, url, token).call(
        "POST", f"/staff/{_staff(name)}/offboard", json=body
    )
    if as_json:
        print_json(left)
        return
    out.print(f"offboarded {escape(name)}: their tokens no longer work")


@staff_app.command("list")
def staff_list(
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Staff members, their roles, scopes and token ids (never the tokens)."""
    listed = AdminClient(data_dir, url, token).call("GET", "/staff")
    if as_json:
        print_json(listed["staff"])
        return
    rows = [
        {
            "name": m["name"],
            "role": m["roleTitle"],
            "scope": ", ".join(m["venues"] + m["countries"]),
            "team": m["team"],
            "active": "yes" if m["active"] else "left",
            "tokens": ", ".join(t["tokenId"] for t in m["tokens"]),
        }
        for m in listed["staff"]
    ]
    out.print(rows_table("staff", rows) if rows else "no staff members")


@staff_app.command("roles")
def staff_roles(as_json: JsonOpt = False) -> None:
    """What each role may do (the table the engine checks)."""
    rows = [
        {
            "role": role.value,
            "title": spec.title,
            "scoped": "yes" if spec.scoped else "",
            "what": spec.summary,
        }
        for role, spec in ROLES.items()
    ]
    if as_json:
        print_json(rows)
        return
    out.print(rows_table("roles", rows))


@staff_app.command("assign")
def staff_assign(
    item: Annotated[str, typer.Argument(help="alert:ID, proposal:ID or schedule:ID.")],
    to: Annotated[str, typer.Option("--to", help="staff:NAME or team:NAME.")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Give open work to someone who can decide it (an assigned proposal is theirs to decide)."""
    if not to.strip():
        fail("--to must not be empty: give staff:NAME or team:NAME")
    body = {"item": item, "owner": _owner(to, "--to"), "reason": reason}
    done = AdminClient(data_dir, url, token).call("POST", "/assignments", json=body)
    if as_json:
        print_json(done)
        return
    out.print(f"{escape(item)} now belongs to {escape(to)}")


@staff_app.command("offboard-many")
def staff_offboard_many(
    names: Annotated[list[str], typer.Argument(help="Everyone leaving together.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (kept in the journal; needed to apply).")
    ] = "",
    reassign_to: Annotated[
        str,
        typer.Option(
            "--reassign-to", help="Who takes their work: a name, or team:NAME (default: teams)."
        ),
    ] = "",
    preview_id: Annotated[
        str,
        typer.Option("--preview-id", help="Apply the preview with this id (default: preview)."),
    ] = "",
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """A layoff or a region closed: preview whose access ends and where their work goes, then
    apply that preview with --preview-id and --reason."""
    if any(not n.strip() for n in names):
        fail("a staff name must not be empty")
    unique = list(dict.fromkeys(names))  # each once: a name given twice is not two people
    if len(unique) < len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        err.print(f"named more than once, counted once: {escape(', '.join(twice))}")
    names = unique
    client = AdminClient(data_dir, url, token)
    group = {"names": names, "reassignTo": _owner(reassign_to, "--reassign-to")}
    if not preview_id:
        shown = client.call("POST", "/staff/offboarding/preview", json=group)
        if as_json:
            print_json(shown)
            return
        moves = [{"item": m["item"], "to": m["to"]} for m in shown["moves"]]
        out.print(rows_table("work that moves", moves) if moves else "no work moves")
        out.print(
            f"tokens ended: {len(shown['tokensEnded'])}; proposals withdrawn: "
            f"{', '.join(map(str, shown['proposalsWithdrawn'])) or 'none'}"
        )
        if shown["refused"]:
            fail(f"refused as it stands: {shown['why']}", 1)
        out.print(
            f"preview {shown['previewId']}: apply with --preview-id {shown['previewId']} "
            "--reason ..."
        )
        return
    if not reason.strip():
        fail("--reason is required to apply")
    done = client.call(
        "POST", "/staff/offboarding", json={**group, "previewId": preview_id, "reason": reason}
    )
    if as_json:
        print_json(done)
        return
    out.print(f"offboarded {escape(', '.join(names))}: their tokens no longer work")
