"""`bourse replay` (rebuild the state, and the store if asked, from the journal) and `bourse
snapshot`."""

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from bourse.cli.console import DataDirOpt, err, fail, progress_bar
from bourse.server.datadir import DataDir, DataDirInUse


def replay(
    data_dir: DataDirOpt = Path("data"),
    rebuild_store: Annotated[
        bool, typer.Option("--rebuild-store", help="Drop the SQL projections and rebuild them.")
    ] = False,
    journal_url: Annotated[
        str,
        typer.Option(
            "--journal",
            help="Replay a journal on NATS (nats://host:4222/STREAM) instead of the data "
            "directory's: read only, beside the engine writing it, printing the digest only.",
        ),
    ] = "",
) -> None:
    """Replay the journal from empty, check it against the latest snapshot, print the digest."""
    if journal_url:
        _replay_stream(journal_url)
        return
    from bourse.engine import Engine, snapshot
    from bourse.journal.base import JournalError
    from bourse.journal.file_journal import FileJournal
    from bourse.journal.opening import journal_spec, open_journal
    from bourse.journal.sequencer import replay as replay_records
    from bourse.journal.snapshots import SnapshotStore
    from bourse.store.db import store_url
    from bourse.store.projector import Projector

    dd = DataDir(data_dir)
    spec = journal_spec("", dd.path)  # BOURSE_JOURNAL, as `bourse run` reads it
    if not spec and not dd.journal.exists():
        fail(f"{dd.path} has no journal")
    try:
        dd.lock()
    except DataDirInUse as exc:
        fail(str(exc))
    started = time.perf_counter()
    try:  # read-only: a check changes no byte of the journal, not even a torn tail
        journal = open_journal(spec, dd.journal, writer=False)
    except (JournalError, OSError, ValueError) as exc:
        dd.unlock()
        fail(f"cannot read the journal: {exc}")
    if isinstance(journal, FileJournal) and journal.torn_bytes:
        err.print(
            f"[bold yellow]warning:[/] the journal's {escape(str(journal.torn_segment))} ends in "
            f"a torn tail of {journal.torn_bytes} bytes after seq {journal.torn_after_seq}: "
            "replayed up to there and left as it is; the server cuts it when it next starts"
        )
    latest = SnapshotStore(dd.snapshots).latest()
    projector = Projector(store_url(dd.path)) if rebuild_store else None
    if projector is not None:
        projector.reset()
    engine = Engine()
    snapshot_check = "no snapshot"
    try:
        with progress_bar("replaying", journal.last_seq) as advance:

            def release(batch: list[Any]) -> None:
                if projector is not None:
                    projector.apply(batch)
                advance(len(batch))

            if latest is not None:
                records = (r for r in journal.replay(1) if r[0] <= latest[0])
                replay_records(engine, records, release)
                same = snapshot.dump(engine.state) == latest[1]
                snapshot_check = f"snapshot at seq {latest[0]} {'matches' if same else 'DIFFERS'}"
                if not same:
                    fail(f"replay disagrees with the snapshot at seq {latest[0]}")
            replay_records(engine, journal.replay(engine.state.last_seq + 1), release)
    except (JournalError, OSError) as exc:  # the journal changed or broke under the replay
        fail(f"replaying the journal: {exc}")
    finally:
        journal.close()
        if projector is not None:
            projector.close()
        dd.unlock()
    print(
        json.dumps(
            {
                "commands": engine.state.last_seq,
                "digest": snapshot.digest(engine.state),
                "snapshot": snapshot_check,
                "store_rebuilt": rebuild_store,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    )


def _replay_stream(url: str) -> None:
    """`bourse replay --journal nats://…`: the digest of the stream's commands replayed from
    empty (what every engine following it must reach at the same seq)."""
    from bourse.engine import Engine, snapshot
    from bourse.journal.base import JournalError
    from bourse.journal.nats_journal import NatsJournal
    from bourse.journal.sequencer import replay as replay_records

    started = time.perf_counter()
    try:
        journal = NatsJournal(url, writer=False)
    except (ValueError, JournalError) as exc:
        fail(f"--journal: {exc}")
    engine = Engine()
    try:
        with progress_bar("replaying", journal.last_seq) as advance:
            replay_records(engine, journal.replay(1), lambda batch: advance(len(batch)))
    finally:
        journal.close()
    print(
        json.dumps(
            {
                "commands": engine.state.last_seq,
                "digest": snapshot.digest(engine.state),
                "journal": url,
                "seconds": round(time.perf_counter() - started, 3),
            }
        )
    )


def snapshot_cmd(data_dir: DataDirOpt = Path("data")) -> None:
    """Write a snapshot now: through the running server if there is one, else directly."""
    dd = DataDir(data_dir)
    url = dd.server_url()
    if url is not None:
        token = dd.operator_token()
        import httpx

        response = httpx.post(
            f"{url}/admin/v1/snapshot", headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        if response.status_code != 200:
            fail(f"the server refused: {response.text}")
        print(json.dumps(response.json()))
        return
    from bourse.server.exchange import Exchange

    try:
        exchange = Exchange(dd, demo=False)
    except DataDirInUse as exc:
        fail(str(exc))
    seq, path = exchange.write_snapshot()
    exchange.close(snapshot_on_close=False)
    print(json.dumps({"seq": seq, "path": path}))
