"""Events of trading: orders, fills, balances, and the one way the engine says no."""

from bourse.domain.enums import OrderStatus, OrderType, SelfTradePrevention, Side, TimeInForce
from bourse.domain.rejections import RejectCode
from bourse.events.base import Event


class OrderAccepted(Event, frozen=True, kw_only=True, tag="OrderAccepted"):
    """A new order. `working` is False for a stop order waiting for its trigger."""

    order_id: int
    account_id: int
    symbol: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price_raw: int
    qty_raw: int
    quote_qty_raw: int
    stop_price_raw: int
    client_order_id: str
    stp: SelfTradePrevention
    working: bool


class OrderTriggered(Event, frozen=True, kw_only=True, tag="OrderTriggered"):
    """A stop order's trigger price was reached by the last trade; it now works."""

    order_id: int
    account_id: int
    symbol: str
    last_price_raw: int


class TradeExecuted(Event, frozen=True, kw_only=True, tag="TradeExecuted"):
    """One fill. The buyer pays its fee in the base asset, the seller in the quote asset."""

    symbol: str
    trade_id: int
    price_raw: int
    qty_raw: int
    quote_qty_raw: int
    taker_side: Side
    maker_order_id: int
    taker_order_id: int
    maker_account_id: int
    taker_account_id: int
    maker_fee_raw: int
    taker_fee_raw: int
    maker_status: OrderStatus
    taker_status: OrderStatus


class OrderCanceled(Event, frozen=True, kw_only=True, tag="OrderCanceled"):
    """An open order canceled, with the order as it ended: what a cancel's answer shows."""

    order_id: int
    account_id: int
    symbol: str
    client_order_id: str
    reason: str
    side: Side = Side.BUY
    order_type: OrderType = OrderType.LIMIT
    time_in_force: TimeInForce = TimeInForce.GTC
    price_raw: int = 0
    qty_raw: int = 0
    quote_qty_raw: int = 0
    stop_price_raw: int = 0
    executed_raw: int = 0  # what it had filled before it was canceled
    cum_quote_raw: int = 0
    stp: SelfTradePrevention = SelfTradePrevention.EXPIRE_MAKER


class OrderExpired(Event, frozen=True, kw_only=True, tag="OrderExpired"):
    """The order ended unfilled or part-filled.

    EXPIRED for IOC/FOK/market remainders, EXPIRED_IN_MATCH for self-trade prevention.
    """

    order_id: int
    account_id: int
    symbol: str
    status: OrderStatus
    reason: str


class BalanceChanged(Event, frozen=True, kw_only=True, tag="BalanceChanged"):
    """The balance after a command, one per (account, asset) the command touched."""

    account_id: int
    asset: str
    free_raw: int
    locked_raw: int


class CommandRejected(Event, frozen=True, kw_only=True, tag="CommandRejected"):
    """The one way the engine says no: which command, which rule, and why, in a sentence."""

    command: str
    account_id: int
    symbol: str
    client_order_id: str
    code: RejectCode
    reason: str
