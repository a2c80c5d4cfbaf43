"""A subscriber that stops reading is cut off, while a second subscriber and matching go on:
against a real `bourse run` on loopback, with a client socket that never reads."""

import base64
import hashlib
import hmac
import json
import os
import socket
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import websockets.sync.client as ws_client

from tests.net import http
from tests.server.server import Server, cli

pytestmark = pytest.mark.slow
QUEUE = 200  # --stream-queue: messages that may wait for one subscriber


def _silent_subscriber(port: int, path: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads: a tiny receive
    buffer, so the server's sends back up at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _signed_post(client: httpx.Client, key: dict[str, str], **fields: str) -> dict[str, object]:
    text = urlencode({**fields, "timestamp": int(time.time() * 1000)})
    sig = hmac.new(key["secret"].encode(), text.encode(), hashlib.sha256).hexdigest()
    r = client.post(f"/api/v3/order?{text}&signature={sig}", headers={"X-MBX-APIKEY": key["key"]})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _trades(server: Server, maker: dict[str, str], taker: dict[str, str], count: int) -> None:
    """`count` trades at 60005, between the demo maker's quotes: each a resting sell taken by a
    buy from another account, so the best ask moves twice per trade too."""
    order = {"symbol": "BTCUSDT", "type": "LIMIT", "quantity": "0.001", "price": "60005"}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(count):
            _signed_post(client, maker, side="SELL", timeInForce="GTC", **order)
            taken = _signed_post(client, taker, side="BUY", timeInForce="IOC", **order)
            assert taken["status"] == "FILLED", taken


def test_a_subscriber_that_stops_reading_is_cut_off_and_nobody_else_waits(tmp_path: Path) -> None:
    server = Server(tmp_path / "data", "--stream-queue", str(QUEUE), "--no-rate-limits")
    try:
        demo = json.loads((server.data_dir / "demo-api-key.json").read_text())
        maker = {"key": demo["apiKey"], "secret": demo["secretKey"]}
        opened = json.loads(
            cli(
                server, "accounts", "create", "--deposit", "USDT=1000000", "--reason", "t", "--json"
            )
        )
        account = str(opened["accountId"])
        made = json.loads(
            cli(server, "keys", "create", "--account", account, "--reason", "t", "--json")
        )
        taker = {"key": made["apiKey"], "secret": made["secretKey"]}
        noisy = "btcusdt@trade/btcusdt@aggTrade/btcusdt@bookTicker/btcusdt@depth20@100ms"
        silent = _silent_subscriber(server.port, f"/ws/{noisy}")
        url = f"ws://127.0.0.1:{server.port}/ws/btcusdt@trade"
        with ws_client.connect(url) as reader:
            count = 1500  # ~4 messages each for the silent client: far more than buffers hold
            _trades(server, maker, taker, count)
            received = [json.loads(reader.recv(timeout=10)) for _ in range(count)]
        assert [m["e"] for m in received] == ["trade"] * count
        assert len({m["t"] for m in received}) == count  # every trade, none twice
        status = http.get(f"{server.url}/admin/v1/streams", headers=server.headers).json()
        assert status["cutOff"] == 1, status
        assert status["streams"] == {}, status  # both gone: one cut off, one left
        # The silent client, reading at last, gets what was in flight when it was cut, and then
        # the end of the connection; the server says why in its log.
        silent.settimeout(20)
        data = b""
        while chunk := silent.recv(65536):
            data += chunk
        assert len(data) < 1_000_000  # not every message: the hub stopped queuing to it
        silent.close()
        assert "stream subscriber cut off: slow consumer" in server.output()
    finally:
        server.stop()
