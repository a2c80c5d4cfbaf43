"""Orders as Binance renders them: placement (ACK/RESULT/FULL), cancellation and queries.

Decimals are strings with the asset's precision (prices and quote amounts in the quote asset's,
quantities in the base asset's), ids and times integers, as rest-api.md shows them. A placement and
a cancel are rendered from their command's events alone (OrderCanceled carries the order as it
ended); a query from the SQL store's row. Stop orders carry `stopPrice`; an untriggered one has
workingTime -1. A MARKET order sized by quoteOrderQty shows the quantity it executed as
`origQty`, as Binance does (clients compute what remains as origQty - executedQty).
"""

from typing import Any

from bourse.api.binance.order_request import RespType
from bourse.domain.enums import STOP_TYPES, OrderStatus, OrderType, Side
from bourse.domain.money import to_str
from bourse.domain.symbols import SymbolSpec
from bourse.events import (
    AnyEvent,
    CommandRejected,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    TradeExecuted,
)
from bourse.store.queries import OrderRow

Body = dict[str, Any]
_ACK = RespType.ACK
_FULL = RespType.FULL
_BUY = Side.BUY
_STOP_NAMES = frozenset(t.value for t in STOP_TYPES)


def rejection(events: list[AnyEvent]) -> CommandRejected | None:
    for e in events:
        if isinstance(e, CommandRejected):
            return e
    return None


def accepted(events: list[AnyEvent]) -> OrderAccepted | None:
    for e in events:
        if isinstance(e, OrderAccepted):
            return e
    return None


def placed(
    order: OrderAccepted, events: list[AnyEvent], spec: SymbolSpec, ts_ms: int, resp: RespType
) -> Body:
    """The new-order response for `order`, accepted among `events` at `ts_ms`."""
    oid = order.order_id
    body: Body = {
        "symbol": order.symbol,
        "orderId": oid,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "transactTime": ts_ms,
    }
    if resp is _ACK:
        return body
    qp, bp = spec.quote_precision, spec.base_precision
    fee_precision, fee_asset = (bp, spec.base) if order.side is _BUY else (qp, spec.quote)
    executed = cum_quote = 0
    status = OrderStatus.NEW
    fills: list[Body] = []
    for e in events:
        if isinstance(e, TradeExecuted):
            if e.taker_order_id == oid:
                fee, status = e.taker_fee_raw, e.taker_status
            elif e.maker_order_id == oid:  # a stop fired by this order traded against it
                fee, status = e.maker_fee_raw, e.maker_status
            else:
                continue
            executed += e.qty_raw
            cum_quote += e.quote_qty_raw
            fills.append(
                {
                    "price": to_str(e.price_raw, qp),
                    "qty": to_str(e.qty_raw, bp),
                    "commission": to_str(fee, fee_precision),
                    "commissionAsset": fee_asset,
                    "tradeId": e.trade_id,
                }
            )
        elif isinstance(e, OrderExpired):
            if e.order_id == oid:
                status = e.status
        elif isinstance(e, OrderCanceled) and e.order_id == oid:
            status = OrderStatus.CANCELED
    body.update(
        price=to_str(order.price_raw, qp),
        origQty=to_str(order.qty_raw or executed, bp),
        executedQty=to_str(executed, bp),
        origQuoteOrderQty=to_str(order.quote_qty_raw, qp),
        cummulativeQuoteQty=to_str(cum_quote, qp),
        status=status.value,
        timeInForce=order.time_in_force.value,
        type=order.order_type.value,
        side=order.side.value,
    )
    if order.order_type in STOP_TYPES:
        body["stopPrice"] = to_str(order.stop_price_raw, qp)
    body["workingTime"] = ts_ms if order.working else -1
    body["selfTradePreventionMode"] = order.stp.value
    if resp is _FULL:
        body["fills"] = fills
    return body


def canceled(order: OrderCanceled, spec: SymbolSpec, ts_ms: int, cancel_client_id: str) -> Body:
    """The cancel response for an order this command canceled, from its event."""
    qp, bp = spec.quote_precision, spec.base_precision
    body: Body = {
        "symbol": order.symbol,
        "origClientOrderId": order.client_order_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_client_id,
        "transactTime": ts_ms,
        "price": to_str(order.price_raw, qp),
        "origQty": to_str(order.qty_raw, bp),
        "executedQty": to_str(order.executed_raw, bp),
        "origQuoteOrderQty": to_str(order.quote_qty_raw, qp),
        "cummulativeQuoteQty": to_str(order.cum_quote_raw, qp),
        "status": OrderStatus.CANCELED.value,
        "timeInForce": order.time_in_force.value,
        "type": order.order_type.value,
        "side": order.side.value,
    }
    if order.order_type in STOP_TYPES:
        body["stopPrice"] = to_str(order.stop_price_raw, qp)
    body["selfTradePreventionMode"] = order.stp.value
    return body


def stored(row: OrderRow, spec: SymbolSpec) -> Body:
    """An order as GET order / openOrders / allOrders show it, from the store's row.

    The store keeps no trigger time, so a triggered stop's workingTime is its last update.
    """
    qp, bp = spec.quote_precision, spec.base_precision
    if row.order_type not in _STOP_NAMES:
        working_time = row.created_ms
    else:
        working_time = row.updated_ms if row.working else -1
    return {
        "symbol": row.symbol,
        "orderId": row.order_id,
        "orderListId": -1,
        "clientOrderId": row.client_order_id,
        "price": to_str(row.price_raw, qp),
        "origQty": to_str(row.qty_raw or row.executed_qty_raw, bp),
        "executedQty": to_str(row.executed_qty_raw, bp),
        "cummulativeQuoteQty": to_str(row.cum_quote_raw, qp),
        "status": row.status,
        "timeInForce": row.time_in_force,
        "type": row.order_type,
        "side": row.side,
        "stopPrice": to_str(row.stop_price_raw, qp),
        "icebergQty": to_str(0, bp),
        "time": row.created_ms,
        "updateTime": row.updated_ms,
        "isWorking": row.working,
        "workingTime": working_time,
        "origQuoteOrderQty": to_str(row.quote_qty_raw, qp),
        "selfTradePreventionMode": row.stp,
    }


EXAMPLE_FULL: Body = {
    "symbol": "BTCUSDT",
    "orderId": 28,
    "orderListId": -1,
    "clientOrderId": "6gCrw2kRUAF9CvJDGP16IP",
    "transactTime": 1507725176595,
    "price": "0.00000000",
    "origQty": "0.01000000",
    "executedQty": "0.01000000",
    "origQuoteOrderQty": "0.00000000",
    "cummulativeQuoteQty": "600.10000000",
    "status": "FILLED",
    "timeInForce": "GTC",
    "type": OrderType.MARKET.value,
    "side": "BUY",
    "workingTime": 1507725176595,
    "selfTradePreventionMode": "EXPIRE_MAKER",
    "fills": [
        {
            "price": "60010.00000000",
            "qty": "0.01000000",
            "commission": "0.00001000",
            "commissionAsset": "BTC",
            "tradeId": 56,
        }
    ],
}
