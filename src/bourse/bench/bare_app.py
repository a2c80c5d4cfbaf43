"""The ceiling `bourse bench api` measures bourse against: a bare signed `POST /api/v3/order`.

A raw ASGI app, served the way `bourse run` serves bourse (uvicorn with the same loop, HTTP
parser, settings and number of processes), that does only what any signed endpoint must: read
the body, parse the form and query string as Binance does, find the key named in X-MBX-APIKEY,
check the time window and the HMAC-SHA256 signature over the raw query plus body, and answer a
small JSON acknowledgement. No matching, no journal, no store: the difference between its rate
and bourse's is what bourse's own work costs.

Run as `python -m bourse.bench.bare_app --port P --keys FILE [--workers N]`, FILE holding a JSON
object of API key to secret.
"""

import argparse
import hashlib
import hmac
import itertools
import json
import multiprocessing
import signal
import socket
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import msgspec

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ORDER = ("POST", "/api/v3/order")
KEY_HEADER = b"x-mbx-apikey"
DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000
FUTURE_TOLERANCE_MS = 1000
# As `bourse run`: a short GIL switch interval and a bounded send buffer per connection.
SWITCH_INTERVAL_S = 0.0001
SEND_BUFFER = 256 * 1024
_encode = msgspec.json.Encoder().encode
_HEADERS = [(b"content-type", b"application/json")]


class Refused(Exception):
    """A request a signed endpoint refuses: HTTP status and Binance's code and message."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def _parse(raw: bytes, into: dict[str, str]) -> None:
    seen: set[str] = set()
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if name in seen:
            raise Refused(400, -1101, "Duplicate values for a parameter detected.")
        seen.add(name)
        into[name] = value


def _without_signature(raw: bytes) -> bytes:
    if b"signature=" not in raw:
        return raw
    return b"&".join(p for p in raw.split(b"&") if not p.startswith(b"signature="))


class BareApp:
    """Answers signed orders for the keys in `secrets` (API key -> secret) and `GET /health`."""

    def __init__(self, secrets: dict[str, str], clock: Callable[[], int] | None = None) -> None:
        self._secrets = {k: s.encode() for k, s in secrets.items()}
        self._clock = clock or (lambda: time.time_ns() // 1_000_000)
        self._ids = itertools.count(1)

    def accept(self, api_key: str | None, query: bytes, body: bytes) -> dict[str, Any]:
        """The acknowledgement of a signed order, or Refused."""
        if not api_key:
            raise Refused(401, -2014, "API-key format invalid.")
        secret = self._secrets.get(api_key)
        if secret is None:
            raise Refused(401, -2015, "Invalid API-key, IP, or permissions for action.")
        values: dict[str, str] = {}
        _parse(body, values)
        _parse(query, values)  # the query string wins, as on Binance
        now = self._clock()
        try:
            timestamp = int(values["timestamp"])
            window = int(values.get("recvWindow", DEFAULT_RECV_WINDOW))
        except (KeyError, ValueError):
            raise Refused(400, -1102, "Mandatory parameter 'timestamp' was not sent.") from None
        if not 0 < window <= MAX_RECV_WINDOW or not (
            now - window <= timestamp < now + FUTURE_TOLERANCE_MS
        ):
            raise Refused(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        signature = values.get("signature")
        if not signature:
            raise Refused(400, -1102, "Mandatory parameter 'signature' was not sent.")
        payload = _without_signature(query) + _without_signature(body)
        expected = hmac.new(secret, payload, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise Refused(400, -1022, "Signature for this request is not valid.")
        return {
            "symbol": values.get("symbol", ""),
            "orderId": next(self._ids),
            "orderListId": -1,
            "clientOrderId": values.get("newClientOrderId", ""),
            "transactTime": now,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        route = (scope["method"], scope["path"])
        if route == ORDER:
            body = await _body(receive)
            key = next((v for k, v in scope["headers"] if k == KEY_HEADER), None)
            try:
                status, answer = (
                    200,
                    self.accept(
                        key.decode("latin-1") if key else None, scope["query_string"], body
                    ),
                )
            except Refused as exc:
                status, answer = exc.status, {"code": exc.code, "msg": exc.msg}
        elif route == ("GET", "/health"):
            status, answer = 200, {"status": "ok"}
        else:
            status, answer = 404, {"code": -1000, "msg": "Not found."}
        content = _encode(answer)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*_HEADERS, (b"content-length", str(len(content)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": content})


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _listening_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    sock.bind(("127.0.0.1", port))
    sock.set_inheritable(True)
    return sock


def _serve(app: BareApp, sock: socket.socket) -> None:
    import uvicorn

    sys.setswitchinterval(SWITCH_INTERVAL_S)
    config = uvicorn.Config(  # the settings `bourse run` gives uvicorn
        app,
        log_level="warning",
        timeout_graceful_shutdown=10,
        proxy_headers=False,
        ws_ping_interval=20,
        ws_ping_timeout=60,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _exit(signum: int, frame: object) -> None:
    sys.exit(128 + signum)


def serve(port: int, secrets: dict[str, str], workers: int = 1) -> None:
    """Serve on 127.0.0.1:`port` from `workers` processes sharing one listening socket (the
    others are children of this one, so /proc counts their CPU as the server's)."""
    sock = _listening_socket(port)
    ctx = multiprocessing.get_context("fork")  # before any event loop exists
    others = [ctx.Process(target=_serve, args=(BareApp(secrets), sock)) for _ in range(workers - 1)]
    for p in others:
        p.daemon = True
        p.start()
    # After its graceful stop uvicorn raises the signal it caught again, under the handler it
    # found: the default one would kill this process before `finally`, leaving the workers
    # running (six of them outlived their benches so, taking CPU from the next runs).
    signal.signal(signal.SIGTERM, _exit)
    try:
        _serve(BareApp(secrets), sock)
    finally:
        for p in others:
            p.terminate()
        for p in others:
            p.join(timeout=10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bourse.bench.bare_app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys", type=Path, required=True, help="JSON: API key -> secret")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    serve(args.port, json.loads(args.keys.read_text()), args.workers)


if __name__ == "__main__":
    main()
