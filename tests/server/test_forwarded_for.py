"""X-Forwarded-For on a real `bourse run`: ignored unless it comes from a `--trusted-proxy`, so
a local process can neither dodge an IP ban nor borrow an allow-listed address."""

import hashlib
import hmac
import time
from pathlib import Path

import httpx
import pytest

from tests.net import http
from tests.server.server import Server

pytestmark = pytest.mark.slow
ALLOWED, OTHER = "203.0.113.7", "198.51.100.9"
DEPTH = "/api/v3/depth?symbol=BTCUSDT&limit=5000"  # weight 250: 24 of them spend a minute's 6000


def _ip_key(server: Server) -> tuple[str, str]:
    body = {"accountId": 1, "ip": [ALLOWED], "reason": "a key for one address"}
    r = http.post(f"{server.url}/admin/v1/keys", json=body, headers=server.headers)
    assert r.status_code == 200, r.text
    return r.json()["apiKey"], r.json()["secretKey"]


def _account(server: Server, key: tuple[str, str], forwarded: str) -> httpx.Response:
    query = f"timestamp={int(time.time() * 1000)}"
    sig = hmac.new(key[1].encode(), query.encode(), hashlib.sha256).hexdigest()
    headers = {"X-MBX-APIKEY": key[0], "X-Forwarded-For": forwarded}
    return http.get(f"{server.url}/api/v3/account?{query}&signature={sig}", headers=headers)


def _get_banned(client: httpx.Client, forwarded: str | None) -> None:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    for _ in range(100):
        if client.get(DEPTH, headers=headers).status_code == 418:
            return
    raise AssertionError("100 requests of weight 250 did not earn a ban")


def test_forwarded_for_from_an_unnamed_peer_is_ignored(tmp_path: Path) -> None:
    server = Server(tmp_path / "data")
    try:
        r = _account(server, _ip_key(server), ALLOWED)
        assert r.status_code == 401 and r.json()["code"] == -2015, r.text

        with httpx.Client(base_url=server.url) as client:
            _get_banned(client, None)
            r = client.get("/api/v3/ping", headers={"X-Forwarded-For": OTHER})
            assert r.status_code == 418, r.text  # still the banned loopback client
    finally:
        server.stop()


def test_forwarded_for_from_a_named_proxy_names_the_client(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", "--trusted-proxy", "127.0.0.0/8")
    try:
        key = _ip_key(server)
        assert _account(server, key, ALLOWED).status_code == 200
        assert _account(server, key, OTHER).status_code == 401

        with httpx.Client(base_url=server.url) as client:
            _get_banned(client, ALLOWED)
            assert (
                client.get("/api/v3/ping", headers={"X-Forwarded-For": ALLOWED}).status_code == 418
            )
            assert client.get("/api/v3/ping", headers={"X-Forwarded-For": OTHER}).status_code == 200
            assert client.get("/api/v3/ping").status_code == 200  # the proxy itself
    finally:
        server.stop()
