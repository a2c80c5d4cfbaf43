"""Orders: place, cancel, cancel all, cancel-replace."""

from bourse.commands.base import Command
from bourse.domain.enums import (
    CancelReplaceMode,
    CancelRestriction,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)


class PlaceOrder(Command, frozen=True, kw_only=True, tag="PlaceOrder"):
    """A new order. MARKET orders give exactly one of qty_raw or quote_qty_raw (0 = absent)."""

    account_id: int
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce = TimeInForce.GTC
    qty_raw: int = 0
    quote_qty_raw: int = 0
    price_raw: int = 0
    stop_price_raw: int = 0
    client_order_id: str = ""
    stp: SelfTradePrevention = SelfTradePrevention.EXPIRE_MAKER


class CancelOrder(Command, frozen=True, kw_only=True, tag="CancelOrder"):
    """Cancel by `order_id` or by `client_order_id`; given both, they must name the same order.
    With a `restriction`, only an order in that status is canceled (CANCEL_RESTRICTED else)."""

    account_id: int
    symbol: str
    order_id: int = 0
    client_order_id: str = ""
    restriction: CancelRestriction | None = None


class CancelAllOrders(Command, frozen=True, kw_only=True, tag="CancelAllOrders"):
    account_id: int
    symbol: str


class CancelReplaceOrder(Command, frozen=True, kw_only=True, tag="CancelReplaceOrder"):
    """Cancel an order and place `new_order` in one step (Binance's order/cancelReplace)."""

    account_id: int
    symbol: str
    cancel_order_id: int = 0
    cancel_client_order_id: str = ""
    mode: CancelReplaceMode = CancelReplaceMode.STOP_ON_FAILURE
    new_order: PlaceOrder
    cancel_restriction: CancelRestriction | None = None  # as CancelOrder's `restriction`
