"""The in-process exchange with the Binance API (tests/api/conftest.py) for API-level tests of
market data."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import (
    Api,
    api,  # noqa: F401
    serve,
)


@pytest.fixture
def untraded_api(tmp_path: Path) -> Iterator[Api]:
    """The demo world before its first trades: figures worked out from a market's first trade."""
    yield from serve(tmp_path, traded=False)
