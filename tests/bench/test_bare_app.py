"""The bare signed endpoint `bench api` measures its ceiling with: it checks what any signed
endpoint checks (key, time window, HMAC over query plus body) and answers a small JSON body."""

import hashlib
import hmac
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from bourse.bench.api_bench import Trader, bare_server, child_pids
from bourse.bench.bare_app import BareApp
from tests.api.conftest import wait_until

KEY, SECRET = "k" * 64, "s" * 64
NOW = 1_700_000_000_000


@pytest.fixture
def client() -> TestClient:
    return TestClient(BareApp({KEY: SECRET}, clock=lambda: NOW))


def form(secret: str = SECRET, timestamp: int = NOW, **fields: str) -> str:
    body = urlencode({"symbol": "BTCUSDT", "side": "BUY", "timestamp": str(timestamp), **fields})
    return (
        f"{body}&signature={hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()}"
    )


def post(
    client: TestClient, body: str, key: str = KEY, query: str = ""
) -> tuple[int, dict[str, Any]]:
    r = client.post(
        f"/api/v3/order{'?' + query if query else ''}",
        content=body,
        headers={"X-MBX-APIKEY": key, "Content-Type": "application/x-www-form-urlencoded"},
    )
    return r.status_code, r.json()


def test_a_correctly_signed_order_is_acknowledged(client: TestClient) -> None:
    status, answer = post(client, form())
    assert status == 200
    assert answer["symbol"] == "BTCUSDT" and answer["orderId"] == 1
    assert answer["transactTime"] == NOW
    assert post(client, form())[1]["orderId"] == 2


def test_the_signature_covers_the_query_string_and_the_body(client: TestClient) -> None:
    query = "symbol=BTCUSDT&timestamp=" + str(NOW)
    body = "side=BUY"
    sig = hmac.new(SECRET.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
    assert post(client, f"{body}&signature={sig}", query=query)[0] == 200


@pytest.mark.parametrize(
    ("body", "key", "status", "code"),
    [
        (form(secret="not the secret"), KEY, 400, -1022),
        (form() + "0", KEY, 400, -1022),  # the signature altered
        (form().replace("BUY", "SELL"), KEY, 400, -1022),  # the body altered
        (form(timestamp=NOW - 6000), KEY, 400, -1021),  # outside the default 5 s window
        (form(), "x" * 64, 401, -2015),
        (form(), "", 401, -2014),
        ("side=SELL&" + form(), KEY, 400, -1101),  # side twice
        ("symbol=BTCUSDT&timestamp=" + str(NOW), KEY, 400, -1102),  # no signature
    ],
)
def test_a_wrongly_signed_order_is_refused(
    client: TestClient, body: str, key: str, status: int, code: int
) -> None:
    answered, answer = post(client, body, key)
    assert (answered, answer["code"]) == (status, code)
    assert answer["msg"]


def test_health_answers_and_other_paths_do_not_exist(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    assert client.get("/api/v3/order").status_code == 404


def test_stopping_the_bare_endpoint_stops_all_its_worker_processes() -> None:
    """A SIGTERM (how `bench api` stops it) ends the workers too: they used to outlive it and
    take CPU from the runs after."""
    with bare_server([Trader(0, KEY, SECRET)], workers=3) as server:
        workers = child_pids(server.pid)
        assert len(workers) == 2
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), timeout=30)
