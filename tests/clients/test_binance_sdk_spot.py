"""Binance's official binance-sdk-spot, unmodified but for its base path, on a real server.

The SDK parses responses into strict pydantic models and logs a warning when a field's JSON type
is wrong, so these tests also fail on any such warning.
"""

import logging
from decimal import Decimal

import binance_common.utils
import pytest
from binance_common.configuration import ConfigurationRestAPI
from binance_common.errors import BadRequestError, ClientError
from binance_sdk_spot.rest_api.models.enums import (
    KlinesIntervalEnum,
    NewOrderNewOrderRespTypeEnum,
    NewOrderSideEnum,
    NewOrderTimeInForceEnum,
    NewOrderTypeEnum,
)
from binance_sdk_spot.spot import Spot

from tests.clients.conftest import Exchange, Trader

pytestmark = pytest.mark.slow
BUY, SELL = NewOrderSideEnum.BUY, NewOrderSideEnum.SELL
LIMIT, MARKET = NewOrderTypeEnum.LIMIT, NewOrderTypeEnum.MARKET
GTC = NewOrderTimeInForceEnum.GTC


def connect(url: str, trader: Trader):  # type: ignore[no-untyped-def]
    """The README's lines: the SDK's REST client with its base path on the server."""
    config = ConfigurationRestAPI(
        api_key=trader.key, api_secret=trader.secret, base_path=url, timeout=5000, retries=0
    )
    return Spot(config_rest_api=config).rest_api


@pytest.fixture(autouse=True)
def no_model_warnings(caplog: pytest.LogCaptureFixture):  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.WARNING):
        yield
    mismatches = [r.getMessage() for r in caplog.records if "response" in r.getMessage()]
    assert not mismatches, mismatches


def test_market_data_and_trading(bourse: Exchange) -> None:
    trader = bourse.trader(USDT="100000", BTC="1")
    api = connect(bourse.url, trader)
    info = api.exchange_info(symbol="BTCUSDT").data()
    assert info.symbols[0].symbol == "BTCUSDT" and info.symbols[0].status == "TRADING"
    book = api.depth(symbol="BTCUSDT", limit=5).data()
    best_bid, best_ask = Decimal(book.bids[0][0]), Decimal(book.asks[0][0])
    assert best_bid < best_ask and book.last_update_id > 0
    api.ticker24hr(symbol="BTCUSDT").data()
    api.get_trades(symbol="BTCUSDT", limit=5).data()
    api.agg_trades(symbol="BTCUSDT", limit=5).data()
    api.klines(symbol="BTCUSDT", interval=KlinesIntervalEnum.INTERVAL_1m, limit=5).data()

    price = float(best_bid - 500)  # the SDK sends floats: "59490.0"
    limit = api.new_order(
        symbol="BTCUSDT", side=BUY, type=LIMIT, time_in_force=GTC, quantity=0.001, price=price
    ).data()
    assert limit.status == "NEW"
    assert api.get_order(symbol="BTCUSDT", order_id=limit.order_id).data().status == "NEW"
    post_only = api.new_order(
        symbol="BTCUSDT",
        side=SELL,
        type=NewOrderTypeEnum.LIMIT_MAKER,
        quantity=0.001,
        price=float(best_ask + 500),
        new_order_resp_type=NewOrderNewOrderRespTypeEnum.RESULT,  # LIMIT_MAKER defaults to ACK
    ).data()
    assert post_only.status == "NEW"
    opened = api.get_open_orders(symbol="BTCUSDT").data()
    assert {o.order_id for o in opened} == {limit.order_id, post_only.order_id}

    bought = api.new_order(
        symbol="BTCUSDT",
        side=BUY,
        type=MARKET,
        quantity=0.002,
        new_order_resp_type=NewOrderNewOrderRespTypeEnum.FULL,
    ).data()
    assert bought.status == "FILLED" and bought.fills
    by_quote = api.new_order(symbol="BTCUSDT", side=BUY, type=MARKET, quote_order_qty=100).data()
    assert by_quote.status == "FILLED" and Decimal(by_quote.cummulative_quote_qty) <= 100

    assert api.delete_order(symbol="BTCUSDT", order_id=limit.order_id).data().status == "CANCELED"
    api.delete_order(symbol="BTCUSDT", orig_client_order_id=post_only.client_order_id)
    assert api.get_open_orders(symbol="BTCUSDT").data() == []
    assert len(api.all_orders(symbol="BTCUSDT").data()) == 4
    trades = api.my_trades(symbol="BTCUSDT").data()
    assert {t.order_id for t in trades} == {bought.order_id, by_quote.order_id}

    account = api.get_account().data()
    assert account.can_trade
    ledger = bourse.ledger(trader.account_id)
    for b in account.balances:
        if b.asset in ("BTC", "USDT"):
            assert (Decimal(b.free), Decimal(b.locked)) == tuple(
                Decimal(v) for v in ledger[b.asset]
            )


def _code(exc: pytest.ExceptionInfo[ClientError]) -> int:
    return int(exc.value.status_code)  # the SDK puts Binance's code in status_code


def test_errors(bourse: Exchange, monkeypatch: pytest.MonkeyPatch) -> None:
    trader = bourse.trader(USDT="100")
    api = connect(bourse.url, trader)
    with pytest.raises(BadRequestError) as exc:
        api.new_order(
            symbol="BTCUSDT", side=BUY, type=LIMIT, time_in_force=GTC, quantity=0.01, price=50000.0
        )
    assert _code(exc) == -2010
    with pytest.raises(BadRequestError) as exc:
        api.new_order(
            symbol="BTCUSDT", side=BUY, type=LIMIT, time_in_force=GTC, quantity=0.0001, price=1.0
        )
    assert _code(exc) == -1013
    with pytest.raises(BadRequestError) as exc:
        api.get_order(symbol="BTCUSDT", order_id=987654321)
    assert _code(exc) == -2013
    with pytest.raises(BadRequestError) as exc:
        api.delete_order(symbol="BTCUSDT", order_id=987654321)
    assert _code(exc) == -2011

    forged = connect(bourse.url, trader._replace(secret="wrong"))
    with pytest.raises(BadRequestError) as exc:
        forged.get_account()
    assert _code(exc) == -1022

    real = binance_common.utils.get_timestamp
    monkeypatch.setattr(binance_common.utils, "get_timestamp", lambda: real() - 120_000)
    with pytest.raises(BadRequestError) as exc:
        api.get_account()
    assert _code(exc) == -1021
