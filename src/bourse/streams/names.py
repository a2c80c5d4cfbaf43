"""Binance market stream names: `<symbol>@trade`, `@aggTrade`, `@depth[@100ms]`,
`@depth<5|10|20>[@100ms]`, `@bookTicker`, `@kline_<interval>`, `@ticker`, `@miniTicker`,
`!ticker@arr`. Symbols are lower case in names, as Binance writes them."""

import re
from dataclasses import dataclass

from bourse.marketdata.klines import INTERVALS

PARTIAL_LEVELS = (5, 10, 20)
FAST_MS, SLOW_MS = 100, 1000
ALL_TICKERS = "!ticker@arr"
# Every interval REST klines has, 1s to 1M (`streams.kline_feed` says where each comes from).
KLINE_INTERVALS = INTERVALS
_NAME = re.compile(
    r"(?P<symbol>[a-z0-9]+)@(?P<kind>trade|aggTrade|bookTicker|ticker|miniTicker|"
    r"depth(?P<levels>5|10|20)?(?:@(?P<speed>100ms|1000ms))?|kline_(?P<interval>\w+))"
)


@dataclass(frozen=True)
class Stream:
    name: str  # as subscribed
    symbol: str  # upper case ("" for !ticker@arr)
    kind: str  # trade, aggTrade, depth, partial, bookTicker, kline, ticker, miniTicker, all
    levels: int = 0  # partial depth
    every_ms: int = 0  # depth and partial depth: how often it is sent
    interval: str = ""  # kline


def parse(name: str, symbols: set[str]) -> Stream | None:
    """The stream `name` names on a listed symbol, or None."""
    if name == ALL_TICKERS:
        return Stream(name, "", "all")
    found = _NAME.fullmatch(name)
    if found is None or found["symbol"].upper() not in symbols:
        return None
    symbol, kind = found["symbol"].upper(), found["kind"]
    if kind.startswith("kline_"):
        if found["interval"] not in KLINE_INTERVALS:
            return None
        return Stream(name, symbol, "kline", interval=found["interval"])
    if kind.startswith("depth"):
        every = FAST_MS if found["speed"] == "100ms" else SLOW_MS
        if found["levels"]:
            return Stream(name, symbol, "partial", int(found["levels"]), every)
        return Stream(name, symbol, "depth", every_ms=every)
    return Stream(name, symbol, kind)
