"""The in-process exchange with the Binance API (tests/api/conftest.py) for API-level tests of
market data."""

from tests.api.conftest import api  # noqa: F401
