"""Amounts beyond 64 bits end to end, on a real `bourse run` with each store: two deposits of
100,000,000,000 KZT (8 decimals: 1e19 raw units each, together past 2**64), a trade, a snapshot
on stop, a restart, `bourse replay`, and the store's rows, all exact to the last unit."""

import hashlib
import hmac
import signal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from bourse.demo import KZ_ACCOUNT_ID
from bourse.domain.money import to_raw
from bourse.server.exchange import now_ms
from bourse.store import schema
from bourse.store.db import create_store_engine, sqlite_url
from tests.net import http
from tests.server.server import Server, run_cli

pytestmark = pytest.mark.slow
DEPOSIT = "100000000000"  # KZT


def _admin(server: Server, method: str, path: str, body: Any = None) -> Any:
    r = http.request(
        method, f"{server.url}/admin/v1{path}", json=body, headers=server.headers, timeout=30
    )
    assert r.status_code == 200, r.text
    return r.json()


def _signed(server: Server, method: str, path: str, key: tuple[str, str], **params: Any) -> Any:
    text = urlencode({**params, "timestamp": now_ms()})
    sig = hmac.new(key[1].encode(), text.encode(), hashlib.sha256).hexdigest()
    url = f"{server.url}{path}?{text}&signature={sig}"
    r = http.request(method, url, headers={"X-MBX-APIKEY": key[0]}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def _kzt(balances: list[dict[str, str]]) -> tuple[str, str]:
    found = next(b for b in balances if b["asset"] == "KZT")
    return found["free"], found["locked"]


def _store_kzt(url: str) -> tuple[int, int]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.select(schema.balances.c.free_raw, schema.balances.c.locked_raw).where(
                    schema.balances.c.account_id == KZ_ACCOUNT_ID,
                    schema.balances.c.asset == "KZT",
                )
            ).one()
    finally:
        engine.dispose()
    return row.free_raw, row.locked_raw


def _interrupt(server: Server) -> None:
    """Ctrl-C, as the banner says to stop: the server drains and snapshots."""
    server.proc.send_signal(signal.SIGINT)
    server.proc.wait(timeout=120)


def test_balances_beyond_64_bits_survive_trading_restart_and_replay(
    tmp_path: Path, store_url: str
) -> None:
    data_dir = tmp_path / "data"
    url = "" if store_url.startswith("sqlite") else store_url
    server = Server(data_dir, database_url=url)
    try:
        for _ in range(2):
            body = {"account_id": KZ_ACCOUNT_ID, "asset": "KZT", "amount": DEPOSIT, "reason": "t"}
            _admin(server, "POST", "/deposits", body)
        created = _admin(server, "POST", "/keys", {"accountId": KZ_ACCOUNT_ID, "reason": "t"})
        key = (created["apiKey"], created["secretKey"])
        order = _signed(
            server, "POST", "/api/v3/order", key,
            symbol="BTCKZT", side="BUY", type="MARKET", quantity="0.01",
        )  # fmt: skip
        assert order["status"] == "FILLED", order
        engine_kzt = _kzt(_admin(server, "GET", f"/accounts/{KZ_ACCOUNT_ID}")["balances"])
        free_raw = to_raw(engine_kzt[0], 8)
        assert free_raw > 2**64  # the case msgpack's integers cannot hold
        assert _kzt(_signed(server, "GET", "/api/v3/account", key)["balances"]) == engine_kzt
    finally:
        _interrupt(server)
    assert list((data_dir / "snapshots").iterdir()), "a snapshot was written on stop"

    server = Server(data_dir, database_url=url)  # recovers from that snapshot
    try:
        assert _kzt(_signed(server, "GET", "/api/v3/account", key)["balances"]) == engine_kzt
    finally:
        _interrupt(server)

    replayed = run_cli("replay", "--rebuild-store", "--data-dir", str(data_dir), database_url=url)
    assert replayed.returncode == 0, replayed.stderr
    assert "matches" in replayed.stdout, replayed.stdout
    store = url or sqlite_url(data_dir / "store.sqlite")
    assert _store_kzt(store) == (free_raw, to_raw(engine_kzt[1], 8))
