"""The ASGI application: one router per resource; errors always as JSON {"code", "msg"}."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from bourse import __version__
from bourse.api import binance, streams, wsapi
from bourse.api.admin import (
    accounts,
    alerts,
    customers,
    operator,
    payouts,
    policies,
    prices,
    screening,
    venues,
    withdrawals,
)
from bourse.api.binance.replies import error_response
from bourse.api.hot_path import BourseApp, failure
from bourse.marketdata.tickers import TickerBook
from bourse.realtime.hub import DEFAULT_QUEUE_LIMIT
from bourse.realtime.service import Realtime
from bourse.runtime.exchange import ExchangeStopped
from bourse.runtime.list_refresh import ListRefresher
from bourse.runtime.policy_driver import PolicyDriver
from bourse.runtime.service import Service
from bourse.runtime.staff import StaffRegistry


def create_app(
    service: Service,
    *,
    rate_limits: bool = True,
    list_refresher: ListRefresher | None = None,
    stream_queue: int = DEFAULT_QUEUE_LIMIT,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.attach(asyncio.get_running_loop())
        driver.start()
        realtime.feed.start()
        realtime.start()  # listenKey expiry
        if list_refresher is not None:
            list_refresher.start()
        yield
        if list_refresher is not None:
            await list_refresher.stop()
        await realtime.stop()
        await realtime.feed.stop()
        await driver.stop()
        gateway.close()

    app = BourseApp(title="bourse", version=__version__, docs_url="/docs", lifespan=lifespan)
    app.state.service = service
    app.include_router(operator.router)
    app.include_router(accounts.router)
    app.include_router(customers.router)
    app.include_router(policies.router)
    app.include_router(prices.router)
    app.include_router(venues.router)
    app.include_router(payouts.router)
    app.include_router(withdrawals.router)
    app.include_router(screening.router)
    app.include_router(alerts.router)
    app.state.staff = StaffRegistry(service.exchange.data_dir.path)
    gateway = binance.install(app, service, rate_limits=rate_limits)
    app.include_router(wsapi.router)  # the WebSocket API, /ws-api/v3
    driver = app.state.policy_driver = PolicyDriver(service)
    app.state.list_refresher = list_refresher
    state = service.exchange.engine.state

    async def tickers() -> TickerBook:
        return await gateway.market.ready_tickers(
            gateway.read, list(state.symbols), service.clock()
        )

    realtime = Realtime(
        gateway.market, state, lambda: service.clock(), stream_queue, tickers, gateway.read
    )
    if not rate_limits:
        realtime.attempts = None
    app.state.realtime = realtime
    app.include_router(streams.router)

    @app.get("/health", tags=["health"], summary="Liveness and sequence numbers")
    async def health() -> dict[str, Any]:
        ex = service.exchange
        return {
            "status": "ok" if ex.failure is None else "stopped",
            "last_seq": ex.engine.state.last_seq,
            "durable_seq": ex.journal.durable_seq,
            "store_seq": ex.projection.applied_seq,
            "store_ok": ex.projection.error is None,
        }

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        body = detail if isinstance(detail, dict) else {"code": -1000, "msg": str(detail)}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(ExchangeStopped)
    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> Response:
        return error_response(failure(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        msg = f"{where}: {first.get('msg', 'malformed request')}"
        return JSONResponse({"code": -1102, "msg": msg}, status_code=400)

    return app
