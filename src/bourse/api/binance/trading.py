"""Binance's TRADE endpoints: place, test, cancel, cancel-replace, cancel all.

Each operation (`place_order`, `cancel_order`, ...) takes the parsed parameters and the
authenticated caller and returns its answer or raises ApiError; the REST route and the WebSocket
API method both call it. It builds one command and answers from that command's outcome (the
engine's events once durable), never from a store read: `POST order` stays lean for the
order-rate benchmark. The engine's refusals answer with the Binance error its code names; the
engine's own sentence stays in the journal and the rejections table, since clients match `msg`.

Lookups of open orders in the engine state (to render a cancel, or to apply cancelRestrictions)
happen right before the command is submitted with no `await` in between, so nothing can change
the order in the meantime.
"""

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bourse.api.binance import order_view as view
from bourse.api.binance.account import commission_rates, rate_text
from bourse.api.binance.auth import Caller, actor
from bourse.api.binance.errors import BinanceError, binance_error
from bourse.api.binance.gateway import Gateway, signed
from bourse.api.binance.order_request import (
    ORDER_PARAMS,
    NewOrder,
    RespType,
    client_id,
    new_client_id,
    new_order,
)
from bourse.api.binance.order_view import Body
from bourse.api.binance.params import P, Params, openapi
from bourse.api.binance.replies import JSON, ApiError, invalid_value, ok
from bourse.commands import CancelAllOrders, CancelOrder, CancelReplaceOrder
from bourse.domain.enums import CancelReplaceMode, OrderStatus
from bourse.domain.rejections import RejectCode
from bourse.engine import gate, inputs, risk
from bourse.engine.cancels import find_open
from bourse.engine.state import Order, SymbolState
from bourse.events import CommandRejected, OrderCanceled, Outcome

router = APIRouter(prefix="/api/v3", tags=["Trade"])
_ORDER_EXAMPLE: dict[int | str, dict[str, Any]] = {
    200: {"description": "The order", "content": {JSON: {"example": view.EXAMPLE_FULL}}}
}
_RESTRICTED = BinanceError(-2011, "Order was not canceled due to cancel restrictions.")
_UNKNOWN_ORDER = RejectCode.UNKNOWN_ORDER
_REJECTED = -2010
_RESTRICTIONS = {"ONLY_NEW": OrderStatus.NEW, "ONLY_PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED}


def _order_error(rejected: CommandRejected) -> ApiError:
    return ApiError.of(binance_error(rejected.code, rejected.reason))


def _cancel_error(rejected: CommandRejected) -> BinanceError:
    """Binance answers refused cancels with -2011 (CANCEL_REJECTED), never -2010."""
    err = binance_error(rejected.code, rejected.reason)
    return BinanceError(-2011, err.msg) if err.code == _REJECTED else err


def _parsed(gw: Gateway, params: Params, caller: Caller) -> tuple[SymbolState, NewOrder]:
    """A new order's symbol and command (the caller's signature was checked first, as Binance
    does)."""
    sym = gw.symbol(params.text("symbol"))
    order = new_order(
        params,
        sym.spec,
        account_id=caller.account_id,
        actor=actor(caller.api_key),
        ts_ms=gw.clock(),
    )
    return sym, order


async def place_order(gw: Gateway, params: Params, caller: Caller) -> Body:
    """New order: POST order and the WebSocket API's order.place."""
    sym, order = _parsed(gw, params, caller)
    outcome = await gw.service.execute(order.cmd)
    accepted = view.accepted(outcome.events)
    if accepted is None:
        rejected = view.rejection(outcome.events)
        assert rejected is not None, "an order is either accepted or rejected"
        raise _order_error(rejected)
    return view.placed(accepted, outcome.events, sym.spec, outcome.ts_ms, order.resp_type)


@router.post(
    "/order",
    summary="New order (TRADE)",
    openapi_extra=openapi(*ORDER_PARAMS, signed=True),
    responses=_ORDER_EXAMPLE,
)
async def post_order(request: Request) -> Response:
    """Place an order: LIMIT, MARKET (by `quantity` or `quoteOrderQty`), LIMIT_MAKER,
    STOP_LOSS(_LIMIT) or TAKE_PROFIT(_LIMIT), with time in force and self-trade prevention. It
    passes the compliance gate and risk checks, then matches; the answer (ACK, RESULT or FULL
    with fills) is sent once it is journaled. A refusal is a Binance error code and a sentence
    saying why. Weight 1; counts towards the ORDERS limits."""
    return ok(await place_order(*await signed(request, trade=True)))


async def check_order(gw: Gateway, params: Params, caller: Caller) -> Body:
    """Test new order: POST order/test and order.test. Validates everything, places nothing."""
    sym, order = _parsed(gw, params, caller)
    refusal = gate.check(gw.state, order.cmd) or risk.validate(sym, order.cmd)
    if refusal is not None:
        raise ApiError.of(binance_error(refusal.code, refusal.reason))
    if not params.flag("computeCommissionRates"):
        return {}
    maker, taker = commission_rates(gw.state, order.cmd.account_id, sym.spec)
    zero = rate_text(0)
    return {
        "standardCommissionForOrder": {"maker": rate_text(maker), "taker": rate_text(taker)},
        "specialCommissionForOrder": {"maker": zero, "taker": zero},
        "taxCommissionForOrder": {"maker": zero, "taker": zero},
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": None,
            "discount": zero,
        },
    }


@router.post(
    "/order/test",
    summary="Test new order (TRADE): validates everything, places nothing",
    openapi_extra=openapi(
        *ORDER_PARAMS,
        P("computeCommissionRates", "boolean", description="Answer the order's commission rates"),
        signed=True,
    ),
)
async def post_order_test(request: Request) -> Response:
    """Check an order exactly as POST /api/v3/order would (parameters, filters, gate and risk)
    without placing it: `{}` if it would be accepted, else the error it would get;
    `computeCommissionRates=true` adds the commission rates that would apply (weight 20, else 1)."""
    return ok(await check_order(*await signed(request, trade=True)))


def _target(
    gw: Gateway, params: Params, caller: Caller, sym: SymbolState, id_name: str, cid_name: str
) -> tuple[int, str, Order | None]:
    """The order a cancel names (id and/or client id) and, if it is open, the engine's order."""
    order_id = params.opt_integer(id_name, low=1)
    orig = params.opt_text(cid_name)
    if order_id is None and orig is None:
        raise ApiError(
            -1102, f"Param '{cid_name}' or '{id_name}' must be sent, but both were empty/null!"
        )
    acct = gw.state.accounts[caller.account_id]
    found = find_open(acct, sym.spec.name, order_id or 0, orig or "")
    return order_id or 0, orig or "", found if isinstance(found, Order) else None


def _restriction(params: Params) -> OrderStatus | None:
    text = params.opt_text("cancelRestrictions")
    if text is None:
        return None
    status = _RESTRICTIONS.get(text.upper())
    if status is None:
        raise ApiError(-1145, "Invalid cancelRestrictions")
    return status


_CANCEL_PARAMS = (
    P("symbol", required=True),
    P("orderId", "integer", description="Either orderId or origClientOrderId"),
    P("origClientOrderId", description="Either orderId or origClientOrderId"),
    P("newClientOrderId", description="Identifies this cancel; generated if not sent"),
    P("cancelRestrictions", enum=tuple(_RESTRICTIONS), description="Cancel only in this status"),
)


async def cancel_order(gw: Gateway, params: Params, caller: Caller) -> Body:
    """Cancel order: DELETE order and order.cancel."""
    sym = gw.symbol(params.text("symbol"))
    order_id, orig, order = _target(gw, params, caller, sym, "orderId", "origClientOrderId")
    cancel_cid = client_id(params, "newClientOrderId")
    restriction = _restriction(params)
    if restriction is not None and order is not None and order.status is not restriction:
        raise ApiError.of(_RESTRICTED)
    cmd = CancelOrder(
        actor=actor(caller.api_key),
        ts_ms=gw.clock(),
        account_id=caller.account_id,
        symbol=sym.spec.name,
        order_id=order_id,
        client_order_id=orig,
    )
    outcome = await gw.service.execute(cmd)
    rejected = view.rejection(outcome.events)
    if rejected is not None:
        raise ApiError.of(_cancel_error(rejected))
    assert order is not None, "the engine canceled the order the gateway found open"
    return view.canceled(order, sym.spec, outcome.ts_ms, cancel_cid)


@router.delete(
    "/order", summary="Cancel order (TRADE)", openapi_extra=openapi(*_CANCEL_PARAMS, signed=True)
)
async def delete_order(request: Request) -> Response:
    """Cancel an open order named by `orderId` or `origClientOrderId`; answers the order as
    canceled. Weight 1."""
    return ok(await cancel_order(*await signed(request, trade=True)))


async def cancel_open_orders(gw: Gateway, params: Params, caller: Caller) -> list[Body]:
    """Cancel all open orders on a symbol: DELETE openOrders and openOrders.cancelAll."""
    sym = gw.symbol(params.text("symbol"))
    open_orders = dict(gw.state.accounts[caller.account_id].open_orders)
    cmd = CancelAllOrders(
        actor=actor(caller.api_key),
        ts_ms=gw.clock(),
        account_id=caller.account_id,
        symbol=sym.spec.name,
    )
    outcome = await gw.service.execute(cmd)
    rejected = view.rejection(outcome.events)
    if rejected is not None:
        raise ApiError.of(_cancel_error(rejected))
    return [
        view.canceled(open_orders[e.order_id], sym.spec, outcome.ts_ms, new_client_id())
        for e in outcome.events
        if isinstance(e, OrderCanceled)
    ]


@router.delete(
    "/openOrders",
    summary="Cancel all open orders on a symbol (TRADE)",
    openapi_extra=openapi(P("symbol", required=True), signed=True),
)
async def delete_open_orders(request: Request) -> Response:
    """Cancel every open order of the caller on a symbol, in one command; answers each canceled
    order. Weight 1."""
    return ok(await cancel_open_orders(*await signed(request, trade=True)))


# --- cancel-replace ----------------------------------------------------------------------------

_PARTIAL = (-2021, "Order cancel-replace partially failed.", 409)
_FAILED = (-2022, "Order cancel-replace failed.", 400)


def _leg_error(err: BinanceError) -> dict[str, Any]:
    return {"code": err.code, "msg": err.msg}


def _replace_failed(
    failure: tuple[int, str, int],
    cancel: dict[str, Any],
    new: dict[str, Any] | None,
    *,
    cancel_ok: bool,
    new_result: str,
) -> ApiError:
    """Binance's -2021/-2022: the code and message, and in `data` what happened to each leg."""
    code, msg, status = failure
    data = {
        "cancelResult": "SUCCESS" if cancel_ok else "FAILURE",
        "newOrderResult": new_result,
        "cancelResponse": cancel,
        "newOrderResponse": new,
    }
    return ApiError(code, msg, status, data=data)


_REPLACE_PARAMS = (
    P("cancelReplaceMode", required=True, enum=tuple(CancelReplaceMode)),
    P("cancelOrderId", "integer", description="Either cancelOrderId or cancelOrigClientOrderId"),
    P("cancelOrigClientOrderId", description="Either cancelOrderId or cancelOrigClientOrderId"),
    P("cancelNewClientOrderId", description="Identifies the cancel; generated if not sent"),
    P("cancelRestrictions", enum=tuple(_RESTRICTIONS), description="Cancel only in this status"),
)


@router.post(
    "/order/cancelReplace",
    summary="Cancel an existing order and send a new order (TRADE)",
    openapi_extra=openapi(*ORDER_PARAMS, *_REPLACE_PARAMS, signed=True),
)
async def cancel_replace(request: Request) -> Response:
    """Cancel an order and place a new one in one command. `cancelReplaceMode` STOP_ON_FAILURE
    places nothing if the cancel fails; ALLOW_FAILURE places the new order anyway. Answers both
    results. Weight 1."""
    return ok(await replace_order(*await signed(request, trade=True)))


async def replace_order(gw: Gateway, params: Params, caller: Caller) -> Body:
    """Cancel an order and place a new one: POST order/cancelReplace and order.cancelReplace.
    A leg that failed raises -2021 (409) or -2022 with both legs' outcomes as `data`."""
    sym, order = _parsed(gw, params, caller)
    mode = params.choice("cancelReplaceMode", CancelReplaceMode, invalid_value("cancelReplaceMode"))
    ids = _target(gw, params, caller, sym, "cancelOrderId", "cancelOrigClientOrderId")
    cancel_id, cancel_orig, old = ids
    cancel_cid = client_id(params, "cancelNewClientOrderId")
    restriction = _restriction(params)
    resp_type, spec, new = order.resp_type, sym.spec, order.cmd
    stop = mode is CancelReplaceMode.STOP_ON_FAILURE

    if restriction is not None and old is not None and old.status is not restriction:
        # The cancel leg fails here, before the engine: the new order goes alone, if at all.
        state = gw.state  # the engine's stages in its order: inputs, gate, risk
        refusal = inputs.check(state, new) or gate.check(state, new) or risk.validate(sym, new)
        if refusal is not None:
            raise ApiError.of(binance_error(refusal.code, refusal.reason))
        restricted = _leg_error(_RESTRICTED)
        if stop:
            raise _replace_failed(
                _FAILED, restricted, None, cancel_ok=False, new_result="NOT_ATTEMPTED"
            )
        placed = await gw.service.execute(new)
        raise _new_leg_after_failed_cancel(placed, restricted, resp_type, sym, 0)

    cmd = CancelReplaceOrder(
        actor=new.actor,
        ts_ms=new.ts_ms,
        account_id=caller.account_id,
        symbol=spec.name,
        cancel_order_id=cancel_id,
        cancel_client_order_id=cancel_orig,
        mode=mode,
        new_order=new,
    )
    outcome = await gw.service.execute(cmd)
    events = outcome.events
    rejections = [e for e in events if isinstance(e, CommandRejected)]
    if any(isinstance(e, OrderCanceled) for e in events):
        assert old is not None, "the engine canceled the order the gateway found open"
        cancel_body = view.canceled(old, spec, outcome.ts_ms, cancel_cid)
        accepted = view.accepted(events)
        if accepted is not None:
            new_body = view.placed(accepted, events, spec, outcome.ts_ms, resp_type)
            return {
                "cancelResult": "SUCCESS",
                "newOrderResult": "SUCCESS",
                "cancelResponse": cancel_body,
                "newOrderResponse": new_body,
            }
        error = _leg_error(binance_error(rejections[0].code, rejections[0].reason))
        raise _replace_failed(_PARTIAL, cancel_body, error, cancel_ok=True, new_result="FAILURE")
    assert rejections, "a cancel-replace that canceled nothing was refused"
    if rejections[0].code is not _UNKNOWN_ORDER:  # the whole command: gate, filters
        raise ApiError.of(binance_error(rejections[0].code, rejections[0].reason))
    cancel_error = _leg_error(_cancel_error(rejections[0]))
    if stop:
        raise _replace_failed(
            _FAILED, cancel_error, None, cancel_ok=False, new_result="NOT_ATTEMPTED"
        )
    raise _new_leg_after_failed_cancel(outcome, cancel_error, resp_type, sym, 1)


def _new_leg_after_failed_cancel(
    outcome: Outcome, cancel_error: dict[str, Any], resp_type: RespType, sym: SymbolState, skip: int
) -> ApiError:
    """ALLOW_FAILURE after the cancel failed: -2021 if the new order went in, else -2022.

    `skip` is how many rejections in the outcome belong to the cancel leg.
    """
    events = outcome.events
    accepted = view.accepted(events)
    if accepted is not None:
        new_body = view.placed(accepted, events, sym.spec, outcome.ts_ms, resp_type)
        return _replace_failed(
            _PARTIAL, cancel_error, new_body, cancel_ok=False, new_result="SUCCESS"
        )
    rejections = [e for e in events if isinstance(e, CommandRejected)]
    error = _leg_error(binance_error(rejections[skip].code, rejections[skip].reason))
    return _replace_failed(_FAILED, cancel_error, error, cancel_ok=False, new_result="FAILURE")
