"""A gateway process's link to the engine process: commands answered once durable, the engine's
own checks, and a read model that follows every release exactly as the engine process's does."""

import asyncio
from pathlib import Path

import pytest

from bourse.commands import Deposit, PlaceOrder
from bourse.demo import DEMO_ACCOUNT_ID
from bourse.domain.enums import OrderType, Side, TimeInForce
from bourse.domain.money import to_raw
from bourse.domain.rejections import RejectCode
from bourse.events import CommandRejected, OrderAccepted
from bourse.keys.sealing import SecretBox
from bourse.server.datadir import DataDir
from bourse.server.engine_link import EngineHost, EngineLink
from bourse.server.exchange import Exchange, now_ms
from bourse.server.service import Service
from bourse.store.db import sqlite_url
from bourse.view.plain import plain


def _order(price: str, **fields: object) -> PlaceOrder:
    base: dict[str, object] = dict(
        actor="api:test",
        ts_ms=now_ms(),
        account_id=DEMO_ACCOUNT_ID,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price_raw=to_raw(price, 8),
        qty_raw=to_raw("0.001", 8),
    )
    base.update(fields)
    return PlaceOrder(**base)  # type: ignore[arg-type]


@pytest.fixture
def service(tmp_path: Path):  # type: ignore[no-untyped-def]
    dd = DataDir(tmp_path / "data")
    exchange = Exchange(dd, database_url=sqlite_url(tmp_path / "store.sqlite"))
    try:
        yield Service(exchange, "token", SecretBox.at(dd.master_key_file))
    finally:
        exchange.close(snapshot_on_close=False)


def test_a_linked_gateway_places_orders_and_keeps_the_same_read_model(
    service: Service, tmp_path: Path
) -> None:
    async def scenario() -> None:
        service.attach(asyncio.get_running_loop())
        host = EngineHost(service, tmp_path / "engine.sock")
        await host.start()
        link = EngineLink(tmp_path / "engine.sock", now_ms)
        await link.connect()
        assert plain(link.view) == plain(service.view)  # the seed
        released: list[int] = []
        link.on_release.append(lambda batch: released.extend(o.seq for o in batch))

        outcomes = await asyncio.gather(*(link.execute(_order(str(50_000 + i))) for i in range(20)))
        assert all(any(isinstance(e, OrderAccepted) for e in o.events) for o in outcomes), outcomes[
            0
        ]
        for o in outcomes:  # the view had each outcome before its answer arrived
            placed = next(e for e in o.events if isinstance(e, OrderAccepted))
            assert placed.order_id in link.view.accounts[DEMO_ACCOUNT_ID].open_orders
        assert released == sorted(released) and set(released) >= {o.seq for o in outcomes}
        assert plain(link.view) == plain(service.view)

        refused = await link.execute(_order("50000", qty_raw=10**15))  # more than anyone holds
        assert any(isinstance(e, CommandRejected) for e in refused.events)
        deposit = Deposit(
            actor="operator", ts_ms=now_ms(), reason="test", account_id=DEMO_ACCOUNT_ID,
            asset="BTC", amount_raw=5, tx_ref="t1",
        )  # fmt: skip
        await link.execute(deposit)
        assert plain(link.view) == plain(service.view)

        # the engine's own first stages, without sequencing anything
        last = service.view.last_seq
        bad = await link.check(_order("50000", price_raw=to_raw("50000.001", 8)))  # off the tick
        assert bad is not None and bad.code is RejectCode.PRICE_FILTER
        assert await link.check(_order("50000")) is None
        assert service.view.last_seq == last

        await link.store_caught_up()  # what a store read waits for
        assert link.store_seq >= outcomes[-1].seq
        await link.close()
        await host.stop()

    asyncio.run(scenario())


def test_a_gateway_that_goes_away_loses_only_its_own_answers(
    service: Service, tmp_path: Path
) -> None:
    async def scenario() -> None:
        service.attach(asyncio.get_running_loop())
        host = EngineHost(service, tmp_path / "engine.sock")
        await host.start()
        gone, stays = (EngineLink(tmp_path / "engine.sock", now_ms) for _ in range(2))
        await gone.connect()
        await stays.connect()
        pending = asyncio.ensure_future(gone.execute(_order("49000")))
        await asyncio.sleep(0)  # the frame is written
        await gone.close()
        with pytest.raises((ConnectionError, asyncio.CancelledError)):
            await pending
        after = await stays.execute(_order("49001"))
        # the order the departed gateway sent was still placed, and the other gateway saw it
        orders = stays.view.accounts[DEMO_ACCOUNT_ID].open_orders.values()
        assert {o.price for o in orders} >= {to_raw("49000", 8), to_raw("49001", 8)}
        assert after.seq == service.view.last_seq
        await stays.close()
        await host.stop()

    asyncio.run(scenario())


def test_rate_limits_are_counted_in_the_engine_process_for_every_gateway(
    service: Service, tmp_path: Path
) -> None:
    from bourse.api.binance.ratelimit import CALLS, Limits, LocalRates, Policy, RemoteRates
    from bourse.api.binance.replies import ApiError
    from tests.api.test_ratelimit import _limits

    now = 1_700_000_010_000  # 30 s into a minute
    limits = Limits(lambda: now, Policy(_limits(weight=10, orders_10s=2), strikes_before_ban=1))
    limits.enabled = True
    local = LocalRates(limits)

    async def scenario() -> None:
        service.attach(asyncio.get_running_loop())
        host = EngineHost(service, tmp_path / "engine.sock", {n: getattr(local, n) for n in CALLS})
        await host.start()
        links = [EngineLink(tmp_path / "engine.sock", now_ms) for _ in range(2)]
        for link in links:
            await link.connect()
        one, two = (RemoteRates(link.call, lambda: now) for link in links)
        assert await one.admit("10.0.0.1", 4, 7, 1, now) == ([4, 1], [1, 1])
        assert await two.admit("10.0.0.1", 4, 7, 1, now) == ([8, 2], [2, 2])  # the same counts
        with pytest.raises(ApiError) as orders:
            await one.place(7, 1, now)  # a third order in 10 s
        assert (orders.value.code, orders.value.status) == (-1015, 429)
        assert await two.refund(7, 1, now) == [1, 1]
        with pytest.raises(ApiError) as weight:  # 8 + 4 > 10
            await two.admit("10.0.0.1", 4, None, 0, now)
        assert (weight.value.code, weight.value.status) == (-1003, 429)
        assert weight.value.headers["Retry-After"] == "30"
        assert weight.value.headers["x-mbx-used-weight-1m"] == "8"
        with pytest.raises(ApiError) as banned:  # kept sending after a 429
            await one.admit("10.0.0.1", 4, None, 0, now)
        assert banned.value.status == 418
        assert (await one.report("10.0.0.1", None, now))[0]["count"] == 8
        for link in links:
            await link.close()
        await host.stop()

    asyncio.run(scenario())


def test_a_gateway_that_stops_reading_is_cut_off_not_buffered_without_bound(
    service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bourse.server import engine_link

    monkeypatch.setattr(engine_link, "MAX_UNSENT_BYTES", 1)  # past the kernel's own buffer

    async def scenario() -> None:
        service.attach(asyncio.get_running_loop())
        host = EngineHost(service, tmp_path / "engine.sock")
        await host.start()
        _reader, writer = await asyncio.open_unix_connection(str(tmp_path / "engine.sock"))
        writer.write(engine_link.frame(engine_link.HELLO, 0, b"gateway-9"))  # then never reads
        link = EngineLink(tmp_path / "engine.sock", now_ms, process="gateway-1")
        await link.connect()
        assert b'bourse_link_unsent_bytes{process="gateway-9"}' in service.metrics.exposition()
        for _ in range(30):  # until the stalled one's socket is full and it is dropped
            await asyncio.gather(*(link.execute(_order(str(40_000 + i))) for i in range(100)))
            if len(host._subscribers) == 1:
                break
        assert len(host._subscribers) == 1  # only the reading one is left
        assert b'process="gateway-9"' not in service.metrics.exposition()
        await link.execute(_order("41000"))  # the exchange goes on
        writer.close()
        await link.close()
        await host.stop()

    asyncio.run(scenario())
