"""Real clients' stream support against a live `bourse run` on loopback, each unmodified but for
the URL: python-binance's BinanceSocketManager (trades, depth diffs, a multiplex socket) and
binance-sdk-spot's WebSocket streams (trades and best prices by SUBSCRIBE), and ccxt.pro (its
local order book, trades and own orders)."""

import asyncio
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from binance.ws.streams import BinanceSocketManager
from binance_common.configuration import ConfigurationWebSocketStreams
from binance_sdk_spot.spot import Spot

from tests.clients.conftest import Exchange, close, python_binance, running, stop_reading

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:parameter 'timeout' of type 'float':DeprecationWarning"),
]


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory, stream_shape: tuple[str, ...]
) -> Iterator[Exchange]:
    with running(tmp_path_factory, "streams", "--no-rate-limits", *stream_shape) as exchange:
        yield exchange


def test_python_binance_socket_manager_gets_trades_and_depth_diffs(live: Exchange) -> None:
    seller, buyer = live.trader(BTC="1"), live.trader(USDT="100000")

    async def session() -> None:
        sell, buy = python_binance(live, seller), python_binance(live, buyer)
        sockets = BinanceSocketManager(sell)
        sockets.STREAM_URL = live.stream_url + "/"
        try:
            trade_socket = sockets.trade_socket("BTCUSDT")
            depth_socket = sockets.depth_socket("BTCUSDT", interval=100)
            both = sockets.multiplex_socket(["btcusdt@bookTicker", "btcusdt@aggTrade"])
            async with trade_socket as trades, depth_socket as diffs, both as multiplex:
                book = await sell.get_order_book(symbol="BTCUSDT", limit=100)
                await sell.order_limit_sell(symbol="BTCUSDT", quantity="0.01", price="60005")
                await buy.order_market_buy(symbol="BTCUSDT", quantity="0.004")
                trade = await asyncio.wait_for(trades.recv(), 10)
                assert (trade["e"], trade["s"], Decimal(trade["q"])) == (
                    "trade",
                    "BTCUSDT",
                    Decimal("0.004"),
                )
                assert Decimal(trade["p"]) == 60005 and trade["m"] is False
                diff = await asyncio.wait_for(diffs.recv(), 10)
                while diff["u"] <= book["lastUpdateId"]:
                    diff = await asyncio.wait_for(diffs.recv(), 10)
                assert diff["e"] == "depthUpdate" and diff["U"] <= book["lastUpdateId"] + 1
                level = Decimal(-1)
                while level != Decimal("0.006"):  # the sell, then what the buy left of it
                    asks = {Decimal(p): Decimal(q) for p, q in diff["a"]}
                    level = asks.get(Decimal(60005), level)
                    if level != Decimal("0.006"):
                        previous = diff["u"]
                        diff = await asyncio.wait_for(diffs.recv(), 10)
                        assert diff["U"] == previous + 1
                seen: dict[str, Any] = {}
                while len(seen) < 2:
                    message = await asyncio.wait_for(multiplex.recv(), 10)
                    seen[message["stream"]] = message["data"]
                assert Decimal(seen["btcusdt@aggTrade"]["q"]) == Decimal("0.004")
                assert "b" in seen["btcusdt@bookTicker"]
                for socket in (trades, diffs, multiplex):
                    await stop_reading(socket)
        finally:
            await close(sell)
            await close(buy)

    asyncio.run(session())


def test_binance_sdk_spot_streams_subscribe_to_trades(live: Exchange) -> None:
    seller, buyer = live.trader(BTC="1"), live.trader(USDT="100000")
    config = ConfigurationWebSocketStreams(stream_url=live.stream_url)
    streams = Spot(config_ws_streams=config).websocket_streams

    async def session() -> list[Any]:
        received: list[Any] = []
        got = asyncio.Event()
        connection = await streams.create_connection()
        try:
            stream = await connection.trade(symbol="btcusdt")

            def on_message(message: Any) -> None:
                received.append(message)
                got.set()

            stream.on("message", on_message)
            sell, buy = python_binance(live, seller), python_binance(live, buyer)
            try:
                await sell.order_limit_sell(symbol="BTCUSDT", quantity="0.01", price="60005")
                await buy.order_market_buy(symbol="BTCUSDT", quantity="0.002")
            finally:
                await close(sell)
                await close(buy)
            await asyncio.wait_for(got.wait(), 10)
        finally:
            await connection.close_connection()
        return received

    received = asyncio.run(session())
    trade = received[0]
    assert (trade.e, trade.s) == ("trade", "BTCUSDT") and Decimal(trade.q) == Decimal("0.002")


def test_ccxt_pro_watches_the_book_trades_and_its_own_orders(live: Exchange) -> None:
    """ccxt.pro, the WebSocket side of ccxt, with its REST URLs rewritten as the README shows
    and its `ws` URLs pointed at bourse. It opens `/ws/<n>` (a connection number, which names no
    stream) and SUBSCRIBEs; orders come back through the user data stream; create/cancel_order_ws
    go over the WebSocket API."""
    import ccxt.pro

    trader = live.trader(USDT="100000")
    ws = live.ws_url

    async def session() -> None:
        ex = ccxt.pro.binance(
            {
                "apiKey": trader.key,
                "secret": trader.secret,
                "options": {
                    "defaultType": "spot",
                    "fetchMarkets": {"types": ["spot"]},
                    "fetchCurrencies": False,
                    "fetchMargins": False,
                },
            }
        )
        ex.urls["api"] = {
            k: live.url + urlsplit(v).path if isinstance(v, str) else v
            for k, v in ex.urls["api"].items()
        }
        ex.urls["api"]["ws"] = {
            "spot": f"{live.stream_url}/ws",
            "ws-api": {"spot": f"{ws}/ws-api/v3"},
        }
        acknowledged = _record_subscription_acks(ex)
        try:
            book = await asyncio.wait_for(ex.watch_order_book("BTC/USDT"), 10)
            best_ask = Decimal(str(book["asks"][0][0]))
            await ex.ensure_user_data_stream_ws_subscribe_signature("spot")  # awaits its answer
            trades = asyncio.ensure_future(ex.watch_trades("BTC/USDT"))
            orders = asyncio.ensure_future(ex.watch_orders("BTC/USDT"))

            def subscribed() -> bool:  # the book's and the trades' SUBSCRIBE both answered
                ids = {
                    (url, str(subscription.get("id")))
                    for url, client in ex.clients.items()
                    if url.startswith(f"{live.stream_url}/ws/")
                    for subscription in client.subscriptions.values()
                    if isinstance(subscription, dict)
                }
                return len(ids) >= 2 and ids <= acknowledged

            await _until(subscribed)
            placed = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, float(best_ask))
            seen = await asyncio.wait_for(trades, 10)
            assert any(Decimal(str(t["price"])) == best_ask for t in seen)
            mine = await asyncio.wait_for(orders, 10)
            assert placed["id"] in {o["id"] for o in mine}
            rest = await ex.fetch_order_book("BTC/USDT")
            book = ex.orderbooks["BTC/USDT"]  # the local book ccxt keeps from the diffs
            await _until(  # the 100 ms diff carrying the trade has reached it
                lambda: (
                    book["asks"][:5] == rest["asks"][:5] and book["bids"][:5] == rest["bids"][:5]
                )
            )
            # and its WebSocket API methods
            resting = await ex.create_order_ws("BTC/USDT", "limit", "buy", 0.001, 50000)
            assert resting["status"] == "open"
            assert resting["id"] in {o["id"] for o in await ex.fetch_open_orders_ws("BTC/USDT")}
            canceled = await ex.cancel_order_ws(resting["id"], "BTC/USDT")
            assert canceled["status"] == "canceled"
        finally:
            await ex.close()

    asyncio.run(session())


def _record_subscription_acks(ex: Any) -> set[tuple[str, str]]:
    """(connection URL, request id) of each request the server has answered, as ccxt.pro receives
    them: ccxt numbers requests per connection, and opens one connection per stream it watches."""
    acknowledged: set[tuple[str, str]] = set()
    handle = ex.handle_subscription_status

    def record(client: Any, message: dict[str, Any]) -> Any:
        acknowledged.add((client.url, str(message.get("id"))))
        return handle(client, message)

    ex.handle_subscription_status = record
    return acknowledged


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for `condition`, checked as the client's messages arrive, failing after `timeout`."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)
