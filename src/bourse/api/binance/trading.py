"""Binance's TRADE endpoints: place, test, cancel, cancel-replace, cancel all.

Each operation (`place_order`, `cancel_order`, ...) takes the parsed parameters and the
authenticated caller and returns its answer or raises ApiError; the REST route and the WebSocket
API method both call it. It builds one command and answers from that command's outcome (the
engine's events once durable), never from a store read: `POST order` stays lean for the
order-rate benchmark. The engine's refusals answer with the Binance error its code names; the
engine's own sentence stays in the journal and the rejections table, since clients match `msg`.

The gateway never looks an order up: a cancel names it (by id and/or client id, with its
cancelRestrictions) and the engine resolves it; the answer renders from the OrderCanceled event,
which carries the order as it ended. A test order asks the engine's own first stages
(`Service.check`); a cancel-replace's new order is checked by the engine's cancel_replace.
"""

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bourse.api.binance import order_view
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
from bourse.domain.enums import CancelReplaceMode, CancelRestriction
from bourse.domain.rejections import RejectCode
from bourse.domain.symbols import SymbolSpec
from bourse.events import AnyEvent, CommandRejected, OrderCanceled, Outcome
from bourse.view.model import SymbolView

router = APIRouter(prefix="/api/v3", tags=["Trade"])
_ORDER_EXAMPLE: dict[int | str, dict[str, Any]] = {
    200: {"description": "The order", "content": {JSON: {"example": order_view.EXAMPLE_FULL}}}
}
# a cancel-replace refused for these failed its cancel leg; anything else refuses the whole
_CANCEL_LEG = frozenset({RejectCode.UNKNOWN_ORDER, RejectCode.CANCEL_RESTRICTED})
_REJECTED = -2010
_RESTRICTIONS = tuple(r.value for r in CancelRestriction)


def _order_error(rejected: CommandRejected) -> ApiError:
    return ApiError.of(binance_error(rejected.code, rejected.reason))


def _cancel_error(rejected: CommandRejected) -> BinanceError:
    """Binance answers refused cancels with -2011 (CANCEL_REJECTED), never -2010."""
    err = binance_error(rejected.code, rejected.reason)
    return BinanceError(-2011, err.msg) if err.code == _REJECTED else err


def _parsed(gw: Gateway, params: Params, caller: Caller) -> tuple[SymbolView, NewOrder]:
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
    accepted = order_view.accepted(outcome.events)
    if accepted is None:
        rejected = order_view.rejection(outcome.events)
        assert rejected is not None, "an order is either accepted or rejected"
        raise _order_error(rejected)
    return order_view.placed(accepted, outcome.events, sym.spec, outcome.ts_ms, order.resp_type)


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
    refusal = await gw.service.check(order.cmd)  # the engine's own stages, nothing sequenced
    if refusal is not None:
        raise ApiError.of(binance_error(refusal.code, refusal.reason))
    if not params.flag("computeCommissionRates"):
        return {}
    maker, taker = commission_rates(gw.view, order.cmd.account_id, sym.spec)
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


def _target(params: Params, id_name: str, cid_name: str) -> tuple[int, str]:
    """The order a cancel names: its id and/or client id (0 and "" where not given)."""
    order_id = params.opt_integer(id_name, low=1)
    orig = params.opt_text(cid_name)
    if order_id is None and orig is None:
        raise ApiError(
            -1102, f"Param '{cid_name}' or '{id_name}' must be sent, but both were empty/null!"
        )
    return order_id or 0, orig or ""


def _restriction(params: Params) -> CancelRestriction | None:
    text = params.opt_text("cancelRestrictions")
    if text is None:
        return None
    try:
        return CancelRestriction(text.upper())
    except ValueError:
        raise ApiError(-1145, "Invalid cancelRestrictions") from None


def _first_canceled(events: list[AnyEvent]) -> OrderCanceled | None:
    """The cancel leg's event: a cancel's (or a cancel-replace's) first event when it canceled
    (a new order may cancel other orders it meets, later in the outcome)."""
    first = events[0] if events else None
    return first if isinstance(first, OrderCanceled) else None


_CANCEL_PARAMS = (
    P("symbol", required=True),
    P("orderId", "integer", description="Either orderId or origClientOrderId"),
    P("origClientOrderId", description="Either orderId or origClientOrderId"),
    P("newClientOrderId", description="Identifies this cancel; generated if not sent"),
    P("cancelRestrictions", enum=_RESTRICTIONS, description="Cancel only in this status"),
)


async def cancel_order(gw: Gateway, params: Params, caller: Caller) -> Body:
    """Cancel order: DELETE order and order.cancel."""
    sym = gw.symbol(params.text("symbol"))
    order_id, orig = _target(params, "orderId", "origClientOrderId")
    cancel_cid = client_id(params, "newClientOrderId")
    cmd = CancelOrder(
        actor=actor(caller.api_key),
        ts_ms=gw.clock(),
        account_id=caller.account_id,
        symbol=sym.spec.name,
        order_id=order_id,
        client_order_id=orig,
        restriction=_restriction(params),
    )
    outcome = await gw.service.execute(cmd)
    rejected = order_view.rejection(outcome.events)
    if rejected is not None:
        raise ApiError.of(_cancel_error(rejected))
    canceled = _first_canceled(outcome.events)
    assert canceled is not None, "a cancel the engine did not refuse canceled the order"
    return order_view.canceled(canceled, sym.spec, outcome.ts_ms, cancel_cid)


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
    cmd = CancelAllOrders(
        actor=actor(caller.api_key),
        ts_ms=gw.clock(),
        account_id=caller.account_id,
        symbol=sym.spec.name,
    )
    outcome = await gw.service.execute(cmd)
    rejected = order_view.rejection(outcome.events)
    if rejected is not None:
        raise ApiError.of(_cancel_error(rejected))
    return [
        order_view.canceled(e, sym.spec, outcome.ts_ms, new_client_id())
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
    P("cancelRestrictions", enum=_RESTRICTIONS, description="Cancel only in this status"),
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
    cancel_id, cancel_orig = _target(params, "cancelOrderId", "cancelOrigClientOrderId")
    cancel_cid = client_id(params, "cancelNewClientOrderId")
    resp_type, spec, new = order.resp_type, sym.spec, order.cmd
    stop = mode is CancelReplaceMode.STOP_ON_FAILURE
    # The engine checks the new order (inputs, gate, filters) before it cancels anything, then
    # the cancel leg (the order named, in the status cancelRestrictions allows), then places.
    cmd = CancelReplaceOrder(
        actor=new.actor,
        ts_ms=new.ts_ms,
        account_id=caller.account_id,
        symbol=spec.name,
        cancel_order_id=cancel_id,
        cancel_client_order_id=cancel_orig,
        mode=mode,
        new_order=new,
        cancel_restriction=_restriction(params),
    )
    outcome = await gw.service.execute(cmd)
    events = outcome.events
    rejections = [e for e in events if isinstance(e, CommandRejected)]
    canceled = _first_canceled(events)
    if canceled is not None:
        cancel_body = order_view.canceled(canceled, spec, outcome.ts_ms, cancel_cid)
        accepted = order_view.accepted(events)
        if accepted is not None:
            new_body = order_view.placed(accepted, events, spec, outcome.ts_ms, resp_type)
            return {
                "cancelResult": "SUCCESS",
                "newOrderResult": "SUCCESS",
                "cancelResponse": cancel_body,
                "newOrderResponse": new_body,
            }
        error = _leg_error(binance_error(rejections[0].code, rejections[0].reason))
        raise _replace_failed(_PARTIAL, cancel_body, error, cancel_ok=True, new_result="FAILURE")
    assert rejections, "a cancel-replace that canceled nothing was refused"
    if rejections[0].code not in _CANCEL_LEG:  # the whole command: gate, filters
        raise ApiError.of(binance_error(rejections[0].code, rejections[0].reason))
    cancel_error = _leg_error(_cancel_error(rejections[0]))
    if stop:
        raise _replace_failed(
            _FAILED, cancel_error, None, cancel_ok=False, new_result="NOT_ATTEMPTED"
        )
    raise _new_leg_after_failed_cancel(outcome, cancel_error, resp_type, spec)


def _new_leg_after_failed_cancel(
    outcome: Outcome, cancel_error: dict[str, Any], resp_type: RespType, spec: SymbolSpec
) -> ApiError:
    """ALLOW_FAILURE after the cancel failed: -2021 if the new order went in, else -2022 (the
    outcome's first rejection is the cancel leg's, the second the new order's)."""
    events = outcome.events
    accepted = order_view.accepted(events)
    if accepted is not None:
        new_body = order_view.placed(accepted, events, spec, outcome.ts_ms, resp_type)
        return _replace_failed(
            _PARTIAL, cancel_error, new_body, cancel_ok=False, new_result="SUCCESS"
        )
    rejected = [e for e in events if isinstance(e, CommandRejected)][1]
    error = _leg_error(binance_error(rejected.code, rejected.reason))
    return _replace_failed(_FAILED, cancel_error, error, cancel_ok=False, new_result="FAILURE")
