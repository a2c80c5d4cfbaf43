"""The Binance Spot REST API (`/api/v3/...`) that unmodified Binance clients use.

`install` mounts it on the app: the routers, the rate limiter, and the handler that answers every
ApiError with Binance's `{"code","msg"}`.
"""

from fastapi import FastAPI

from bourse.api.binance import account, compat, market, ratelimit, trading, user_stream
from bourse.api.binance.gateway import Gateway
from bourse.api.binance.hot_path import BourseApp, direct
from bourse.api.binance.ratelimit import RateLimiter, Rates
from bourse.api.binance.replies import ApiError, handle_api_error
from bourse.marketdata import MarketData
from bourse.server.service import GatewayService


def install(
    app: FastAPI,
    service: GatewayService,
    data: MarketData,
    *,
    rate_limits: bool = True,
    rates: Rates | None = None,
) -> Gateway:
    """`data` is the market data the routes answer from (depth, tickers). `rate_limits=False`
    (bourse run --no-rate-limits) serves without Binance's limits, for load tests and private
    deployments. `rates`: where requests are counted (default: in this process)."""
    gateway = Gateway(service, data, rates)
    app.state.gateway = gateway
    for module in (market, trading, account, ratelimit, user_stream, compat):
        app.include_router(module.router)
    app.add_exception_handler(ApiError, handle_api_error)
    if rate_limits:
        app.add_middleware(RateLimiter, gateway=gateway)
    if isinstance(app, BourseApp):
        # order entry skips FastAPI's per-request stack, but never the rate limiter
        for key, endpoint in HOT.items():
            hot = direct(endpoint)
            app.hot[key] = RateLimiter(hot, gateway=gateway) if rate_limits else hot
    return gateway


HOT = {
    ("POST", "/api/v3/order"): trading.post_order,
    ("DELETE", "/api/v3/order"): trading.delete_order,
    ("POST", "/api/v3/order/cancelReplace"): trading.cancel_replace,
}
