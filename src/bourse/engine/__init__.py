"""The deterministic engine: compliance gate → risk → matching → ledger → events.

Pure: no clocks, I/O or randomness. Same commands in, same state and events out.
"""

from bourse.engine.engine import Engine

__all__ = ["Engine"]
