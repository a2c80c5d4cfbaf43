"""What each Binance route costs: its request weight (per IP) and the orders it may place (per
account), as rest-api.md and the official SDK's endpoint notes give them; and the rules (limits per
window) those costs count against.

Weights that depend on parameters are functions of the request's parameters. Only the two test-order
routes read a parameter that clients put in the form body (`computeCommissionRates`), so only they
make the limiter buffer the body; every other weight is read from the query string alone (on
Binance, GET parameters are always in the query string). A path missing from the table weighs 1.
"""

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

Params = dict[str, str]
Weigher = Callable[[Params], int]


class Cost(NamedTuple):
    weight: int | Weigher
    orders: int = 0  # orders one request may place, counted against the account's ORDERS limits
    body: bool = False  # the weight reads a parameter that may be in the form body


DEFAULT = Cost(1)
MINUTE_MS = 60_000
DAY_MS = 86_400_000
_SPANS = {"SECOND": 1000, "MINUTE": MINUTE_MS, "HOUR": 3_600_000, "DAY": DAY_MS}
_HEADERS = {"REQUEST_WEIGHT": "x-mbx-used-weight-", "ORDERS": "x-mbx-order-count-"}


class Rule(NamedTuple):
    """One announced limit (an exchangeInfo `rateLimits` entry) in the form the limiter counts."""

    kind: str  # REQUEST_WEIGHT | RAW_REQUESTS | ORDERS
    interval: str
    num: int
    limit: int
    span_ms: int
    header: str  # x-mbx-used-weight-1m, x-mbx-order-count-10s ("" for RAW_REQUESTS: none sent)

    @property
    def per(self) -> str:
        return f"{self.num} {self.interval}"

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> "Rule":
        kind, interval, num = entry["rateLimitType"], entry["interval"], entry["intervalNum"]
        prefix = _HEADERS.get(kind)
        header = f"{prefix}{num}{interval[0].lower()}" if prefix else ""
        return cls(kind, interval, num, entry["limit"], num * _SPANS[interval], header)


def _count(symbols: str) -> int:
    """How many symbols a `symbols=["A","B"]` parameter names (the route validates the list)."""
    return symbols.count(",") + 1 if symbols.strip("[] ") else 0


def depth(p: Params) -> int:
    text = p.get("limit", "")
    # the default limit for anything else, which the route refuses anyway ("²" is a digit to str)
    limit = int(text) if text.isascii() and text.isdigit() else 100
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    return 50 if limit <= 1000 else 250  # above 5000 Binance serves 5000 entries


def ticker_24hr(p: Params) -> int:
    if p.get("symbol"):
        return 2
    n = _count(p.get("symbols", ""))
    if n == 0:
        return 80
    return 2 if n <= 20 else 40 if n <= 100 else 80


def one_or_all(single: int, every: int) -> Weigher:
    """`single` with a `symbol`, `every` without one (or with a `symbols` list)."""
    return lambda p: single if p.get("symbol") else every


def per_symbol(p: Params) -> int:
    """Rolling-window and trading-day tickers: 4 per symbol, 200 at most beyond 50 symbols."""
    n = 1 if p.get("symbol") else _count(p.get("symbols", "")) or 1
    return 200 if n > 50 else 4 * n


def my_trades(p: Params) -> int:
    return 5 if p.get("orderId") else 20


def prevented_matches(p: Params) -> int:
    return 20 if p.get("orderId") else 2


def order_test(p: Params) -> int:
    return 20 if p.get("computeCommissionRates", "").lower() == "true" else 1


V3 = "/api/v3/"
COSTS: dict[tuple[str, str], Cost] = {
    (method, V3 + path): cost
    for method, path, cost in (
        # general and market data
        ("GET", "ping", Cost(1)),
        ("GET", "time", Cost(1)),
        ("GET", "exchangeInfo", Cost(20)),
        ("GET", "depth", Cost(depth)),
        ("GET", "trades", Cost(25)),
        ("GET", "historicalTrades", Cost(25)),
        ("GET", "aggTrades", Cost(4)),
        ("GET", "klines", Cost(2)),
        ("GET", "uiKlines", Cost(2)),
        ("GET", "avgPrice", Cost(2)),
        ("GET", "ticker/24hr", Cost(ticker_24hr)),
        ("GET", "ticker/price", Cost(one_or_all(2, 4))),
        ("GET", "ticker/bookTicker", Cost(one_or_all(2, 4))),
        ("GET", "ticker", Cost(per_symbol)),
        ("GET", "ticker/tradingDay", Cost(per_symbol)),
        # trading
        ("POST", "order", Cost(1, orders=1)),
        ("POST", "order/test", Cost(order_test, body=True)),
        ("GET", "order", Cost(4)),
        ("DELETE", "order", Cost(1)),
        ("POST", "order/cancelReplace", Cost(1, orders=1)),
        ("PUT", "order/amend/keepPriority", Cost(4)),
        ("DELETE", "openOrders", Cost(1)),
        ("POST", "order/oco", Cost(1, orders=2)),
        ("POST", "orderList/oco", Cost(1, orders=2)),
        ("POST", "orderList/oto", Cost(1, orders=2)),
        ("POST", "orderList/otoco", Cost(1, orders=3)),
        ("DELETE", "orderList", Cost(1)),
        ("POST", "sor/order", Cost(1, orders=1)),
        ("POST", "sor/order/test", Cost(order_test, body=True)),
        # account
        ("GET", "openOrders", Cost(one_or_all(6, 80))),
        ("GET", "allOrders", Cost(20)),
        ("GET", "orderList", Cost(4)),
        ("GET", "allOrderList", Cost(20)),
        ("GET", "openOrderList", Cost(6)),
        ("GET", "account", Cost(20)),
        ("GET", "account/commission", Cost(20)),
        ("GET", "myTrades", Cost(my_trades)),
        ("GET", "myPreventedMatches", Cost(prevented_matches)),
        ("GET", "myAllocations", Cost(20)),
        ("GET", "myFilters", Cost(40)),
        ("GET", "order/amendments", Cost(4)),
        ("GET", "rateLimit/order", Cost(40)),
        ("POST", "userDataStream", Cost(2)),
        ("PUT", "userDataStream", Cost(2)),
        ("DELETE", "userDataStream", Cost(2)),
    )
}
