"""schemathesis against the OpenAPI document a real server publishes: no 5xx, and every error
is JSON with Binance's `code` and `msg`. Signed routes are signed with a real key (a hook adds the
timestamp, the key header and the signature over the generated query string), so the fuzzing
reaches past authentication into each route's own parameter checks."""

import hashlib
import hmac
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.server.server import Server

pytestmark = pytest.mark.slow
KEY: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, shape: tuple[str, ...]) -> Iterator[Any]:
    # without rate limits: the fuzzing alone would spend a minute's weight and get banned
    server = Server(tmp_path_factory.mktemp("openapi") / "data", "--no-rate-limits", *shape)
    try:
        with httpx.Client(base_url=f"{server.url}/admin/v1", headers=server.headers) as admin:
            deposits = {"deposits": {"USDT": "1000000", "BTC": "10"}, "reason": "fuzzing"}
            account = admin.post("/accounts", json=deposits).json()
            body = {"accountId": account["accountId"], "reason": "fuzzing"}
            key = admin.post("/keys", json=body).json()
        KEY.update(key=key["apiKey"], secret=key["secretKey"])
        yield schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    finally:
        server.stop()


@schemathesis.check
def binance_error_body(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code >= 400 and case.path.startswith(("/api/", "/sapi/")):
        assert response.headers.get("content-type", [""])[0].startswith("application/json")
        body = response.json()
        assert isinstance(body, dict) and {"code", "msg"} <= body.keys(), body
        assert isinstance(body["code"], int) and isinstance(body["msg"], str), body
    return None


def _sign(case: Any) -> None:
    names = {p.name for p in case.operation.query}
    if "signature" not in names:
        return
    query = {k: v for k, v in (case.query or {}).items() if k not in ("signature", "timestamp")}
    query["timestamp"] = int(time.time() * 1000)
    query.pop("recvWindow", None)
    text = urlencode(query, doseq=True)
    query["signature"] = hmac.new(KEY["secret"].encode(), text.encode(), hashlib.sha256).hexdigest()
    case.query = query
    case.headers = {**(case.headers or {}), "X-MBX-APIKEY": KEY["key"]}


FUZZED = re.compile(r"^/(api|sapi|fapi|dapi)/")


def test_api_never_fails_with_5xx_and_always_explains(api_schema: Any) -> None:
    operations = [r.ok() for r in api_schema.get_all_operations()]
    fuzzed = [op for op in operations if FUZZED.match(op.path)]
    assert len(fuzzed) > 20
    for op in fuzzed:

        @given(case=op.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            _sign(case)
            case.call_and_validate(checks=[not_a_server_error, binance_error_body])

        fuzz()


def test_document_lists_every_binance_route(api_schema: Any) -> None:
    paths = set(api_schema.raw_schema["paths"])
    for route in (
        "/api/v3/ping", "/api/v3/time", "/api/v3/exchangeInfo", "/api/v3/depth",
        "/api/v3/trades", "/api/v3/historicalTrades", "/api/v3/aggTrades", "/api/v3/klines",
        "/api/v3/avgPrice", "/api/v3/ticker/24hr", "/api/v3/ticker/price",
        "/api/v3/ticker/bookTicker", "/api/v3/order", "/api/v3/order/test",
        "/api/v3/order/cancelReplace", "/api/v3/openOrders", "/api/v3/allOrders",
        "/api/v3/account", "/api/v3/myTrades", "/api/v3/rateLimit/order",
    ):  # fmt: skip
        assert route in paths, route
