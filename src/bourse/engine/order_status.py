"""The one table of legal order status moves. An illegal move is a broken invariant and raises."""

from bourse.domain.enums import OrderStatus as S

TRANSITIONS: frozenset[tuple[S, S]] = frozenset(
    {
        (S.NEW, S.PARTIALLY_FILLED),
        (S.NEW, S.FILLED),
        (S.NEW, S.CANCELED),
        (S.NEW, S.EXPIRED),
        (S.NEW, S.EXPIRED_IN_MATCH),
        (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
        (S.PARTIALLY_FILLED, S.FILLED),
        (S.PARTIALLY_FILLED, S.CANCELED),
        (S.PARTIALLY_FILLED, S.EXPIRED),
        (S.PARTIALLY_FILLED, S.EXPIRED_IN_MATCH),
    }
)
TERMINAL = frozenset({S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED, S.EXPIRED_IN_MATCH})


class IllegalTransition(AssertionError):
    """An order was moved in a way the status table forbids: a bug, not a user error."""


def advance(current: S, new: S, order_id: int) -> S:
    if (current, new) not in TRANSITIONS:
        raise IllegalTransition(f"order {order_id}: {current} → {new} is not a legal move")
    return new
