"""The order book as the public sees it: aggregated quantity per price level, per symbol and side.

Fed only by released (durable) outcomes, never by the engine's live book, which may be ahead of
what is durable. It follows every open limit-priced order (resting, or a stop-limit waiting for its
trigger) by its events:

- OrderAccepted of a LIMIT / LIMIT_MAKER / *_LIMIT type starts following it; a working one may
  rest. MARKET, STOP_LOSS and TAKE_PROFIT orders never rest, so they are not followed.
- OrderTriggered makes a waiting stop-limit work: it may rest.
- TradeExecuted takes the quantity from the maker (on the book) and from the taker (not yet).
- OrderCanceled / OrderExpired end an order: what it had left leaves the book.
- At the end of the outcome, every order that started working in it and is still open rests:
  the engine rests a limit order once matching leaves something of it (IOC, FOK and market
  remainders end with OrderExpired in the same outcome). Deferring the rest to the end of the
  outcome is exact because a level only changes by what the order still has then.

`apply` returns the levels an outcome changed (their new quantity, 0 when gone), which is what a
diff-depth stream sends; `last_seq` is the seq of the last applied outcome (`lastUpdateId`).
"""

from collections.abc import Iterator
from itertools import islice

from sortedcontainers import SortedDict

from bourse.domain.enums import LIMIT_PRICED_TYPES, Side
from bourse.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderTriggered,
    Outcome,
    SymbolListed,
    TradeExecuted,
)
from bourse.view import ReadModel

_BUY = Side.BUY
Level = tuple[int, int]  # (price raw, quantity raw)


class _Followed:
    """An open limit-priced order: where it would rest and what it has left."""

    __slots__ = ("price", "remaining", "resting", "side", "symbol")

    def __init__(self, symbol: str, side: Side, price: int, remaining: int, resting: bool) -> None:
        self.symbol = symbol
        self.side = side
        self.price = price
        self.remaining = remaining
        self.resting = resting


class _Sides:
    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()  # -price → quantity (best bid first)
        self.asks: SortedDict = SortedDict()  # price → quantity (best ask first)


class DepthChanges:
    """The levels one outcome changed in one symbol: price → new quantity (0: removed)."""

    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}


class DepthBook:
    def __init__(self, last_seq: int = 0) -> None:
        self.last_seq = last_seq
        self._books: dict[str, _Sides] = {}
        self._orders: dict[int, _Followed] = {}
        self._changes: dict[str, DepthChanges] = {}

    @classmethod
    def from_view(cls, view: ReadModel) -> "DepthBook":
        """The book as `view` has it (as of `view.last_seq`): every open order that works rests
        (matching left it on the book), and a stop-limit still waiting for its trigger is
        followed until it does."""
        book = cls(view.last_seq)
        for name in view.symbols:
            book._books[name] = _Sides()
        for acct in view.accounts.values():
            for order in acct.open_orders.values():
                if order.order_type in LIMIT_PRICED_TYPES:
                    book._follow(
                        order.id,
                        order.symbol,
                        order.side,
                        order.price,
                        order.remaining,
                        rest=order.working,
                    )
        book._changes.clear()
        return book

    # --- reading --------------------------------------------------------------------------

    def symbols(self) -> Iterator[str]:
        return iter(self._books)

    def levels(self, symbol: str, side: Side, limit: int) -> list[Level]:
        """The best `limit` levels of one side, best first (bids high to low, asks low to high)."""
        sides = self._books.get(symbol)
        if sides is None:
            return []
        if side is _BUY:
            return [(-key, qty) for key, qty in islice(sides.bids.items(), limit)]
        return list(islice(sides.asks.items(), limit))

    def best(self, symbol: str, side: Side) -> Level | None:
        found = self.levels(symbol, side, 1)
        return found[0] if found else None

    # --- applying outcomes ----------------------------------------------------------------

    def apply(self, outcome: Outcome) -> dict[str, DepthChanges]:
        """Apply one released outcome; returns the levels it changed, by symbol.

        Outcomes at or below `last_seq` were already in the book (from_view) and are skipped.
        """
        if outcome.seq <= self.last_seq:
            return {}
        self.last_seq = outcome.seq
        orders = self._orders
        working: list[int] = []
        for e in outcome.events:
            match e:
                case TradeExecuted():
                    self._fill(e.maker_order_id, e.qty_raw)
                    self._fill(e.taker_order_id, e.qty_raw)
                case OrderAccepted() if e.order_type in LIMIT_PRICED_TYPES:
                    self._follow(e.order_id, e.symbol, e.side, e.price_raw, e.qty_raw)
                    if e.working:
                        working.append(e.order_id)
                case OrderCanceled() | OrderExpired():
                    order = orders.pop(e.order_id, None)
                    if order is not None and order.resting:
                        self._move(order, -order.remaining)
                case OrderTriggered() if e.order_id in orders:
                    working.append(e.order_id)
                case SymbolListed():
                    self._books.setdefault(e.spec.name, _Sides())
        for order_id in working:
            order = orders.get(order_id)
            if order is not None and not order.resting:
                order.resting = True
                self._move(order, order.remaining)
        changes, self._changes = self._changes, {}
        return changes

    def _follow(
        self, order_id: int, symbol: str, side: Side, price: int, remaining: int, rest: bool = False
    ) -> None:
        order = _Followed(symbol, side, price, remaining, resting=False)
        self._orders[order_id] = order
        if rest:
            order.resting = True
            self._move(order, remaining)

    def _fill(self, order_id: int, qty: int) -> None:
        order = self._orders.get(order_id)
        if order is None:  # a market order, never on the book
            return
        order.remaining -= qty
        if order.resting:
            self._move(order, -qty)
        if order.remaining <= 0:
            del self._orders[order_id]

    def _move(self, order: _Followed, delta: int) -> None:
        sides = self._books.get(order.symbol)
        if sides is None:
            sides = self._books[order.symbol] = _Sides()
        changes = self._changes.get(order.symbol)
        if changes is None:
            changes = self._changes[order.symbol] = DepthChanges()
        if order.side is _BUY:
            levels, key, changed = sides.bids, -order.price, changes.bids
        else:
            levels, key, changed = sides.asks, order.price, changes.asks
        qty = levels.get(key, 0) + delta
        if qty > 0:
            levels[key] = qty
        else:
            levels.pop(key, None)
            qty = 0
        changed[order.price] = qty
