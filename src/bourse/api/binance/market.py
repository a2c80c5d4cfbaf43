"""Public market data (`/api/v3/...`): ping, time, exchangeInfo, depth, trades, aggTrades,
klines, avgPrice and the tickers, as rest-api.md describes them.

Each operation (`order_book`, `latest_prices`, ...) takes the parsed parameters and returns its
answer or raises ApiError; the REST route and the WebSocket API method both call it. Depth and
tickers come from in-memory projections fed by durable outcomes only (see
`bourse.marketdata`); trades and klines from the SQL store once it holds every acknowledged
command. Limits above the maximum are cut to it, as Binance does; below 1 they are refused.
"""

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bourse.api.binance import exchange_info
from bourse.api.binance.auth import key_holder
from bourse.api.binance.exchange_info import STATUSES, SYMBOL_PARAMS, combo, one_symbol, select
from bourse.api.binance.gateway import Gateway, gateway
from bourse.api.binance.order_view import Body
from bourse.api.binance.params import P, Params, openapi
from bourse.api.binance.replies import ApiError, invalid_value, ok
from bourse.domain.enums import Side
from bourse.domain.money import to_str
from bourse.marketdata.klines import INTERVALS, parse_time_zone, read_klines
from bourse.marketdata.tickers import MINUTE_MS, TickerBook, ticker_json
from bourse.marketdata.trades import agg_trades, trade_json
from bourse.store import market_queries as mq
from bourse.store import queries
from bourse.view.model import SymbolView

router = APIRouter(prefix="/api/v3", tags=["market data"])
router.include_router(exchange_info.router)
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
HOUR_MS = 60 * MINUTE_MS
SYMBOL = P("symbol", required=True, description="e.g. BTCUSDT")


def _limit(params: Params, default: int, maximum: int) -> int:
    value = params.opt_integer("limit", low=1)
    return default if value is None else min(value, maximum)


def _time(params: Params, name: str) -> int | None:
    return params.opt_integer(name, low=0, high=MAX_TIME_MS)


def _example(description: str, body: Any) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": description, "content": {"application/json": {"example": body}}}}


async def _read(request: Request) -> tuple[Gateway, Params]:
    return gateway(request), await Params.read(request)


# --- general --------------------------------------------------------------------------------


@router.get("/ping", summary="Test connectivity", responses=_example("Always {}", {}))
async def ping(request: Request) -> Response:
    """Answers `{}`: the server is reachable. Weight 1."""
    return ok(await connectivity(gateway(request), Params(b"")))


async def connectivity(gw: Gateway, params: Params) -> Body:
    """Test connectivity: GET ping and ping."""
    return {}


@router.get(
    "/time",
    summary="Server time",
    responses=_example("Milliseconds since the epoch", {"serverTime": 1499827319559}),
)
async def server_time(request: Request) -> Response:
    """The server's clock, in milliseconds since the epoch: the time signed requests' `timestamp` is
    checked against. Weight 1."""
    return ok(await clock_time(gateway(request), Params(b"")))


async def clock_time(gw: Gateway, params: Params) -> Body:
    """Server time: GET time and time."""
    return {"serverTime": gw.clock()}


# --- order book -----------------------------------------------------------------------------


@router.get(
    "/depth",
    summary="Order book",
    openapi_extra=openapi(
        SYMBOL,
        P("limit", "integer", description="Default 100; at most 5000"),
        P("symbolStatus", enum=STATUSES, description="Refuse (-1220) unless the symbol has it"),
    ),
    responses=_example(
        "Price levels, best first; lastUpdateId is the last applied sequence number",
        {"lastUpdateId": 1027024, "bids": [["4.00000000", "431.00000000"]], "asks": []},
    ),
)
async def depth(request: Request) -> Response:
    """Price levels of a symbol's book, best first: bids descending, asks ascending, each `[price,
    quantity]`, with the `lastUpdateId` that depth streams continue from. Weight 5, 25, 50 or 250
    by `limit`."""
    return ok(await order_book(*await _read(request)))


async def order_book(gw: Gateway, params: Params) -> Body:
    """Order book: GET depth and depth."""
    sym = one_symbol(gw.view, params)
    limit = _limit(params, 100, 5000)
    book, spec = gw.market.depth, sym.spec
    qp, bp = spec.quote_precision, spec.base_precision

    def side(s: Side) -> list[list[str]]:
        return [[to_str(p, qp), to_str(q, bp)] for p, q in book.levels(spec.name, s, limit)]

    return {"lastUpdateId": book.last_seq, "bids": side(Side.BUY), "asks": side(Side.SELL)}


# --- trades ---------------------------------------------------------------------------------


def _trades(rows: list[queries.TradeRow], sym: SymbolView) -> list[Body]:
    qp, bp = sym.spec.quote_precision, sym.spec.base_precision
    return [trade_json(t, qp, bp) for t in rows]


TRADE_EXAMPLE = {
    "id": 28457,
    "price": "4.00000100",
    "qty": "12.00000000",
    "quoteQty": "48.00001200",
    "time": 1499865549590,
    "isBuyerMaker": True,
    "isBestMatch": True,
}


@router.get(
    "/trades",
    summary="Recent trades",
    openapi_extra=openapi(SYMBOL, P("limit", "integer", description="Default 500; at most 1000")),
    responses=_example("Oldest first", [TRADE_EXAMPLE]),
)
async def trades(request: Request) -> Response:
    """A symbol's most recent trades, oldest first, from the SQL store. Weight 25."""
    return ok(await recent_trades(*await _read(request)))


async def recent_trades(gw: Gateway, params: Params) -> list[Body]:
    """Recent trades: GET trades and trades.recent."""
    sym = gw.symbol(params.text("symbol"))
    limit = _limit(params, 500, 1000)
    rows = await gw.read(queries.recent_trades, sym.spec.name, limit)
    return _trades(rows, sym)


_HISTORICAL = openapi(
    SYMBOL,
    P("limit", "integer", description="Default 500; at most 1000"),
    P("fromId", "integer", description="Trade id to start from; default the latest trades"),
)
_HISTORICAL["parameters"].append(
    {
        "name": "X-MBX-APIKEY",
        "in": "header",
        "required": True,
        "description": "Any valid API key (no signature)",
        "schema": {"type": "string"},
    }
)


@router.get(
    "/historicalTrades",
    summary="Older trades (MARKET_DATA: needs an API key)",
    openapi_extra=_HISTORICAL,
    responses=_example("Oldest first", [TRADE_EXAMPLE]),
)
async def historical_trades(request: Request) -> Response:
    """A symbol's trades from `fromId` on (default: the most recent), oldest first, from the SQL
    store. Needs an API key (MARKET_DATA). Weight 25."""
    gw, params = await _read(request)
    key_holder(gw.keys, request, trade=False)
    return ok(await older_trades(gw, params))


async def older_trades(gw: Gateway, params: Params) -> list[Body]:
    """Older trades: GET historicalTrades (with an API key) and trades.historical."""
    sym = gw.symbol(params.text("symbol"))
    limit = _limit(params, 500, 1000)
    from_id = params.opt_integer("fromId", low=0)
    if from_id is None:
        rows = await gw.read(queries.recent_trades, sym.spec.name, limit)
    else:
        rows = await gw.read(mq.trades_from, sym.spec.name, from_id, limit)
    return _trades(rows, sym)


@router.get(
    "/aggTrades",
    summary="Aggregate trades",
    openapi_extra=openapi(
        SYMBOL,
        P("fromId", "integer", description="First trade id of the first aggregate (inclusive)"),
        P("startTime", "integer", description="From this time (ms, inclusive)"),
        P("endTime", "integer", description="Up to this time (ms, inclusive)"),
        P("limit", "integer", description="Default 500; at most 1000"),
    ),
    responses=_example(
        "Oldest first; `a` is the aggregate's first trade id",
        [
            {
                "a": 26129,
                "p": "0.01633102",
                "q": "4.70443515",
                "f": 26129,
                "l": 26130,
                "T": 1498793709153,
                "m": True,
                "M": True,
            }
        ],
    ),
)
async def aggregate_trades(request: Request) -> Response:
    """Trades of one taker order at one price, aggregated, oldest first, selected by `fromId` or by
    a time range of at most one hour. Weight 4."""
    return ok(await aggregates(*await _read(request)))


async def aggregates(gw: Gateway, params: Params) -> list[Body]:
    """Aggregate trades: GET aggTrades and trades.aggregate."""
    sym = gw.symbol(params.text("symbol"))
    from_id = params.opt_integer("fromId", low=0)
    start, end = _time(params, "startTime"), _time(params, "endTime")
    limit = _limit(params, 500, 1000)
    if from_id is not None and (start is not None or end is not None):
        raise combo()
    if start is not None and end is not None and end - start > HOUR_MS:
        raise ApiError(-1127, "More than 1 hours between startTime and endTime.")
    found = await gw.read(
        agg_trades, sym.spec.name, from_id=from_id, start_ms=start, end_ms=end, limit=limit
    )
    qp, bp = sym.spec.quote_precision, sym.spec.base_precision
    return [a.json(qp, bp) for a in found]


# --- klines ---------------------------------------------------------------------------------

_KLINES = openapi(
    SYMBOL,
    P("interval", required=True, enum=INTERVALS, description="Candle length"),
    P("startTime", "integer", description="Candles opening at or after this time (ms)"),
    P("endTime", "integer", description="Candles opening at or before this time (ms)"),
    P("timeZone", description="Hours (and minutes) from UTC, -12:00 to +14:00; default 0"),
    P("limit", "integer", description="Default 500; at most 1000"),
)
_KLINE_EXAMPLE = _example(
    "Arrays: open time, open, high, low, close, volume, close time, quote volume, trades, "
    "taker buy base volume, taker buy quote volume, unused",
    [[1499040000000, *["1.10000000"] * 5, 1499099999999, "5.5", 3, "1.0", "1.1", "0"]],
)


async def _klines(request: Request) -> Response:
    """Candlesticks of a symbol for an interval (1s to 1M), oldest first, built from 1-minute klines
    in the SQL store, each `[open time, open, high, low, close, volume, close time, quote volume,
    trades, taker buy base volume, taker buy quote volume, "0"]`. Weight 2."""
    return ok(await candles(*await _read(request)))


async def candles(gw: Gateway, params: Params) -> list[list[Any]]:
    """Candlesticks: GET klines and uiKlines, and the WebSocket API's klines and uiKlines."""
    sym = gw.symbol(params.text("symbol"))
    interval = params.text("interval")
    if interval not in INTERVALS:
        raise ApiError(-1120, "Invalid interval.")
    start, end = _time(params, "startTime"), _time(params, "endTime")
    offset = parse_time_zone(params.opt_text("timeZone"))
    if offset is None:
        raise invalid_value("timeZone")
    limit = _limit(params, 500, 1000)
    found = await gw.read(
        read_klines,
        sym.spec.name,
        interval,
        start=start,
        end=end,
        limit=limit,
        offset_ms=offset,
        now_ms=gw.clock(),
    )
    qp, bp = sym.spec.quote_precision, sym.spec.base_precision
    return [c.row(qp, bp) for c in found]


router.get("/klines", summary="Candlesticks", openapi_extra=_KLINES, responses=_KLINE_EXAMPLE)(
    _klines
)
router.get(
    "/uiKlines",
    summary="Candlesticks for charts (same as klines)",
    openapi_extra=_KLINES,
    responses=_KLINE_EXAMPLE,
)(_klines)


# --- average price and tickers --------------------------------------------------------------


async def _tickers(gw: Gateway) -> TickerBook:
    return await gw.market.ready_tickers(gw.read, list(gw.view.symbols), gw.clock())


@router.get(
    "/avgPrice",
    summary="Average price of the last minutes",
    openapi_extra=openapi(SYMBOL),
    responses=_example(
        "Volume-weighted price of the last `mins` minutes; closeTime is the last trade time",
        {"mins": 5, "price": "9.35751834", "closeTime": 1694061154503},
    ),
)
async def avg_price(request: Request) -> Response:
    """The volume-weighted average price of a symbol's trades over its averaging window (`mins`
    minutes), and when that window's last trade was (`closeTime`). Weight 2."""
    return ok(await average_price(*await _read(request)))


async def average_price(gw: Gateway, params: Params) -> Body:
    """Average price: GET avgPrice and avgPrice."""
    sym = gw.symbol(params.text("symbol"))
    book = await _tickers(gw)
    spec = sym.spec
    mins = spec.notional.avg_price_mins
    price = book.average(spec.name, gw.clock(), mins, spec.base_precision)
    last = book.last(spec.name)
    return {
        "mins": mins,
        "price": to_str(price, spec.quote_precision),
        "closeTime": last.ts_ms if last is not None else 0,
    }


def _book_fields(gw: Gateway, sym: SymbolView) -> dict[str, str]:
    spec, depth = sym.spec, gw.market.depth
    qp, bp = spec.quote_precision, spec.base_precision
    bid = depth.best(spec.name, Side.BUY) or (0, 0)
    ask = depth.best(spec.name, Side.SELL) or (0, 0)
    return {
        "bidPrice": to_str(bid[0], qp),
        "bidQty": to_str(bid[1], bp),
        "askPrice": to_str(ask[0], qp),
        "askQty": to_str(ask[1], bp),
    }


def _one_or_list(items: list[Body], single: bool) -> Body | list[Body]:
    return items[0] if single else items


@router.get(
    "/ticker/24hr",
    summary="24 h rolling window statistics",
    openapi_extra=openapi(
        *SYMBOL_PARAMS, P("type", enum=("FULL", "MINI"), description="Default FULL")
    ),
)
async def ticker_24hr(request: Request) -> Response:
    """Rolling 24-hour statistics of one, several or every symbol: price change, weighted average,
    open, high, low, last, volumes, best bid and ask, first and last trade ids and count.
    `type=MINI` leaves out the price change and the book. Weight 2 to 80 by the number of
    symbols."""
    return ok(await rolling_24hr(*await _read(request)))


async def rolling_24hr(gw: Gateway, params: Params) -> Body | list[Body]:
    """24 h statistics: GET ticker/24hr and ticker.24hr."""
    chosen, single = select(gw.view, params)
    kind = (params.opt_text("type") or "FULL").upper()
    if kind not in ("FULL", "MINI"):
        raise ApiError(-1139, "Invalid ticker type.")
    book, now = await _tickers(gw), gw.clock()
    items = [
        ticker_json(
            s.spec.name,
            book.stats(s.spec.name, now),
            s.spec.quote_precision,
            s.spec.base_precision,
            _book_fields(gw, s) if kind == "FULL" else None,
        )
        for s in chosen
    ]
    return _one_or_list(items, single)


@router.get(
    "/ticker/price",
    summary="Latest price",
    openapi_extra=openapi(*SYMBOL_PARAMS),
    responses=_example(
        "One object for `symbol`, else a list", {"symbol": "LTCBTC", "price": "4.00000200"}
    ),
)
async def ticker_price(request: Request) -> Response:
    """The last trade price of one, several or every symbol. Weight 2 (one symbol) or 4."""
    return ok(await latest_prices(*await _read(request)))


async def latest_prices(gw: Gateway, params: Params) -> Body | list[Body]:
    """Latest price: GET ticker/price and ticker.price."""
    chosen, single = select(gw.view, params)
    book = await _tickers(gw)
    items = []
    for s in chosen:
        last = book.last(s.spec.name)
        price = last.price if last is not None else 0
        items.append({"symbol": s.spec.name, "price": to_str(price, s.spec.quote_precision)})
    return _one_or_list(items, single)


@router.get(
    "/ticker/bookTicker",
    summary="Best bid and ask",
    openapi_extra=openapi(*SYMBOL_PARAMS),
    responses=_example(
        "One object for `symbol`, else a list",
        {
            "symbol": "LTCBTC",
            "bidPrice": "4.00000000",
            "bidQty": "431.00000000",
            "askPrice": "4.00000200",
            "askQty": "9.00000000",
        },
    ),
)
async def book_ticker(request: Request) -> Response:
    """The best bid and ask, price and quantity, of one, several or every symbol, from the live
    book. Weight 2 (one symbol) or 4."""
    return ok(await best_prices(*await _read(request)))


async def best_prices(gw: Gateway, params: Params) -> Body | list[Body]:
    """Best bid and ask: GET ticker/bookTicker and ticker.book."""
    chosen, single = select(gw.view, params)
    items = [{"symbol": s.spec.name, **_book_fields(gw, s)} for s in chosen]
    return _one_or_list(items, single)
