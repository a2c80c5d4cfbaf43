"""`bourse proposals ...` and `bourse four-eyes ...`: what waits for a second person, on the
running server.

A command four eyes cover, sent by any `bourse` command, comes back as a proposal (it says so,
and exits 0); a second, entitled person approves it here with their own `--token`. `approve`
shows the proposal first and cites the digest it showed, so what is approved is what was read.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from bourse.cli.common import ReasonOpt, TokenOpt, print_json, record_table, rows_table
from bourse.cli.console import fail, out
from bourse.cli.operator import AdminClient, DataDirOpt, JsonOpt, UrlOpt, segment

proposals_app = typer.Typer(
    help="Proposals waiting for a second person's approval (four eyes), on the running server.",
    no_args_is_help=True,
)
four_eyes_app = typer.Typer(
    help="Which commands need a second person's approval, on the running server.",
    no_args_is_help=True,
)
IdArg = Annotated[int, typer.Argument(help="The proposal's id (from `bourse proposals list`).")]


def _waiting(client: AdminClient) -> dict[str, Any]:
    listed: dict[str, Any] = client.call("GET", "/proposals")
    return listed


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _summary(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": p["proposalId"],
        "command": p["type"],
        "what": json.dumps(p["command"], separators=(",", ":")),
        "proposer": p["proposer"],
        "reason": p["reason"],
        "expires": "EXPIRED" if p["expired"] else _utc(p["expiresMs"]),
    }


@proposals_app.command("list")
def proposals_list(
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Proposals no one has decided yet."""
    listed = _waiting(AdminClient(data_dir, url, token))
    if as_json:
        print_json(listed["proposals"])
        return
    rows = [_summary(p) for p in listed["proposals"]]
    out.print(rows_table("waiting for a second person", rows) if rows else "no proposals waiting")


@proposals_app.command("approve")
def proposals_approve(
    proposal_id: IdArg,
    reason: ReasonOpt,
    digest: Annotated[
        str | None,
        typer.Option("--digest", help="The digest you were shown (default: the one shown now)."),
    ] = None,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Approve a proposal: it runs now, as its proposer's. You cannot approve your own."""
    client = AdminClient(data_dir, url, token)
    found = [p for p in _waiting(client)["proposals"] if p["proposalId"] == proposal_id]
    if not found:
        fail(f"proposal {proposal_id} does not exist or was already decided", 1)
    shown = found[0]
    if not as_json:
        out.print(
            record_table(f"proposal {proposal_id}", {**_summary(shown), "digest": shown["digest"]})
        )
    body = {"digest": digest or shown["digest"], "reason": reason}
    decided = client.call("POST", f"{_proposal(proposal_id)}/approve", json=body)
    if as_json:
        print_json(decided)
        return
    out.print(
        f"approved proposal {proposal_id}: {escape(shown['type'])} ran (seq {decided['seq']})"
    )


@proposals_app.command("reject")
def proposals_reject(
    proposal_id: IdArg,
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Turn a proposal down, with a reason."""
    _close(AdminClient(data_dir, url, token), proposal_id, "reject", reason, as_json)


@proposals_app.command("withdraw")
def proposals_withdraw(
    proposal_id: IdArg,
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Take back your own proposal."""
    _close(AdminClient(data_dir, url, token), proposal_id, "withdraw", reason, as_json)


def _proposal(proposal_id: int) -> str:
    return f"/proposals/{segment(proposal_id, 'the proposal id')}"


def _close(client: AdminClient, proposal_id: int, verb: str, reason: str, as_json: bool) -> None:
    """Reject or withdraw a proposal, with a reason, and say so."""
    decided = client.call("POST", f"{_proposal(proposal_id)}/{verb}", json={"reason": reason})
    if as_json:
        print_json(decided)
        return
    out.print(f"{'rejected' if verb == 'reject' else 'withdrew'} proposal {proposal_id}")


@four_eyes_app.command("show")
def four_eyes_show(
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """The command types a person sends only as a proposal."""
    commands = _waiting(AdminClient(data_dir, url, token))["fourEyes"]
    if as_json:
        print_json(commands)
        return
    out.print("\n".join(commands) if commands else "four eyes: none")


@four_eyes_app.command("set")
def four_eyes_set(
    commands: Annotated[list[str], typer.Argument(help="Command types, like FreezeAccount.")],
    reason: ReasonOpt,
    as_json: JsonOpt = False,
    data_dir: DataDirOpt = Path("data"),
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Set the command types that need four eyes (while any do, this is proposed itself)."""
    done = AdminClient(data_dir, url, token).call(
        "PUT", "/four-eyes", json={"commands": commands, "reason": reason}
    )
    if as_json:
        print_json(done)
        return
    out.print("four eyes now: " + ", ".join(done["fourEyes"]))
