"""The store reads behind klines, aggTrades and the tickers, on SQLite and PostgreSQL alike:
a random trading session (real engine, trades spread over hours with quiet gaps) is projected
into the store, then every read is compared with the same figures computed in Python from the
engine's own events, in pages of two rows as well as in one page."""

import random
from collections import defaultdict
from collections.abc import Iterator
from itertools import pairwise

import pytest
import sqlalchemy as sa

from bourse.domain.enums import OrderType, Side, TimeInForce
from bourse.events import Outcome, TradeExecuted
from bourse.marketdata.klines import bucket_open, read_klines
from bourse.marketdata.trades import agg_trades
from bourse.store import market_queries
from bourse.store.db import create_store_engine
from bourse.store.projector import Projector
from tests.builders import Runner, world

T0 = 1_700_000_000_000
MINUTE = 60_000


def session(seed: int) -> tuple[Runner, list[tuple[int, TradeExecuted]]]:
    rnd = random.Random(seed)
    r = world(accounts=3, funds={"BTC": "50", "USDT": "5000000"}, symbols=("BTCUSDT",))
    r.ts_ms = T0
    for _ in range(160):
        r.ts_ms += rnd.choice([0, 1, 250, 20_000, 61_000, 600_000, 3_600_000])
        price = str(50_000 + rnd.randint(-5, 5) * 10)
        tif = rnd.choice([TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC])
        r.execute(
            r.order(
                rnd.randint(1, 3),
                rnd.choice(list(Side)),
                OrderType.LIMIT,
                price=price,
                qty=rnd.choice(["0.01", "0.02", "0.05"]),
                tif=tif,
            )
        )
    trades = [
        (cmd.ts_ms, e)
        for cmd, events in zip(r.commands, r.events, strict=True)
        for e in events
        if isinstance(e, TradeExecuted)
    ]
    return r, trades


@pytest.fixture
def store(store_url: str) -> Iterator[tuple[sa.Connection, list[tuple[int, TradeExecuted]]]]:
    r, trades = session(7)
    outcomes = [
        Outcome(seq=i, ts_ms=cmd.ts_ms, command=type(cmd).__name__, events=events)
        for i, (cmd, events) in enumerate(zip(r.commands, r.events, strict=True), start=1)
    ]
    with Projector(store_url) as p:
        p.apply(outcomes)
    engine = create_store_engine(store_url)
    try:
        with engine.connect() as conn:
            yield conn, trades
    finally:
        engine.dispose()


def expected_candles(
    trades: list[tuple[int, TradeExecuted]], interval: str
) -> dict[int, tuple[int, int, int, int, int, int]]:
    """open time → (open, high, low, close, volume, count) of the intervals with trades."""
    by_bucket: dict[int, list[TradeExecuted]] = defaultdict(list)
    for ts, t in trades:
        by_bucket[bucket_open(ts, interval)].append(t)
    return {
        at: (
            ts_[0].price_raw,
            max(t.price_raw for t in ts_),
            min(t.price_raw for t in ts_),
            ts_[-1].price_raw,
            sum(t.qty_raw for t in ts_),
            len(ts_),
        )
        for at, ts_ in by_bucket.items()
    }


@pytest.mark.parametrize("interval", ["1s", "1m", "5m", "1h", "1d"])
def test_klines_fold_the_events(store, interval: str, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    conn, trades = store
    assert len(trades) > 40
    want = expected_candles(trades, interval)
    last_ts = trades[-1][0]

    def read(limit: int, chunk: int) -> list[tuple[int, tuple[int, ...]]]:
        monkeypatch.setattr(market_queries, "CHUNK", chunk)
        candles = read_klines(
            conn,
            "BTCUSDT",
            interval,
            start=0,
            end=None,
            limit=limit,
            offset_ms=0,
            now_ms=last_ts,
        )
        return [
            (c.open_ms, (c.k.open, c.k.high, c.k.low, c.k.close, c.k.volume, c.k.count))
            for c in candles
        ]

    got = read(1000, 2000)
    assert got == read(1000, 2)
    assert got[0][0] == min(want)
    traded = {at: figures for at, figures in got if figures[5]}
    if len(got) < 1000:  # the whole history fits: every interval with trades is there
        assert traded == want
    else:
        assert traded == {at: f for at, f in want.items() if at <= got[-1][0]}
    for (_, before), (_, after) in pairwise(got):
        if not after[5]:  # a quiet interval: flat at the previous close
            assert after[:4] == (before[3],) * 4


def test_agg_trades_and_ticker_seeds(store, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    conn, trades = store
    groups: list[list[TradeExecuted]] = []
    for _, t in trades:
        prev = groups[-1][-1] if groups else None
        if prev and (prev.taker_order_id, prev.price_raw) == (t.taker_order_id, t.price_raw):
            groups[-1].append(t)
        else:
            groups.append([t])
    want = [(g[0].trade_id, g[-1].trade_id, sum(t.qty_raw for t in g)) for g in groups]
    assert len(want) < len(trades)  # some aggregates hold several trades
    for chunk in (2000, 2):
        monkeypatch.setattr(market_queries, "CHUNK", chunk)
        found = agg_trades(conn, "BTCUSDT", from_id=0, start_ms=None, end_ms=None, limit=1000)
        assert [(a.first_id, a.last_id, a.qty_raw) for a in found] == want
        latest = agg_trades(conn, "BTCUSDT", from_id=None, start_ms=None, end_ms=None, limit=5)
        assert [a.first_id for a in latest] == [w[0] for w in want[-5:]]
    start = bucket_open(trades[-1][0] - 3_600_000, "1m")
    seeds = market_queries.ticker_seeds(conn, ["BTCUSDT", "ETHUSDT"], start)
    btc = seeds["BTCUSDT"]
    assert btc.last is not None and btc.last.trade_id == trades[-1][1].trade_id
    recent = [t for ts, t in trades if ts >= start]
    assert sum(m.trade_count for m in btc.minutes) == len(recent) > 0
    earlier = [t for ts, t in trades if ts < start]
    assert btc.prev_close == (earlier[-1].price_raw if earlier else 0)
    assert seeds["ETHUSDT"].minutes == [] and seeds["ETHUSDT"].last is None
