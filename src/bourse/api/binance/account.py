"""Binance's USER_DATA endpoints: the account, its commission, its orders and its trades.

Each operation (`account_info`, `order_status`, ...) takes the parsed parameters and the
authenticated caller and returns its answer or raises ApiError; the REST route and the WebSocket
API method both call it. Orders, trades and balances come from the SQL store through
`Gateway.read`, which first waits until the store holds every acknowledged command, so a client
always sees its own writes. Account flags, fee rates and what the customer's jurisdiction allows
come from the read model (what is released, built from events).
"""

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bourse.api.binance import order_view
from bourse.api.binance.auth import Caller
from bourse.api.binance.gateway import Gateway, signed
from bourse.api.binance.order_view import Body
from bourse.api.binance.params import P, Params, openapi
from bourse.api.binance.replies import JSON, ApiError, no_such_order, ok
from bourse.domain.money import to_str
from bourse.domain.symbols import PPM, SymbolSpec
from bourse.engine.jurisdiction import policy_permissions
from bourse.store import queries
from bourse.store.queries import DEFAULT_LIMIT, MAX_LIMIT, OrderRow
from bourse.view import ReadModel

router = APIRouter(prefix="/api/v3", tags=["Account"])
DAY_MS = 86_400_000
RATE_DECIMALS = 8  # Binance writes commission rates as 8-decimal strings
_PPM_TO_RATE = 10**RATE_DECIMALS // PPM
_BAD_COMBINATION = ApiError(-1128, "Combination of optional parameters invalid.")
_TOO_LONG = ApiError(-1127, "More than 24 hours between startTime and endTime.")


# --- commission --------------------------------------------------------------------------------


def commission_rates(view: ReadModel, account_id: int, spec: SymbolSpec) -> tuple[int, int]:
    """The account's (maker, taker) rates on `spec` in ppm, as the engine charges them."""
    tier = view.fee_tiers[view.accounts[account_id].fee_tier]
    return tier.maker_rate(spec), tier.taker_rate(spec)


def rate_text(ppm: int) -> str:
    """1000 ppm → "0.00100000"."""
    return to_str(ppm * _PPM_TO_RATE, RATE_DECIMALS)


def _four(maker: int, taker: int) -> dict[str, str]:
    zero = rate_text(0)  # buyer/seller surcharges: none on this exchange
    return {"maker": rate_text(maker), "taker": rate_text(taker), "buyer": zero, "seller": zero}


@router.get(
    "/account/commission",
    summary="Query commission rates (USER_DATA)",
    openapi_extra=openapi(P("symbol", required=True), signed=True),
)
async def get_commission(request: Request) -> Response:
    """The caller's maker and taker commission rates on a symbol (the symbol's rates times the
    account's fee tier), as Binance's standard, tax and special rates. Weight 20."""
    return ok(await commission(*await signed(request, trade=False)))


async def commission(gw: Gateway, params: Params, caller: Caller) -> Body:
    """Query commission rates: GET account/commission and account.commission."""
    spec = gw.symbol(params.text("symbol")).spec
    maker, taker = commission_rates(gw.view, caller.account_id, spec)
    zero = rate_text(0)
    return {
        "symbol": spec.name,
        "standardCommission": _four(maker, taker),
        "specialCommission": _four(0, 0),
        "taxCommission": _four(0, 0),
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": None,
            "discount": zero,
        },
    }


# --- account -----------------------------------------------------------------------------------

_ACCOUNT_EXAMPLE = {
    "makerCommission": 10,
    "takerCommission": 10,
    "buyerCommission": 0,
    "sellerCommission": 0,
    "commissionRates": {
        "maker": "0.00100000",
        "taker": "0.00100000",
        "buyer": "0.00000000",
        "seller": "0.00000000",
    },
    "canTrade": True,
    "canWithdraw": True,
    "canDeposit": True,
    "brokered": False,
    "requireSelfTradePrevention": False,
    "preventSor": False,
    "updateTime": 1700000000000,
    "accountType": "SPOT",
    "balances": [{"asset": "BTC", "free": "10.00000000", "locked": "0.00000000"}],
    "permissions": ["SPOT"],
    "uid": 1,
}
_ACCOUNT_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "The account", "content": {JSON: {"example": _ACCOUNT_EXAMPLE}}}
}


def _balances(conn: sa.Connection, account_id: int) -> tuple[list[queries.BalanceRow], int]:
    return queries.balances(conn, account_id), queries.balances_updated_ms(conn, account_id)


@router.get(
    "/account",
    summary="Account information (USER_DATA)",
    openapi_extra=openapi(
        P("omitZeroBalances", "boolean", description="Leave out assets with nothing in them"),
        signed=True,
    ),
    responses=_ACCOUNT_DOC,
)
async def get_account(request: Request) -> Response:
    """The caller's commission rates, capabilities (canTrade, canWithdraw, canDeposit), permissions
    and free and locked balance of every asset. `omitZeroBalances=true` leaves out empty ones.
    Weight 20."""
    return ok(await account_info(*await signed(request, trade=False)))


async def account_info(gw: Gateway, params: Params, caller: Caller) -> Body:
    """Account information: GET account and account.status. Commission figures are those of
    the first listed symbol: Binance reports one account-wide rate, while here each symbol has
    its own (the per-symbol answer is account/commission)."""
    omit_zero = bool(params.flag("omitZeroBalances"))
    rows, updated_ms = await gw.read(_balances, caller.account_id)
    view = gw.view
    acct = view.accounts[caller.account_id]
    held = {r.asset: r for r in rows}
    balances = []
    for asset, precision in view.assets.items():  # every listed asset, as on Binance
        row = held.get(asset)
        free, locked = (row.free_raw, row.locked_raw) if row is not None else (0, 0)
        if omit_zero and not free and not locked:
            continue
        balances.append(
            {"asset": asset, "free": to_str(free, precision), "locked": to_str(locked, precision)}
        )
    first = next(iter(view.symbols.values()), None)
    maker, taker = commission_rates(view, acct.id, first.spec) if first else (0, 0)
    # the account's own flags, and what its jurisdiction's policies allow now (the gate's rule)
    trade, withdraw, deposit = policy_permissions(view, acct, gw.clock())
    if acct.customer_id and view.customers[acct.customer_id].held_by:  # screening at onboarding
        trade = withdraw = deposit = False
    return {
        "makerCommission": maker // 100,  # in basis points: 100 ppm each
        "takerCommission": taker // 100,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": _four(maker, taker),
        "canTrade": acct.can_trade and not acct.frozen and trade,
        "canWithdraw": acct.can_withdraw and not acct.frozen and withdraw,
        "canDeposit": acct.can_deposit and deposit,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": updated_ms,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": acct.id,
    }


# --- orders ------------------------------------------------------------------------------------


def _time_range(params: Params) -> tuple[int | None, int | None]:
    start = params.opt_integer("startTime", low=0)
    end = params.opt_integer("endTime", low=0)
    if start is not None and end is not None and end - start > DAY_MS:
        raise _TOO_LONG
    return start, end


def _limit(params: Params) -> int:
    limit = params.opt_integer("limit", low=1, high=MAX_LIMIT)
    return DEFAULT_LIMIT if limit is None else limit


def _rendered(gw: Gateway, rows: list[OrderRow]) -> list[dict[str, Any]]:
    return [order_view.stored(r, gw.view.symbols[r.symbol].spec) for r in rows]


def _find_order(
    conn: sa.Connection, account_id: int, symbol: str, order_id: int | None, orig: str | None
) -> OrderRow | None:
    """By id (and, given both, only if the client id matches too) or by client id."""
    if order_id is None:
        assert orig is not None
        return queries.order_by_client_id(conn, account_id, symbol, orig)
    row = queries.order_by_id(conn, order_id)
    if row is None or row.account_id != account_id or row.symbol != symbol:
        return None  # another account's order does not exist for this one
    return row if orig is None or row.client_order_id == orig else None


@router.get(
    "/order",
    summary="Query order (USER_DATA)",
    openapi_extra=openapi(
        P("symbol", required=True),
        P("orderId", "integer", description="Either orderId or origClientOrderId"),
        P("origClientOrderId", description="Either orderId or origClientOrderId"),
        signed=True,
    ),
)
async def get_order(request: Request) -> Response:
    """One of the caller's orders, open or not, by `orderId` or `origClientOrderId`, from the SQL
    store. Weight 4."""
    return ok(await order_status(*await signed(request, trade=False)))


async def order_status(gw: Gateway, params: Params, caller: Caller) -> Body:
    """Query order: GET order and order.status."""
    sym = gw.symbol(params.text("symbol"))
    order_id = params.opt_integer("orderId", low=1)
    orig = params.opt_text("origClientOrderId")
    if order_id is None and orig is None:
        raise ApiError(
            -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
        )
    row = await gw.read(_find_order, caller.account_id, sym.spec.name, order_id, orig)
    if row is None:
        raise no_such_order()
    return order_view.stored(row, sym.spec)


@router.get(
    "/openOrders",
    summary="Current open orders (USER_DATA)",
    openapi_extra=openapi(P("symbol", description="All symbols if not sent"), signed=True),
)
async def get_open_orders(request: Request) -> Response:
    """The caller's open orders on one symbol, or on every symbol without `symbol`, from the SQL
    store. Weight 6 with a symbol, 80 without."""
    return ok(await open_orders(*await signed(request, trade=False)))


async def open_orders(gw: Gateway, params: Params, caller: Caller) -> list[Body]:
    """Current open orders: GET openOrders and openOrders.status."""
    name = params.opt_text("symbol")
    symbol = gw.symbol(name).spec.name if name is not None else None
    rows = await gw.read(queries.orders_for, caller.account_id, symbol, open_only=True)
    return _rendered(gw, rows)


@router.get(
    "/allOrders",
    summary="All orders (USER_DATA)",
    openapi_extra=openapi(
        P("symbol", required=True),
        P("orderId", "integer", description="From this order id on; else the most recent"),
        P("startTime", "integer"),
        P("endTime", "integer"),
        P("limit", "integer", description="Default 500, at most 1000"),
        signed=True,
    ),
)
async def get_all_orders(request: Request) -> Response:
    """The caller's orders on a symbol, open or not, oldest first, from `orderId` or within a time
    range, from the SQL store. Weight 20."""
    return ok(await all_orders(*await signed(request, trade=False)))


async def all_orders(gw: Gateway, params: Params, caller: Caller) -> list[Body]:
    """All orders: GET allOrders and the WebSocket API's allOrders."""
    symbol = gw.symbol(params.text("symbol")).spec.name
    from_id = params.opt_integer("orderId", low=0)
    start, end = _time_range(params)
    rows = await gw.read(
        queries.orders_for,
        caller.account_id,
        symbol,
        from_order_id=from_id,
        start_ms=start,
        end_ms=end,
        limit=_limit(params),
    )
    return _rendered(gw, rows)


# --- trades ------------------------------------------------------------------------------------


@router.get(
    "/myTrades",
    summary="Account trade list (USER_DATA)",
    openapi_extra=openapi(
        P("symbol", required=True),
        P("orderId", "integer", description="Only this order's trades"),
        P("startTime", "integer"),
        P("endTime", "integer"),
        P("fromId", "integer", description="From this trade id on; else the most recent"),
        P("limit", "integer", description="Default 500, at most 1000"),
        signed=True,
    ),
)
async def get_my_trades(request: Request) -> Response:
    """The caller's trades on a symbol, oldest first, with price, quantity, commission and its
    asset, and whether the caller was buyer and maker; from `fromId`, an `orderId` or a time
    range, from the SQL store. Weight 20 (5 with `orderId`)."""
    return ok(await my_trades(*await signed(request, trade=False)))


async def my_trades(gw: Gateway, params: Params, caller: Caller) -> list[Body]:
    """Account trade list: GET myTrades and the WebSocket API's myTrades."""
    spec = gw.symbol(params.text("symbol")).spec
    order_id = params.opt_integer("orderId", low=0)
    from_id = params.opt_integer("fromId", low=0)
    start, end = _time_range(params)
    if (start is not None or end is not None) and (from_id is not None or order_id is not None):
        raise _BAD_COMBINATION  # Binance's supported combinations exclude these
    trades = await gw.read(
        queries.trades_for_account,
        caller.account_id,
        spec.name,
        from_id,
        _limit(params),
        order_id=order_id,
        start_ms=start,
        end_ms=end,
    )
    qp, bp = spec.quote_precision, spec.base_precision
    body = []
    for a in trades:
        t = a.trade
        buyer = a.is_buyer
        body.append(
            {
                "symbol": t.symbol,
                "id": t.trade_id,
                "orderId": a.order_id,
                "orderListId": -1,
                "price": to_str(t.price_raw, qp),
                "qty": to_str(t.qty_raw, bp),
                "quoteQty": to_str(t.quote_qty_raw, qp),
                "commission": to_str(a.fee_raw, bp if buyer else qp),
                "commissionAsset": spec.base if buyer else spec.quote,
                "time": t.ts_ms,
                "isBuyer": buyer,
                "isMaker": a.is_maker,
                "isBestMatch": True,
            }
        )
    return body
