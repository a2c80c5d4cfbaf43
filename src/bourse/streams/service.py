"""The real-time side of the server: one hub, the market and user feeds, and what a connection
may do (subscribe, unsubscribe, list), with Binance's limits and error frames.

A stream connection may name a listenKey among its streams (`/ws/<listenKey>`, or SUBSCRIBE):
the account's user data stream then joins the connection through a `Tap`. A WebSocket API
connection subscribes the same way (`bourse.api.binance.wsapi.session`). Once a second the
listenKeys past their 60 minutes (or whose API key was revoked) end: each of their connections
gets `listenKeyExpired` and is closed; a WebSocket API subscription whose key was revoked gets
`eventStreamTerminated`.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import msgspec

from bourse.marketdata import MarketData, Reader
from bourse.streams.hub import CLOSE, DEFAULT_QUEUE_LIMIT, Hub, Subscriber
from bourse.streams.limits import MESSAGES_PER_S, ConnectionAttempts
from bourse.streams.listen_keys import find, looks_like_key
from bourse.streams.market_feed import MarketFeed, TickerLoader
from bourse.streams.names import Stream, parse
from bourse.streams.user_feed import Tap, UserFeed, key_expired, terminated, user_stream
from bourse.streams.wire import direct_link, frame_text
from bourse.view import ReadModel

MAX_STREAMS = 1024  # per connection, as on Binance
MAX_CONNECTIONS = 5000
# Binance's error codes for control messages
UNKNOWN_PROPERTY, INVALID_TYPE, INVALID_REQUEST, INVALID_JSON = 0, 1, 2, 3
LISTEN_KEY = "listenKey"  # the Stream kind of a listenKey named on a stream connection
SWEEP_S = 1.0  # how often listenKeys are checked for expiry
NO_SUCH_KEY = "Invalid request: no such listenKey"
NORMAL_CLOSURE = 1000
log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode


def closing(code: int, reason: str) -> str:
    """A queue entry that closes the connection with `code` and `reason` once sent up to it."""
    return f"{CLOSE}{code} {reason}"


class Socket(Protocol):
    @property
    def scope(self) -> Mapping[str, Any]: ...

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = NORMAL_CLOSURE, reason: str | None = None) -> None: ...


async def drain(ws: Socket, sub: Subscriber) -> None:
    """A connection's writer: sends what its subscriber queues, in order, until an entry made
    by `closing` closes the connection (or the connection closes)."""
    queue = sub.queue
    sub.link = link = direct_link(ws.scope)
    while True:
        await sub.ready.wait()
        sub.ready.clear()
        while queue:
            head = queue[0]
            if isinstance(head, str) and head.startswith(CLOSE):
                queue.popleft()
                code, _, reason = head[1:].partition(" ")
                await ws.close(int(code), reason)
                return
            if link is None:
                queue.popleft()
                await ws.send_text(head if isinstance(head, str) else frame_text(head))
                continue
            await link.wait_writable()
            if not sub.write_now():
                return


class Refused(Exception):
    def __init__(self, code: int, msg: str, request_id: Any = None) -> None:
        super().__init__(msg)
        self.body = {"error": {"code": code, "msg": msg}, "id": request_id}


class Realtime:
    def __init__(
        self,
        market: MarketData,
        view: ReadModel,
        clock: Callable[[], int],
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        load_tickers: TickerLoader | None = None,
        read: Reader | None = None,  # the store, for klines opened before the last 24 h
    ) -> None:
        self.hub = Hub()
        # What is released (Service.view): symbols, listenKeys and API keys as clients were told.
        self.view = view
        self.clock = clock
        self.feed = MarketFeed(self.hub, market, view, clock, load_tickers, read)
        self.taps: dict[Subscriber, dict[str, Tap]] = {}  # connection → its user data streams
        self.users = UserFeed(self.hub, market, view, self.taps)
        self.queue_limit = queue_limit
        self.messages_per_s = MESSAGES_PER_S
        self.attempts: ConnectionAttempts | None = ConnectionAttempts()  # None: no limit
        self.connections = 0
        self._sweeper: asyncio.Task[None] | None = None

    def stream(self, name: str, request_id: Any = None) -> Stream:
        if looks_like_key(name):
            if find(self.view, name, self.clock()) is None:
                raise Refused(INVALID_REQUEST, NO_SUCH_KEY, request_id)
            return Stream(name, "", LISTEN_KEY)
        found = parse(name, set(self.view.symbols))
        if found is None:
            raise Refused(INVALID_REQUEST, f"Invalid request: unknown stream '{name}'", request_id)
        return found

    def subscribe(self, sub: Subscriber, stream: Stream, request_id: Any = None) -> None:
        if stream.name in sub.streams:
            return
        if len(sub.streams) >= MAX_STREAMS:
            raise Refused(
                INVALID_REQUEST,
                f"Invalid request: more than {MAX_STREAMS} streams on one connection",
                request_id,
            )
        if stream.kind == LISTEN_KEY:
            key = find(self.view, stream.name, self.clock())
            if key is None:
                raise Refused(INVALID_REQUEST, NO_SUCH_KEY, request_id)
            self.attach(Tap(sub, key.account_id, key.api_key, key.key))
            sub.streams[stream.name] = stream  # listed, and counted against MAX_STREAMS
            return
        first = stream.name not in self.hub.streams
        self.hub.add(sub, stream)
        if first:
            self.feed.subscribed(stream)

    def unsubscribe(self, sub: Subscriber, name: str) -> None:
        tap = self.taps.get(sub, {}).get(name)
        if tap is None:
            self.hub.remove(sub, name)
            return
        self.detach(tap)
        sub.streams.pop(name, None)

    def drop(self, sub: Subscriber) -> None:
        """A connection ended: it leaves every stream, its user data streams included."""
        self.hub.drop(sub)
        for tap in self.taps.pop(sub, {}).values():
            self.hub.drop(tap)

    # --- user data streams -----------------------------------------------------------------

    def attach(self, tap: Tap) -> None:
        self.hub.add(tap, user_stream(tap.account_id))
        self.taps.setdefault(tap.out, {})[tap.name] = tap

    def detach(self, tap: Tap) -> None:
        self.hub.drop(tap)
        taps = self.taps.get(tap.out)
        if taps is not None and taps.get(tap.name) is tap:
            del taps[tap.name]
            if not taps:
                del self.taps[tap.out]

    def end_subscription(self, tap: Tap) -> None:
        """A WebSocket API subscription ends: its last event says so."""
        self.detach(tap)
        tap.offer(_encode(terminated(self.clock())).decode())

    def end_listen_key(self, key: str) -> None:
        """DELETE userDataStream closed `key`: its connections close (without listenKeyExpired,
        as Binance)."""
        self._end_key(key, expired=False)

    def _end_key(self, key: str, *, expired: bool) -> None:
        reason = "listenKey expired" if expired else "listenKey closed"
        for out, taps in list(self.taps.items()):
            tap = taps.get(key)
            if tap is None:
                continue
            self.detach(tap)
            out.streams.pop(key, None)
            if expired:
                tap.offer(_encode(key_expired(key, self.clock())).decode())
            out.offer(closing(NORMAL_CLOSURE, reason))

    def sweep(self) -> None:
        """End the streams of listenKeys past their time, closed, or whose API key was revoked
        (as expired: Binance sends listenKeyExpired then), and the WebSocket API subscriptions
        of revoked keys.

        Read from the view, not the engine's live state: that may be one group commit ahead of
        what is durable, so a revocation or a DELETE userDataStream used to end streams (a
        message to clients) before its record was safe, and a crash then could lose it."""
        view, now = self.view, self.clock()
        keys = view.api_keys
        for taps in list(self.taps.values()):
            for tap in list(taps.values()):
                if tap.subscription >= 0:
                    if tap.api_key not in keys:
                        self.end_subscription(tap)
                elif find(view, tap.name, now) is None:
                    closed = tap.api_key in keys and tap.name not in view.listen_keys
                    self._end_key(tap.name, expired=not closed)

    def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_every())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def _sweep_every(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                self.sweep()
            except Exception:  # never let one failure stop every later expiry
                log.exception("user data stream sweep")

    def handle(self, sub: Subscriber, text: str) -> dict[str, Any]:
        """The answer to one control message (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS,
        SET_PROPERTY, GET_PROPERTY); raises Refused with Binance's error frame."""
        try:
            msg = msgspec.json.decode(text)
        except msgspec.DecodeError as exc:
            raise Refused(INVALID_JSON, f"Invalid JSON: {exc}") from None
        if not isinstance(msg, dict):
            raise Refused(INVALID_REQUEST, "Invalid request: a JSON object is expected")
        request_id = msg.get("id")
        if not isinstance(request_id, int | str) or isinstance(request_id, bool):
            raise Refused(INVALID_REQUEST, "Invalid request: 'id' must be an integer or a string")
        method, params = msg.get("method"), msg.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                raise Refused(
                    INVALID_TYPE, "Invalid value type: expected a list of stream names", request_id
                )
            streams = [self.stream(name, request_id) for name in params]  # all or none
            for stream in streams:
                if method == "SUBSCRIBE":
                    self.subscribe(sub, stream, request_id)
                else:
                    self.unsubscribe(sub, stream.name)
            return {"result": None, "id": request_id}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": list(sub.streams), "id": request_id}
        if method == "SET_PROPERTY":
            if params != ["combined", True] and params != ["combined", False]:
                raise Refused(UNKNOWN_PROPERTY, "Unknown property", request_id)
            sub.combined = bool(params[1])
            return {"result": None, "id": request_id}
        if method == "GET_PROPERTY":
            if params != ["combined"]:
                raise Refused(UNKNOWN_PROPERTY, "Unknown property", request_id)
            return {"result": sub.combined, "id": request_id}
        raise Refused(INVALID_REQUEST, f"Invalid request: unknown method {method!r}", request_id)
