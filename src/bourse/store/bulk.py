"""Writing many rows at once, the fast way each database offers.

SQLAlchemy's executemany spends most of its time building and processing parameters row by row,
and psycopg pipelines one statement per row. So, for the projector's batches:

* SQLite: a plain DBAPI executemany of a statement built from the table (sqlite3 loops in C);
  values go through the column types' own bind processors, so amounts are stored exactly as
  `RawAmount` stores them.
* PostgreSQL: COPY (psycopg's C-accelerated row writer). An upsert or update COPYs into a temp
  staging table first and merges from there in one statement. COPY sends text, and an int's
  digits are exact, so amounts need no conversion.

Each operation writes rows that all have the same keys (column names).
"""

import zlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

Row = dict[str, Any]


class BulkWriter(Protocol):
    def insert(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Row]) -> None:
        """INSERT the rows."""

    def upsert(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Row]) -> None:
        """INSERT, or on a primary key conflict overwrite every other given column.

        At most one row per primary key: PostgreSQL refuses to update a row twice in a statement.
        """

    def update(self, conn: sa.Connection, table: sa.Table, key: str, rows: Sequence[Row]) -> None:
        """UPDATE by `key` the other given columns of existing rows."""


def bulk_writer(dialect: Dialect) -> BulkWriter:
    if dialect.name == "postgresql":
        return _PostgresWriter(dialect)
    if dialect.name == "sqlite":
        return _SqliteWriter(dialect)
    raise ValueError(f"the store supports SQLite and PostgreSQL, not {dialect.name}")


def _conflict_set(quote: Callable[[str], str], table: sa.Table, names: Sequence[str]) -> str:
    pk = [c.name for c in table.primary_key.columns]
    updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in names if n not in pk)
    return f"ON CONFLICT ({', '.join(map(quote, pk))}) DO UPDATE SET {updates}"


class _SqliteWriter:
    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._q = dialect.identifier_preparer.quote
        self._sql: dict[tuple[str, str, tuple[str, ...]], str] = {}

    def insert(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Row]) -> None:
        self._run(conn, "insert", table, rows)

    def upsert(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Row]) -> None:
        self._run(conn, "upsert", table, rows)

    def update(self, conn: sa.Connection, table: sa.Table, key: str, rows: Sequence[Row]) -> None:
        if rows:  # the key goes last, after the SET values
            names = [n for n in rows[0] if n != key] + [key]
            self._execute(conn, self._statement("update", table, tuple(names)), table, names, rows)

    def _run(self, conn: sa.Connection, op: str, table: sa.Table, rows: Sequence[Row]) -> None:
        if rows:
            names = list(rows[0])
            self._execute(conn, self._statement(op, table, tuple(names)), table, names, rows)

    def _statement(self, op: str, table: sa.Table, names: tuple[str, ...]) -> str:
        cache_key = (op, table.name, names)
        if (sql := self._sql.get(cache_key)) is None:
            q, target = self._q, self._dialect.identifier_preparer.format_table(table)
            if op == "update":
                sets = ", ".join(f"{q(n)} = ?" for n in names[:-1])
                sql = f"UPDATE {target} SET {sets} WHERE {q(names[-1])} = ?"
            else:
                marks = ", ".join("?" for _ in names)
                sql = f"INSERT INTO {target} ({', '.join(map(q, names))}) VALUES ({marks})"
                if op == "upsert":
                    sql += " " + _conflict_set(q, table, names)
            self._sql[cache_key] = sql
        return sql

    def _execute(
        self, conn: sa.Connection, sql: str, table: sa.Table, names: list[str], rows: Sequence[Row]
    ) -> None:
        processors = [table.c[n].type.bind_processor(self._dialect) for n in names]
        converted = [(i, p) for i, p in enumerate(processors) if p is not None]
        params = []
        for row in rows:
            values = [row[n] for n in names]
            for i, p in converted:
                values[i] = p(values[i])
            params.append(tuple(values))
        conn.exec_driver_sql(sql, params)


class _PostgresWriter:
    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._q = dialect.identifier_preparer.quote

    def insert(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Row]) -> None:
        if rows:
            self._copy(conn, self._dialect.identifier_preparer.format_table(table), rows)

    def upsert(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Row]) -> None:
        if rows:
            q, names = self._q, list(rows[0])
            stage, cols = self._stage(conn, table, rows), ", ".join(map(q, names))
            target = self._dialect.identifier_preparer.format_table(table)
            conn.exec_driver_sql(
                f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {stage} "
                + _conflict_set(q, table, names)
            )
            conn.exec_driver_sql(f"DELETE FROM {stage}")

    def update(self, conn: sa.Connection, table: sa.Table, key: str, rows: Sequence[Row]) -> None:
        if rows:
            q = self._q
            stage = self._stage(conn, table, rows)
            target = self._dialect.identifier_preparer.format_table(table)
            sets = ", ".join(f"{q(n)} = s.{q(n)}" for n in rows[0] if n != key)
            conn.exec_driver_sql(
                f"UPDATE {target} AS t SET {sets} FROM {stage} AS s WHERE t.{q(key)} = s.{q(key)}"
            )
            conn.exec_driver_sql(f"DELETE FROM {stage}")

    def _stage(self, conn: sa.Connection, table: sa.Table, rows: Sequence[Row]) -> str:
        """A temp table (per session, emptied at commit) holding `rows`, without constraints."""
        names = list(rows[0])
        stage = self._q(f"stage_{table.name}_{zlib.crc32(' '.join(names).encode()):08x}")
        columns = ", ".join(f"{self._q(n)} {table.c[n].type.compile(self._dialect)}" for n in names)
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({columns}) ON COMMIT DELETE ROWS"
        )
        self._copy(conn, stage, rows)
        return stage

    def _copy(self, conn: sa.Connection, target: str, rows: Sequence[Row]) -> None:
        names = list(rows[0])
        driver = conn.connection.driver_connection  # the psycopg connection, same transaction
        assert driver is not None
        with driver.cursor() as cursor:
            columns = ", ".join(map(self._q, names))
            with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[n] for n in names])
