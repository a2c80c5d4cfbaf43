"""`bourse consume sql`: the SQL projection as a consumer of the journal's stream on NATS, into
PostgreSQL, in a process of its own. Killed (-9) and started again it resumes where the store
says it is, and the store ends exactly as a projection in the writer's own process makes it;
held back, its lag shows in /metrics and /health/ready until it has caught up."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from bourse.bench.flow import prepared
from bourse.engine import Engine
from bourse.journal.nats_journal import NatsJournal
from bourse.journal.sequencer import Sequencer, replay
from bourse.store import schema as s
from bourse.store.db import sqlite_url
from bourse.store.projector import _PG_PROJECTOR_LOCK, Projector
from tests.natsd import machine_nats
from tests.net import free_port, http

pytestmark = pytest.mark.slow
TABLES = (s.orders, s.trades, s.balances, s.projection_state)


class Writer:
    """An engine journaling the bench's flow of orders to a stream of its own."""

    def __init__(self, url: str) -> None:
        self.journal = NatsJournal(url, node="writer")
        self.sequencer = Sequencer(Engine(), self.journal)
        before, self.flow = prepared(4000)
        self.write(before)

    def write(self, commands: list) -> None:  # type: ignore[type-arg]
        for cmd in commands:
            self.sequencer.submit(cmd)
        self.sequencer.flush()


class Consumer:
    def __init__(self, journal: str, store: str, home: Path, *, max_lag: int = 10_000) -> None:
        self.port = free_port()
        self.log = home / f"consumer-{self.port}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable, "-m", "bourse", "consume", "sql", "--journal", journal,
                    "--database-url", store, "--state-dir", str(home / "consumer"),
                    "--port", str(self.port), "--max-lag", str(max_lag),
                ],
                stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ),
            )  # fmt: skip

    def get(self, path: str) -> httpx.Response:
        return http.get(f"http://127.0.0.1:{self.port}{path}", timeout=5)

    def wait_for(self, seq: int, timeout: float = 60) -> None:
        """Until it has applied `seq` (its /health, polled)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if self.get("/health").json()["seq"] >= seq:
                    return
            except httpx.HTTPError:
                pass  # still starting
            assert time.monotonic() < deadline, self.log.read_text()[-3000:]
            time.sleep(0.05)


def _lag_metric(exposition: str) -> float:
    name = 'bourse_consumer_lag_commands{consumer="sql"} '
    line = next(x for x in exposition.splitlines() if x.startswith(name))
    return float(line.removeprefix(name))


def _rows(url: str) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return {t.name: sorted(tuple(r) for r in conn.execute(sa.select(t))) for t in TABLES}
    finally:
        engine.dispose()


def _reference(writer: Writer, tmp_path: Path) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    """The store as the writer's own process projects it: the same commands, in order."""
    url = sqlite_url(tmp_path / "reference.sqlite")
    with Projector(url) as projector:
        replay(Engine(), writer.journal.replay(1), projector.apply)
    return _rows(url)


def test_killed_and_started_again_it_resumes_exactly_where_the_store_is(
    tmp_path: Path, pg_url: str
) -> None:
    url = f"{machine_nats()}/CONSUME{uuid.uuid4().hex[:8]}"
    writer = Writer(url)
    writer.write(writer.flow[:2000])
    consumer = Consumer(url, pg_url, tmp_path)
    try:
        consumer.wait_for(writer.journal.durable_seq)
        consumer.proc.send_signal(signal.SIGKILL)
        consumer.proc.wait()
        writer.write(writer.flow[2000:])  # meanwhile the writer goes on
        consumer = Consumer(url, pg_url, tmp_path)
        consumer.wait_for(writer.journal.durable_seq)
        assert _rows(pg_url) == _reference(writer, tmp_path)
        assert "from seq" in consumer.log.read_text()
    finally:
        consumer.proc.kill()
        consumer.proc.wait()
        writer.journal.close()


def test_a_consumer_held_back_shows_its_lag_until_it_has_caught_up(
    tmp_path: Path, pg_url: str
) -> None:
    url = f"{machine_nats()}/CONSUME{uuid.uuid4().hex[:8]}"
    writer = Writer(url)
    consumer = Consumer(url, pg_url, tmp_path, max_lag=100)
    try:
        consumer.wait_for(writer.journal.durable_seq)
        assert consumer.get("/health/ready").status_code == 200
        held = sa.create_engine(pg_url, poolclass=sa.NullPool)
        with held.connect() as conn, conn.begin():  # the projector's lock: it waits for it
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_PROJECTOR_LOCK)))
            writer.write(writer.flow[:3000])
            deadline = time.monotonic() + 30
            while consumer.get("/health/ready").status_code != 503:
                assert time.monotonic() < deadline, "the lag never showed"
                time.sleep(0.1)  # its lag is asked of NATS at most once a second
            assert json.loads(consumer.get("/health/ready").text)["behind"] > 100
            assert _lag_metric(consumer.get("/metrics").text) > 100
        held.dispose()
        consumer.wait_for(writer.journal.durable_seq)
        deadline = time.monotonic() + 30
        while consumer.get("/health/ready").status_code != 200:
            assert time.monotonic() < deadline, "still not ready"
            time.sleep(0.1)
    finally:
        consumer.proc.kill()
        consumer.proc.wait()
        writer.journal.close()
