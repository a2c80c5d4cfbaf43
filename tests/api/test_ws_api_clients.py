"""Real clients of Binance's WebSocket API against a live `bourse run` on loopback: the official
binance-sdk-spot (HMAC, and an Ed25519 key with session.logon) and python-binance's AsyncClient
`ws_*` methods. Each client is unmodified but for the URL it connects to."""

import asyncio
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from binance.exceptions import BinanceAPIException
from binance_common.configuration import ConfigurationWebSocketAPI
from binance_sdk_spot.spot import Spot
from binance_sdk_spot.websocket_api.models import (
    OrderPlaceSideEnum,
    OrderPlaceTimeInForceEnum,
    OrderPlaceTypeEnum,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from tests.clients.conftest import Exchange, Trader, close, python_binance, running

pytestmark = [
    pytest.mark.slow,
    # binance-common 4.6 passes aiohttp a float timeout, which aiohttp 3.14 deprecates
    pytest.mark.filterwarnings("ignore:parameter 'timeout' of type 'float':DeprecationWarning"),
]
BUY, LIMIT, MARKET = OrderPlaceSideEnum.BUY, OrderPlaceTypeEnum.LIMIT, OrderPlaceTypeEnum.MARKET
GTC = OrderPlaceTimeInForceEnum.GTC


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, shape: tuple[str, ...]) -> Iterator[Exchange]:
    with running(tmp_path_factory, "ws-api", *shape) as exchange:
        yield exchange


def ws_url(exchange: Exchange) -> str:
    return exchange.url.replace("http://", "ws://") + "/ws-api/v3"


@pytest.fixture(autouse=True)
def no_model_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The SDK logs a warning when a response does not fit its strict models."""
    with caplog.at_level(logging.WARNING):
        yield
    mismatches = [r.getMessage() for r in caplog.records if "response" in r.getMessage()]
    assert not mismatches, mismatches


def sdk(exchange: Exchange, **credentials: Any) -> Any:
    config = ConfigurationWebSocketAPI(stream_url=ws_url(exchange), **credentials)
    return Spot(config_ws_api=config).websocket_api


def test_binance_sdk_spot_trades_over_the_websocket_api(live: Exchange) -> None:
    trader = live.trader(USDT="100000")

    async def session() -> None:
        api = sdk(live, api_key=trader.key, api_secret=trader.secret)
        conn = await api.create_connection()
        try:
            book = await conn.depth(symbol="BTCUSDT", limit=5)
            depth = book.data().result
            assert Decimal(depth.bids[0][0]) < Decimal(depth.asks[0][0])
            assert book.rate_limits[0].rateLimitType == "REQUEST_WEIGHT"
            price = float(Decimal(depth.bids[0][0]) - 1000)  # the SDK sends floats
            placed = await conn.order_place(
                symbol="BTCUSDT", side=BUY, type=LIMIT, time_in_force=GTC, price=price,
                quantity=0.01,
            )  # fmt: skip
            order = placed.data().result
            assert (order.status, order.orig_qty) == ("NEW", "0.01000000")
            assert [r.rateLimitType for r in placed.rate_limits] == [
                "ORDERS", "ORDERS", "REQUEST_WEIGHT",
            ]  # fmt: skip
            status = (await conn.order_status(symbol="BTCUSDT", order_id=order.order_id)).data()
            assert (status.result.order_id, status.result.status) == (order.order_id, "NEW")
            listed = (await conn.open_orders_status(symbol="BTCUSDT")).data().result
            assert [o.order_id for o in listed] == [order.order_id]
            canceled = await conn.order_cancel(symbol="BTCUSDT", order_id=order.order_id)
            assert canceled.data().result.status == "CANCELED"

            bought = await conn.order_place(symbol="BTCUSDT", side=BUY, type=MARKET,
                                            quote_order_qty=1000.0)  # fmt: skip
            assert bought.data().result.status == "FILLED"
            trades = (await conn.my_trades(symbol="BTCUSDT")).data().result
            assert trades and all(t.order_id == bought.data().result.order_id for t in trades)
            balances = (await conn.account_status()).data().result.balances
            btc = next(b for b in balances if b.asset == "BTC")
            assert Decimal(btc.free) > 0
            refused = await conn.order_place(
                symbol="BTCUSDT",
                side=BUY,
                type=LIMIT,
                time_in_force=GTC,
                price=price,
                quantity=100.0,
            )
            no_funds = {
                "code": -2010,
                "msg": "Account has insufficient balance for requested action.",
            }
            assert refused.data() == {"error": no_funds}
        finally:
            await api.close_connection()

    asyncio.run(session())
    assert "Traceback" not in live.server.output()  # nothing failed inside the server


def _ed25519_key(exchange: Exchange, trader: Trader) -> tuple[str, str]:
    """A new Ed25519 key for the trader's account: (API key, private key PEM)."""
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    r = exchange.admin.post(
        "/keys",
        json={"accountId": trader.account_id, "reason": "ws test", "publicKey": public.decode()},
    )
    r.raise_for_status()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return r.json()["apiKey"], pem.decode()


def test_binance_sdk_spot_session_logon_with_an_ed25519_key(live: Exchange) -> None:
    trader = live.trader(USDT="100000")
    key, pem = _ed25519_key(live, trader)

    async def session() -> None:
        api = sdk(live, api_key=key, private_key=pem)
        conn = await api.create_connection()
        try:
            logon = (await conn.session_logon()).data().result
            assert logon.api_key == key and logon.authorized_since >= logon.connected_since
            # signed by the session: the SDK sends no apiKey or signature now
            placed = await conn.order_place(
                symbol="ETHUSDT",
                side=BUY,
                type=LIMIT,
                time_in_force=GTC,
                price=1000.0,
                quantity=1.0,
            )
            assert placed.data().result.status == "NEW"  # fmt: skip
            status = (await conn.session_status()).data().result
            assert status.api_key == key
            out = (await conn.session_logout()).data().result
            assert out.api_key is None
        finally:
            await api.close_connection()

    asyncio.run(session())
    assert "Traceback" not in live.server.output()  # nothing failed inside the server
    usdt = live.ledger(trader.account_id)["USDT"]
    assert usdt == ("99000.00000000", "1000.00000000")


def test_python_binance_websocket_api_methods(live: Exchange) -> None:
    trader = live.trader(USDT="100000")

    async def session() -> None:
        client = python_binance(live, trader)  # ws_api: the one URL the WS API methods use
        try:
            assert (await client.ws_get_time())["serverTime"] > 0
            book = await client.ws_get_order_book(symbol="BTCUSDT", limit=5)
            assert book["lastUpdateId"] > 0 and len(book["asks"]) == 5
            order = await client.ws_create_order(
                symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.01", price="50000",
            )  # fmt: skip
            assert order["clientOrderId"].startswith("x-HNA2TXFJ") and order["status"] == "NEW"
            got = await client.ws_get_order(symbol="BTCUSDT", orderId=order["orderId"])
            assert got["orderId"] == order["orderId"] and got["isWorking"] is True
            opened = await client.ws_get_open_orders(symbol="BTCUSDT")
            assert [o["orderId"] for o in opened] == [order["orderId"]]
            done = await client.ws_cancel_order(symbol="BTCUSDT", orderId=order["orderId"])
            assert done["status"] == "CANCELED"
            account = await client.ws_get_account()
            assert {"asset": "USDT", "free": "100000.00000000", "locked": "0.00000000"} in account[
                "balances"
            ]
            with pytest.raises(BinanceAPIException) as refused:
                await client.ws_create_order(
                    symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    quantity="100", price="50000",
                )  # fmt: skip
            assert (refused.value.status_code, refused.value.code) == (400, -2010)
        finally:
            await close(client)

    asyncio.run(session())
    assert "Traceback" not in live.server.output()  # nothing failed inside the server
