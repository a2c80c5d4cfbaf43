"""Consumers of released outcomes linger under load for one transaction instead of several, and
whoever waits for them (a store read, a signed audit head) hurries them. Every linger here is
600 s: a test passes in seconds only if lingering ended because somebody hurried it."""

import random
import threading
from collections.abc import Sequence
from pathlib import Path

from bourse.events import Outcome
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange
from bourse.server.linger import Linger
from bourse.store.db import sqlite_url
from bourse.store.projection_worker import ProjectionWorker
from bourse.store.projector import Projector
from tests.api.conftest import serve, wait_until
from tests.api.test_orders import LIMIT, placed
from tests.audit.conftest import trade
from tests.store.builders import random_tape

FOREVER_S = 600.0


def _waiting(linger: Linger) -> threading.Thread:
    thread = threading.Thread(target=linger.wait, daemon=True)
    thread.start()
    return thread


def test_an_idle_consumer_writes_at_once() -> None:
    thread = _waiting(Linger(FOREVER_S))
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_under_load_it_lingers_until_hurried() -> None:
    linger = Linger(FOREVER_S)
    linger.written()  # a batch was just written: the consumer is busy
    thread = _waiting(linger)
    thread.join(timeout=0.2)
    assert thread.is_alive()  # still lingering (for up to 600 s)
    linger.hurry()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_hurry_before_the_wait_is_not_lost() -> None:
    """A reader who came while the last batch was being written may need the next one too."""
    linger = Linger(FOREVER_S)
    linger.written()
    linger.hurry()  # a reader came while the last batch was still being written
    thread = _waiting(linger)
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_the_store_writes_what_arrived_while_it_lingered_in_one_transaction(
    tmp_path: Path,
) -> None:
    outcomes = random_tape(random.Random(5), 60)
    third = len(outcomes) // 3
    first, second, third = outcomes[:third], outcomes[third : 2 * third], outcomes[2 * third :]
    projector = Projector(sqlite_url(tmp_path / "store.sqlite"))
    applied: list[Sequence[Outcome]] = []
    apply = projector.apply

    def recording(batch: Sequence[Outcome]) -> None:
        applied.append(batch)
        apply(batch)

    projector.apply = recording  # type: ignore[method-assign]
    worker = ProjectionWorker(projector)
    worker.linger = Linger(FOREVER_S)
    try:
        worker.submit(first)  # idle: written at once
        wait_until(lambda: worker.applied_seq == first[-1].seq, timeout=30)
        worker.submit(second)  # busy now: it lingers for more
        worker.submit(third)
        assert worker.wait_for(third[-1].seq, timeout=30)  # a reader hurries it
        assert [len(b) for b in applied] == [len(first), len(second) + len(third)]
    finally:
        worker.close()
        projector.close()


def test_a_store_read_hurries_the_projection(tmp_path: Path) -> None:
    for api in serve(tmp_path):
        projection = api.exchange.projection
        projection.linger = Linger(FOREVER_S)  # unhurried, the read would answer 503 in 10 s
        projection.linger.written()
        order = placed(api, **LIMIT, quantity="0.01", price="30000")
        r = api.signed("GET", "/api/v3/allOrders", symbol="BTCUSDT")
        assert r.status_code == 200, r.text
        assert order["orderId"] in [o["orderId"] for o in r.json()]


def test_a_signed_audit_head_hurries_the_log(tmp_path: Path) -> None:
    exchange = Exchange(DataDir(tmp_path / "data"), audit=True, audit_process=True)
    try:
        audit = exchange.audit
        assert audit is not None
        trade(exchange, 5)
        assert audit.wait_for(exchange.last_seq)
        audit.linger = Linger(FOREVER_S)  # no hurry left over from `wait_for`
        audit.linger.written()
        trade(exchange, 5, start_ms=2_000)
        head = audit.sign_head(timeout=30)  # unhurried, it would time out
        assert head is not None and head["tree_size"] == exchange.last_seq
    finally:
        exchange.close()
