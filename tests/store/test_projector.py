"""The projector's contract, identical on SQLite and PostgreSQL (see `store_url` in conftest)."""

import random

import pytest
import sqlalchemy as sa

from bourse.domain.enums import OrderStatus, OrderType, Side, SymbolStatus
from bourse.events import (
    AccountFrozen,
    AccountOpened,
    AccountPermissionsChanged,
    AssetCreated,
    OrderExpired,
    OrderTriggered,
    Outcome,
    SymbolStatusChanged,
)
from bourse.store import queries as q
from bourse.store import schema
from bourse.store.projector import ProjectionError, Projector

from .builders import (
    BIG,
    MINUTE,
    T0,
    Tape,
    accepted,
    balance,
    canceled,
    dump,
    listed,
    random_tape,
    rejected,
    split,
    trade,
)


def order(p: Projector, order_id: int) -> q.OrderRow:
    with p.engine.connect() as conn:
        row = q.order_by_id(conn, order_id)
    assert row is not None
    return row


def test_an_empty_store_is_at_seq_zero(projector: Projector) -> None:
    assert projector.last_seq() == 0
    projector.apply([])
    assert projector.last_seq() == 0


def test_order_lifecycle_across_batches(projector: Projector) -> None:
    tape = Tape()
    projector.apply([tape("PlaceOrder", accepted(1, 1, side=Side.SELL, qty=10, price=100))])
    placed = order(projector, 1)
    assert (placed.status, placed.executed_qty_raw, placed.cum_quote_raw) == ("NEW", 0, 0)
    assert (placed.side, placed.order_type, placed.time_in_force) == ("SELL", "LIMIT", "GTC")
    assert (placed.created_ms, placed.updated_ms, placed.created_seq) == (T0, T0, 1)

    fill = trade(1, maker=1, taker=2, price=100, qty=4, taker_side=Side.BUY)
    projector.apply([tape("PlaceOrder", accepted(2, 2, qty=4), fill, at=T0 + 5)])
    maker = order(projector, 1)
    assert (maker.status, maker.executed_qty_raw, maker.cum_quote_raw) == (
        "PARTIALLY_FILLED",
        4,
        400,
    )
    assert maker.updated_ms == T0 + 5 and maker.created_ms == T0
    taker = order(projector, 2)
    assert (taker.status, taker.executed_qty_raw, taker.cum_quote_raw) == ("FILLED", 4, 400)

    last = trade(2, maker=1, taker=3, price=101, qty=6, maker_status=OrderStatus.FILLED)
    projector.apply(
        [
            tape("PlaceOrder", accepted(3, 2, qty=9), last, at=T0 + 9),
            tape("CancelOrder", canceled(3, 2), at=T0 + 12),
        ]
    )
    maker = order(projector, 1)
    assert (maker.status, maker.executed_qty_raw, maker.cum_quote_raw) == ("FILLED", 10, 1006)
    taker = order(projector, 3)
    assert (taker.status, taker.executed_qty_raw, taker.updated_ms) == ("CANCELED", 6, T0 + 12)
    assert projector.last_seq() == 4


def test_stop_order_triggers_then_expires(projector: Projector) -> None:
    tape = Tape()
    stop = accepted(7, order_type=OrderType.STOP_LOSS, stop_price=90, price=0, working=False)
    projector.apply([tape("PlaceOrder", stop)])
    assert order(projector, 7).working is False
    triggered = OrderTriggered(order_id=7, account_id=1, symbol="BTCUSDT", last_price_raw=89)
    projector.apply([tape("PlaceOrder", triggered, at=T0 + 1)])
    assert (order(projector, 7).working, order(projector, 7).status) == (True, "NEW")
    expired = OrderExpired(
        order_id=7,
        account_id=1,
        symbol="BTCUSDT",
        status=OrderStatus.EXPIRED,
        reason="no liquidity",
    )
    projector.apply([tape("PlaceOrder", expired, at=T0 + 2)])
    final = order(projector, 7)
    assert (final.status, final.working, final.updated_ms) == ("EXPIRED", True, T0 + 2)


def test_trades_and_the_queries_over_them(projector: Projector) -> None:
    tape = Tape()
    outcomes = [tape("PlaceOrder", accepted(1, 1, side=Side.SELL, qty=100))]
    for n in range(1, 6):  # account 2 takes from account 1 five times
        outcomes.append(
            tape(
                "PlaceOrder",
                accepted(n + 1, 2, qty=1),
                trade(n, maker=1, taker=n + 1, qty=1, price=100 + n),
                at=T0 + n,
            )
        )
    projector.apply(outcomes)
    with projector.engine.connect() as conn:
        recent = q.recent_trades(conn, "BTCUSDT", limit=2)
        assert [t.trade_id for t in recent] == [4, 5]
        assert (recent[-1].price_raw, recent[-1].quote_qty_raw, recent[-1].ts_ms) == (
            105,
            105,
            T0 + 5,
        )
        assert recent[-1].seq == 6
        as_maker = q.trades_for_account(conn, 1, "BTCUSDT")
        assert [(a.trade.trade_id, a.is_maker, a.is_buyer, a.order_id) for a in as_maker] == [
            (n, True, False, 1) for n in range(1, 6)
        ]
        as_taker = q.trades_for_account(conn, 2, "BTCUSDT", from_id=2, limit=3)
        assert [(a.trade.trade_id, a.is_maker, a.is_buyer) for a in as_taker] == [
            (2, False, True),
            (3, False, True),
            (4, False, True),
        ]
        assert as_taker[0].fee_raw == as_taker[0].trade.taker_fee_raw
        assert [a.trade.trade_id for a in q.trades_for_account(conn, 2, "BTCUSDT", limit=2)] == [
            4,
            5,
        ]
        assert q.trades_for_account(conn, 3, "BTCUSDT") == []
        open_orders = q.orders_for(conn, 1, "BTCUSDT", open_only=True)
        assert [o.order_id for o in open_orders] == [1]
        assert [o.order_id for o in q.orders_for(conn, 2, "BTCUSDT", limit=2)] == [5, 6]
        assert [o.order_id for o in q.orders_for(conn, 2, None, from_order_id=3, limit=2)] == [3, 4]
        found = q.order_by_client_id(conn, 2, "BTCUSDT", "c4")
        assert found is not None and found.order_id == 4
        assert q.order_by_id(conn, 99) is None


def test_a_self_trade_shows_once_per_side(projector: Projector) -> None:
    tape = Tape()
    projector.apply(
        [
            tape("PlaceOrder", accepted(1, 1, side=Side.SELL)),
            tape(
                "PlaceOrder",
                accepted(2, 1),
                trade(1, maker=1, taker=2, maker_account=1, taker_account=1),
            ),
        ]
    )
    with projector.engine.connect() as conn:
        mine = q.trades_for_account(conn, 1, "BTCUSDT")
    assert [(a.trade.trade_id, a.is_maker, a.is_buyer) for a in mine] == [
        (1, True, False),
        (1, False, True),
    ]


def _kline_outcomes() -> list[Outcome]:
    """Six trades: four in the first minute, two in the next; taker buys are odd trade ids."""
    tape = Tape()
    prices = [
        (0, 100),
        (10_000, 120),
        (20_000, 90),
        (59_999, 110),
        (MINUTE, 200),
        (MINUTE + 1, 190),
    ]
    outcomes = [tape("PlaceOrder", accepted(1, 1, side=Side.SELL, qty=10**30))]
    for n, (offset, price) in enumerate(prices, start=1):
        side = Side.BUY if n % 2 else Side.SELL
        fill = trade(n, maker=1, taker=n + 1, price=price, qty=n * BIG, taker_side=side)
        outcomes.append(tape("PlaceOrder", accepted(n + 1, 2), fill, at=T0 + offset))
    return outcomes


@pytest.mark.parametrize("cut", [7, 2, 3, 4, 1])
def test_klines_aggregate_across_batches(projector: Projector, cut: int) -> None:
    outcomes = _kline_outcomes()
    for batch in split(outcomes, [cut]):
        projector.apply(batch)
    with projector.engine.connect() as conn:
        first, second = q.klines_1m(conn, "BTCUSDT")
        assert q.klines_1m(conn, "BTCUSDT", start_ms=T0 + MINUTE) == [second]
        assert q.klines_1m(conn, "BTCUSDT", end_ms=T0 + MINUTE - 1) == [first]
        assert q.klines_1m(conn, "BTCUSDT", limit=1) == [second]
    assert first.open_time_ms == T0 and second.open_time_ms == T0 + MINUTE
    assert (first.open_raw, first.high_raw, first.low_raw, first.close_raw) == (100, 120, 90, 110)
    assert first.volume_raw == (1 + 2 + 3 + 4) * BIG
    assert first.quote_volume_raw == (100 * 1 + 120 * 2 + 90 * 3 + 110 * 4) * BIG
    assert first.taker_buy_volume_raw == (1 + 3) * BIG
    assert first.taker_buy_quote_volume_raw == (100 * 1 + 90 * 3) * BIG
    assert (first.trade_count, first.first_trade_id, first.last_trade_id) == (4, 1, 4)
    assert (second.open_raw, second.high_raw, second.low_raw, second.close_raw) == (
        200,
        200,
        190,
        190,
    )
    assert (second.trade_count, second.first_trade_id, second.last_trade_id) == (2, 5, 6)
    assert second.taker_buy_volume_raw == 5 * BIG
    assert second.close_time_ms == T0 + 2 * MINUTE - 1


def test_balances_keep_the_latest_and_the_history(projector: Projector) -> None:
    tape = Tape()
    projector.apply(
        [
            tape("Deposit", balance(1, "USDT", 1000)),
            tape("PlaceOrder", balance(1, "USDT", 600, 400), balance(1, "BTC", 0), at=T0 + 1),
        ]
    )
    projector.apply([tape("CancelOrder", balance(1, "USDT", 1000, 0), at=T0 + 2)])
    with projector.engine.connect() as conn:
        current = q.balances(conn, 1)
        history = q.balance_history(conn, 1, "USDT")
        assert [h.seq for h in q.balance_history(conn, 1, "USDT", from_seq=2, limit=1)] == [2]
    assert [(b.asset, b.free_raw, b.locked_raw, b.updated_seq) for b in current] == [
        ("BTC", 0, 0, 2),
        ("USDT", 1000, 0, 3),
    ]
    assert [(h.seq, h.ts_ms, h.free_raw, h.locked_raw, h.command) for h in history] == [
        (1, T0, 1000, 0, "Deposit"),
        (2, T0 + 1, 600, 400, "PlaceOrder"),
        (3, T0 + 2, 1000, 0, "CancelOrder"),
    ]


def test_amounts_above_64_bits_round_trip_exactly(projector: Projector) -> None:
    huge = 10**38 + 7  # 39 digits: at the top of NUMERIC(40,0)
    tape = Tape()
    projector.apply(
        [
            tape("Deposit", balance(1, "ETH", huge, BIG)),
            tape("PlaceOrder", accepted(1, 1, price=BIG + 1, qty=huge - 1)),
            tape(
                "PlaceOrder",
                accepted(2, 2, price=BIG + 1, qty=BIG),
                trade(1, maker=1, taker=2, price=BIG + 1, qty=BIG),
            ),
        ]
    )
    again = trade(2, maker=1, taker=3, price=BIG + 1, qty=BIG)
    projector.apply([tape("PlaceOrder", accepted(3, 2, price=BIG + 1, qty=BIG), again)])
    maker = order(projector, 1)
    assert (maker.price_raw, maker.qty_raw) == (BIG + 1, huge - 1)
    assert maker.executed_qty_raw == 2 * BIG
    assert maker.cum_quote_raw == 2 * (BIG + 1) * BIG  # ~2**129: sums made exactly, beyond 2**128
    with projector.engine.connect() as conn:
        (kline,) = q.klines_1m(conn, "BTCUSDT")
        (eth,) = q.balances(conn, 1)
    assert kline.volume_raw == 2 * BIG and kline.quote_volume_raw == 2 * (BIG + 1) * BIG
    assert (eth.free_raw, eth.locked_raw) == (huge, BIG)
    assert isinstance(eth.free_raw, int)


def test_reapplying_a_batch_changes_nothing(projector: Projector) -> None:
    outcomes = random_tape(random.Random(1), 60)
    first, rest = outcomes[:30], outcomes[30:]
    projector.apply(first)
    once = dump(projector.engine)
    projector.apply(first)  # a replay after a crash between commit and acknowledgement
    projector.apply(first[10:20])
    assert dump(projector.engine) == once
    projector.apply(outcomes[25:])  # overlapping: only the part after last_seq applies
    assert projector.last_seq() == outcomes[-1].seq

    with Projector(projector.engine.url.render_as_string(hide_password=False)) as other:
        other.reset()
        other.apply(first)
        other.apply(rest)
        assert dump(other.engine) == dump(projector.engine)


def test_any_batching_gives_the_same_store(projector: Projector) -> None:
    outcomes = random_tape(random.Random(7), 200)
    projector.apply(outcomes)
    expected = dump(projector.engine)
    assert sum(len(rows) for rows in expected.values()) > 700
    for sizes in ([1], [2, 5], [17, 1, 40], [97]):
        projector.reset()
        for batch in split(outcomes, sizes):
            projector.apply(batch)
        assert dump(projector.engine) == expected, f"batches of {sizes}"


def test_reset_empties_the_store(projector: Projector) -> None:
    outcomes = random_tape(random.Random(3), 40)
    projector.apply(outcomes)
    full = dump(projector.engine)
    projector.reset()
    assert projector.last_seq() == 0
    assert all(rows == [] for rows in dump(projector.engine).values())
    projector.apply(outcomes)
    assert dump(projector.engine) == full


def test_reference_data_and_rejections(projector: Projector) -> None:
    tape = Tape()
    projector.apply(
        [
            tape("CreateAsset", AssetCreated(asset="ETH", precision=18)),
            tape("ListSymbol", listed()),
            tape("OpenAccount", AccountOpened(account_id=1, fee_tier=0)),
            tape("OpenAccount", AccountOpened(account_id=2, fee_tier=3)),
            tape(
                "SetAccountPermissions",
                AccountPermissionsChanged(
                    account_id=2, can_trade=False, can_deposit=True, can_withdraw=False, reason="r"
                ),
            ),
        ]
    )
    projector.apply(
        [
            tape(
                "FreezeAccount", AccountFrozen(account_id=1, actor="ops", reason="r", evidence="")
            ),
            tape(
                "SetSymbolStatus",
                SymbolStatusChanged(symbol="BTCUSDT", status=SymbolStatus.HALT, reason="r"),
            ),
            tape("PlaceOrder", rejected(2, "account 2 may not trade")),
        ]
    )
    with projector.engine.connect() as conn:
        accounts = conn.execute(sa.select(schema.accounts).order_by("account_id")).all()
        symbol = conn.execute(sa.select(schema.symbols)).one()
        rejection = conn.execute(sa.select(schema.rejections)).one()
        asset = conn.execute(sa.select(schema.assets)).one()
    assert [tuple(a) for a in accounts] == [
        (1, 0, True, True, True, True, 6, 0),  # customer 0: house accounts
        (2, 3, False, True, False, False, 5, 0),
    ]
    assert (symbol.name, symbol.base, symbol.quote, symbol.status) == (
        "BTCUSDT",
        "BTC",
        "USDT",
        "HALT",
    )
    assert '"tick_size_raw":1' in symbol.spec_json
    assert (rejection.seq, rejection.command, rejection.code, rejection.reason) == (
        8,
        "PlaceOrder",
        301,
        "account 2 may not trade",
    )
    assert (asset.asset, asset.precision) == ("ETH", 18)


def test_a_failed_batch_writes_nothing(projector: Projector) -> None:
    tape = Tape()
    projector.apply([tape("PlaceOrder", accepted(1))])
    before = dump(projector.engine)
    bad = [
        tape("Deposit", balance(1, "USDT", 5)),
        tape("PlaceOrder", trade(1, maker=1, taker=404)),  # order 404 was never accepted
    ]
    with pytest.raises(ProjectionError, match="order 404"):
        projector.apply(bad)
    assert dump(projector.engine) == before and projector.last_seq() == 1


def test_outcomes_out_of_order_are_refused(projector: Projector) -> None:
    tape = Tape()
    a, b = tape("Deposit", balance(1, "USDT", 5)), tape("Deposit", balance(1, "USDT", 6))
    with pytest.raises(ValueError, match="seq order"):
        projector.apply([b, a])
    assert projector.last_seq() == 0
