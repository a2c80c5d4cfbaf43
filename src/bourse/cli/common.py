"""What the compliance commands share: a client that exits 1 on a refusal, options, tables."""

import json
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from bourse.cli.console import out

TokenOpt = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="Act as the staff member with this token (default: the operator token).",
    ),
]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept in the journal).")]


def print_json(value: Any) -> None:
    print(json.dumps(value))


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def rows_table(title: str, rows: Iterable[Mapping[str, Any]]) -> Table:
    """Rows of JSON objects as a table whose columns are their keys, in first-seen order."""
    rows = list(rows)
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(name)
    for row in rows:
        table.add_row(*(escape(cell(row.get(name))) for name in columns))
    return table


def record_table(title: str, record: Mapping[str, Any]) -> Table:
    """One JSON object as two columns, field and value."""
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    for name, value in record.items():
        table.add_row(escape(name), escape(cell(value)))
    return table


def show(*tables: Table) -> None:
    for table in tables:
        out.print(table)
