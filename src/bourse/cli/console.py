"""What run, replay, snapshot and the benches share: the error console, a fail that exits 2,
the progress bar of long jobs and the --data-dir option."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

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


def fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code=2)
