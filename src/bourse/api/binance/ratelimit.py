"""Binance's rate limits: request weight and raw requests per IP, new orders per account.

Windows are fixed and aligned to their interval, as on Binance: the minute counter restarts at the
top of each minute, the day counter at 00:00 UTC. Time is integer ms from `gateway.clock()` (tests
replace it). An IP over a limit gets HTTP 429 with `Retry-After`; one that keeps sending within the
same window is banned (HTTP 418), for 2 minutes the first time and twice as long for each ban that
follows within a day of the last, up to 3 days (`Policy`). Orders count as Binance's "unfilled
order count": an order's first fill gives its count back in the current windows.

`RateLimiter` is pure ASGI and on the hot path: per request a few dict look-ups and integer sums,
no locks (everything here runs on the event-loop thread, the release hook included).

The counts live in one process, so that they stay exact however many gateway processes serve:
`Limits` counts; a gateway reaches it through `Rates`, either in its own process (`LocalRates`,
one-process server) or in the engine process over the engine link (`RemoteRates`,
`bourse run --gateways N`), one round trip per request.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol
from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bourse.api.binance.auth import Caller
from bourse.api.binance.gateway import Gateway, signed
from bourse.api.binance.params import Params, openapi
from bourse.api.binance.replies import ApiError, error_response, ok
from bourse.api.binance.weights import COSTS, DAY_MS, DEFAULT, MINUTE_MS, Rule
from bourse.domain.enums import OrderStatus
from bourse.events import OrderCanceled, OrderExpired, Outcome, TradeExecuted

router = APIRouter()

# The limits exchangeInfo announces and the limiter enforces (Binance's spot defaults).
RATE_LIMITS: list[dict[str, Any]] = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]
_KEY_HEADER = b"x-mbx-apikey"
_POLL = "Please use WebSocket Streams for live updates to avoid polling the API."


@dataclass(frozen=True)
class Policy:
    """What the limiter enforces: the announced limits, and how it bans an IP that ignores 429s."""

    rate_limits: Sequence[Mapping[str, Any]] = field(default_factory=lambda: RATE_LIMITS)
    strikes_before_ban: int = 10  # 429s an IP may receive in one window before the ban
    first_ban_ms: int = 2 * MINUTE_MS
    max_ban_ms: int = 3 * DAY_MS
    ban_memory_ms: int = DAY_MS  # a ban starting this soon after the last one lasts twice as long


class Usage:
    """One IP's or account's counts, one per rule, in the window that `starts` says."""

    __slots__ = ("counts", "starts", "strikes", "strikes_until")

    def __init__(self, n: int) -> None:
        self.counts = [0] * n
        self.starts = [-1] * n
        self.strikes = 0
        self.strikes_until = 0

    def roll(self, rules: Sequence[Rule], now: int) -> None:
        starts = self.starts
        for i, rule in enumerate(rules):
            start = now - now % rule.span_ms
            if starts[i] != start:
                starts[i] = start
                self.counts[i] = 0

    def live(self, rules: Sequence[Rule], now: int) -> bool:
        return self.strikes_until > now or any(
            start + rule.span_ms > now for start, rule in zip(self.starts, rules, strict=True)
        )


class Ban(NamedTuple):
    until: int
    level: int  # 0 for a first ban; each ban within `ban_memory_ms` of the last doubles


Counts = list[int]  # one per rule, in the rules' order


class Limits:
    """The counters behind the limits of every gateway of one exchange."""

    def __init__(self, clock: Callable[[], int], policy: Policy | None = None) -> None:
        self.clock = clock
        self.enabled = False  # only a RateLimiter enables counting (not with --no-rate-limits)
        self.configure(policy or Policy())

    def configure(self, policy: Policy) -> None:
        """Apply `policy` from now on, with every count, strike and ban forgotten."""
        self.policy = policy
        rules = [Rule.of(entry) for entry in policy.rate_limits]
        self.ip_rules = tuple(r for r in rules if r.kind != "ORDERS")
        self.order_rules = tuple(r for r in rules if r.kind == "ORDERS")
        self._order_headers = [r.header.encode() for r in self.order_rules]
        self._by_weight = tuple(r.kind == "REQUEST_WEIGHT" for r in self.ip_rules)
        named = [(i, r.header.encode()) for i, r in enumerate(self.ip_rules) if self._by_weight[i]]
        self._weight_headers = [(i, b"x-mbx-used-weight") for i, _ in named[:1]] + named
        self.ips: dict[str, Usage] = {}
        self.accounts: dict[int, Usage] = {}
        self.bans: dict[str, Ban] = {}
        self._partly_filled: set[int] = set()
        self._sweep_at = 0

    # --- per IP ---------------------------------------------------------------------------

    def charge(self, ip: str, weight: int, now: int) -> Usage:
        """Count a request of `weight` from `ip`, or raise the 429 or 418 it earned instead."""
        ban = self.bans.get(ip)
        if ban is not None and now < ban.until:
            raise self._banned(ban, now, self.ips.get(ip))
        if now >= self._sweep_at:
            self._sweep(now)
        usage = self.ips.get(ip)
        if usage is None:
            usage = self.ips[ip] = Usage(len(self.ip_rules))
        usage.roll(self.ip_rules, now)
        counts, by_weight = usage.counts, self._by_weight
        for i, rule in enumerate(self.ip_rules):
            if counts[i] + (weight if by_weight[i] else 1) > rule.limit:
                raise self._refuse(ip, usage, i, now)
        for i in range(len(counts)):
            counts[i] += weight if by_weight[i] else 1
        return usage

    def admit(
        self, ip: str, weight: int, account_id: int | None, orders: int, now: int
    ) -> tuple[Counts, Counts | None]:
        """Charge a request: `weight` to `ip`, and `orders` new orders to the account if it
        names one. The IP's counts and the account's (None if none counted), or the 429 or
        418 it earned instead (an order refusal still reports the IP's weight)."""
        usage = self.charge(ip, weight, now)
        if account_id is None or not orders:
            return list(usage.counts), None
        try:
            placed = self.place(account_id, orders, now)
        except ApiError as exc:
            exc.headers.update(_text(self.weight_headers(usage.counts)))
            raise
        return list(usage.counts), list(placed.counts)

    def weight_headers(self, counts: Sequence[int] | None) -> list[tuple[bytes, bytes]]:
        """`x-mbx-used-weight-1m` (and the legacy `x-mbx-used-weight`) with the IP's counts."""
        return [
            (name, b"%d" % (counts[i] if counts is not None else 0))
            for i, name in self._weight_headers
        ]

    def _error_headers(self, usage: Usage | None, retry_ms: int) -> dict[str, str]:
        headers = _text(self.weight_headers(usage.counts if usage is not None else None))
        headers["Retry-After"] = str(max(1, -(-retry_ms // 1000)))
        return headers

    def _refuse(self, ip: str, usage: Usage, i: int, now: int) -> ApiError:
        rule = self.ip_rules[i]
        window_end = usage.starts[i] + rule.span_ms
        if now >= usage.strikes_until:
            usage.strikes = 0
        usage.strikes += 1
        usage.strikes_until = max(usage.strikes_until, window_end)
        if usage.strikes > self.policy.strikes_before_ban:
            usage.strikes = 0
            return self._banned(self._ban(ip, now), now, usage)
        if self._by_weight[i]:
            msg = f"Too much request weight used; current limit is {rule.limit} request weight"
        else:
            msg = f"Too many requests; current limit is {rule.limit} requests"
        headers = self._error_headers(usage, window_end - now)
        return ApiError(-1003, f"{msg} per {rule.per}. {_POLL}", 429, headers)

    def _ban(self, ip: str, now: int) -> Ban:
        p, last = self.policy, self.bans.get(ip)
        level = min(last.level + 1, 40) if last and now - last.until < p.ban_memory_ms else 0
        ban = self.bans[ip] = Ban(now + min(p.first_ban_ms << level, p.max_ban_ms), level)
        return ban

    def _banned(self, ban: Ban, now: int, usage: Usage | None) -> ApiError:
        headers = self._error_headers(usage, ban.until - now)
        msg = (
            f"Way too much request weight used; IP banned until {ban.until}. "
            "Please use WebSocket Streams for live updates to avoid bans."
        )
        return ApiError(-1003, msg, 418, headers)

    def _sweep(self, now: int) -> None:
        """Once a minute, forget IPs and accounts whose windows have all ended."""
        self._sweep_at = now - now % MINUTE_MS + MINUTE_MS
        self.ips = {ip: u for ip, u in self.ips.items() if u.live(self.ip_rules, now)}
        self.accounts = {a: u for a, u in self.accounts.items() if u.live(self.order_rules, now)}
        memory = self.policy.ban_memory_ms
        self.bans = {ip: b for ip, b in self.bans.items() if b.until + memory > now}

    # --- per account ----------------------------------------------------------------------

    def place(self, account_id: int, orders: int, now: int) -> Usage:
        """Count `orders` new orders for the account, or raise -1015 (429, no Retry-After)."""
        usage = self.accounts.get(account_id)
        if usage is None:
            usage = self.accounts[account_id] = Usage(len(self.order_rules))
        usage.roll(self.order_rules, now)
        counts = usage.counts
        for i, rule in enumerate(self.order_rules):
            if counts[i] + orders > rule.limit:
                msg = f"Too many new orders; current limit is {rule.limit} orders per {rule.per}."
                raise ApiError(-1015, msg, 429)
        for i in range(len(counts)):
            counts[i] += orders
        return usage

    def refund(self, account_id: int, orders: int, placed_at: int) -> Counts:
        """Give back orders a refused request counted, in the windows that counted them; the
        account's counts after."""
        usage = self.accounts.get(account_id)
        if usage is None:  # forgotten by a sweep: its windows have ended
            return [0] * len(self.order_rules)
        for i, rule in enumerate(self.order_rules):
            if usage.starts[i] == placed_at - placed_at % rule.span_ms:
                usage.counts[i] = max(0, usage.counts[i] - orders)
        return list(usage.counts)

    def order_headers(self, counts: Sequence[int]) -> list[tuple[bytes, bytes]]:
        names = self._order_headers
        return [(name, b"%d" % count) for name, count in zip(names, counts, strict=True)]

    def order_usage(self, account_id: int, now: int) -> list[dict[str, Any]]:
        """What GET /api/v3/rateLimit/order answers: none when limits are off."""
        if not self.enabled:
            return []
        usage = self.accounts.get(account_id)
        if usage is not None:
            usage.roll(self.order_rules, now)
        return _entries(self.order_rules, usage.counts if usage is not None else None)

    def report(self, ip: str, orders: Sequence[int] | None, now: int) -> list[dict[str, Any]]:
        """A WebSocket API response's `rateLimits`: the account's ORDERS `orders` counts if the
        request counted orders, then the IP's REQUEST_WEIGHT counts in their current windows."""
        usage = self.ips.get(ip)
        if usage is not None:
            usage.roll(self.ip_rules, now)
        weights = [i for i, by_weight in enumerate(self._by_weight) if by_weight]
        counts = [usage.counts[i] for i in weights] if usage is not None else None
        found = _entries([self.ip_rules[i] for i in weights], counts)
        return found if orders is None else _entries(self.order_rules, orders) + found

    def on_release(self, batch: list[Outcome]) -> None:
        """An order's first fill (partial or full) gives back the order it counted, in the
        current windows, as on Binance. After a restart an order partly filled before it may give
        its count back once more: a bound on leniency, never a false refusal."""
        now = self.clock()
        partly = self._partly_filled
        for outcome in batch:
            for ev in outcome.events:
                if isinstance(ev, TradeExecuted):
                    self._filled(ev.maker_order_id, ev.maker_account_id, ev.maker_status, now)
                    self._filled(ev.taker_order_id, ev.taker_account_id, ev.taker_status, now)
                elif partly and isinstance(ev, OrderCanceled | OrderExpired):
                    partly.discard(ev.order_id)

    def _filled(self, order_id: int, account_id: int, status: OrderStatus, now: int) -> None:
        partly = self._partly_filled
        if order_id in partly:  # not its first fill
            if status is not OrderStatus.PARTIALLY_FILLED:
                partly.discard(order_id)
            return
        if status is OrderStatus.PARTIALLY_FILLED:
            partly.add(order_id)
        usage = self.accounts.get(account_id)
        if usage is not None:
            usage.roll(self.order_rules, now)
            counts = usage.counts
            for i in range(len(counts)):
                if counts[i]:
                    counts[i] -= 1


def _entries(rules: Sequence[Rule], counts: Sequence[int] | None) -> list[dict[str, Any]]:
    """One `{rateLimitType, interval, intervalNum, limit, count}` per rule (count 0 if none)."""
    return [
        {
            "rateLimitType": rule.kind,
            "interval": rule.interval,
            "intervalNum": rule.num,
            "limit": rule.limit,
            "count": counts[i] if counts is not None else 0,
        }
        for i, rule in enumerate(rules)
    ]


def _text(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in headers}


class Rates(Protocol):
    """A gateway's way to the one `Limits` of the exchange (see the module's docstring)."""

    limits: Limits  # its rules format the headers; it counts only in the process that owns it

    @property
    def enabled(self) -> bool: ...

    def enable(self) -> None: ...

    async def admit(
        self, ip: str, weight: int, account_id: int | None, orders: int, now: int
    ) -> tuple[Counts, Counts | None]: ...

    async def place(self, account_id: int, orders: int, now: int) -> Counts: ...

    async def refund(self, account_id: int, orders: int, placed_at: int) -> Counts: ...

    async def report(
        self, ip: str, orders: Sequence[int] | None, now: int
    ) -> list[dict[str, Any]]: ...

    async def order_usage(self, account_id: int, now: int) -> list[dict[str, Any]]: ...


class LocalRates:
    """Counted in this process: a one-process server, or the engine process's end of
    `RemoteRates` (see `CALLS`)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    @property
    def enabled(self) -> bool:
        return self.limits.enabled

    def enable(self) -> None:
        self.limits.enabled = True

    async def admit(
        self, ip: str, weight: int, account_id: int | None, orders: int, now: int
    ) -> tuple[Counts, Counts | None]:
        return self.limits.admit(ip, weight, account_id, orders, now)

    async def place(self, account_id: int, orders: int, now: int) -> Counts:
        return list(self.limits.place(account_id, orders, now).counts)

    async def refund(self, account_id: int, orders: int, placed_at: int) -> Counts:
        return self.limits.refund(account_id, orders, placed_at)

    async def report(self, ip: str, orders: Sequence[int] | None, now: int) -> list[dict[str, Any]]:
        return self.limits.report(ip, orders, now)

    async def order_usage(self, account_id: int, now: int) -> list[dict[str, Any]]:
        return self.limits.order_usage(account_id, now)


# What a gateway process may ask of the engine process's Limits (EngineHost's calls).
CALLS = ("admit", "place", "refund", "report", "order_usage")


class RemoteRates:
    """Counted in the engine process: each call is one round trip over the engine link
    (`call(name, *args)`), so every gateway process counts against the same windows."""

    def __init__(self, call: Callable[..., Awaitable[Any]], clock: Callable[[], int]) -> None:
        self._call = call
        self.limits = Limits(clock)  # for its rules only: the engine process's has the same
        self._enabled = False

    @property
    def enabled(self) -> bool:
        return self._enabled

    def enable(self) -> None:
        self._enabled = True  # the engine process counts when it was started with limits

    async def admit(
        self, ip: str, weight: int, account_id: int | None, orders: int, now: int
    ) -> tuple[Counts, Counts | None]:
        result: tuple[Counts, Counts | None] = await self._call(
            "admit", ip, weight, account_id, orders, now
        )
        return result

    async def place(self, account_id: int, orders: int, now: int) -> Counts:
        counts: Counts = await self._call("place", account_id, orders, now)
        return counts

    async def refund(self, account_id: int, orders: int, placed_at: int) -> Counts:
        counts: Counts = await self._call("refund", account_id, orders, placed_at)
        return counts

    async def report(self, ip: str, orders: Sequence[int] | None, now: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self._call("report", ip, orders, now)
        return found

    async def order_usage(self, account_id: int, now: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self._call("order_usage", account_id, now)
        return found


class RateLimiter:
    """Charges every `/api/` request its weight (and, for order routes, the account's orders),
    answers 429/418 instead when a limit is spent, and adds the usage headers to the response."""

    def __init__(self, app: ASGIApp, gateway: Gateway) -> None:
        self.app = app
        self.gateway = gateway
        self.rates = gateway.rates
        self.rates.enable()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        cost = COSTS.get((scope["method"], scope["path"]), DEFAULT)
        weight = cost.weight
        if not isinstance(weight, int):
            params = _parse(scope.get("query_string", b""))
            if cost.body:
                body, receive = await _buffered(receive)
                params = {**_parse(body), **params}  # the query string wins, as on Binance
            weight = weight(params)
        rates, limits = self.rates, self.rates.limits
        now = self.gateway.clock()
        client = scope.get("client")
        account_id = await self._account(scope) if cost.orders else None
        try:
            weights, orders = await rates.admit(
                client[0] if client else "", weight, account_id, cost.orders, now
            )
        except ApiError as exc:
            await error_response(exc)(scope, receive, send)
            return
        used = limits.weight_headers(weights)
        if orders is None:

            async def send_used(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), *used]
                await send(message)

            await self.app(scope, receive, send_used)
            return
        placed = limits.order_headers(orders)  # the count at placement, as Binance reports it

        async def send_counts(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), *used]
                status = message["status"]
                if 400 <= status < 500 and status != 409 and account_id is not None:
                    # refused: the order never existed
                    after = await rates.refund(account_id, cost.orders, now)
                    headers += limits.order_headers(after)
                else:
                    headers += placed
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_counts)

    async def _account(self, scope: Scope) -> int | None:
        """The account of the key the request names; the route checks the signature itself.
        A key this process does not know yet is looked for again once it has caught up."""
        for name, value in scope["headers"]:
            if name == _KEY_HEADER:
                api_key = value.decode("latin-1")
                key = self.gateway.keys.find(api_key)
                if key is None:
                    await self.gateway.service.caught_up()
                    key = self.gateway.keys.find(api_key)
                return None if key is None else key.account_id
        return None


def _parse(raw: bytes) -> dict[str, str]:
    return dict(parse_qsl(raw.decode("latin-1"))) if raw else {}


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body, and a `receive` that hands the app the same body again."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away: the app sees that instead of a body
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            break
    pending: list[Message] = [message]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return b"".join(chunks), replay


_EXAMPLE = {
    "application/json": {
        "example": [{**r, "count": 3} for r in RATE_LIMITS if r["rateLimitType"] == "ORDERS"]
    }
}


@router.get(
    "/api/v3/rateLimit/order",
    summary="Query unfilled order count (USER_DATA)",
    description="The caller's current order counts in each ORDERS window (weight 40). Empty when "
    "the exchange runs without rate limits.",
    tags=["Account"],
    openapi_extra=openapi(signed=True),
    responses={200: {"description": "One entry per ORDERS limit", "content": _EXAMPLE}},
)
async def order_rate_limit(request: Request) -> Response:
    return ok(await order_counts(*await signed(request, trade=False)))


async def order_counts(gw: Gateway, params: Params, caller: Caller) -> list[dict[str, Any]]:
    """Unfilled order count: GET rateLimit/order and account.rateLimits.orders."""
    return await gw.rates.order_usage(caller.account_id, gw.clock())
