"""The WebSocket API endpoint, `/ws-api/v3`: one request per text frame, answered in order.

Each request costs the weight of the REST route it mirrors, against the same per-IP counters as
REST (connecting costs 2, as on Binance), and an order-placing method counts the account's
orders like its REST route; every response reports those counts in `rateLimits` unless the
request or the connection URL (`?returnRateLimits=false`) asks not to. A malformed request gets
an error response and the connection stays open; a binary frame (requests are JSON text) or an
IP ban closes it. Uvicorn sends the pings (`bourse run`).

Requests of one connection run one after another, so a client that sends `order.place` and then
`order.status` reads its order; concurrency comes from more connections. A connection subscribed
to user data streams gets their events between the responses (see `session`).
"""

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import APIRouter
from starlette.websockets import WebSocket, WebSocketDisconnect

from bourse.api.binance.auth import client_host
from bourse.api.binance.gateway import Gateway, caught_up_caller, gateway
from bourse.api.binance.hot_path import failure
from bourse.api.binance.params import Params
from bourse.api.binance.ratelimit import Rates
from bourse.api.binance.replies import ApiError
from bourse.api.binance.weights import DEFAULT, Cost
from bourse.api.binance.wsapi import frames
from bourse.api.binance.wsapi.frames import BadFrame, RequestId
from bourse.api.binance.wsapi.methods import METHODS, Method, Security
from bourse.api.binance.wsapi.session import Session
from bourse.server.exchange import ExchangeStopped
from bourse.streams.hub import SLOW
from bourse.streams.service import Realtime, closing, drain

log = logging.getLogger(__name__)
router = APIRouter()
PATH = "/ws-api/v3"
CONNECT = Cost(2)
UNSUPPORTED_DATA = 1003  # close code: "a type of data it cannot accept"
POLICY_VIOLATION = 1008
CLOSE_WAIT_S = 5.0  # for what is queued to go out before a close
_BANNED = 418


@router.websocket(PATH)
async def ws_api(ws: WebSocket) -> None:
    gw = gateway(ws)
    rate_limits = ws.query_params.get("returnRateLimits", "").lower() != "false"
    realtime: Realtime | None = getattr(ws.app.state, "realtime", None)
    session = Session(gw, client_host(ws), return_rate_limits=rate_limits, realtime=realtime)
    await ws.accept()
    connection = Connection(gw, session)
    link = _Link(ws, session)
    try:
        refused = await connection.connect()
        if refused is not None:
            await ws.send_text(refused)
            await ws.close(POLICY_VIOLATION, "rate limit")
            return
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                await link.close(UNSUPPORTED_DATA, "requests are JSON in text frames")
                return
            await link.send(await connection.answer(text))
            if connection.banned:
                await link.close(POLICY_VIOLATION, "IP banned")
                return
    except WebSocketDisconnect:
        return
    except (asyncio.CancelledError, _CutOff):
        if not link.cut_off():
            raise  # the server is stopping
    finally:
        await link.end()
    await link.close_cut_off()


class _CutOff(Exception):
    """The connection's own reply found its queue full: the hub's cut-off applies to it."""


class _Link:
    """How a connection's frames leave: straight to the socket until it subscribes to a user
    data stream; from then on through its queue (`session.out`), where a writer task keeps
    replies and events in order and the hub cuts off a reader that falls behind (1008)."""

    def __init__(self, ws: WebSocket, session: Session) -> None:
        self.ws = ws
        self.session = session
        self.handler = asyncio.current_task()
        self.writer: asyncio.Task[None] | None = None

    async def send(self, text: str) -> None:
        out = self.session.out
        if out is None:
            await self.ws.send_text(text)
            return
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(drain(self.ws, out))
            out.tasks = [self.writer] if self.handler is None else [self.writer, self.handler]
        if not out.offer(text):
            raise _CutOff(out.cut_reason)

    async def close(self, code: int, reason: str) -> None:
        """Close after everything queued before (waiting at most CLOSE_WAIT_S for it)."""
        out, writer = self.session.out, self.writer
        if out is None or writer is None:
            await self.ws.close(code, reason)
            return
        out.offer(closing(code, reason))
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(writer), CLOSE_WAIT_S)

    def cut_off(self) -> bool:
        """Whether this connection was cut off for not reading (the hub cancels the handler);
        if so, the handler goes on to close it."""
        out = self.session.out
        if out is None or not out.cut_reason:
            return False
        if self.handler is not None and self.handler.cancelling():
            self.handler.uncancel()
        return True

    async def end(self) -> None:
        out, realtime = self.session.out, self.session.realtime
        if out is not None and realtime is not None:
            realtime.drop(out)
        if self.writer is not None:
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.writer

    async def close_cut_off(self) -> None:
        out = self.session.out
        if out is None or not out.cut_reason:
            return
        log.warning("WebSocket API connection cut off: %s", out.cut_reason)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(SLOW, out.cut_reason[:120]), CLOSE_WAIT_S)


class Connection:
    """Answers one connection's requests: envelope, rate limits, authentication, method."""

    def __init__(self, gw: Gateway, session: Session) -> None:
        self.gw = gw
        self.session = session
        self.rates: Rates = gw.rates
        self.banned = False

    async def connect(self) -> str | None:
        """Charge the connection's weight; the error response if the IP may not connect."""
        if not self.rates.enabled:
            return None
        try:
            await self.rates.admit(self.session.host, weight(CONNECT, {}), None, 0, self.gw.clock())
        except ApiError as exc:
            return await self._error(None, exc, None, self.session.return_rate_limits)
        return None

    async def answer(self, text: str) -> str:
        try:
            request = frames.decode(text)
        except BadFrame as bad:
            return await self._refused(bad.request_id, bad.error, self.session.return_rate_limits)
        values = request.params
        show = self.session.return_rate_limits
        if "returnRateLimits" in values:
            try:
                show = bool(Params.of(values).flag("returnRateLimits"))
            except ApiError as exc:
                return await self._refused(request.id, exc, show)
        method = METHODS.get(request.method)
        if method is None:
            msg = f"This operation is not supported. Unknown method '{request.method}'."
            return await self._refused(request.id, ApiError(-1020, msg), show)
        return await self._call(request.id, request.method, method, values, show)

    async def _call(
        self, request_id: RequestId, name: str, method: Method, values: dict[str, str], show: bool
    ) -> str:
        gw, rates, session = self.gw, self.rates, self.session
        params = Params.of(values)
        now = gw.clock()
        counted: int | None = None  # the account whose orders this request counted, if any
        placed: list[int] | None = None  # its counts right after (as Binance reports them)
        try:
            if rates.enabled:
                await rates.admit(session.host, weight(method.cost, values), None, 0, now)
            caller = None
            if method.security is not Security.NONE:
                trade = method.security is Security.TRADE
                caller = await caught_up_caller(
                    gw.service, lambda: session.caller(params, trade=trade), trade=trade
                )
                if method.cost.orders and rates.enabled:
                    placed = await rates.place(caller.account_id, method.cost.orders, now)
                    counted = caller.account_id
            result = await method.run(gw, params, caller, session)
        except Exception as exc:
            error = self._failure(exc, name)
            if counted is not None and 400 <= error.status < 500 and error.status != 409:
                # refused: it never existed
                placed = await rates.refund(counted, method.cost.orders, now)
            return await self._error(request_id, error, placed, show)
        rate_limits = await self._report(placed, show)
        return frames.response(request_id, result=result, rate_limits=rate_limits)

    def _failure(self, exc: Exception, name: str) -> ApiError:
        if not isinstance(exc, ApiError | ExchangeStopped):
            log.exception("WebSocket API %s failed", name)
        return failure(exc)

    async def _refused(self, request_id: RequestId, error: ApiError, show: bool) -> str:
        """A request refused before any method ran: it costs the default weight."""
        if self.rates.enabled:
            try:
                await self.rates.admit(
                    self.session.host, weight(DEFAULT, {}), None, 0, self.gw.clock()
                )
            except ApiError as exc:
                error = exc
        return await self._error(request_id, error, None, show)

    async def _error(
        self, request_id: RequestId, error: ApiError, orders: list[int] | None, show: bool
    ) -> str:
        if error.code == -1003 and error.data is None and "Retry-After" in error.headers:
            # Binance's WebSocket API says when to retry in `data` (REST: the Retry-After header)
            now = self.gw.clock()
            data = {"serverTime": now, "retryAfter": now + int(error.headers["Retry-After"]) * 1000}
            error = ApiError(error.code, error.msg, error.status, data=data)
        self.banned = self.banned or error.status == _BANNED
        rate_limits = await self._report(orders, show)
        return frames.response(request_id, error=error, rate_limits=rate_limits)

    async def _report(self, orders: list[int] | None, show: bool) -> list[dict[str, Any]] | None:
        """`rateLimits`: None to leave it out; empty when the exchange runs without limits."""
        if not show:
            return None
        if not self.rates.enabled:
            return []
        return await self.rates.report(self.session.host, orders, self.gw.clock())


def weight(cost: Cost, values: dict[str, str]) -> int:
    w = cost.weight
    return w if isinstance(w, int) else w(values)
