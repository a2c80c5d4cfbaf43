"""The Exchange in-process on both stores: demo genesis, the projection agreeing with the engine
to the last unit, recovery from snapshot + journal, and a store that catches up after a restart."""

import itertools
from pathlib import Path

import pytest
import sqlalchemy as sa

from bourse.commands import Deposit, PlaceOrder
from bourse.domain.enums import OrderType, Side
from bourse.engine import Engine, snapshot
from bourse.journal.sequencer import replay as replay_records
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange, ExchangeStopped
from bourse.store import schema
from bourse.store.db import create_store_engine
from bourse.store.projector import Projector
from tests.journals import journal_of


def _store_balances(url: str) -> dict[tuple[int, str], tuple[int, int]]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schema.balances)).all()
    finally:
        engine.dispose()
    return {(r.account_id, r.asset): (r.free_raw, r.locked_raw) for r in rows}


def _engine_balances(exchange: Exchange) -> dict[tuple[int, str], tuple[int, int]]:
    return {
        (acct.id, b.asset): (b.free, b.locked)
        for acct in exchange.engine.state.accounts.values()
        for b in acct.balances.values()
    }


def _trade(exchange: Exchange, n: int) -> None:
    for i in range(n):
        exchange.submit(
            PlaceOrder(
                actor="test",
                ts_ms=1_000 + i,
                account_id=1,
                symbol="BTCUSDT",
                side=Side.BUY if i % 2 else Side.SELL,
                order_type=OrderType.MARKET,
                qty_raw=100_000,
            )
        )
    exchange.sequencer.flush()


def test_store_agrees_with_the_engine_and_survives_restarts(tmp_path: Path, store_url: str) -> None:
    data = DataDir(tmp_path / "data")
    ex = Exchange(data, database_url=store_url)
    _trade(ex, 20)
    assert ex.projection.wait_for(ex.engine.state.last_seq)
    assert _store_balances(store_url) == _engine_balances(ex)
    digest = snapshot.digest(ex.engine.state)
    ex.close()  # writes a snapshot

    ex = Exchange(DataDir(tmp_path / "data"), database_url=store_url)
    assert ex.recovery.snapshot_seq == ex.engine.state.last_seq
    assert ex.recovery.replayed == 0
    assert snapshot.digest(ex.engine.state) == digest
    ex.execute(Deposit(actor="test", ts_ms=9, account_id=2, asset="ETH", amount_raw=5))
    last = ex.engine.state.last_seq
    ex.close(snapshot_on_close=False)  # the journal is now ahead of the snapshot

    ex = Exchange(DataDir(tmp_path / "data"), database_url=store_url)
    try:
        assert ex.recovery.replayed == 1
        assert ex.engine.state.last_seq == last
        assert ex.projection.wait_for(last)
        assert _store_balances(store_url) == _engine_balances(ex)
    finally:
        ex.close()


def test_a_store_behind_the_snapshot_is_caught_up_by_a_full_replay(
    tmp_path: Path, store_url: str
) -> None:
    ex = Exchange(DataDir(tmp_path / "data"), database_url=store_url)
    _trade(ex, 10)
    ex.close()  # snapshot at the last seq
    fresh_store = tmp_path / "other.sqlite"
    url = f"sqlite:///{fresh_store}"
    ex = Exchange(DataDir(tmp_path / "data"), database_url=url)
    try:
        assert ex.recovery.snapshot_seq == 0  # the empty store forced a replay from the start
        assert ex.projection.applied_seq == ex.engine.state.last_seq
        assert _store_balances(url) == _engine_balances(ex)
    finally:
        ex.close()


def test_periodic_snapshots_bound_what_recovery_replays(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    ex = Exchange(DataDir(tmp_path / "data"), database_url=url, snapshot_every=10)
    genesis_seq = ex.engine.state.last_seq
    for i in range(25):
        ex.submit(Deposit(actor="test", ts_ms=i, account_id=1, asset="BTC", amount_raw=1))
    ex.sequencer.flush()
    taken = ex.snapshots.list()
    assert taken and max(taken) > genesis_seq
    assert all(b - a >= 10 for a, b in itertools.pairwise(taken))
    last = ex.engine.state.last_seq
    ex.projection.close()  # simulate a crash: no snapshot on close
    ex.journal.close()
    ex.projector.close()
    ex.data_dir.unlock()

    ex = Exchange(DataDir(tmp_path / "data"), database_url=url)
    try:
        assert ex.engine.state.last_seq == last
        assert ex.recovery.snapshot_seq == max(taken)
        assert ex.recovery.replayed == last - max(taken) < 10
    finally:
        ex.close()


def test_a_store_slightly_behind_uses_the_older_snapshot_it_has_reached(tmp_path: Path) -> None:
    ex = Exchange(DataDir(tmp_path / "data"), database_url=f"sqlite:///{tmp_path / 'a.sqlite'}")
    for i in range(3):
        ex.execute(Deposit(actor="test", ts_ms=i, account_id=1, asset="BTC", amount_raw=1))
        ex.write_snapshot()
    middle = ex.snapshots.list()[1]
    last = ex.engine.state.last_seq
    ex.close(snapshot_on_close=False)

    behind = f"sqlite:///{tmp_path / 'b.sqlite'}"  # a store that reached only the middle one
    with journal_of(tmp_path / "data") as journal, Projector(behind) as projector:
        records = (r for r in journal.replay() if r[0] <= middle)
        replay_records(Engine(), records, projector.apply)

    ex = Exchange(DataDir(tmp_path / "data"), database_url=behind)
    try:
        assert ex.recovery.snapshot_seq == middle
        assert ex.recovery.replayed == last - middle
        assert ex.projection.applied_seq == last
        assert _store_balances(behind) == _engine_balances(ex)
    finally:
        ex.close()


def test_an_engine_failure_stops_the_exchange_instead_of_serving_a_broken_state(
    tmp_path: Path,
) -> None:
    ex = Exchange(DataDir(tmp_path / "data"), database_url=f"sqlite:///{tmp_path / 's.sqlite'}")
    real_execute = ex.engine.execute

    def broken(seq: int, cmd: object) -> object:
        raise AssertionError("a broken invariant")

    ex.engine.execute = broken  # type: ignore[method-assign,assignment]
    deposit = Deposit(actor="test", ts_ms=1, account_id=1, asset="BTC", amount_raw=1)
    with pytest.raises(ExchangeStopped, match="internal error on command seq"):
        ex.submit(deposit)
    ex.engine.execute = real_execute  # type: ignore[method-assign]
    with pytest.raises(ExchangeStopped):  # still refused: the state is not trusted any more
        ex.submit(deposit)
    ex.close(snapshot_on_close=False)


def test_amounts_beyond_64_bits_are_journaled_and_recovered_exactly(tmp_path: Path) -> None:
    ex = Exchange(DataDir(tmp_path / "data"), database_url=f"sqlite:///{tmp_path / 's.sqlite'}")
    huge = Deposit(actor="test", ts_ms=1, account_id=1, asset="BTC", amount_raw=2**70)
    assert not ex.execute(huge).refused
    ex.write_snapshot()
    ex.execute(huge)  # after the snapshot: recovered from the journal
    expected = _engine_balances(ex)
    assert expected[(1, "BTC")][0] > 2**71
    ex.close(snapshot_on_close=False)
    ex = Exchange(DataDir(tmp_path / "data"), database_url=f"sqlite:///{tmp_path / 's.sqlite'}")
    try:
        assert _engine_balances(ex) == expected
    finally:
        ex.close()


def test_a_failed_periodic_snapshot_does_not_fail_the_command_it_follows(tmp_path: Path) -> None:
    ex = Exchange(DataDir(tmp_path / "data"), database_url=f"sqlite:///{tmp_path / 's.sqlite'}")
    ex.snapshot_every = 1

    def full_disk(seq: int, payload: bytes) -> Path:
        raise OSError(28, "No space left on device")

    ex.snapshots.write = full_disk  # type: ignore[method-assign]
    try:
        done = ex.execute(Deposit(actor="test", ts_ms=1, account_id=1, asset="BTC", amount_raw=1))
        assert done.seq == ex.engine.state.last_seq and not done.refused
        assert ex.failure is None
    finally:
        ex.close(snapshot_on_close=False)


def test_the_projection_in_its_own_process_agrees_with_the_engine(
    tmp_path: Path, store_url: str
) -> None:
    ex = Exchange(DataDir(tmp_path / "data"), database_url=store_url, projector_process=True)
    try:
        _trade(ex, 40)
        assert ex.projection.wait_for(ex.engine.state.last_seq)
        assert ex.projection.error is None
        assert _store_balances(store_url) == _engine_balances(ex)
    finally:
        ex.close()


def test_a_dead_projector_process_is_replaced_and_the_store_catches_up(tmp_path: Path) -> None:
    """A killed projector process is the store out of reach, not a failed projection: the next
    batch starts a new child, which resumes from the store's last seq (README, Storage)."""
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    ex = Exchange(DataDir(tmp_path / "data"), database_url=url, projector_process=True)
    try:
        remote = ex.projection._remote
        assert remote is not None
        killed = ex.projection.child_pid
        remote._proc.kill()
        remote._proc.join()
        outcome = ex.execute(Deposit(actor="t", ts_ms=1, account_id=1, asset="BTC", amount_raw=1))
        assert ex.projection.wait_for(outcome.seq, timeout=30)
        assert ex.projection.applied_seq == outcome.seq
        assert ex.projection.error is None and ex.projection.unreachable is None
        assert ex.projection.child_pid not in (None, killed)
        assert ex.failure is None  # matching went on meanwhile
        assert _store_balances(url) == _engine_balances(ex)
    finally:
        ex.close()
