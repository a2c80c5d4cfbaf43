"""Schema migrations, run in-process: `upgrade(url)` brings any store database to the latest schema.

Alembic is configured in code (no alembic.ini): the scripts live in the `migrations` folder next to
this module and ship inside the package.
"""

from pathlib import Path
from typing import TYPE_CHECKING

from bourse.store.db import create_store_engine

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (with Mako and Pygments, ~70 modules) is imported when a migration runs, not by every
# process that imports the store: only the projector migrates, and every `bourse run`, gateway
# and command line process paid for importing it.

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config() -> "Config":
    from alembic.config import Config

    cfg = Config()
    # ConfigParser treats % as interpolation; a path may contain one
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision`; a no-op when it is already there."""
    from alembic import command

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
    from alembic.runtime.migration import MigrationContext

    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str:
    """The latest revision this code knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "the store has no migrations"
    return head
