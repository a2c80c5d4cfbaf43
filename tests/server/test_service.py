"""The running service as an operator meets it: one owner per data directory, authenticated
operator commands that answer once durable, clear errors, snapshots and store rebuilds."""

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bourse.server.datadir import DataDir
from tests.net import http
from tests.server.server import Server, module_server, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A server of the test's own: for a test that changes balances or stops it."""
    s = Server(tmp_path / "data")
    yield s
    if s.proc.poll() is None:
        s.stop()


@pytest.fixture(scope="module")
def unchanged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the tests that change nothing on it (each checks that it did not)."""
    yield from module_server(tmp_path_factory)


def test_a_second_process_is_refused_while_the_first_owns_the_directory(unchanged: Server) -> None:
    server = unchanged
    result = run_cli("run", "--data-dir", str(server.data_dir), "--port", "1")
    assert result.returncode == 2
    assert "in use by another bourse process" in result.stderr
    replay = run_cli("replay", "--data-dir", str(server.data_dir))
    assert replay.returncode == 2
    assert "in use by another bourse process" in replay.stderr


def test_operator_token_is_private_and_required(unchanged: Server) -> None:
    server = unchanged
    assert (server.data_dir / "operator.token").stat().st_mode & 0o777 == 0o600
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        r = http.get(f"{server.url}/admin/v1/state", headers=headers)
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/json"
        assert r.json()["error"] == "UNAUTHORIZED"


R = "test"  # every admin action names why
CASES = [
    # (route, body, status, admin error, words the message must contain)
    (
        "deposits",
        {"account_id": 1, "asset": "BTC", "amount": "0.123456789", "reason": R},
        400,
        "BAD_REQUEST",
        "9 decimals",
    ),
    (
        "deposits",
        {"account_id": 1, "asset": "DOGE", "amount": "1", "reason": R},
        404,
        "ASSET_NOT_FOUND",
        "DOGE",
    ),
    (
        "deposits",
        {"account_id": 1, "asset": "BTC", "amount": "-1", "reason": R},
        400,
        "BAD_REQUEST",
        "positive",
    ),
    (
        "deposits",
        {"account_id": 99, "asset": "BTC", "amount": "1", "reason": R},
        404,
        "ACCOUNT_NOT_FOUND",
        "account 99",
    ),
    ("deposits", {"account_id": 1, "asset": "BTC", "amount": "1"}, 400, "REASON_REQUIRED", ""),
    (
        "commands",
        {"type": "SetSymbolStatus", "symbol": "NOPE", "status": "HALT", "reason": R},
        404,
        "SYMBOL_NOT_FOUND",
        "NOPE",
    ),
    (
        "commands",
        {
            "type": "PlaceOrder",  # a customer's command: it goes through the Binance API
            "account_id": 1,
            "symbol": "BTCUSDT",
            "side": "BUY",
            "order_type": "LIMIT",
            "price_raw": 5_000_000_000_000,
            "qty_raw": 10**5,
            "reason": R,
        },
        400,
        "BAD_REQUEST",
        "'PlaceOrder' is not a command an admin may send",
    ),
    (
        "commands",
        {"type": "SetSymbolStatus", "symbol": "ETHBTC", "status": "HALT", "reason": ""},
        400,
        "REASON_REQUIRED",
        "reason",
    ),
    ("commands", {"type": "NoSuchCommand", "reason": R}, 400, "BAD_REQUEST", "NoSuchCommand"),
    (
        "commands",
        {"type": "Deposit", "account_id": "one", "reason": R},
        400,
        "BAD_REQUEST",
        "malformed",
    ),
]


@pytest.mark.parametrize(("route", "body", "status", "error", "words"), CASES)
def test_bad_operator_input_gets_a_json_error_and_changes_nothing(
    unchanged: Server, route: str, body: dict[str, object], status: int, error: str, words: str
) -> None:
    server = unchanged
    before = http.get(f"{server.url}/admin/v1/state", headers=server.headers).json()
    r = http.post(f"{server.url}/admin/v1/{route}", json=body, headers=server.headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"] == error
    assert words.lower() in r.json()["message"].lower()
    after = http.get(f"{server.url}/admin/v1/state", headers=server.headers).json()
    refused_in_engine = after["last_seq"] - before["last_seq"]  # a refusal is still journaled
    assert refused_in_engine in (0, 1)
    assert after["digest"] == before["digest"] or refused_in_engine == 1
    account = http.get(f"{server.url}/admin/v1/accounts/1", headers=server.headers).json()
    assert {"asset": "BTC", "free": "10.00000000", "locked": "0.00000000"} in account["balances"]


def test_an_order_answered_by_the_server_trades_and_moves_balances(server: Server) -> None:
    key = DataDir(server.data_dir).demo_key()  # the demo account's, as a customer's client
    assert key is not None
    query = urlencode(
        {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
        | {"newOrderRespType": "FULL", "timestamp": int(time.time() * 1000)}
    )  # 0.01 BTC at the demo ask
    sig = hmac.new(str(key["secretKey"]).encode(), query.encode(), hashlib.sha256).hexdigest()
    r = http.post(
        f"{server.url}/api/v3/order?{query}&signature={sig}",
        headers={"X-MBX-APIKEY": str(key["apiKey"])},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "FILLED" and r.json()["fills"]
    account = http.get(f"{server.url}/admin/v1/accounts/1", headers=server.headers).json()
    btc = next(b for b in account["balances"] if b["asset"] == "BTC")
    assert btc["free"] == "10.00999000"  # 0.01 BTC less the 0.1 % taker fee


def test_snapshot_goes_through_the_running_server_and_replay_agrees(server: Server) -> None:
    result = run_cli("snapshot", "--data-dir", str(server.data_dir))
    assert result.returncode == 0, result.stderr
    taken = json.loads(result.stdout)
    state = http.get(f"{server.url}/admin/v1/state", headers=server.headers).json()
    assert taken["seq"] == state["last_seq"]
    server.stop()
    replayed = run_cli("replay", "--data-dir", str(server.data_dir), "--rebuild-store")
    assert replayed.returncode == 0, replayed.stderr
    out = json.loads(replayed.stdout)
    assert out["digest"] == state["digest"]
    assert "matches" in out["snapshot"]
    assert out["store_rebuilt"] is True
