"""An in-process server for stream tests: the demo world, two funded keyed accounts, and no
rate limits (the tests place thousands of orders)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bourse.api.app import create_app
from bourse.demo import DEMO_ACCOUNT_ID
from bourse.runtime.datadir import DataDir
from bourse.runtime.exchange import Exchange
from bourse.runtime.sealing import SecretBox
from bourse.runtime.service import Service
from bourse.store.db import sqlite_url
from tests.api.conftest import Api, _keyed, new_account


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Api]:
    dd = DataDir(tmp_path / "data")
    exchange = Exchange(dd, database_url=sqlite_url(tmp_path / "store.sqlite"))
    box = SecretBox.at(dd.master_key_file)
    demo = _keyed(exchange, box, DEMO_ACCOUNT_ID)
    other = new_account(exchange, box, BTC="50", ETH="50", USDT="5000000")
    service = Service(exchange, "operator-token", box)
    try:
        with TestClient(create_app(service, rate_limits=False)) as client:
            other.client = client
            yield Api(
                client, service, other, account_id=demo.account_id, key=demo.key, secret=demo.secret
            )
    finally:
        exchange.close(snapshot_on_close=False)
