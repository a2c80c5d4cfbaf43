"""Kline streams (`<symbol>@kline_<interval>`) of every Binance interval, with the values REST
klines gives: each candle is made by the same `fold`, from the same one-minute candles.

Once a second a stream sends its open candle if it changed, after the candle it sent last, now
closed (`x` true), and any skipped since (1s candles, when a tick comes late).

- 1s: from the trades the feed sees, kept per second for the symbols with a 1s stream until the
  second's candle has gone out closed. The trades of the second the stream was subscribed in
  that were released before it are read from the store, once.
- 1m to 1M: from the rolling tickers' one-minute candles, which hold the last 24 h. A candle
  keeps a *part*: its minutes before `until` folded into one Kline. A candle that opened inside
  the rolling window starts with an empty part; one that opened before it (3d, 1w, 1M) reads its
  part from the store (on a reader thread), once. Every hour the minutes old enough to take no
  more trades move from the rolling window into the part, before the window drops them, so a
  second's candle folds at most about an hour of minutes.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from bourse.domain.money import to_str
from bourse.events import TradeExecuted
from bourse.marketdata import Reader
from bourse.marketdata.klines import (
    DAY_MS,
    HOUR_MS,
    MINUTE_MS,
    SECOND_MS,
    bucket_open,
    fold,
    next_open,
    read_part,
    read_trades,
)
from bourse.marketdata.tickers import TickerBook
from bourse.store.batch import Kline
from bourse.streams.hub import Hub
from bourse.streams.names import Stream
from bourse.view import ReadModel

log = logging.getLogger(__name__)
SETTLED_MS = 10 * MINUTE_MS  # minutes this old take no more trades: safe to fold for good
FOLD_EVERY_MS = HOUR_MS  # how much of the rolling window a part takes in at once
CATCH_UP = 60  # closed candles a stream sends at most in one tick (after a stall)


class _Seconds:
    """A symbol's trades by second, from when its 1s stream was subscribed to."""

    __slots__ = ("by_second", "first_id", "last_id", "seeded", "since")

    def __init__(self, since: int) -> None:
        self.since = since  # the clock then: that second's earlier trades are in the store
        self.by_second: dict[int, Kline] = {}
        self.first_id = self.last_id = 0  # the trades folded in (0: none yet)
        self.seeded = False

    def add(self, ts: int, k: Kline) -> None:
        if k.last_trade_id <= self.last_id:
            return  # the store's read had it already
        self.first_id = self.first_id or k.first_trade_id
        self.last_id = k.last_trade_id
        at = ts - ts % SECOND_MS
        held = self.by_second.get(at)
        if held is None:
            self.by_second[at] = k
        else:
            held.extend(k)


@dataclass
class _Part:
    """The candle opening at `open_ms`: its trades before `until` (None before any)."""

    open_ms: int
    until: int
    k: Kline | None


class _Sent(NamedTuple):
    open_ms: int
    k: dict[str, Any]
    close: int  # raw: what the next candle shows if it has no trades


def _one(rows: list[tuple[int, Kline]], opened: int, interval: str, prev_close: int) -> Kline:
    """The candle opening at `opened` folded from `rows` (flat at `prev_close` without any)."""
    return fold(rows, [opened], interval, 0, prev_close)[0].k


class KlineFeed:
    def __init__(
        self, hub: Hub, view: ReadModel, clock: Callable[[], int], read: Reader | None = None
    ) -> None:
        self.hub = hub
        self.view = view  # what is released (Service.view): the symbols' specs
        self.clock = clock
        self.read = read  # the store (Gateway.read), for what the rolling tickers do not hold
        self._sent: dict[str, _Sent] = {}  # stream -> the candle it sent last
        self._parts: dict[str, _Part] = {}  # stream -> its current candle's part
        self._seconds: dict[str, _Seconds] = {}  # symbol with a 1s stream -> its trades
        self._unread: set[str] = set()  # streams that needed the store without a reader
        self._failing: set[str] = set()  # streams whose last store read failed (logged once)

    def subscribed(self, stream: Stream) -> None:
        if stream.interval == "1s" and stream.symbol not in self._seconds:
            self._seconds[stream.symbol] = _Seconds(self.clock())

    def trade(self, t: TradeExecuted, ts: int) -> None:
        seconds = self._seconds.get(t.symbol)
        if seconds is not None:
            seconds.add(ts, Kline.of_trade(t))

    def forget(self) -> None:
        """Drop what the streams nobody listens to any more kept."""
        live = self.hub.streams
        for kept in (self._sent, self._parts):
            for name in [n for n in kept if n not in live]:
                del kept[name]
        self._unread &= set(live)
        self._failing &= set(live)
        for symbol in [s for s in self._seconds if f"{s.lower()}@kline_1s" not in live]:
            del self._seconds[symbol]

    async def publish(self, streams: list[Stream], book: TickerBook, now: int) -> None:
        for stream in streams:
            await self._stream(stream, book, now)

    async def _stream(self, stream: Stream, book: TickerBook, now: int) -> None:
        interval = stream.interval
        opened = bucket_open(now, interval)
        sent = self._sent.get(stream.name)
        if sent is not None and sent.open_ms < opened:
            at, prev_close = sent.open_ms, sent.close
            for _ in range(CATCH_UP):
                if at >= opened:
                    break
                k = await self._candle(stream, book, at, prev_close, now)
                if k is None:
                    return
                self._send(stream, self._body(stream, at, k, closed=True), now)
                at, prev_close = next_open(at, interval), k.close
        last = book.last(stream.symbol)  # nothing traded since it, if the candle is empty
        k = await self._candle(stream, book, opened, last.price if last else 0, now)
        if k is None:
            return
        body = self._body(stream, opened, k, closed=False)
        if sent is None or sent.open_ms != opened or sent.k != body:
            self._sent[stream.name] = _Sent(opened, body, k.close)
            self._send(stream, body, now)
        seconds = self._seconds.get(stream.symbol) if interval == "1s" else None
        if seconds is not None:  # the seconds sent closed (a trade later than that is too late)
            for at in [s for s in seconds.by_second if s < opened]:
                del seconds.by_second[at]

    def _send(self, stream: Stream, k: dict[str, Any], now: int) -> None:
        self.hub.publish(stream.name, {"e": "kline", "E": now, "s": stream.symbol, "k": k})

    async def _candle(
        self, stream: Stream, book: TickerBook, opened: int, prev_close: int, now: int
    ) -> Kline | None:
        """The candle opening at `opened` as it stands; None if its part cannot be read."""
        if stream.interval == "1s":
            seconds = self._seconds.setdefault(stream.symbol, _Seconds(now))
            if not seconds.seeded and opened <= seconds.since:
                await self._seed(stream, seconds, opened)
            held = seconds.by_second.get(opened)
            return _one([] if held is None else [(opened, held)], opened, "1s", prev_close)
        part = await self._part(stream, book, opened, now)
        if part is None:
            return None
        rows = [] if part.k is None else [(opened, part.k)]
        closes = next_open(opened, stream.interval)
        rows += book.minutes(stream.symbol, part.until, closes)
        return _one(rows, opened, stream.interval, prev_close)

    async def _part(self, stream: Stream, book: TickerBook, opened: int, now: int) -> _Part | None:
        minute = now - now % MINUTE_MS
        window = minute - DAY_MS  # the rolling tickers hold every minute from here on
        closes = next_open(opened, stream.interval)
        settled = min(closes, minute - SETTLED_MS)
        part = self._parts.get(stream.name)
        if part is None or part.open_ms != opened or part.until < window:
            if opened >= window:
                part = _Part(opened, opened, None)
            else:
                part = await self._read(stream, opened, settled)
                if part is None:
                    return None
            self._parts[stream.name] = part
        if settled - part.until >= FOLD_EVERY_MS:
            rows = [] if part.k is None else [(opened, part.k)]
            rows += book.minutes(stream.symbol, part.until, settled)
            k = _one(rows, opened, stream.interval, 0)
            part.k, part.until = (k if k.count else None), settled
        return part

    async def _seed(self, stream: Stream, seconds: _Seconds, opened: int) -> None:
        """Fold in the trades of the second subscribed in that were released before it."""
        rows: list[tuple[int, Kline]] | None = await self._query(
            stream, read_trades, stream.symbol, opened, opened + SECOND_MS
        )
        seconds.seeded = rows is not None or self.read is None  # else: again next tick
        if not rows:
            return
        if seconds.first_id:  # the later ones were seen as released
            rows = [(ts, k) for ts, k in rows if k.first_trade_id < seconds.first_id]
        # released before the stream was subscribed to, or (just) before being seen here
        seconds.last_id = max([seconds.last_id, *(k.last_trade_id for _, k in rows)])
        held = seconds.by_second.get(opened)
        rows += [] if held is None else [(opened, held)]
        if rows:
            seconds.by_second[opened] = _one(rows, opened, "1s", 0)

    async def _read(self, stream: Stream, opened: int, until: int) -> _Part | None:
        k: Kline | None = await self._query(
            stream, read_part, stream.symbol, stream.interval, opened, until
        )
        return None if k is None else _Part(opened, until, k if k.count else None)

    async def _query(self, stream: Stream, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(conn, *args)` on a store reader thread; None without a store or if it failed."""
        if self.read is None:
            if stream.name not in self._unread:
                self._unread.add(stream.name)
                log.warning("%s: a candle needs the store, and the feed has none", stream.name)
            return None
        try:
            found = await self.read(fn, *args)
        except Exception as exc:  # the store is unavailable: the stream tries again next second
            if stream.name not in self._failing:  # once per outage, not every second
                self._failing.add(stream.name)
                log.warning("%s: reading its candle: %s", stream.name, exc, exc_info=True)
            return None
        self._failing.discard(stream.name)
        return found

    def _body(self, stream: Stream, opened: int, k: Kline, closed: bool) -> dict[str, Any]:
        """Binance's `k` of the candle opening at `opened`."""
        spec = self.view.symbols[stream.symbol].spec
        qp, bp = spec.quote_precision, spec.base_precision
        return {
            "t": opened, "T": next_open(opened, stream.interval) - 1, "s": stream.symbol,
            "i": stream.interval, "f": k.first_trade_id, "L": k.last_trade_id,
            "o": to_str(k.open, qp), "c": to_str(k.close, qp), "h": to_str(k.high, qp),
            "l": to_str(k.low, qp), "v": to_str(k.volume, bp), "n": k.count, "x": closed,
            "q": to_str(k.quote_volume, qp), "V": to_str(k.taker_buy_volume, bp),
            "Q": to_str(k.taker_buy_quote_volume, qp), "B": "0",
        }  # fmt: skip
