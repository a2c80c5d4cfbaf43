"""The order-entry routes skip FastAPI's per-request machinery.

FastAPI wraps every request in several middlewares (error handling, telemetry, body limits, an
exit stack) and matches it against every route; on `POST /api/v3/order` that cost more than
validating, journaling and matching the order. Hot routes are dispatched here by an exact
(method, path) lookup to the same endpoint function FastAPI documents, with the same error
answers; every other request takes the normal path.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bourse.api.binance.replies import ApiError, error_response
from bourse.api.client_ip import TrustedProxies
from bourse.server.exchange import ExchangeStopped
from bourse.streams.wire import SERVER_SEND

log = logging.getLogger(__name__)
Endpoint = Callable[[Request], Awaitable[Response]]


class BourseApp(FastAPI):
    """FastAPI with a table of hot routes consulted before anything else."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hot: dict[tuple[str, str], ASGIApp] = {}
        self.proxies = TrustedProxies()  # none: X-Forwarded-For is never believed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.proxies and scope["type"] != "lifespan":
            scope["client"] = self.proxies.client(scope)  # the one place a client's IP is set
        if scope["type"] == "http":
            hot = self.hot.get((scope["method"], scope["path"]))
            if hot is not None:
                scope["app"] = self  # what Request.app reads, as Starlette would set it
                await hot(scope, receive, send)
                return
        elif scope["type"] == "websocket":
            scope[SERVER_SEND] = send  # before middleware wraps it: the direct path (wire.py)
        await super().__call__(scope, receive, send)


INTERNAL = "Internal error; unable to process your request. Please try again."


def failure(exc: Exception) -> ApiError:
    """The answer to an exception a route did not turn into an ApiError itself."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ExchangeStopped):
        return ApiError(-1001, str(exc), 503)
    return ApiError(-1001, INTERNAL, 500)


def direct(endpoint: Endpoint) -> ASGIApp:
    """An ASGI app calling `endpoint` with the answers the app's exception handlers give."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await endpoint(Request(scope, receive))
        except Exception as exc:
            if not isinstance(exc, (ApiError, ExchangeStopped)):
                log.exception("%s %s failed", scope["method"], scope["path"])
            response = error_response(failure(exc))
        await response(scope, receive, send)

    return app
