"""The real-time side of the server: one hub, the market feed, and what a connection may do
(subscribe, unsubscribe, list), with Binance's limits and error frames."""

import time
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec

from bourse.engine.state import EngineState
from bourse.marketdata import MarketData
from bourse.realtime.hub import DEFAULT_QUEUE_LIMIT, Hub, Subscriber
from bourse.realtime.market_feed import MarketFeed, TickerLoader
from bourse.realtime.names import Stream, parse

MAX_STREAMS = 1024  # per connection, as on Binance
MAX_MESSAGES_PER_S = 5  # incoming control messages per connection per second, as on Binance
MAX_CONNECTIONS = 5000
# Binance's error codes for control messages
UNKNOWN_PROPERTY, INVALID_TYPE, INVALID_REQUEST, INVALID_JSON = 0, 1, 2, 3


class Refused(Exception):
    def __init__(self, code: int, msg: str, request_id: Any = None) -> None:
        super().__init__(msg)
        self.body = {"error": {"code": code, "msg": msg}, "id": request_id}


class Realtime:
    def __init__(
        self,
        market: MarketData,
        state: EngineState,
        clock: Callable[[], int],
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        load_tickers: TickerLoader | None = None,
    ) -> None:
        self.hub = Hub()
        self.state = state
        self.feed = MarketFeed(self.hub, market, state, clock, load_tickers)
        self.queue_limit = queue_limit
        self.messages_per_s = MAX_MESSAGES_PER_S
        self.connections = 0

    def stream(self, name: str, request_id: Any = None) -> Stream:
        found = parse(name, set(self.state.symbols))
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
        first = stream.name not in self.hub.streams
        self.hub.add(sub, stream)
        if first:
            self.feed.subscribed(stream)

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
                    self.hub.remove(sub, stream.name)
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


class MessageRate:
    """At most `limit` control messages in any second."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._times: deque[float] = deque()

    def allow(self) -> bool:
        now = time.monotonic()
        while self._times and now - self._times[0] >= 1.0:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True
