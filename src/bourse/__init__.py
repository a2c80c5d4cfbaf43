"""bourse: a spot exchange with the compliance machinery built into its core."""

__version__ = "0.1.0"
