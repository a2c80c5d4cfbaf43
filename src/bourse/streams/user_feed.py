"""Binance's user data stream events (user-data-stream.md) from released outcomes, the same ones
REST answers from, published on the hub per account as `user:<account_id>`:

- `executionReport` for every order state change and fill: NEW when accepted (and NEW again,
  now working, when a stop order triggers), TRADE per fill for the maker and for the taker,
  CANCELED, EXPIRED, and TRADE_PREVENTION when self-trade prevention expires the order. Its
  quantities are REST's for that order at that point (`z`/`Z` cumulative, `q` as REST's
  origQty: for a MARKET order sized by quoteOrderQty, what it has executed).
- `outboundAccountPosition` after an outcome changed the account's balances (`B`: the assets it
  changed, as they now stand) or its permissions (a freeze, an unfreeze, permissions set by
  staff, a jurisdiction policy applied to its customer's country or an exit window of one
  closing; `B` lists the balances the same outcome changed, possibly none). Binance's event has
  no permission fields: bourse adds those of Binance's retired `outboundAccountInfo` event, `T`
  canTrade, `W` canWithdraw and `D` canDeposit (REST account's values), when they may have
  changed.
- `balanceUpdate` when a transfer moves the account's free funds: a deposit (+), a withdrawal
  request (-: the amount is held until paid out) and a failed withdrawal (+: returned).

Orders are followed from acceptance to their end (those open at start-up from the read model
then, which is what is released), so a report needs no store read. A cancel has no client
id of its own in the events, so a CANCELED report carries the order's in both `c` and `C`.
"""

from collections.abc import Callable, Sized
from typing import Any, cast

from bourse.compliance.policy import Basis
from bourse.domain.enums import (
    LIMIT_PRICED_TYPES,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from bourse.domain.money import to_str
from bourse.engine.jurisdiction import policy_permissions
from bourse.events import (
    AccountFrozen,
    AccountPermissionsChanged,
    AccountUnfrozen,
    BalanceChanged,
    DepositCredited,
    ExitWindowClosed,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderTriggered,
    Outcome,
    PolicyApplied,
    TradeExecuted,
    WithdrawalFailed,
    WithdrawalRequested,
)
from bourse.marketdata import MarketData
from bourse.streams.hub import Hub, Subscriber
from bourse.streams.names import Stream
from bourse.streams.wire import frame_text
from bourse.view import ReadModel
from bourse.view.model import AccountView, OrderView

Body = dict[str, Any]
Flags = tuple[bool, bool, bool, bool]  # can_trade, can_deposit, can_withdraw, frozen
_DEFAULT_FLAGS: Flags = (True, True, True, False)
_OPEN = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})
_GTC, _BUY = TimeInForce.GTC, Side.BUY
AccountEvent = (
    BalanceChanged
    | DepositCredited
    | WithdrawalRequested
    | WithdrawalFailed
    | AccountFrozen
    | AccountUnfrozen
    | AccountPermissionsChanged
)
_ACCOUNT_EVENTS = frozenset(AccountEvent.__args__)
_PREVENTED = "TRADE_PREVENTION"  # the execution type of an order self-trade prevention expired


USER = "user"  # the Stream kind of an account's user data


def user_stream(account_id: int) -> Stream:
    return Stream(f"user:{account_id}", "", USER)


class Tap(Subscriber):
    """One account's user data stream on a connection: each event, wrapped as the connection
    wants it (as is, `{"stream","data"}` on a combined stream connection, or
    `{"subscriptionId","event"}` on the WebSocket API), joins the connection's own queue, so one
    writer keeps events and replies in order and a reader that falls behind is cut off once."""

    def __init__(
        self, out: Subscriber, account_id: int, api_key: str, name: str, subscription: int = -1
    ) -> None:
        super().__init__(False, out.limit)
        self.out = out
        self.account_id = account_id
        self.api_key = api_key
        self.name = name  # the listenKey, or "#<subscriptionId>"
        self.subscription = subscription  # WebSocket API subscriptionId (-1 for a listenKey)
        self.by_session = False  # WebSocket API: started by userDataStream.subscribe

    def put(self, entry: str | bytes, wake: bool = True) -> bool:
        """From the hub: a frame made for every subscriber, unwrapped to be wrapped for this one
        and queued on the connection at once (user events are few)."""
        return self.offer(entry if isinstance(entry, str) else frame_text(entry))

    def offer(self, text: str) -> bool:
        if self.subscription >= 0:
            text = f'{{"subscriptionId":{self.subscription},"event":{text}}}'
        elif self.out.combined:
            text = f'{{"stream":"{self.name}","data":{text}}}'
        return self.out.offer(text)


class _Order:
    """What a report needs of an open order, as of the last outcome applied."""

    __slots__ = (
        "account_id",
        "client_order_id",
        "created_ms",
        "cum_quote",
        "executed",
        "id",
        "order_type",
        "price",
        "qty",
        "quote_qty",
        "side",
        "status",
        "stop_price",
        "stp",
        "symbol",
        "time_in_force",
        "working_ms",
    )

    def __init__(self, e: OrderAccepted | OrderView, created_ms: int) -> None:
        self.id = e.order_id if isinstance(e, OrderAccepted) else e.id
        self.account_id = e.account_id
        self.symbol = e.symbol
        self.side: Side = e.side
        self.order_type: OrderType = e.order_type
        self.time_in_force: TimeInForce = e.time_in_force
        self.client_order_id = e.client_order_id
        self.stp: SelfTradePrevention = e.stp
        self.created_ms = created_ms
        self.working_ms = created_ms if e.working else -1  # a stop's trigger time, once it fires
        if isinstance(e, OrderAccepted):
            self.price, self.qty, self.quote_qty = e.price_raw, e.qty_raw, e.quote_qty_raw
            self.stop_price, self.executed, self.cum_quote = e.stop_price_raw, 0, 0
            self.status = OrderStatus.NEW
        else:
            self.price, self.qty, self.quote_qty = e.price, e.qty, e.quote_qty
            self.stop_price, self.executed, self.cum_quote = e.stop_price, e.executed, e.cum_quote
            self.status = e.status


def _flags(acct: AccountView) -> Flags:
    return acct.can_trade, acct.can_deposit, acct.can_withdraw, acct.frozen


class _After:
    """What an outcome owes one watched account once its reports are out."""

    __slots__ = ("balances", "permissions", "transfers")

    def __init__(self) -> None:
        self.balances: list[BalanceChanged] = []
        self.transfers: list[tuple[str, int]] = []  # (asset, signed amount)
        self.permissions = False


class UserFeed:
    """Seeded from the read model when the market data is (both as of its `last_seq`), then fed
    every released outcome in order (a MarketData listener).

    Specs, assets, customers and policies are read from the view, which is folded before any
    listener runs: it is what is released. (Read from the engine's live state, which may be one
    group commit ahead of what is durable, a policy applied or a residence changed by a command
    not yet safe could already show in a position's T/W/D.)"""

    def __init__(
        self, hub: Hub, market: MarketData, view: ReadModel, connections: Sized = ()
    ) -> None:
        self.hub = hub
        self.view = view
        # the connections that follow user data streams (Realtime.taps): while there are none,
        # outcomes only update the orders followed, and nothing is rendered
        self.connections = connections
        self.orders: dict[int, _Order] = {
            o.id: _Order(o, o.created_ms)
            for acct in view.accounts.values()
            for o in acct.open_orders.values()
        }
        # accounts whose permissions are not the defaults (most accounts are absent)
        self.flags: dict[int, Flags] = {
            a.id: _flags(a) for a in view.accounts.values() if _flags(a) != _DEFAULT_FLAGS
        }
        self._executions = 0  # executionReport `I`, which Binance documents as "Ignore"
        self.last_seq = view.last_seq  # outcomes up to here are in the seed: skipped, as depth's
        self._follow: dict[type, Callable[[Any, int], None]] = {
            OrderAccepted: self._accepted,
            TradeExecuted: self._traded,
            OrderCanceled: self._canceled,
            OrderExpired: self._expired,
            OrderTriggered: self._triggered,
            AccountFrozen: self._permissions,
            AccountUnfrozen: self._permissions,
            AccountPermissionsChanged: self._permissions,
        }
        market.listeners.append(self.on_outcome)

    def _watched(self, account_id: int) -> str | None:
        if not self.connections:
            return None
        name = f"user:{account_id}"
        return name if name in self.hub.streams else None

    def on_outcome(self, outcome: Outcome, _changes: object = None) -> None:
        if outcome.seq <= self.last_seq:
            return
        self.last_seq = outcome.seq
        ts = outcome.ts_ms
        follow = self._follow
        if not self.connections:  # the common case: only keep up with the orders
            for e in outcome.events:
                handle = follow.get(type(e))
                if handle is not None:
                    handle(e, ts)
            return
        after: dict[int, _After] = {}
        for e in outcome.events:
            handle = follow.get(type(e))
            if handle is not None:
                handle(e, ts)
            if type(e) in _ACCOUNT_EVENTS:
                self._owe(after, cast(AccountEvent, e))
            elif type(e) is PolicyApplied:
                self._owe_policy(after, e.spec.country, e.spec.basis)
            elif type(e) is ExitWindowClosed:
                self._owe_policy(after, e.country, e.basis)
        for account_id, a in after.items():
            self._account_events(account_id, a, ts)

    def _owe(self, after: dict[int, _After], e: AccountEvent) -> None:
        """Note what `e` owes its account's stream once the outcome's reports are out."""
        if self._watched(e.account_id) is None:
            return
        a = after.get(e.account_id)
        if a is None:
            a = after[e.account_id] = _After()
        match e:
            case BalanceChanged():
                a.balances.append(e)
            case DepositCredited() | WithdrawalFailed():
                a.transfers.append((e.asset, e.amount_raw))
            case WithdrawalRequested():
                a.transfers.append((e.asset, -e.amount_raw))
            case _:
                a.permissions = True

    def _owe_policy(self, after: dict[int, _After], country: str, basis: Basis) -> None:
        """A policy changed what the customers of `country` may do: the watched accounts of
        those customers get their permissions, as REST account now shows them."""
        view = self.view
        for name, stream in self.hub.streams.items():
            if stream.kind != USER:
                continue
            account_id = int(name.removeprefix("user:"))
            cust = view.customers.get(view.accounts[account_id].customer_id)
            if cust is None:
                continue
            if (cust.residence if basis is Basis.RESIDENCE else cust.nationality) == country:
                after.setdefault(account_id, _After()).permissions = True

    # --- orders ----------------------------------------------------------------------------

    def _accepted(self, e: OrderAccepted, ts: int) -> None:
        order = self.orders[e.order_id] = _Order(e, ts)
        self._report(order, ts, "NEW")

    def _triggered(self, e: OrderTriggered, ts: int) -> None:
        order = self.orders.get(e.order_id)
        if order is not None:
            order.working_ms = ts
            self._report(order, ts, "NEW")

    def _traded(self, t: TradeExecuted, ts: int) -> None:
        for order_id, status, fee, maker in (
            (t.maker_order_id, t.maker_status, t.maker_fee_raw, True),
            (t.taker_order_id, t.taker_status, t.taker_fee_raw, False),
        ):
            order = self.orders.get(order_id)
            if order is None:
                continue
            order.executed += t.qty_raw
            order.cum_quote += t.quote_qty_raw
            order.status = status
            if status not in _OPEN:
                del self.orders[order_id]
            self._report(order, ts, "TRADE", t, fee, maker)

    def _canceled(self, e: OrderCanceled, ts: int) -> None:
        self._ended(e.order_id, "CANCELED", OrderStatus.CANCELED, ts)

    def _expired(self, e: OrderExpired, ts: int) -> None:
        prevented = e.status is OrderStatus.EXPIRED_IN_MATCH
        self._ended(e.order_id, _PREVENTED if prevented else "EXPIRED", e.status, ts)

    def _ended(self, order_id: int, x: str, status: OrderStatus, ts: int) -> None:
        order = self.orders.pop(order_id, None)
        if order is not None:
            order.status = status
            self._report(order, ts, x)

    def _report(
        self,
        o: _Order,
        ts: int,
        x: str,
        fill: TradeExecuted | None = None,
        fee: int = 0,
        maker: bool = False,
    ) -> None:
        name = self._watched(o.account_id)
        if name is None:
            return
        spec = self.view.symbols[o.symbol].spec
        qp, bp = spec.quote_precision, spec.base_precision
        if fill is None:
            last_qty = last_price = last_quote = 0
            fee_text, fee_asset, trade_id = "0", None, -1
        else:
            last_qty, last_price, last_quote = fill.qty_raw, fill.price_raw, fill.quote_qty_raw
            fee_asset, fee_precision = (spec.base, bp) if o.side is _BUY else (spec.quote, qp)
            fee_text, trade_id = to_str(fee, fee_precision), fill.trade_id
        self._executions += 1
        status = o.status
        on_book = (
            o.working_ms >= 0
            and status in _OPEN
            and o.time_in_force is _GTC
            and o.order_type in LIMIT_PRICED_TYPES
        )
        body: Body = {
            "e": "executionReport",
            "E": ts,
            "s": o.symbol,
            "c": o.client_order_id,
            "S": o.side.value,
            "o": o.order_type.value,
            "f": o.time_in_force.value,
            "q": to_str(o.qty or o.executed, bp),
            "p": to_str(o.price, qp),
            "P": to_str(o.stop_price, qp),
            "F": to_str(0, bp),
            "g": -1,
            "C": o.client_order_id if x == "CANCELED" else "",
            "x": x,
            "X": status.value,
            "r": "NONE",
            "i": o.id,
            "l": to_str(last_qty, bp),
            "z": to_str(o.executed, bp),
            "L": to_str(last_price, qp),
            "n": fee_text,
            "N": fee_asset,
            "T": ts,
            "t": trade_id,
            "I": self._executions,
            "w": on_book,
            "m": maker,
            "M": False,
            "O": o.created_ms,
            "Z": to_str(o.cum_quote, qp),
            "Y": to_str(last_quote, qp),
            "Q": to_str(o.quote_qty, qp),
        }
        if o.working_ms >= 0:
            body["W"] = o.working_ms
        body["V"] = o.stp.value
        self.hub.publish(name, body)

    # --- balances and permissions ----------------------------------------------------------

    def _permissions(
        self, e: AccountFrozen | AccountUnfrozen | AccountPermissionsChanged, _ts: int
    ) -> None:
        trade, deposit, withdraw, frozen = self.flags.get(e.account_id, _DEFAULT_FLAGS)
        if isinstance(e, AccountPermissionsChanged):
            trade, deposit, withdraw = e.can_trade, e.can_deposit, e.can_withdraw
        else:
            frozen = isinstance(e, AccountFrozen)
        flags = (trade, deposit, withdraw, frozen)
        if flags == _DEFAULT_FLAGS:
            self.flags.pop(e.account_id, None)
        else:
            self.flags[e.account_id] = flags

    def _account_events(self, account_id: int, a: _After, ts: int) -> None:
        name = f"user:{account_id}"
        assets = self.view.assets
        for asset, delta in a.transfers:
            self.hub.publish(
                name,
                {
                    "e": "balanceUpdate",
                    "E": ts,
                    "a": asset,
                    "d": to_str(delta, assets[asset]),
                    "T": ts,
                },
            )
        if not a.balances and not a.permissions:
            return
        position: Body = {
            "e": "outboundAccountPosition",
            "E": ts,
            "u": ts,
            "B": [
                {
                    "a": b.asset,
                    "f": to_str(b.free_raw, assets[b.asset]),
                    "l": to_str(b.locked_raw, assets[b.asset]),
                }
                for b in a.balances
            ],
        }
        if a.permissions:  # the account's own flags as released, and its policies now
            trade, deposit, withdraw, frozen = self.flags.get(account_id, _DEFAULT_FLAGS)
            view = self.view
            pt, pw, pd = policy_permissions(view, view.accounts[account_id], ts)
            position.update(
                T=trade and not frozen and pt, W=withdraw and not frozen and pw, D=deposit and pd
            )
        self.hub.publish(name, position)


def terminated(ts: int) -> Body:
    """The WebSocket API's last event of a subscription that ended."""
    return {"e": "eventStreamTerminated", "E": ts}


def key_expired(key: str, ts: int) -> Body:
    """The last event on a listenKey's stream when the key expires (not when it is closed)."""
    return {"e": "listenKeyExpired", "E": str(ts), "listenKey": key}  # E: a string, as documented
