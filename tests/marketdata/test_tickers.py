"""The rolling tickers: seeding from the store while outcomes keep arriving, and the window."""

from bourse.domain.enums import OrderStatus, Side
from bourse.events import Outcome, TradeExecuted
from bourse.marketdata.tickers import DAY_MS, MINUTE_MS, TickerBook
from bourse.store.market_queries import TickerSeed
from bourse.store.queries import KlineRow, TradeRow

T0 = 1_700_000_040_000  # a minute boundary


def executed(tid: int, price: int, qty: int, taker: Side = Side.BUY) -> TradeExecuted:
    return TradeExecuted(
        symbol="BTCUSDT",
        trade_id=tid,
        price_raw=price,
        qty_raw=qty,
        quote_qty_raw=price * qty,
        taker_side=taker,
        maker_order_id=1,
        taker_order_id=2,
        maker_account_id=1,
        taker_account_id=2,
        maker_fee_raw=0,
        taker_fee_raw=0,
        maker_status=OrderStatus.PARTIALLY_FILLED,
        taker_status=OrderStatus.FILLED,
    )


def seed(last_id: int, at: int) -> TickerSeed:
    """Trades 1..last_id, all at price 100 and qty 1, in the minute `at`."""
    minute = KlineRow(
        symbol="BTCUSDT",
        open_time_ms=at,
        open_raw=100,
        high_raw=100,
        low_raw=100,
        close_raw=100,
        volume_raw=last_id,
        quote_volume_raw=100 * last_id,
        trade_count=last_id,
        taker_buy_volume_raw=last_id,
        taker_buy_quote_volume_raw=100 * last_id,
        first_trade_id=1,
        last_trade_id=last_id,
    )
    last = TradeRow(
        symbol="BTCUSDT",
        trade_id=last_id,
        price_raw=100,
        qty_raw=1,
        quote_qty_raw=100,
        taker_side="BUY",
        maker_order_id=1,
        taker_order_id=2,
        maker_account_id=1,
        taker_account_id=2,
        maker_fee_raw=0,
        taker_fee_raw=0,
        ts_ms=at,
        seq=1,
    )
    return TickerSeed(minutes=[minute], prev_close=90, last=last)


def test_outcomes_released_while_loading_are_applied_once() -> None:
    book = TickerBook()
    book.apply(Outcome(seq=1, ts_ms=T0, command="x", events=[executed(1, 100, 1)]))  # ignored
    book.start_loading()
    # trade 2 is already in the seed the store returns; trade 3 is not
    book.apply(Outcome(seq=2, ts_ms=T0, command="x", events=[executed(2, 100, 1)]))
    book.apply(Outcome(seq=3, ts_ms=T0 + 1, command="x", events=[executed(3, 130, 2)]))
    assert not book.loaded
    book.load({"BTCUSDT": seed(2, T0)})
    assert book.loaded
    s = book.stats("BTCUSDT", T0 + 5)
    assert (s.trades, s.first_id, s.last_id, s.volume) == (3, 1, 3, 4)
    assert (s.open, s.high, s.low, s.last_price, s.last_qty) == (100, 130, 100, 130, 2)
    assert (s.prev_close, s.open_time) == (90, T0 - DAY_MS)
    assert book.last("BTCUSDT") == (3, 130, 2, T0 + 1)
    # 2 × 100 + 2 × 130 over volume 4, at one decimal of base precision
    assert book.average("BTCUSDT", T0 + 5, 5, 1) == 1150


def test_window_slides_by_minutes() -> None:
    book = TickerBook()
    book.start_loading()
    book.load({})
    book.apply(Outcome(seq=1, ts_ms=T0, command="x", events=[executed(1, 100, 1)]))
    book.apply(Outcome(seq=2, ts_ms=T0 + 3 * MINUTE_MS, command="x", events=[executed(2, 80, 1)]))
    now = T0 + DAY_MS + MINUTE_MS + 30_000  # the minute T0 just left the window
    s = book.stats("BTCUSDT", now)
    assert (s.trades, s.open, s.prev_close, s.open_time) == (1, 80, 100, T0 + MINUTE_MS)
    assert book.average("BTCUSDT", now, 5, 0) == 80  # nothing in the last 5 minutes: last price
    later = book.stats("BTCUSDT", now + DAY_MS)
    assert (later.trades, later.first_id, later.open, later.prev_close) == (0, -1, 80, 80)
    assert book.stats("ETHUSDT", now).last_price == 0
