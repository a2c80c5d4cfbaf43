"""What every command shares: the output and error consoles, a fail that exits (2 by
default), the progress bar of long jobs and the --data-dir option of the server's own commands."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

DataDirOpt = Annotated[
    Path, typer.Option("--data-dir", help="Where the journal, snapshots and store live.")
]


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Any]:
    from rich.progress import (  # only long jobs draw one: keep it out of every start-up
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=code)
