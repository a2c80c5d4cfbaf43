"""A new-order request turned into a `PlaceOrder`, with Binance's parameter rules per order type.

rest-api.md ("New order") says which parameters each type needs and which it must not get; each
mistake has its own code and message, checked here in one pass before anything reaches the
engine. Filters, funds and the book are the engine's business (its refusals carry their Binance
error). `POST order`, `POST order/test` and the new leg of `POST order/cancelReplace` share this.

A request without `newClientOrderId` gets a random 22-character one, as on Binance: clients read
`clientOrderId` back and cancel or query by it, so every order carries one.
"""

import re
import secrets
from enum import StrEnum
from typing import NamedTuple

from bourse.api.binance.params import P, Params
from bourse.api.binance.replies import ApiError, illegal_chars, mandatory
from bourse.commands import PlaceOrder
from bourse.domain.enums import (
    LIMIT_PRICED_TYPES,
    STOP_TYPES,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from bourse.domain.symbols import SymbolSpec

CLIENT_ID_PATTERN = r"^[\.A-Z\:/a-z0-9_-]{1,36}$"
_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
MIN_STRATEGY_TYPE = 1_000_000


class RespType(StrEnum):
    ACK = "ACK"
    RESULT = "RESULT"
    FULL = "FULL"


class NewOrder(NamedTuple):
    cmd: PlaceOrder
    resp_type: RespType


_NEEDS_TIF = frozenset({OrderType.LIMIT, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT})
_FULL_BY_DEFAULT = frozenset({OrderType.LIMIT, OrderType.MARKET})
_MARKET = OrderType.MARKET
_INVALID_SIDE = ApiError(-1117, "Invalid side.")
_INVALID_TYPE = ApiError(-1116, "Invalid orderType.")
_INVALID_TIF = ApiError(-1115, "Invalid timeInForce.")
_TIF_NOT_REQUIRED = ApiError(-1114, "TimeInForce parameter sent when not required.")
_NO_QUANTITY = ApiError(
    -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
)
_EMPTY_CLIENT_ID = ApiError(-1118, "New client order ID was empty.")
_NO_ICEBERG = ApiError(-2010, "Iceberg orders are not supported for this symbol.")
_NO_TRAILING = ApiError(-2010, "Trailing stop orders are not supported for this symbol.")
_BAD_STRATEGY_TYPE = ApiError(-1134, "strategyType was less than 1000000.")


def not_required(name: str) -> ApiError:
    return ApiError(-1106, f"Parameter '{name}' sent when not required.")


def new_client_id() -> str:
    """A random id like Binance's (22 characters of [A-Za-z0-9_-])."""
    return secrets.token_urlsafe(16)


def client_id(params: Params, name: str) -> str:
    """An optional client id parameter, or a fresh one (-1118 if sent empty, -1100 if malformed)."""
    value = params.values.get(name)
    if value is None:
        return new_client_id()
    if not value:
        raise _EMPTY_CLIENT_ID
    if not _CLIENT_ID.match(value):
        raise illegal_chars(name, CLIENT_ID_PATTERN)
    return value


def amount(params: Params, name: str, precision: int) -> int | None:
    """An optional positive decimal as raw units; 0 counts as not sent."""
    return params.opt_amount(name, precision) or None


def new_order(
    params: Params, spec: SymbolSpec, *, account_id: int, actor: str, ts_ms: int
) -> NewOrder:
    """The PlaceOrder a request asks for, or the ApiError Binance answers for its parameters."""
    side = params.choice("side", Side, _INVALID_SIDE)
    otype = params.choice("type", OrderType, _INVALID_TYPE)
    tif = params.opt_choice("timeInForce", TimeInForce, _INVALID_TIF)
    if otype in _NEEDS_TIF:
        if tif is None:
            raise mandatory("timeInForce")
    elif tif is not None:
        raise _TIF_NOT_REQUIRED

    qty = amount(params, "quantity", spec.base_precision)
    quote_qty = amount(params, "quoteOrderQty", spec.quote_precision)
    if otype is _MARKET:
        if qty is None and quote_qty is None:
            raise _NO_QUANTITY
        if qty is not None and quote_qty is not None:
            raise not_required("quantity")  # what Binance answers when both are sent
    else:
        if quote_qty is not None:
            raise not_required("quoteOrderQty")
        if qty is None:
            raise mandatory("quantity")

    price = amount(params, "price", spec.quote_precision)
    if otype in LIMIT_PRICED_TYPES:
        if price is None:
            raise mandatory("price")
    elif price is not None:
        raise not_required("price")

    if params.has("trailingDelta"):
        raise _NO_TRAILING
    stop_price = amount(params, "stopPrice", spec.quote_precision)
    if otype in STOP_TYPES:
        if stop_price is None:
            raise mandatory("stopPrice")
    elif stop_price is not None:
        raise not_required("stopPrice")

    if amount(params, "icebergQty", spec.base_precision):  # icebergQty=0 means no iceberg
        raise _NO_ICEBERG
    params.opt_integer("strategyId", low=0)  # accepted, not kept
    strategy_type = params.opt_integer("strategyType")
    if strategy_type is not None and strategy_type < MIN_STRATEGY_TYPE:
        raise _BAD_STRATEGY_TYPE

    cid = client_id(params, "newClientOrderId")
    resp_type = params.opt_choice("newOrderRespType", RespType)
    if resp_type is None:
        resp_type = RespType.FULL if otype in _FULL_BY_DEFAULT else RespType.ACK
    stp = params.opt_choice("selfTradePreventionMode", SelfTradePrevention)
    cmd = PlaceOrder(
        actor=actor,
        ts_ms=ts_ms,
        account_id=account_id,
        symbol=spec.name,
        side=side,
        order_type=otype,
        time_in_force=tif or TimeInForce.GTC,
        qty_raw=qty or 0,
        quote_qty_raw=quote_qty or 0,
        price_raw=price or 0,
        stop_price_raw=stop_price or 0,
        client_order_id=cid,
        **({} if stp is None else {"stp": stp}),
    )
    return NewOrder(cmd, resp_type)


def _names(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(e.value for e in enum)


ORDER_PARAMS = (
    P("symbol", required=True, description="Symbol, e.g. BTCUSDT"),
    P("side", required=True, enum=_names(Side)),
    P("type", required=True, enum=_names(OrderType)),
    P("timeInForce", enum=_names(TimeInForce), description="LIMIT, *_LIMIT types only"),
    P("quantity", "number", description="Base quantity"),
    P("quoteOrderQty", "number", description="MARKET only: quote amount to spend or receive"),
    P("price", "number", description="LIMIT, LIMIT_MAKER and *_LIMIT types"),
    P("stopPrice", "number", description="STOP_LOSS*, TAKE_PROFIT* types: trigger price"),
    P("newClientOrderId", description=f"Unique among open orders; {CLIENT_ID_PATTERN}"),
    P("newOrderRespType", enum=_names(RespType), description="FULL for LIMIT/MARKET, else ACK"),
    P("selfTradePreventionMode", enum=_names(SelfTradePrevention)),
    P("icebergQty", "number", description="Only 0 is accepted: no iceberg orders"),
    P("trailingDelta", "integer", description="Not supported: refused"),
    P("strategyId", "integer", description="Accepted and ignored"),
    P("strategyType", "integer", description="Accepted and ignored; at least 1000000"),
)
