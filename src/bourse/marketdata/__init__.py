"""Market data projections kept in memory and fed by released (durable) outcomes only: the
aggregated order book and the rolling tickers. Klines and trades are read from the SQL store."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bourse.events import Outcome
from bourse.marketdata.depth import DepthBook, DepthChanges
from bourse.marketdata.tickers import DAY_MS, MINUTE_MS, TickerBook
from bourse.store.market_queries import TickerSeed, ticker_seeds
from bourse.view import ReadModel

# Gateway.read: runs a store query once the store holds everything acknowledged
Reader = Callable[..., Awaitable[Any]]


class MarketData:
    """Seeded from the read model (what is released, as of its `last_seq`), then `apply`
    receives every released batch, in order, on the event loop; a batch the seed already holds
    is skipped by its seqs."""

    def __init__(self, view: ReadModel) -> None:
        self.depth = DepthBook.from_view(view)
        self.tickers = TickerBook()
        self.ticker_load = asyncio.Lock()  # one store read seeds the tickers
        # Called after each outcome is applied, with the depth levels it changed (the streams).
        self.listeners: list[Callable[[Outcome, dict[str, DepthChanges]], None]] = []

    def apply(self, batch: list[Outcome]) -> None:
        depth, tickers, listeners = self.depth, self.tickers, self.listeners
        for outcome in batch:
            changes = depth.apply(outcome)
            tickers.apply(outcome)
            for listener in listeners:
                listener(outcome, changes)

    async def ready_tickers(self, read: Reader, symbols: list[str], now_ms: int) -> TickerBook:
        """The rolling tickers, seeded from the store's last 24 h on first use."""
        book = self.tickers
        if book.loaded:
            return book
        async with self.ticker_load:
            if not book.loaded:
                book.start_loading()  # before the read: what is released meanwhile is kept
                try:
                    start = now_ms - now_ms % MINUTE_MS - DAY_MS
                    seeds: dict[str, TickerSeed] = await read(ticker_seeds, symbols, start)
                except BaseException:
                    book.abort_loading()
                    raise
                book.load(seeds)
        return book
