"""Binance market stream events from released outcomes (the same ones REST answers from).

Trades, aggregate trades and best bid/ask changes go out as each outcome is applied. Depth diffs
and partial books go out on their timers (100 ms or 1000 ms). Every diff carries `U`/`u`: the
outcome seqs it covers, `U` one past the `u` of the stream's previous event. The book's
`lastUpdateId` in REST `depth` is the same seq, so Binance's procedure for a local order book
(drop events with `u` <= lastUpdateId, the first kept has U <= lastUpdateId + 1 <= u, then each
U is the previous u + 1) works as documented.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bourse.domain.enums import Side
from bourse.domain.money import to_str
from bourse.events import Outcome, TradeExecuted
from bourse.marketdata import MarketData, Reader
from bourse.marketdata.depth import DepthChanges
from bourse.marketdata.tickers import TickerBook, WindowStats, ticker_json
from bourse.streams.hub import Hub
from bourse.streams.kline_feed import KlineFeed
from bourse.streams.names import FAST_MS, SLOW_MS, Stream
from bourse.view import ReadModel

Level = list[str]
log = logging.getLogger(__name__)
TickerLoader = Callable[[], Awaitable[TickerBook]]  # the rolling tickers, seeded on first use
# REST ticker/24hr field -> the stream's letter
_TICKER_KEYS = {
    "priceChange": "p", "priceChangePercent": "P", "weightedAvgPrice": "w",
    "prevClosePrice": "x", "lastPrice": "c", "lastQty": "Q", "bidPrice": "b", "bidQty": "B",
    "askPrice": "a", "askQty": "A", "openPrice": "o", "highPrice": "h", "lowPrice": "l",
    "volume": "v", "quoteVolume": "q", "openTime": "O", "closeTime": "C", "firstId": "F",
    "lastId": "L", "count": "n",
}  # fmt: skip
_MINI_KEYS = ("c", "o", "h", "l", "v", "q")
TICKER_KINDS = ("ticker", "miniTicker", "all")
ROLLING_KINDS = (*TICKER_KINDS, "kline")  # what needs the rolling tickers' book


class _Pending:
    """Depth changes a diff stream has not sent yet, and the u of its last event."""

    __slots__ = ("asks", "bids", "last_u")

    def __init__(self, last_u: int) -> None:
        self.last_u = last_u
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}


class MarketFeed:
    def __init__(
        self,
        hub: Hub,
        market: MarketData,
        view: ReadModel,
        clock: Callable[[], int],
        load_tickers: TickerLoader | None = None,
        read: Reader | None = None,
    ) -> None:
        self.hub = hub
        self.load_tickers = load_tickers
        self._ticker_sent: dict[tuple[str, str], WindowStats] = {}  # (stream, symbol) -> sent
        self.klines = KlineFeed(hub, view, clock, read)
        self.market = market
        self.view = view  # what is released (Service.view): the symbols' specs
        self.clock = clock
        self._pending: dict[str, _Pending] = {}  # diff stream name -> what it owes
        self._changed: set[str] = set()  # partial streams whose book changed since sent
        self._best: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}  # bookTicker sent
        self._tasks: list[asyncio.Task[None]] = []
        market.listeners.append(self.on_outcome)

    # --- subscriptions ---------------------------------------------------------------------

    def subscribed(self, stream: Stream) -> None:
        """Called when `stream` gains its first subscriber: where its events start from."""
        if stream.kind == "depth" and stream.name not in self._pending:
            self._pending[stream.name] = _Pending(self.market.depth.last_seq)
        elif stream.kind == "partial":
            self._changed.add(stream.name)  # the first book goes out at the next tick
        elif stream.kind == "kline":
            self.klines.subscribed(stream)

    # --- as outcomes are applied -----------------------------------------------------------

    def on_outcome(self, outcome: Outcome, changes: dict[str, DepthChanges]) -> None:
        if not self.hub.streams:
            return
        trades = [e for e in outcome.events if type(e) is TradeExecuted]
        if trades:
            self._trades(outcome, trades)
        if changes:
            self._depth(changes)

    def _precisions(self, symbol: str) -> tuple[int, int]:
        spec = self.view.symbols[symbol].spec
        return spec.quote_precision, spec.base_precision

    def _trades(self, outcome: Outcome, trades: list[TradeExecuted]) -> None:
        publish, ts = self.hub.publish, outcome.ts_ms
        group: list[TradeExecuted] = []
        for t in trades:
            self.klines.trade(t, ts)
            qp, bp = self._precisions(t.symbol)
            name = t.symbol.lower()
            publish(
                f"{name}@trade",
                {
                    "e": "trade",
                    "E": ts,
                    "s": t.symbol,
                    "t": t.trade_id,
                    "p": to_str(t.price_raw, qp),
                    "q": to_str(t.qty_raw, bp),
                    "T": ts,
                    "m": t.taker_side == Side.SELL,
                    "M": True,
                },
            )
            # An aggregate: consecutive trades of one taker order at one price (as REST groups).
            lead = group[0] if group else t
            if t.taker_order_id != lead.taker_order_id or t.price_raw != lead.price_raw:
                self._aggregate(group, ts)
                group = []
            group.append(t)
        if group:
            self._aggregate(group, ts)

    def _aggregate(self, group: list[TradeExecuted], ts: int) -> None:
        first = group[0]
        qp, bp = self._precisions(first.symbol)
        self.hub.publish(
            f"{first.symbol.lower()}@aggTrade",
            {
                "e": "aggTrade",
                "E": ts,
                "s": first.symbol,
                "a": first.trade_id,
                "p": to_str(first.price_raw, qp),
                "q": to_str(sum(t.qty_raw for t in group), bp),
                "f": first.trade_id,
                "l": group[-1].trade_id,
                "T": ts,
                "m": first.taker_side == Side.SELL,
                "M": True,
            },
        )

    def _depth(self, changes: dict[str, DepthChanges]) -> None:
        streams = self.hub.streams
        for stream in list(streams.values()):
            found = changes.get(stream.symbol)
            if found is None:
                continue
            if stream.kind == "depth":
                pending = self._pending.get(stream.name)
                if pending is not None:
                    pending.bids.update(found.bids)
                    pending.asks.update(found.asks)
            elif stream.kind == "partial":
                self._changed.add(stream.name)
        for symbol in changes:
            if f"{symbol.lower()}@bookTicker" in streams:
                self._book_ticker(symbol)

    def _book_ticker(self, symbol: str) -> None:
        depth = self.market.depth
        bid = depth.best(symbol, Side.BUY) or (0, 0)
        ask = depth.best(symbol, Side.SELL) or (0, 0)
        if self._best.get(symbol) == (bid, ask):
            return
        self._best[symbol] = (bid, ask)
        qp, bp = self._precisions(symbol)
        self.hub.publish(
            f"{symbol.lower()}@bookTicker",
            {
                "u": depth.last_seq,
                "s": symbol,
                "b": to_str(bid[0], qp),
                "B": to_str(bid[1], bp),
                "a": to_str(ask[0], qp),
                "A": to_str(ask[1], bp),
            },
        )

    # --- on timers -------------------------------------------------------------------------

    def flush(self, every_ms: int) -> None:
        """Send the depth diffs and partial books of the streams sent every `every_ms`."""
        for stream in list(self.hub.streams.values()):
            if stream.every_ms != every_ms:
                continue
            if stream.kind == "depth":
                self._diff(stream)
            elif stream.kind == "partial" and stream.name in self._changed:
                self._changed.discard(stream.name)
                self._partial(stream)
        for name in [n for n in self._pending if n not in self.hub.streams]:
            del self._pending[name]  # nobody listens any more

    def _levels(self, symbol: str, changes: dict[int, int]) -> list[Level]:
        qp, bp = self._precisions(symbol)
        return [[to_str(p, qp), to_str(q, bp)] for p, q in sorted(changes.items())]

    def _diff(self, stream: Stream) -> None:
        pending = self._pending.get(stream.name)
        if pending is None or not (pending.bids or pending.asks):
            return
        u = self.market.depth.last_seq
        bids = self._levels(stream.symbol, pending.bids)
        bids.reverse()  # best (highest) bid first, as Binance lists them
        self.hub.publish(
            stream.name,
            {
                "e": "depthUpdate",
                "E": self.clock(),
                "s": stream.symbol,
                "U": pending.last_u + 1,
                "u": u,
                "b": bids,
                "a": self._levels(stream.symbol, pending.asks),
            },
        )
        pending.last_u = u
        pending.bids, pending.asks = {}, {}

    def _partial(self, stream: Stream) -> None:
        depth = self.market.depth
        qp, bp = self._precisions(stream.symbol)

        def side(s: Side) -> list[Level]:
            levels = depth.levels(stream.symbol, s, stream.levels)
            return [[to_str(p, qp), to_str(q, bp)] for p, q in levels]

        self.hub.publish(
            stream.name,
            {"lastUpdateId": depth.last_seq, "bids": side(Side.BUY), "asks": side(Side.SELL)},
        )

    async def rolling(self) -> None:
        """Tickers and klines: the streams folded from the rolling tickers' book, every second,
        for what changed since it was last sent."""
        self.klines.forget()
        streams = [s for s in self.hub.streams.values() if s.kind in ROLLING_KINDS]
        if not streams or self.load_tickers is None:
            return
        book = await self.load_tickers()
        now = self.clock()
        await self.klines.publish([s for s in streams if s.kind == "kline"], book, now)
        self._tickers([s for s in streams if s.kind in TICKER_KINDS], book, now)

    def _tickers(self, streams: list[Stream], book: TickerBook, now: int) -> None:
        """The 24 h rolling tickers of the symbols whose figures changed since last sent."""
        for stream in streams:
            symbols = sorted(self.view.symbols) if stream.kind == "all" else [stream.symbol]
            changed = []
            for symbol in symbols:
                stats = book.stats(symbol, now)
                seen = self._ticker_sent.get((stream.name, symbol))
                if seen is not None and seen._replace(close_time=0) == stats._replace(close_time=0):
                    continue
                self._ticker_sent[(stream.name, symbol)] = stats
                changed.append(self._ticker(stream, symbol, stats, now))
            if stream.kind == "all":
                if changed:
                    self.hub.publish(stream.name, changed)
            else:
                for payload in changed:
                    self.hub.publish(stream.name, payload)
        for key in [k for k in self._ticker_sent if k[0] not in self.hub.streams]:
            del self._ticker_sent[key]

    def _ticker(self, stream: Stream, symbol: str, stats: WindowStats, now: int) -> dict[str, Any]:
        qp, bp = self._precisions(symbol)
        depth = self.market.depth
        bid = depth.best(symbol, Side.BUY) or (0, 0)
        ask = depth.best(symbol, Side.SELL) or (0, 0)
        book = {
            "bidPrice": to_str(bid[0], qp),
            "bidQty": to_str(bid[1], bp),
            "askPrice": to_str(ask[0], qp),
            "askQty": to_str(ask[1], bp),
        }
        rest = ticker_json(symbol, stats, qp, bp, book)
        letters = {_TICKER_KEYS[k]: v for k, v in rest.items() if k in _TICKER_KEYS}
        if stream.kind == "miniTicker":
            mini = {k: letters[k] for k in _MINI_KEYS}
            return {"e": "24hrMiniTicker", "E": now, "s": symbol, **mini}
        return {"e": "24hrTicker", "E": now, "s": symbol, **letters}

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._tick(FAST_MS)), loop.create_task(self._tick(SLOW_MS))]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _tick(self, every_ms: int) -> None:
        while True:
            await asyncio.sleep(every_ms / 1000)
            self.flush(every_ms)
            if every_ms == SLOW_MS:
                try:
                    await self.rolling()
                except Exception:  # a store read that failed: try again next second
                    log.exception("ticker and kline streams")
