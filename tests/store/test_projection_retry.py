"""The projection worker against a store that goes out of reach, on SQLite (another connection
holds the write lock past the busy timeout) and PostgreSQL (the database refuses connections
and its sessions are ended): it keeps retrying, and once the store is back it has exactly the
rows of a store that never failed."""

import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from bourse.store.db import sqlite_url
from bourse.store.projection_worker import ProjectionWorker
from bourse.store.projector import Projector
from tests.api.conftest import wait_until
from tests.store.builders import dump, random_tape, split


@contextmanager
def _outage(request: pytest.FixtureRequest, url: str) -> Iterator[None]:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(parsed.database), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.rollback()
            holder.close()
        return
    admin: sa.Engine = request.getfixturevalue("pg_admin")
    name = parsed.database
    with admin.connect() as conn:
        conn.exec_driver_sql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")


def test_the_projection_outlasts_an_unreachable_store(
    request: pytest.FixtureRequest, store_url: str, tmp_path: Path
) -> None:
    outcomes = random_tape(random.Random(3), 300)
    batches = split(outcomes, [7, 13])
    half = len(batches) // 2
    is_sqlite = store_url.startswith("sqlite")
    url = f"{store_url}?timeout=0.2" if is_sqlite else store_url  # the busy timeout, seconds
    worker = ProjectionWorker(Projector(url))
    try:
        for batch in batches[:half]:
            worker.submit(batch)
        assert worker.wait_for(batches[half - 1][-1].seq)
        with _outage(request, url):
            for batch in batches[half:]:
                worker.submit(batch)
            # it failed at least once, and retries
            wait_until(lambda: worker.lag().unreachable is not None, timeout=60)
            lag = worker.lag()
            assert lag.released_seq == outcomes[-1].seq
            assert lag.store_seq == batches[half - 1][-1].seq and lag.behind > 0
            assert worker.error is None
        assert worker.wait_for(outcomes[-1].seq, timeout=60)
        assert worker.error is None and worker.lag().unreachable is None
        assert worker.lag().behind == 0
        with Projector(sqlite_url(tmp_path / "reference.sqlite")) as reference:
            reference.apply(outcomes)
            assert dump(worker.projector.engine) == dump(reference.engine)
    finally:
        worker.close()
        worker.projector.close()
