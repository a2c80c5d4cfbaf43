"""python-binance's `Client`, unmodified but for its API URL, trading on a real bourse server."""

import time
from decimal import Decimal

import pytest
from binance.client import (
    Client,
)  # from the submodule: binance/__init__.py may be another package's
from binance.exceptions import BinanceAPIException

from tests.clients.conftest import Exchange, Trader

pytestmark = pytest.mark.slow


def connect(url: str, trader: Trader) -> Client:
    """The README's lines: a subclass pointing API_URL at the server (the constructor pings)."""

    class Local(Client):
        API_URL = url + "/api"
        MARGIN_API_URL = url + "/sapi"

    client = Local(trader.key, trader.secret)
    client.timestamp_offset = client.get_server_time()["serverTime"] - int(time.time() * 1000)
    return client


def _code(exc: pytest.ExceptionInfo[BinanceAPIException]) -> int:
    return int(exc.value.code)


def test_market_data_and_trading(bourse: Exchange) -> None:
    trader = bourse.trader(USDT="100000", BTC="1")
    c = connect(bourse.url, trader)
    info = c.get_symbol_info("BTCUSDT")
    assert info is not None and info["status"] == "TRADING"
    assert {f["filterType"] for f in info["filters"]} >= {"PRICE_FILTER", "LOT_SIZE", "NOTIONAL"}
    book = c.get_order_book(symbol="BTCUSDT", limit=5)
    best_bid, best_ask = Decimal(book["bids"][0][0]), Decimal(book["asks"][0][0])
    assert best_bid < best_ask
    assert c.get_ticker(symbol="BTCUSDT")["symbol"] == "BTCUSDT"
    assert isinstance(c.get_recent_trades(symbol="BTCUSDT", limit=5), list)
    assert isinstance(c.get_aggregate_trades(symbol="BTCUSDT", limit=5), list)

    limit = c.order_limit_buy(symbol="BTCUSDT", quantity="0.001", price=str(best_bid - 500))
    assert limit["status"] == "NEW" and limit["symbol"] == "BTCUSDT"
    assert c.get_order(symbol="BTCUSDT", orderId=limit["orderId"])["status"] == "NEW"
    post_only = c.create_order(
        symbol="BTCUSDT",
        side="SELL",
        type="LIMIT_MAKER",
        quantity="0.001",
        price=str(best_ask + 500),
        newOrderRespType="RESULT",  # LIMIT_MAKER answers ACK by default, without a status
    )
    assert post_only["status"] == "NEW"
    opened = {o["orderId"] for o in c.get_open_orders(symbol="BTCUSDT")}
    assert opened == {limit["orderId"], post_only["orderId"]}

    bought = c.order_market_buy(symbol="BTCUSDT", quantity="0.002")
    assert bought["status"] == "FILLED" and Decimal(bought["executedQty"]) == Decimal("0.002")
    assert bought["fills"] and bought["fills"][0]["commissionAsset"] == "BTC"
    by_quote = c.order_market_buy(symbol="BTCUSDT", quoteOrderQty="100")
    assert by_quote["status"] == "FILLED"
    assert Decimal(by_quote["cummulativeQuoteQty"]) <= 100

    canceled = c.cancel_order(symbol="BTCUSDT", orderId=limit["orderId"])  # DELETE, form body
    assert canceled["status"] == "CANCELED"
    c.cancel_order(symbol="BTCUSDT", origClientOrderId=post_only["clientOrderId"])
    assert c.get_open_orders(symbol="BTCUSDT") == []
    assert len(c.get_all_orders(symbol="BTCUSDT")) == 4

    trades = c.get_my_trades(symbol="BTCUSDT")
    assert {t["orderId"] for t in trades} == {bought["orderId"], by_quote["orderId"]}
    ledger = bourse.ledger(trader.account_id)
    for asset in ("BTC", "USDT"):
        balance = c.get_asset_balance(asset=asset)
        assert (Decimal(balance["free"]), Decimal(balance["locked"])) == tuple(
            Decimal(v) for v in ledger[asset]
        )

    klines = c.get_klines(symbol="BTCUSDT", interval=Client.KLINE_INTERVAL_1MINUTE, limit=5)
    assert klines and len(klines[-1]) == 12
    history = c.get_historical_klines("BTCUSDT", Client.KLINE_INTERVAL_1MINUTE, "1 day ago UTC")
    # a minute may turn between the two calls: the later one then also holds the new candle
    assert klines[-1] in history and history[-1][0] - klines[-1][0] in (0, 60_000)


def test_errors(bourse: Exchange) -> None:
    trader = bourse.trader(USDT="100")
    c = connect(bourse.url, trader)
    with pytest.raises(BinanceAPIException) as exc:
        c.order_limit_buy(symbol="BTCUSDT", quantity="0.01", price="50000")
    assert _code(exc) == -2010 and exc.value.message == (
        "Account has insufficient balance for requested action."
    )
    with pytest.raises(BinanceAPIException) as exc:
        c.order_limit_buy(symbol="BTCUSDT", quantity="0.000001", price="50000")
    assert _code(exc) == -1013 or _code(exc) == -1111
    with pytest.raises(BinanceAPIException) as exc:
        c.order_limit_buy(symbol="BTCUSDT", quantity="0.00001", price="50000")
    assert _code(exc) == -1013 and "NOTIONAL" in exc.value.message
    with pytest.raises(BinanceAPIException) as exc:
        c.get_order(symbol="BTCUSDT", orderId=987654321)
    assert _code(exc) == -2013
    with pytest.raises(BinanceAPIException) as exc:
        c.cancel_order(symbol="BTCUSDT", orderId=987654321)
    assert _code(exc) == -2011
    with pytest.raises(BinanceAPIException) as exc:
        c.get_order_book(symbol="NOPE")
    assert _code(exc) == -1121

    forged = connect(bourse.url, trader._replace(secret="wrong"))
    with pytest.raises(BinanceAPIException) as exc:
        forged.get_account()
    assert _code(exc) == -1022 and exc.value.status_code == 400

    stale = connect(bourse.url, trader)
    stale.timestamp_offset = -120_000
    with pytest.raises(BinanceAPIException) as exc:
        stale.get_account()
    assert _code(exc) == -1021


def test_an_ed25519_key_signs_for_python_binance(bourse: Exchange) -> None:
    """The customer keeps the private key; bourse stores only the public key it registered."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    trader = bourse.trader(USDT="1000")
    private = Ed25519PrivateKey.generate()
    public_pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    r = bourse.admin.post(
        "/keys",
        json={"accountId": trader.account_id, "publicKey": public_pem.decode(), "reason": "t"},
    )
    r.raise_for_status()
    private_pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()

    class Local(Client):
        API_URL = bourse.url + "/api"

    c = Local(r.json()["apiKey"], private_key=private_pem)
    usdt = next(b for b in c.get_account()["balances"] if b["asset"] == "USDT")
    assert usdt["free"] == "1000.00000000"
    order = c.order_limit_buy(symbol="BTCUSDT", quantity="0.001", price="50000")
    assert c.cancel_order(symbol="BTCUSDT", orderId=order["orderId"])["status"] == "CANCELED"

    wrong = Local(
        r.json()["apiKey"],
        private_key=Ed25519PrivateKey.generate()
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode(),
    )
    with pytest.raises(BinanceAPIException) as exc:
        wrong.get_account()
    assert _code(exc) == -1022
