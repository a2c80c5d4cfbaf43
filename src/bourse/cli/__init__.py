"""The `bourse` command line, one Typer app: run (`run`), replay and snapshot (`replay`), the
benches (`bench`); accounts and keys on the running server (`operator`); staff, customers, venues,
policies, prices, sanctions lists, screening and alerts (`staff`, `customers`, `policy`, `prices`,
`lists`, `screen`, `alerts`, sharing `common`); the audit log (`audit`); fiat rails (`banks`,
`statements`); consumers of the journal's stream on NATS (`consume`).

Staff tokens live in the data directory (no server needed); the compliance commands go to the
RUNNING server's admin API through operator's AdminClient, acting as the operator or, with
--token, as a staff member whose name the journal records.

A command's module is imported when that command runs (`_COMMANDS` names them all, in the order
`--help` lists them): importing every one costs about 0.2 s, which each `bourse` call, each server
and each gateway process paid for the one command it runs.
"""

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any, NamedTuple

import typer
from typer.core import TyperGroup


class _Command(NamedTuple):
    module: str
    attr: str  # a Typer app (a group of commands) or a command's function
    hidden: bool = False


_COMMANDS: dict[str, _Command] = {
    "withdraw-on-request": _Command("bourse.cli.customers", "withdraw_on_request"),
    "screen": _Command("bourse.cli.screen", "screen_command"),
    "run": _Command("bourse.cli.run", "run"),
    "replay": _Command("bourse.cli.replay", "replay"),
    "snapshot": _Command("bourse.cli.replay", "snapshot_cmd"),
    "gateway": _Command("bourse.cli.gateway", "gateway", hidden=True),
    "bench": _Command("bourse.cli.bench", "bench_app"),
    "consume": _Command("bourse.cli.consume", "consume_app"),
    "accounts": _Command("bourse.cli.operator", "accounts_app"),
    "keys": _Command("bourse.cli.operator", "keys_app"),
    "staff": _Command("bourse.cli.staff", "staff_app"),
    "proposals": _Command("bourse.cli.proposals", "proposals_app"),
    "four-eyes": _Command("bourse.cli.proposals", "four_eyes_app"),
    "customers": _Command("bourse.cli.customers", "customers_app"),
    "venues": _Command("bourse.cli.customers", "venues_app"),
    "policy": _Command("bourse.cli.policy", "policy_app"),
    "prices": _Command("bourse.cli.prices", "prices_app"),
    "lists": _Command("bourse.cli.lists", "lists_app"),
    "alerts": _Command("bourse.cli.alerts", "alerts_app"),
    "audit": _Command("bourse.cli.audit", "audit_app"),
    # cutoffs adds `banks cut-off` to banks_app as it is imported: its banks_app is the whole group
    "banks": _Command("bourse.cli.cutoffs", "banks_app"),
    "statements": _Command("bourse.cli.banks", "statements_app"),
    "partners": _Command("bourse.cli.partners", "partners_app"),
}


def _load(name: str, spec: _Command) -> Any:
    """The click command `name` stands for, its module imported now."""
    target = getattr(importlib.import_module(spec.module), spec.attr)
    if isinstance(target, typer.Typer):
        command: Any = typer.main.get_group(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name, hidden=spec.hidden)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class _LazyCommands(MutableMapping[str, Any]):
    """The group's commands by name: every name known, each loaded at its first lookup."""

    def __init__(self) -> None:
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            self._loaded[name] = _load(name, _COMMANDS[name])
        return self._loaded[name]

    def __contains__(self, name: object) -> bool:
        return name in _COMMANDS or name in self._loaded

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(_COMMANDS), **self._loaded})

    def __len__(self) -> int:
        return len(set(_COMMANDS) | set(self._loaded))


class _LazyGroup(TyperGroup):
    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands()


app = typer.Typer(
    cls=_LazyGroup,
    help="bourse: a spot exchange with compliance built into its core.",
    no_args_is_help=True,
)


@app.callback()
def _root() -> None:
    # a callback keeps `bourse` a group though no command is registered with Typer
    pass


def main() -> None:
    app()


__all__ = ["app", "main"]
