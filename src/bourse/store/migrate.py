"""Schema migrations, run in-process: `upgrade(url)` brings any store database to the latest schema.

Alembic is configured in code (no alembic.ini): the scripts live in the `migrations` folder next to
this module and ship inside the package.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bourse.store.db import create_store_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    cfg = Config()
    # ConfigParser treats % as interpolation; a path may contain one
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision`; a no-op when it is already there."""
    cfg = _config()
    # writer: on SQLite, BEGIN IMMEDIATE makes two processes upgrading at once wait in turn
    engine = create_store_engine(url, writer=True)
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at, or None if it was never migrated."""
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The latest revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the store has no migrations"
    return head
