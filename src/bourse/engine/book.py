"""One symbol's order book: price levels in sorted dicts, each level a FIFO of orders.

A level is a dict keyed by order id: insertion order gives time priority, and removing any order
is O(1). Bids are keyed by the negated price so that both sides' best level is item 0.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING

from sortedcontainers import SortedDict

from bourse.domain.enums import Side

if TYPE_CHECKING:
    from bourse.engine.state import Order


class Book:
    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()  # -price → {order id: Order}
        self.asks: SortedDict = SortedDict()  # price → {order id: Order}

    def add(self, order: "Order") -> None:
        if order.side is Side.BUY:
            levels, key = self.bids, -order.price
        else:
            levels, key = self.asks, order.price
        level = levels.get(key)
        if level is None:
            levels[key] = {order.id: order}
        else:
            level[order.id] = order

    def remove(self, order: "Order") -> None:
        if order.side is Side.BUY:
            levels, key = self.bids, -order.price
        else:
            levels, key = self.asks, order.price
        level = levels[key]
        del level[order.id]
        if not level:
            del levels[key]

    def best_bid(self) -> int:
        """Best bid price, or 0 when there are no bids."""
        return -self.bids.peekitem(0)[0] if self.bids else 0

    def best_ask(self) -> int:
        """Best ask price, or 0 when there are no asks."""
        return self.asks.peekitem(0)[0] if self.asks else 0

    def opposite(self, side: Side) -> SortedDict:
        """The levels a taker on `side` trades against."""
        return self.asks if side is Side.BUY else self.bids

    def orders(self, side: Side) -> Iterator["Order"]:
        """Orders of one side in priority order (best price first, then time)."""
        for level in (self.bids if side is Side.BUY else self.asks).values():
            yield from level.values()

    def depth(self, side: Side, levels: int) -> list[tuple[int, int]]:
        """(price, total remaining quantity) of the best `levels` levels of one side."""
        out: list[tuple[int, int]] = []
        book = self.bids if side is Side.BUY else self.asks
        for key, level in book.items()[:levels]:
            out.append((abs(key), sum(o.qty - o.executed for o in level.values())))
        return out
