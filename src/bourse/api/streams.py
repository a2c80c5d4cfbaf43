"""Binance's WebSocket market streams: `/ws/<stream>[/<stream>...]` (raw payloads) and
`/stream?streams=<a>/<b>` (each wrapped as {"stream", "data"}), with the live SUBSCRIBE,
UNSUBSCRIBE and LIST_SUBSCRIPTIONS methods; a listenKey among the names is that account's user
data stream (the connection closes when the key expires or is closed). The server pings every
20 s (uvicorn); a subscriber that stops reading is cut off by the hub, with the reason as the
close frame's."""

import asyncio
import contextlib
import logging

import msgspec
from fastapi import APIRouter
from starlette.requests import Request
from starlette.websockets import WebSocket, WebSocketDisconnect

from bourse.api.deps import OperatorDep
from bourse.realtime.hub import SLOW, Subscriber
from bourse.realtime.service import MAX_CONNECTIONS, MessageRate, Realtime, Refused, drain

router = APIRouter()
TOO_MANY = 1013  # "try again later"
CLOSE_WAIT_S = 5.0
log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode


async def _read(ws: WebSocket, sub: Subscriber, rt: Realtime) -> None:
    rate = MessageRate(rt.messages_per_s)
    while True:
        text = await ws.receive_text()
        if not rate.allow():
            sub.cut(f"more than {rate.limit} messages per second")
            return
        try:
            reply = rt.handle(sub, text)
        except Refused as exc:
            reply = exc.body
        sub.offer(_encode(reply).decode())  # in order with the stream messages


async def _serve(ws: WebSocket, names: list[str], combined: bool) -> None:
    rt: Realtime = ws.app.state.realtime
    await ws.accept()
    if rt.connections >= MAX_CONNECTIONS:
        await ws.close(TOO_MANY, f"more than {MAX_CONNECTIONS} stream connections")
        return
    sub = Subscriber(combined, rt.queue_limit)
    try:
        for name in names:
            rt.subscribe(sub, rt.stream(name))
    except Refused as exc:
        rt.drop(sub)
        await ws.send_text(_encode(exc.body).decode())
        await ws.close(SLOW, str(exc)[:120])
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


@router.websocket("/ws")
async def raw_none(ws: WebSocket) -> None:
    await _serve(ws, [], combined=False)


@router.websocket("/ws/{streams:path}")
async def raw(ws: WebSocket, streams: str) -> None:
    await _serve(ws, [s for s in streams.split("/") if s], combined=False)


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
    rt: Realtime = request.app.state.realtime
    return {
        "connections": rt.connections,
        "streams": {name: n for name, n in sorted(rt.hub.counts().items())},
        "cutOff": rt.hub.cut_off,
    }
