"""Where the store lives and how to open it.

The embedded default is a SQLite file under the data directory; `BOURSE_DATABASE_URL` (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/bourse``) points it at PostgreSQL instead.
"""

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bourse.private_files import create_private

URL_ENV = "BOURSE_DATABASE_URL"
SQLITE_FILE = "store.sqlite"
BUSY_TIMEOUT_S = 10.0


def store_url(data_dir: str | Path) -> str:
    """`BOURSE_DATABASE_URL` if set, else the SQLite file `store.sqlite` in `data_dir`."""
    url = os.environ.get(URL_ENV, "").strip()
    return url or sqlite_url(Path(data_dir) / SQLITE_FILE)


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).absolute()}"


def create_store_engine(url: str, *, writer: bool = False) -> sa.Engine:
    """An engine with the settings the store relies on.

    On SQLite: WAL (readers never block the projector, nor it them), synchronous=NORMAL (the
    store is rebuilt from the journal, so losing the last commits on power loss is fine), and
    SQLAlchemy emitting BEGIN itself, because Python's sqlite3 module skips BEGIN before SELECT
    and DDL. `writer=True` takes the write lock at BEGIN (BEGIN IMMEDIATE) so a read-then-write
    transaction cannot fail half way on a lock upgrade.
    """
    connect_args: dict[str, Any] = {}
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and "timeout" not in parsed.query:
        # how long a statement waits for another connection's lock before "database is locked"
        # (`?timeout=SECONDS` in the URL sets another)
        connect_args["timeout"] = BUSY_TIMEOUT_S
    if writer and parsed.get_backend_name() == "postgresql":
        # Like SQLite's synchronous=NORMAL: a crash may lose the last commits, never a part of one,
        # and the projector then resumes from the last_seq that survived.
        connect_args["options"] = "-c synchronous_commit=off"
    engine = sa.create_engine(url, connect_args=connect_args)
    if engine.dialect.name == "sqlite":
        _create_private(engine.url.database)
        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # sqlite3 must not emit its own BEGIN
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                # checkpoint (which fsyncs) every 64 MB of WAL instead of 4 MB: a projector
                # batch writes megabytes, and checkpointing after each one was a third of its time
                cursor.execute("PRAGMA wal_autocheckpoint=16384")
            finally:
                cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql(begin)

    return engine


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` is the database being out of reach (locked past the busy timeout, down,
    disk full) rather than a wrong statement: the same work may succeed later."""
    if isinstance(exc, (sa.exc.OperationalError, sa.exc.InterfaceError)):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated


def _create_private(database: str | None) -> None:
    """Create the SQLite file 0600 before SQLite does (0644 less the umask): it holds customers'
    names and dates of birth. SQLite gives its -wal and -shm files the database file's mode."""
    if database and database != ":memory:" and not database.startswith("file:"):
        os.close(create_private(Path(database), os.O_WRONLY | os.O_CREAT))
