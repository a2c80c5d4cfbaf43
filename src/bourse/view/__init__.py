"""The read model: the one read-only view that leaves the engine, built from events only."""

from bourse.view.fold import apply
from bourse.view.model import ReadModel

__all__ = ["ReadModel", "apply"]
