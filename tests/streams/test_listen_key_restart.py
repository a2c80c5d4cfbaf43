"""A listenKey is journaled like every acknowledged request: after `bourse run` stops and starts
again on the same data directory, the key still opens its user data stream, whose events then
follow the account's orders; a key closed before the restart stays closed."""

import json
from pathlib import Path

import httpx
import pytest
import websockets.sync.client as ws_client

from tests.net import http
from tests.server.server import Server
from tests.streams.test_slow_subscriber import _signed_post

pytestmark = pytest.mark.slow


def test_a_listen_key_survives_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Server(data)
    try:
        demo = json.loads((data / "demo-api-key.json").read_text())
        trader = {"key": demo["apiKey"], "secret": demo["secretKey"]}
        headers = {"X-MBX-APIKEY": trader["key"]}
        kept = http.post(f"{server.url}/api/v3/userDataStream", headers=headers).json()
        assert len(kept["listenKey"]) == 64
    finally:
        server.stop()

    server = Server(data)  # recovers from the snapshot written on stop
    try:
        again = http.post(f"{server.url}/api/v3/userDataStream", headers=headers).json()
        assert again == kept  # still the live key, extended
        with ws_client.connect(f"ws://127.0.0.1:{server.port}/ws/{kept['listenKey']}") as ws:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                order = _signed_post(
                    client, trader, symbol="BTCUSDT", side="BUY", type="LIMIT",
                    timeInForce="GTC", quantity="0.001", price="50000",
                )  # fmt: skip
            report = json.loads(ws.recv(timeout=10))
        assert (report["e"], report["i"], report["X"]) == (
            "executionReport",
            order["orderId"],
            "NEW",
        )
        closed = http.request(
            "DELETE",
            f"{server.url}/api/v3/userDataStream",
            params={"listenKey": kept["listenKey"]},
            headers=headers,
        )
        assert closed.status_code == 200, closed.text
    finally:
        server.stop()

    server = Server(data)
    try:
        gone = http.put(
            f"{server.url}/api/v3/userDataStream",
            params={"listenKey": kept["listenKey"]},
            headers=headers,
        )
        assert gone.status_code == 400 and gone.json()["code"] == -1125
    finally:
        server.stop()
