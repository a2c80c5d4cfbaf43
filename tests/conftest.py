"""Fixtures shared by every test package.

`store_url` runs a test once on SQLite and once on PostgreSQL; each PostgreSQL test gets a
database of its own (tests run in parallel under xdist), created from the admin connection and
dropped afterwards.
"""

import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bourse.store.db import sqlite_url
from tests.pg import postgres_admin_url


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine]:
    engine = sa.create_engine(
        postgres_admin_url(), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path_factory.mktemp("store") / "store.sqlite")
        return
    admin: sa.Engine = request.getfixturevalue("pg_admin")
    name = f"bourse_t_{secrets.token_hex(8)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
