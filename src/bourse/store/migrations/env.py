"""Alembic environment of the store, run in-process by `bourse.store.migrate` (no alembic.ini).

`migrate` hands over an open connection in `config.attributes["connection"]`, inside a transaction
it commits, so on both SQLite and PostgreSQL a failed migration leaves nothing half-applied.
"""

import sqlalchemy as sa
from alembic import context

from bourse.store.schema import metadata

# Serializes concurrent upgrades of one PostgreSQL database (runtime and API starting together).
_PG_MIGRATION_LOCK = 0x626F75727365  # "bourse"


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("the bourse store has no offline (SQL script) migrations")

_connection = context.config.attributes.get("connection")
if _connection is None:
    raise SystemExit("run migrations through bourse.store.migrate.upgrade(url)")
_run(_connection)
