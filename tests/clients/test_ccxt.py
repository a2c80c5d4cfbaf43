"""ccxt's `binance` class, unmodified but for its URLs, trading on a real bourse server."""

from decimal import Decimal
from urllib.parse import urlsplit

import ccxt
import pytest

from tests.clients.conftest import Exchange, Trader

pytestmark = pytest.mark.slow


def connect(url: str, trader: Trader | None = None, **options: object) -> ccxt.binance:
    """The README's lines: spot-only options, every URL family rewritten to the local server."""
    ex = ccxt.binance(
        {
            "apiKey": trader.key if trader else None,
            "secret": trader.secret if trader else None,
            "enableRateLimit": False,
            "options": {
                "defaultType": "spot",
                "fetchMarkets": {"types": ["spot"]},
                "fetchCurrencies": False,
                "fetchMargins": False,
                **options,
            },
        }
    )
    ex.urls["api"] = {
        k: url + urlsplit(v).path if isinstance(v, str) else v for k, v in ex.urls["api"].items()
    }
    return ex


def test_market_data(bourse: Exchange) -> None:
    ex = connect(bourse.url)
    markets = ex.load_markets()
    assert {"BTC/USDT", "ETH/USDT", "ETH/BTC"} <= set(markets)
    btc = markets["BTC/USDT"]
    assert btc["spot"] and btc["active"] and not btc["contract"]
    assert btc["precision"]["price"] == 0.01 and btc["precision"]["amount"] == 0.00001
    assert btc["limits"]["cost"]["min"] == 5
    book = ex.fetch_order_book("BTC/USDT", limit=5)
    assert book["bids"][0][0] < book["asks"][0][0]
    assert len(book["bids"]) == 5 and book["nonce"] > 0
    ticker = ex.fetch_ticker("BTC/USDT")
    assert ticker["bid"] == book["bids"][0][0] and ticker["ask"] == book["asks"][0][0]
    ex.fetch_trades("BTC/USDT", limit=10)
    ex.fetch_ohlcv("BTC/USDT", "1m", limit=2)
    assert ex.fetch_time() > 0


def test_every_demo_market_shows_a_price_from_the_start(bourse: Exchange) -> None:
    """The demo's first trades: ccxt reports a last price (0 would read as none) everywhere."""
    ex = connect(bourse.url)
    ex.load_markets()
    for symbol in ("BTC/USDT", "ETH/USDT", "ETH/BTC", "BTC/EUR", "BTC/KZT", "USDT/KZT"):
        ticker = ex.fetch_ticker(symbol)
        assert ticker["last"] is not None and ticker["last"] > 0, (symbol, ticker)
        assert ex.fetch_trades(symbol, limit=1) and ex.fetch_ohlcv(symbol, "1m", limit=1)
    assert ex.fetch_ticker("ETH/BTC")["last"] == 0.05  # nobody else trades ETH/BTC here


def test_trading_round_trip(bourse: Exchange) -> None:
    trader = bourse.trader(USDT="100000", BTC="1")
    ex = connect(bourse.url, trader)
    ex.load_markets()
    bid = ex.fetch_order_book("BTC/USDT")["bids"][0][0]

    resting = ex.create_order("BTC/USDT", "limit", "buy", 0.001, bid - 1000)
    assert resting["status"] == "open" and resting["filled"] == 0
    fetched = ex.fetch_order(resting["id"], "BTC/USDT")
    assert fetched["id"] == resting["id"] and fetched["price"] == bid - 1000
    assert [o["id"] for o in ex.fetch_open_orders("BTC/USDT")] == [resting["id"]]

    post_only = ex.create_order("BTC/USDT", "limit", "sell", 0.001, bid + 5000, {"postOnly": True})
    assert post_only["status"] == "open" and post_only["postOnly"]

    bought = ex.create_order("BTC/USDT", "market", "buy", 0.002)
    assert bought["status"] == "closed" and bought["filled"] == 0.002
    assert bought["trades"] and bought["fee"]["currency"] == "BTC"

    by_quote = ex.create_order("BTC/USDT", "market", "buy", 0.001, 60000)  # cost = 60 USDT
    assert by_quote["status"] == "closed" and Decimal(str(by_quote["cost"])) <= 60

    sold = ex.create_market_sell_order("BTC/USDT", 0.001)
    assert sold["status"] == "closed" and sold["fee"]["currency"] == "USDT"

    canceled = ex.cancel_order(resting["id"], "BTC/USDT")
    assert canceled["status"] == "canceled"
    ex.cancel_order(post_only["id"], "BTC/USDT")
    assert ex.fetch_open_orders("BTC/USDT") == []
    assert {o["id"] for o in ex.fetch_orders("BTC/USDT")} >= {resting["id"], bought["id"]}

    trades = ex.fetch_my_trades("BTC/USDT")
    assert {t["order"] for t in trades} == {bought["id"], by_quote["id"], sold["id"]}
    balance = ex.fetch_balance()
    ledger = bourse.ledger(trader.account_id)
    for asset in ("BTC", "USDT"):
        free, locked = ledger[asset]
        assert Decimal(str(balance[asset]["free"])) == Decimal(free)
        assert Decimal(str(balance[asset]["used"])) == Decimal(locked)


def test_errors_map_to_ccxt_exceptions(bourse: Exchange) -> None:
    trader = bourse.trader(USDT="100")
    ex = connect(bourse.url, trader)
    ex.load_markets()
    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order("BTC/USDT", "limit", "buy", 0.01, 50000)
    with pytest.raises(ccxt.InvalidOrder, match="PRICE_FILTER"):  # above the maximum price
        ex.create_order("BTC/USDT", "limit", "sell", 0.001, 2_000_000)
    # ccxt maps only LOT_SIZE and PRICE_FILTER failures to InvalidOrder, NOTIONAL to BadRequest
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):  # below the 5 USDT minimum
        ex.create_order("BTC/USDT", "limit", "buy", 0.00001, 50000)
    with pytest.raises(ccxt.OrderNotFound):
        ex.fetch_order("987654321", "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound):
        ex.cancel_order("987654321", "BTC/USDT")
    with pytest.raises(ccxt.OrderImmediatelyFillable):
        ask = ex.fetch_order_book("BTC/USDT")["asks"][0][0]
        ex.create_order("BTC/USDT", "limit", "buy", 0.0001, ask, {"postOnly": True})

    forged = connect(bourse.url, trader._replace(secret="not-the-secret"))
    forged.load_markets()
    with pytest.raises(ccxt.AuthenticationError):
        forged.fetch_balance()

    stale = connect(bourse.url, trader, adjustForTimeDifference=False)
    stale.load_markets()
    stale.options["timeDifference"] = 120_000  # its clock two minutes behind the server's
    with pytest.raises(ccxt.InvalidNonce):
        stale.fetch_balance()


def test_two_accounts_trade_and_agree_with_the_ledger(bourse: Exchange) -> None:
    """Every balance, fee and trade both clients see matches the engine's ledger to the unit."""
    maker_t = bourse.trader(BTC="2")
    taker_t = bourse.trader(USDT="200000")
    maker, taker = connect(bourse.url, maker_t), connect(bourse.url, taker_t)
    maker.load_markets()
    taker.load_markets()
    best_ask = Decimal(str(maker.fetch_order_book("BTC/USDT")["asks"][0][0]))
    price = float(best_ask - Decimal("0.01"))  # inside the spread: the maker is first in line
    sell = maker.create_order("BTC/USDT", "limit", "sell", 0.5, price)
    buy = taker.create_order("BTC/USDT", "limit", "buy", 0.3, price)
    assert buy["status"] == "closed" and buy["average"] == price

    maker_trades = maker.fetch_my_trades("BTC/USDT")
    taker_trades = taker.fetch_my_trades("BTC/USDT")
    assert [t["id"] for t in maker_trades] == [t["id"] for t in taker_trades]
    (mt,), (tt,) = maker_trades, taker_trades
    assert mt["takerOrMaker"] == "maker" and tt["takerOrMaker"] == "taker"
    assert mt["order"] == sell["id"] and tt["order"] == buy["id"]
    qty, cost = Decimal("0.3"), Decimal("0.3") * Decimal(str(price))
    # 0.1 % each; the buyer pays in BTC, the seller in USDT
    assert Decimal(str(tt["fee"]["cost"])) == qty / 1000 and tt["fee"]["currency"] == "BTC"
    assert Decimal(str(mt["fee"]["cost"])) == cost / 1000 and mt["fee"]["currency"] == "USDT"

    for client, trader, expected in (
        (maker, maker_t, {"BTC": ("1.5", "0.2"), "USDT": (cost - cost / 1000, 0)}),
        (taker, taker_t, {"BTC": (qty - qty / 1000, 0), "USDT": (200000 - cost, 0)}),
    ):
        balance = client.fetch_balance()
        ledger = bourse.ledger(trader.account_id)
        for asset, (free, used) in expected.items():
            assert Decimal(ledger[asset][0]) == Decimal(free)
            assert Decimal(ledger[asset][1]) == Decimal(used)
            assert Decimal(str(balance[asset]["free"])) == Decimal(free)
            assert Decimal(str(balance[asset]["used"])) == Decimal(used)
    assert maker.fetch_order(sell["id"], "BTC/USDT")["filled"] == 0.3
