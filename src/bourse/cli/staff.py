"""`bourse staff add|list|remove`: staff tokens, kept (hashed) in the data directory itself.

These work with or without a running server: the server re-reads the staff file when it changes,
so a token added here works at once, and a removed one stops working at once.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel

from bourse.cli.common import print_json
from bourse.cli.console import fail, out
from bourse.cli.operator import JsonOpt
from bourse.compliance.staff import StaffError, StaffRegistry

staff_app = typer.Typer(help="Staff tokens, in the data directory.", no_args_is_help=True)

StaffDirOpt = Annotated[
    Path, typer.Option("--data-dir", help="The data directory whose staff to manage.")
]
NameArg = Annotated[str, typer.Argument(help="The staff member's name (1-32 of a-z 0-9 . _ -).")]


def _registry(data_dir: Path) -> StaffRegistry:
    # A mistyped --data-dir must not quietly create a second exchange's staff file.
    if not data_dir.is_dir():
        fail(f"no data directory at {data_dir.absolute()}: pass --data-dir of a bourse server")
    return StaffRegistry(data_dir)


@staff_app.command("add")
def staff_add(
    name: NameArg, as_json: JsonOpt = False, data_dir: StaffDirOpt = Path("data")
) -> None:
    """Give a staff member a token (shown once, never again); their actions are journaled as
    staff:NAME."""
    try:
        token = _registry(data_dir).add(name)
    except StaffError as exc:
        fail(str(exc))
    if as_json:
        print_json({"name": name, "token": token})
        return
    lines = [
        f"staff  {escape(name)}",
        f"token  {token}",
        "",
        "[bold yellow]The token is shown only once: hand it over now.[/]",
        f"Use it as: --token {token}",
    ]
    out.print(Panel("\n".join(lines), title="new staff token", expand=False))


@staff_app.command("list")
def staff_list(as_json: JsonOpt = False, data_dir: StaffDirOpt = Path("data")) -> None:
    """The staff members who hold a token (never the tokens)."""
    names = _registry(data_dir).names()
    if as_json:
        print_json(names)
        return
    out.print("\n".join(escape(n) for n in names) if names else "no staff tokens")


@staff_app.command("remove")
def staff_remove(
    name: NameArg, as_json: JsonOpt = False, data_dir: StaffDirOpt = Path("data")
) -> None:
    """End a staff member's access at once (the running server stops accepting their token)."""
    try:
        _registry(data_dir).remove(name)
    except StaffError as exc:
        fail(str(exc))
    if as_json:
        print_json({"removed": name})
        return
    out.print(f"removed {escape(name)}: their token no longer works")
