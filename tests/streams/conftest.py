"""An in-process server for stream tests: the demo world, two funded keyed accounts, and no
rate limits (the tests place thousands of orders)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Api, serve


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Api]:
    yield from serve(tmp_path, rate_limits=False, BTC="50", ETH="50", USDT="5000000")


@pytest.fixture
def untraded_live(tmp_path: Path) -> Iterator[Api]:
    """As `live`, before the demo markets' first trades: candles worked out from a market's first
    trade at chosen times."""
    yield from serve(tmp_path, rate_limits=False, traded=False, BTC="50", ETH="50", USDT="5000000")
