"""Binance's WebSocket market streams: `/ws/<stream>[/<stream>...]` (raw payloads) and
`/stream?streams=<a>/<b>` (each wrapped as {"stream", "data"}), with the live SUBSCRIBE,
UNSUBSCRIBE and LIST_SUBSCRIPTIONS methods; a listenKey among the names is that account's user
data stream (the connection closes when the key expires or is closed). The server pings every
20 s (uvicorn); a subscriber that stops reading is cut off by the hub, with the reason as the
close frame's. As on Binance, a connection may send 5 messages a second and an IP may attempt 300
connections in any 5 minutes (the one past that gets HTTP 429); `bourse run --no-rate-limits`
lifts the attempt limit with the REST limits."""

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import msgspec
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from bourse.api.binance.auth import client_host
from bourse.api.deps import OperatorDep
from bourse.streams.hub import SLOW, Subscriber
from bourse.streams.limits import WindowLimit
from bourse.streams.listen_keys import looks_like_key
from bourse.streams.service import MAX_CONNECTIONS, NO_SUCH_KEY, Realtime, Refused, drain

router = APIRouter()
TOO_MANY = 1013  # "try again later"
CLOSE_WAIT_S = 5.0
log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode


async def _read(ws: WebSocket, sub: Subscriber, rt: Realtime) -> None:
    rate = WindowLimit(rt.messages_per_s)
    while True:
        text = await ws.receive_text()
        if not rate.allow():
            sub.cut(f"more than {rate.limit} messages per second")
            return
        try:
            reply = rt.handle(sub, text)
        except Refused as exc:
            reply = exc.body
            if exc.body["error"]["msg"] == NO_SUCH_KEY:
                # made through another gateway process a moment ago: known once caught up
                await ws.app.state.service.caught_up()
                try:
                    reply = rt.handle(sub, text)
                except Refused as again:
                    reply = again.body
        if not sub.offer(_encode(reply).decode()):  # in order with the stream messages
            return  # its queue was full: cut off, as the hub would


async def _serve(ws: WebSocket, names: list[str], combined: bool) -> None:
    rt: Realtime = ws.app.state.realtime
    if rt.attempts is not None and not rt.attempts.allow(client_host(ws)):
        limit = rt.attempts
        msg = f"Too many connection attempts: more than {limit.limit} in {limit.seconds:.0f} s"
        await _refuse(ws, msg)
        return
    sub = Subscriber(combined, rt.queue_limit)
    if any(looks_like_key(name) for name in names):
        # a listenKey made through another gateway process a moment ago: known here once caught up
        await ws.app.state.service.caught_up()
    # Subscribed before the connection is accepted: a client that acts as soon as it is
    # connected (places an order) gets what that causes, never a stream that starts after it.
    try:
        for name in names:
            rt.subscribe(sub, rt.stream(name))
    except Refused as exc:
        rt.drop(sub)
        await ws.accept()
        await ws.send_text(_encode(exc.body).decode())
        await ws.close(SLOW, str(exc)[:120])
        return
    try:
        await ws.accept()
    except BaseException:
        rt.drop(sub)
        raise
    if rt.connections >= MAX_CONNECTIONS:
        rt.drop(sub)
        await ws.close(TOO_MANY, f"more than {MAX_CONNECTIONS} stream connections")
        return
    rt.connections += 1
    handler = asyncio.current_task()
    writer = asyncio.get_running_loop().create_task(drain(ws, sub))
    sub.tasks = [writer] if handler is None else [writer, handler]  # what a cut-off cancels
    try:
        await _read(ws, sub, rt)
    except asyncio.CancelledError:
        if not sub.cut_reason or handler is None:
            raise  # the server is stopping
        handler.uncancel()  # cancelled by the hub's cut-off: go on to close
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client left (RuntimeError: while we were closing)
    finally:
        rt.connections -= 1
        rt.drop(sub)
        writer.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await writer
    if sub.cut_reason:
        log.warning("stream subscriber cut off: %s", sub.cut_reason)
        # The close frame waits behind what the socket still holds: if the client does not read
        # within CLOSE_WAIT_S, returning closes the connection without it.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(SLOW, sub.cut_reason[:120]), CLOSE_WAIT_S)


async def _refuse(ws: WebSocket, msg: str) -> None:
    """Refuse the handshake with HTTP 429 and Binance's error body (where the server lets the
    app answer a handshake; otherwise a close before accepting, which the server turns into 403)."""
    if "websocket.http.response" in ws.scope.get("extensions", {}):
        await ws.send_denial_response(JSONResponse({"code": -1003, "msg": msg}, status_code=429))
    else:
        await ws.close(TOO_MANY, msg)


@router.websocket("/ws")
async def raw_none(ws: WebSocket) -> None:
    await _serve(ws, [], combined=False)


@router.websocket("/ws/{streams:path}")
async def raw(ws: WebSocket, streams: str) -> None:
    # A segment that names no stream (no '@') nor a listenKey subscribes to nothing, as on
    # Binance: ccxt tells its connections apart by one (/ws/0, /ws/1) and then SUBSCRIBEs.
    names = [s for s in streams.split("/") if "@" in s or looks_like_key(s)]
    await _serve(ws, names, combined=False)


@router.websocket("/stream")
async def combined(ws: WebSocket) -> None:
    names = ws.query_params.get("streams", "")
    await _serve(ws, [s for s in names.split("/") if s], combined=True)


@router.get(
    "/admin/v1/streams",
    tags=["operator"],
    summary="Stream connections, subscribers per stream, and subscribers cut off as too slow",
)
async def stream_status(request: Request, actor: OperatorDep) -> dict[str, object]:
    """WebSocket connections open now, subscribers per stream, and the subscribers cut off for
    reading too slowly (with why), for an operator watching the real-time feeds: in all the
    processes that serve (`bourse run --gateways N`), each counting its own connections."""
    service = request.app.state.service
    counts: Counter[str] = Counter()
    connections = cut_off = 0
    for stats in await service.ask_every_process(STREAM_STATS):
        connections += stats["connections"]
        cut_off += stats["cutOff"]
        counts.update(stats["streams"])
    return {"connections": connections, "streams": dict(sorted(counts.items())), "cutOff": cut_off}


STREAM_STATS = "streams"  # what a process answers about its own stream connections


def stream_stats(rt: Realtime) -> dict[str, Any]:
    return {"connections": rt.connections, "streams": rt.hub.counts(), "cutOff": rt.hub.cut_off}


def stream_gauges(rt: Realtime) -> Iterator[tuple[str, str, dict[str, str], float]]:
    """The Prometheus gauges of a process's stream connections."""
    queues = rt.hub.queues()
    yield "bourse_stream_subscribers", "WebSocket stream subscribers", {}, len(queues)
    waiting = "Stream messages waiting for subscribers: in all queues, and in the longest"
    yield "bourse_stream_queued", waiting, {"of": "all"}, sum(queues)
    yield "bourse_stream_queued", waiting, {"of": "longest"}, max(queues, default=0)
    cut = "Subscribers cut off for not reading, since start"
    yield "bourse_stream_cut_off", cut, {}, rt.hub.cut_off
