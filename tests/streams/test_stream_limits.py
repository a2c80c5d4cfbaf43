"""Binance's limit on stream connection attempts: 300 per IP in any 5 minutes, the next refused
with HTTP 429 and Binance's error body, through the test client and through uvicorn."""

from pathlib import Path

import pytest
import websockets.sync.client as ws_client
from starlette.testclient import WebSocketDenialResponse
from websockets.exceptions import InvalidStatus

from bourse.streams.limits import ConnectionAttempts, WindowLimit
from tests.api.conftest import Api
from tests.server.server import Server


def test_attempts_past_the_limit_are_refused_until_the_window_moves_on(live: Api) -> None:
    now = [1000.0]
    live.client.app.state.realtime.attempts = ConnectionAttempts(3, 300.0, lambda: now[0])
    for _ in range(3):
        with live.client.websocket_connect("/ws/btcusdt@trade"):
            pass
    with (
        pytest.raises(WebSocketDenialResponse) as refused,
        live.client.websocket_connect("/stream?streams=btcusdt@trade"),
    ):
        pass
    assert refused.value.status_code == 429
    assert refused.value.json() == {
        "code": -1003,
        "msg": "Too many connection attempts: more than 3 in 300 s",
    }
    now[0] += 299.0  # still within 5 minutes of the first
    with pytest.raises(WebSocketDenialResponse), live.client.websocket_connect("/ws"):
        pass
    now[0] += 1.0  # the first three are 300 s old (refused attempts are not counted)
    with live.client.websocket_connect("/ws"):
        pass


def test_a_window_limit_counts_only_the_last_seconds() -> None:
    now = [0.0]
    limit = WindowLimit(2, 1.0, lambda: now[0])
    assert [limit.allow(), limit.allow(), limit.allow()] == [True, True, False]
    now[0] = 0.999
    assert not limit.allow() and not limit.idle()
    now[0] = 1.0
    assert limit.allow()  # the two at 0.0 have left the window
    now[0] = 3.0
    assert limit.idle()


@pytest.mark.slow
def test_uvicorn_refuses_the_301st_attempt_with_429(tmp_path: Path) -> None:
    server = Server(tmp_path / "data")  # rate limits on, as `make run` serves
    try:
        url = f"ws://127.0.0.1:{server.port}/ws/btcusdt@trade"
        for _ in range(300):
            with ws_client.connect(url, compression=None):
                pass
        with pytest.raises(InvalidStatus) as refused, ws_client.connect(url):
            pass
        response = refused.value.response
        assert response.status_code == 429
        assert b'"code":-1003' in response.body
    finally:
        server.stop()
