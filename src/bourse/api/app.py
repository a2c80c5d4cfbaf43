"""The ASGI application: one router per resource; errors always as JSON {"code", "msg"}."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from bourse import __version__
from bourse.api import binance, console, docs
from bourse.api.admin import (
    accounts,
    alerts,
    audit,
    banks,
    customers,
    cutoffs,
    operator,
    partners,
    payment_files,
    payouts,
    policies,
    prices,
    proposals,
    screening,
    staff,
    venues,
    withdrawals,
)
from bourse.api.admin.errors import from_failure, from_http, from_validation, is_admin
from bourse.api.binance import streams, wsapi
from bourse.api.binance.hot_path import BourseApp, failure
from bourse.api.binance.ratelimit import Rates
from bourse.api.binance.replies import error_response
from bourse.api.client_ip import TrustedProxies
from bourse.marketdata import MarketData
from bourse.marketdata.tickers import TickerBook
from bourse.server.exchange import ExchangeStopped
from bourse.server.service import GatewayService, Service
from bourse.streams.hub import DEFAULT_QUEUE_LIMIT
from bourse.streams.service import Realtime
from bourse.workers.list_refresh import ListRefresher
from bourse.workers.policy_driver import PolicyDriver


def create_app(
    service: GatewayService,
    *,
    rate_limits: bool = True,
    list_refresher: ListRefresher | None = None,
    stream_queue: int = DEFAULT_QUEUE_LIMIT,
    trusted_proxies: TrustedProxies | None = None,
    rates: Rates | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.attach(asyncio.get_running_loop())
        if driver is not None:
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
        if driver is not None:
            await driver.stop()
        gateway.close()

    app = BourseApp(
        title="bourse", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    docs.install(app)  # /docs and /redoc from the package's own assets, never a CDN
    app.state.service = service
    if trusted_proxies is not None:
        app.proxies = trusted_proxies
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
    app.include_router(staff.router)
    app.include_router(proposals.router)
    app.include_router(audit.router)
    app.include_router(banks.router)
    app.include_router(cutoffs.router)
    app.include_router(partners.router)
    app.include_router(payment_files.router)
    # Market data and streams read what is released: the read model, then released outcomes.
    view = service.view
    market = MarketData(view)
    service.on_release.append(market.apply)
    gateway = binance.install(app, service, market, rate_limits=rate_limits, rates=rates)
    app.include_router(wsapi.router)  # the WebSocket API, /ws-api/v3
    # Scheduled policies run from the engine's own process (a gateway process has none).
    driver = PolicyDriver(service) if isinstance(service, Service) else None
    app.state.policy_driver = driver
    app.state.list_refresher = list_refresher

    async def tickers() -> TickerBook:
        return await market.ready_tickers(gateway.read, list(view.symbols), service.clock())

    realtime = Realtime(market, view, lambda: service.clock(), stream_queue, tickers, gateway.read)
    app.state.tickers = tickers  # the console's volumes by venue
    console.install(app)  # /console, the staff's web pages
    if not rate_limits:
        realtime.attempts = None
    app.state.realtime = realtime
    service.answers[streams.STREAM_STATS] = lambda: streams.stream_stats(realtime)
    app.include_router(streams.router)

    service.metrics.add_gauges(lambda: streams.stream_gauges(realtime))

    @app.get(
        "/metrics",
        tags=["health"],
        summary="Prometheus metrics of the process that answers",
        description="Commands by type and result, seconds to a durable answer, sequence "
        "numbers, each consumer's lag, WebSocket subscribers and their queues, in Prometheus' "
        "text format, of the process that answers (with `bourse run --gateways N`, one of the "
        "gateways, named by the gauge `bourse_process`). The engine process's own: "
        "`/metrics/engine`.",
        response_class=Response,
    )
    async def metrics() -> Response:
        return Response(service.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.get(
        "/metrics/engine",
        tags=["health"],
        summary="Prometheus metrics of the engine process",
        description="The same as `/metrics` in a one-process server; with gateway processes, "
        "the engine process's: sequence numbers, the journal, the SQL consumer's lag.",
        response_class=Response,
    )
    async def engine_metrics() -> Response:
        return Response(await service.engine_metrics(), media_type=CONTENT_TYPE_LATEST)

    @app.get(
        "/health",
        tags=["health"],
        summary="Liveness, sequence numbers and the SQL store's lag",
        description="Always 200 while the process serves. `status` is `ok`, `degraded` (reads "
        "of the SQL store cannot be served now: it cannot be written, has failed, or is more "
        "than 10 s behind; `store` says which and by how much) or `stopped` (the engine "
        "refuses commands after an internal error).",
    )
    async def health() -> dict[str, Any]:
        return (await service.health())[1]

    @app.get(
        "/health/ready",
        tags=["health"],
        summary="Readiness: 200 when every route can be served, else 503",
        description="The body of `/health`, with HTTP 503 whenever `status` is not `ok`, for "
        "a load balancer or orchestrator to take this server out of rotation meanwhile.",
    )
    async def ready() -> JSONResponse:
        ok, body = await service.health()
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail
        if console.is_console(request.url.path):
            return console.error_page(request, exc.status_code, str(detail))
        body = detail if isinstance(detail, dict) else {"code": -1000, "msg": str(detail)}
        if is_admin(request.url.path):  # the admin API's own {"error", "message"}
            body = from_http(exc.status_code, detail)
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(ExchangeStopped)
    @app.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> Response:
        if is_admin(request.url.path):
            return JSONResponse(from_failure(exc), status_code=failure(exc).status)
        return error_response(failure(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if is_admin(request.url.path):
            return JSONResponse(from_validation(exc), status_code=400)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        msg = f"{where}: {first.get('msg', 'malformed request')}"
        return JSONResponse({"code": -1102, "msg": msg}, status_code=400)

    return app
