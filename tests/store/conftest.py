"""The `projector` fixture, on both stores (see `store_url` in tests/conftest.py)."""

from collections.abc import Iterator

import pytest

from bourse.store.projector import Projector


@pytest.fixture
def projector(store_url: str) -> Iterator[Projector]:
    with Projector(store_url) as p:
        yield p
