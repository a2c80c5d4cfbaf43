"""Rolling 24-hour statistics per symbol, kept in memory as one bucket per minute with trades.

A bucket is exactly what a `klines_1m` row holds (open, high, low, close, volumes, count, first
and last trade id). The book starts from the store (the last 24 h of minutes, the close before
them and the last trade: `load`), then follows released TradeExecuted events; the outcome's time
is the trade time, so buckets match the store's minutes exactly.

Loading reads the store while new outcomes keep being released: those released meanwhile are
buffered and applied after the seed, skipping trades the seed already held (by trade id, per
symbol: trade ids increase with the sequence).

Windows are whole minutes: the 24 h window opens on the minute 24 h before the current one and
closes now, as Binance's rolling windows do ("openTime always starts on a minute").
"""

from typing import Any, NamedTuple

from sortedcontainers import SortedDict

from bourse.domain.money import to_str
from bourse.events import Outcome, SymbolListed, TradeExecuted
from bourse.store.batch import Kline
from bourse.store.market_queries import TickerSeed

MINUTE_MS = 60_000
DAY_MS = 24 * 60 * MINUTE_MS


class LastTrade(NamedTuple):
    trade_id: int
    price: int
    qty: int
    ts_ms: int


class WindowStats(NamedTuple):
    """Raw figures of one symbol over [open_time, close_time]; ids are -1 without trades."""

    open_time: int
    close_time: int
    open: int
    high: int
    low: int
    last_price: int
    last_qty: int
    prev_close: int
    volume: int
    quote_volume: int
    first_id: int
    last_id: int
    trades: int


class _Symbol:
    __slots__ = ("last", "minutes", "prev_close", "seed_last_id", "seed_minute_id")

    def __init__(self) -> None:
        self.minutes: SortedDict = SortedDict()  # minute open → Kline
        self.prev_close = 0  # close of the last minute before the window
        self.last: LastTrade | None = None
        self.seed_minute_id = 0  # trades up to these ids were already in the seed
        self.seed_last_id = 0

    def evict(self, window_start: int) -> None:
        minutes = self.minutes
        while minutes and minutes.peekitem(0)[0] < window_start:
            self.prev_close = minutes.popitem(0)[1].close


class TickerBook:
    def __init__(self) -> None:
        self.loaded = False
        self._symbols: dict[str, _Symbol] = {}
        self._buffer: list[Outcome] | None = None

    # --- loading ----------------------------------------------------------------------------

    def start_loading(self) -> None:
        """Buffer what is released from now on: the store read that follows may miss it."""
        self._buffer = []

    def abort_loading(self) -> None:
        self._buffer = None

    def load(self, seeds: dict[str, TickerSeed]) -> None:
        for name, seed in seeds.items():
            sym = self._symbol(name)
            sym.prev_close = seed.prev_close
            for row in seed.minutes:
                sym.minutes[row.open_time_ms] = Kline.of_row(row)
                sym.seed_minute_id = max(sym.seed_minute_id, row.last_trade_id)
            if seed.last is not None:
                t = seed.last
                sym.last = LastTrade(t.trade_id, t.price_raw, t.qty_raw, t.ts_ms)
                sym.seed_last_id = t.trade_id
        buffered, self._buffer = self._buffer or [], None
        self.loaded = True
        for outcome in buffered:
            self.apply(outcome)

    # --- following released outcomes --------------------------------------------------------

    def apply(self, outcome: Outcome) -> None:
        if not self.loaded:
            if self._buffer is not None:
                self._buffer.append(outcome)
            return  # not loading yet: the store will hold this when the book loads
        ts = outcome.ts_ms
        for e in outcome.events:
            if type(e) is TradeExecuted:
                self._trade(e, ts)
            elif type(e) is SymbolListed:
                self._symbol(e.spec.name)

    def _trade(self, t: TradeExecuted, ts: int) -> None:
        sym = self._symbol(t.symbol)
        if t.trade_id > sym.seed_last_id:
            sym.last = LastTrade(t.trade_id, t.price_raw, t.qty_raw, ts)
        if t.trade_id <= sym.seed_minute_id:
            return
        minute = ts - ts % MINUTE_MS
        bucket = sym.minutes.get(minute)
        if bucket is None:
            sym.minutes[minute] = Kline.of_trade(t)
            sym.evict(minute - DAY_MS)  # keeps memory to a day even if nobody asks
        else:
            bucket.extend(Kline.of_trade(t))

    def _symbol(self, name: str) -> _Symbol:
        sym = self._symbols.get(name)
        if sym is None:
            sym = self._symbols[name] = _Symbol()
        return sym

    # --- reading ----------------------------------------------------------------------------

    def last(self, symbol: str) -> LastTrade | None:
        return self._symbol(symbol).last

    def minutes(self, symbol: str, start_ms: int, end_ms: int) -> list[tuple[int, Kline]]:
        """(open time, candle) of the one-minute candles opening in [start_ms, end_ms), oldest
        first (the book holds the last 24 h): the rows kline streams `fold` their candles from."""
        held = self._symbol(symbol).minutes
        return [(t, held[t]) for t in held.irange(start_ms, end_ms, inclusive=(True, False))]

    def stats(self, symbol: str, now_ms: int, window_ms: int = DAY_MS) -> WindowStats:
        """The symbol's figures over the minutes of the last `window_ms`, up to now."""
        start = now_ms - now_ms % MINUTE_MS - window_ms
        sym = self._symbol(symbol)
        sym.evict(start)
        last = sym.last
        last_price, last_qty = (last.price, last.qty) if last is not None else (0, 0)
        buckets = sym.minutes.values()
        if not buckets:
            p = last_price
            return WindowStats(start, now_ms, p, p, p, p, 0, sym.prev_close, 0, 0, -1, -1, 0)
        first = buckets[0]
        high, low, volume, quote, count = first.high, first.low, 0, 0, 0
        first_id, last_id = first.first_trade_id, first.last_trade_id
        for k in buckets:
            high = max(high, k.high)
            low = min(low, k.low)
            volume += k.volume
            quote += k.quote_volume
            count += k.count
            first_id = min(first_id, k.first_trade_id)
            last_id = max(last_id, k.last_trade_id)
        return WindowStats(
            start,
            now_ms,
            first.open,
            high,
            low,
            last_price,
            last_qty,
            sym.prev_close,
            volume,
            quote,
            first_id,
            last_id,
            count,
        )

    def average(self, symbol: str, now_ms: int, mins: int, base_precision: int) -> int:
        """Volume-weighted price of the last `mins` minutes (this one included), rounded down;
        the last price when nothing traded in them."""
        sym = self._symbol(symbol)
        start = now_ms - now_ms % MINUTE_MS - (mins - 1) * MINUTE_MS
        volume = quote = 0
        for k in sym.minutes.values()[sym.minutes.bisect_left(start) :]:
            volume += k.volume
            quote += k.quote_volume
        if volume:
            scale: int = 10**base_precision
            return quote * scale // volume
        return sym.last.price if sym.last is not None else 0


# --- as Binance shows them --------------------------------------------------------------------


def percent(change: int, base: int) -> str:
    """100 × change / base with three decimals, truncated toward zero (Binance's "-95.960")."""
    if not base:
        return "0.000"
    milli = abs(change) * 100_000 // base
    return to_str(-milli if change < 0 else milli, 3)


def ticker_json(
    symbol: str,
    s: WindowStats,
    quote_precision: int,
    base_precision: int,
    book: dict[str, str] | None,
) -> dict[str, Any]:
    """A ticker/24hr entry: FULL with the best bid and ask fields in `book`, MINI without.

    Without trades in the window the prices are the last price (a flat window) and the ids -1.
    """
    qp, bp = quote_precision, base_precision
    body: dict[str, Any] = {"symbol": symbol}
    if book is not None:
        change = s.last_price - s.open if s.trades else 0
        scale: int = 10**bp
        vwap = s.quote_volume * scale // s.volume if s.volume else s.last_price
        body |= {
            "priceChange": to_str(change, qp),
            "priceChangePercent": percent(change, s.open),
            "weightedAvgPrice": to_str(vwap, qp),
            "prevClosePrice": to_str(s.prev_close, qp),
            "lastPrice": to_str(s.last_price, qp),
            "lastQty": to_str(s.last_qty, bp),
            **book,
        }
    return body | {
        "openPrice": to_str(s.open, qp),
        "highPrice": to_str(s.high, qp),
        "lowPrice": to_str(s.low, qp),
        "lastPrice": to_str(s.last_price, qp),
        "volume": to_str(s.volume, bp),
        "quoteVolume": to_str(s.quote_volume, qp),
        "openTime": s.open_time,
        "closeTime": s.close_time,
        "firstId": s.first_id,
        "lastId": s.last_id,
        "count": s.trades,
    }
