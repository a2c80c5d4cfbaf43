"""Migrations build exactly `schema.py` on SQLite and PostgreSQL; running them again is a no-op."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bourse.store import migrate, schema
from bourse.store.db import URL_ENV, create_store_engine, store_url
from bourse.store.projector import Projector

from .builders import Tape, balance


def test_upgrade_builds_the_schema_of_schema_py(store_url: str) -> None:
    assert migrate.current_revision(store_url) is None
    migrate.upgrade(store_url)
    assert migrate.current_revision(store_url) == migrate.head_revision()
    engine = create_store_engine(store_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
            tables = set(sa.inspect(conn).get_table_names())
            amount = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("balances")}
    finally:
        engine.dispose()
    assert tables == set(schema.metadata.tables) | {"alembic_version"}
    if engine.dialect.name == "postgresql":  # exact big integers, never float
        assert isinstance(amount["free_raw"], sa.Numeric)
        assert (amount["free_raw"].precision, amount["free_raw"].scale) == (40, 0)
    else:
        assert isinstance(amount["free_raw"], sa.Text)


def test_upgrade_twice_is_a_no_op_and_keeps_the_data(store_url: str) -> None:
    migrate.upgrade(store_url)
    with Projector(store_url) as projector:  # upgrades again on open
        projector.apply([Tape()("Deposit", balance(1, "USDT", 10**30))])
    migrate.upgrade(store_url)
    assert migrate.current_revision(store_url) == migrate.head_revision()
    with Projector(store_url, migrate=False) as projector:
        assert projector.last_seq() == 1


def test_reset_recreates_the_migrated_schema(store_url: str) -> None:
    with Projector(store_url) as projector:
        projector.reset()
        with projector.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
    assert migrate.current_revision(store_url) == migrate.head_revision()


def test_the_store_is_sqlite_in_the_data_dir_unless_a_url_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(URL_ENV, raising=False)
    assert store_url(tmp_path) == f"sqlite:///{tmp_path / 'store.sqlite'}"
    monkeypatch.setenv(URL_ENV, "postgresql+psycopg://db.example/bourse")
    assert store_url(tmp_path) == "postgresql+psycopg://db.example/bourse"
