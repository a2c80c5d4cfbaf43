"""(being written)"""

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send


class RateLimiter:
    def __init__(self, app: ASGIApp, gateway: Any) -> None:
        self.app = app
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
