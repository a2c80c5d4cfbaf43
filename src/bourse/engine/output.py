"""What a command produces while it runs: its events, and the balances it touched."""

from bourse.engine.ledger import Touched
from bourse.events import AnyEvent


class Output:
    """Reused across commands (reset by the engine) to keep allocation off the hot path."""

    __slots__ = ("events", "touched", "ts_ms")

    def __init__(self) -> None:
        self.events: list[AnyEvent] = []
        self.touched: Touched = {}
        self.ts_ms = 0
