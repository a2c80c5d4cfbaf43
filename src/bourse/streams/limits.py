"""Binance's limits on stream connections: 5 incoming messages per second on a connection, and
300 connection attempts per IP in any 5 minutes (web-socket-streams.md)."""

import time
from collections import deque
from collections.abc import Callable

MESSAGES_PER_S = 5
ATTEMPTS_PER_IP = 300
ATTEMPT_WINDOW_S = 300.0
Clock = Callable[[], float]


class WindowLimit:
    """At most `limit` events in any `seconds`."""

    def __init__(self, limit: int, seconds: float = 1.0, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._times: deque[float] = deque()

    def allow(self) -> bool:
        now = self._clock()
        self._forget(now)
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True

    def idle(self) -> bool:
        self._forget(self._clock())
        return not self._times

    def _forget(self, now: float) -> None:
        times = self._times
        while times and now - times[0] >= self.seconds:
            times.popleft()


class ConnectionAttempts:
    """Stream connection attempts per IP: one past `limit` in `seconds` is refused. A refused
    attempt is not counted, so a client that backs off gets in once its old attempts age out."""

    def __init__(
        self,
        limit: int = ATTEMPTS_PER_IP,
        seconds: float = ATTEMPT_WINDOW_S,
        clock: Clock = time.monotonic,
    ) -> None:
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._by_ip: dict[str, WindowLimit] = {}

    def allow(self, ip: str) -> bool:
        window = self._by_ip.get(ip)
        if window is None:
            if len(self._by_ip) >= 10_000:  # forget the IPs that went quiet
                self._by_ip = {k: w for k, w in self._by_ip.items() if not w.idle()}
            window = self._by_ip[ip] = WindowLimit(self.limit, self.seconds, self._clock)
        return window.allow()
