"""An in-process exchange with the Binance API, and a signing client for it.

`api` is a fresh data directory with the demo world (account 1 funded, account 2 quoting), an
HMAC key for account 1 and a second funded account with its own key (`api.other`).
"""

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from bourse.api.app import create_app
from bourse.commands import Command, Deposit, OpenAccount
from bourse.demo import DEMO_ACCOUNT_ID, genesis
from bourse.domain.money import to_raw
from bourse.events import Outcome
from bourse.keys.api_keys import hmac_key
from bourse.keys.sealing import SecretBox
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange, now_ms
from bourse.server.service import Service
from bourse.store.db import sqlite_url


class Signer:
    """Signs like python-binance/ccxt: HMAC-SHA256 hex over query string + body."""

    def __init__(self, client: TestClient, account_id: int, key: str, secret: str) -> None:
        self.client = client
        self.account_id = account_id
        self.key = key
        self.secret = secret

    def public(self, method: str, path: str, **params: Any) -> httpx.Response:
        return self.client.request(method, path, params=params)

    def signed(
        self,
        method: str,
        path: str,
        *,
        body: bool = False,
        timestamp: int | None = None,
        secret: str | None = None,
        **params: Any,
    ) -> httpx.Response:
        """Parameters in the query string, or (`body=True`) in a form body."""
        fields = {**params, "timestamp": timestamp if timestamp is not None else now_ms()}
        text = urlencode(fields)
        sig = hmac.new((secret or self.secret).encode(), text.encode(), hashlib.sha256)
        signed = f"{text}&signature={sig.hexdigest()}"
        headers = {"X-MBX-APIKEY": self.key}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return self.client.request(method, path, content=signed, headers=headers)
        return self.client.request(method, f"{path}?{signed}", headers=headers)


class Api(Signer):
    def __init__(self, client: TestClient, service: Service, other: Signer, **kw: Any) -> None:
        super().__init__(client, **kw)
        self.service = service
        self.other = other

    @property
    def exchange(self) -> Exchange:
        return self.service.exchange

    def execute(self, cmd: Command) -> Outcome:
        """Run `cmd` as a gateway does, on the server's loop: once it returns, the read model
        (what the gateway reads) holds the command's events."""
        outcome: Outcome = self.client.portal.call(self.service.execute, cmd)  # type: ignore[attr-defined]
        return outcome


def new_account(exchange: Exchange, box: SecretBox, **funds: str) -> Signer:
    """Open an account, fund it (asset=amount) and give it a trading key; returns its signer."""
    outcome = exchange.execute(OpenAccount(actor="test", ts_ms=now_ms(), reason="test"))
    account_id = outcome.events[0].account_id  # type: ignore[union-attr]
    for asset, amount in funds.items():
        precision = exchange.engine.state.assets[asset]
        exchange.execute(
            Deposit(
                actor="test",
                ts_ms=now_ms(),
                account_id=account_id,
                asset=asset,
                amount_raw=to_raw(amount, precision),
            )
        )
    return _keyed(exchange, box, account_id)


def _keyed(exchange: Exchange, box: SecretBox, account_id: int) -> Signer:
    cmd, secret = hmac_key(box, account_id=account_id, actor="test", ts_ms=now_ms(), reason="t")
    exchange.execute(cmd)
    return Signer(None, account_id, cmd.api_key, secret)  # type: ignore[arg-type]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from serve(tmp_path)


def serve(
    tmp_path: Path,
    *,
    rate_limits: bool = True,
    traded: bool = True,
    database_url: str | None = None,
    projector_process: bool = False,
    audit: bool = False,
    **other_funds: str,
) -> Iterator[Api]:
    """The demo world in-process: the demo account keyed, and another funded keyed account.
    `traded=False`: the same world before its markets' first trades."""
    dd = DataDir(tmp_path / "data")
    url = database_url or sqlite_url(tmp_path / "store.sqlite")
    exchange = Exchange(
        dd, database_url=url, projector_process=projector_process, demo=traded, audit=audit
    )
    if not traded:
        for cmd in genesis(now_ms(), first_trades=False):
            exchange.execute(cmd)
    box = SecretBox.at(dd.master_key_file)
    demo = _keyed(exchange, box, DEMO_ACCOUNT_ID)
    funds = other_funds or {"BTC": "5", "ETH": "50", "USDT": "500000"}
    other = new_account(exchange, box, **funds)
    service = Service(exchange, "operator-token", box)
    try:
        with TestClient(create_app(service, rate_limits=rate_limits)) as client:
            other.client = client
            yield Api(
                client,
                service,
                other,
                account_id=demo.account_id,
                key=demo.key,
                secret=demo.secret,
            )
    finally:
        exchange.close(snapshot_on_close=False)


def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    """For background projections only, never for test logic ordering."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
