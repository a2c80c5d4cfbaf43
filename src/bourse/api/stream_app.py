"""The app of `bourse consume streams`: Binance's WebSocket market and user data streams served
on a machine of their own, fed by the journal's stream (`streams/journal_feed.py`), with its
health, readiness (503 while far behind) and metrics. Klines older than a day and the tickers'
first day come from the SQL store the SQL consumer writes."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from bourse import __version__
from bourse.api.binance import streams
from bourse.api.binance.gateway import query_store
from bourse.api.binance.hot_path import BourseApp
from bourse.api.binance.replies import ApiError
from bourse.marketdata import MarketData
from bourse.marketdata.tickers import TickerBook
from bourse.server.exchange import now_ms
from bourse.server.metrics import Metrics
from bourse.server.service import READ_WAIT_S
from bourse.store.db import create_store_engine
from bourse.store.projector import applied_seq
from bourse.streams.hub import DEFAULT_QUEUE_LIMIT
from bourse.streams.journal_feed import JournalFeed
from bourse.streams.service import Realtime

T = TypeVar("T")
STORE_POLL_S = 0.05  # another process writes the store: how often its position is read


class StoreReads:
    """Store queries of the streams, run once the store holds everything the streams have
    sent (the SQL consumer may be a moment behind), on a worker thread."""

    def __init__(self, url: str, feed: JournalFeed) -> None:
        self._engine = create_store_engine(url)
        self.feed = feed

    async def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        target, deadline = self.feed.released_seq, time.monotonic() + READ_WAIT_S
        while await query_store(self._engine, applied_seq) < target:
            if time.monotonic() > deadline:
                raise ApiError(
                    -1001,
                    "Internal error; unable to process your request. The SQL store is more "
                    f"than {READ_WAIT_S:.0f} s behind the streams.",
                    503,
                )
            await asyncio.sleep(STORE_POLL_S)  # written by another process: no signal to wait on
        return await query_store(self._engine, fn, *args, **kwargs)

    def close(self) -> None:
        self._engine.dispose()


def create_stream_app(
    feed: JournalFeed,
    database_url: str,
    *,
    stream_queue: int = DEFAULT_QUEUE_LIMIT,
    rate_limits: bool = True,
    max_lag: int = 10_000,
) -> BourseApp:
    """The streams of `feed`, which has caught up (its read model is where serving starts)."""
    view = feed.view
    market = MarketData(view)
    feed.on_release.append(market.apply)
    read = StoreReads(database_url, feed)

    async def tickers() -> TickerBook:
        return await market.ready_tickers(read, list(view.symbols), now_ms())

    realtime = Realtime(market, view, now_ms, stream_queue, tickers, read)
    if not rate_limits:
        realtime.attempts = None
    metrics = Metrics(lambda: "consumer-streams")
    metrics.add_gauges(lambda: streams.stream_gauges(realtime))
    metrics.add_gauges(
        lambda: [
            ("bourse_seq", "Sequence numbers", {"stage": "streams"}, feed.released_seq),
            (
                "bourse_consumer_lag_commands",
                "Commands in the stream the consumer has not applied yet",
                {"consumer": "streams"},
                feed.lag(),
            ),
        ]
    )

    @asynccontextmanager
    async def lifespan(app: BourseApp) -> AsyncIterator[None]:
        feed.start(asyncio.get_running_loop())
        realtime.feed.start()
        realtime.start()  # listenKey expiry
        yield
        await realtime.stop()
        await realtime.feed.stop()
        feed.stop()
        read.close()

    app = BourseApp(
        title="bourse streams",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.realtime = realtime
    app.state.service = feed  # what a connection naming a new listenKey waits for: caught_up
    app.add_api_websocket_route("/ws", streams.raw_none)
    app.add_api_websocket_route("/ws/{streams:path}", streams.raw)
    app.add_api_websocket_route("/stream", streams.combined)

    def health() -> dict[str, Any]:
        lag = feed.lag()
        status = "ok" if lag <= max_lag else "behind"
        return {"status": status, "seq": feed.released_seq, "behind": lag}

    @app.get("/health")
    async def alive() -> dict[str, Any]:
        return await asyncio.to_thread(health)  # the stream's end may be asked of NATS

    @app.get("/health/ready")
    async def ready() -> JSONResponse:
        body = await asyncio.to_thread(health)
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    @app.get("/metrics")
    async def exposition() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return app
