"""Binance's listenKey endpoints (USER_STREAM: the API key header, no signature):
`POST /api/v3/userDataStream` starts a user data stream, `PUT` keeps it alive for another 60
minutes, `DELETE` closes it (its connections at `/ws/<listenKey>` close too). The events
themselves go out on the WebSocket streams (`bourse.streams.user_feed`)."""

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bourse.api.binance.auth import actor, key_holder
from bourse.api.binance.gateway import Gateway, gateway
from bourse.api.binance.params import P, Params, openapi
from bourse.api.binance.replies import JSON, ApiError, ok
from bourse.commands import CloseListenKey, ExtendListenKey, OpenListenKey
from bourse.events import ListenKeyExtended, ListenKeyOpened
from bourse.streams.listen_keys import new_key
from bourse.streams.service import Realtime
from bourse.view.model import KeyView

router = APIRouter(prefix="/api/v3", tags=["User data stream"])
_KEY_HEADER = {
    "name": "X-MBX-APIKEY",
    "in": "header",
    "required": True,
    "description": "The API key whose account the stream follows (no signature)",
    "schema": {"type": "string"},
}
_NONE = openapi()
_NONE["parameters"].append(_KEY_HEADER)
_LISTEN_KEY = openapi(P("listenKey", required=True, description="The key POST returned"))
_LISTEN_KEY["parameters"].append(_KEY_HEADER)
_EXAMPLE_KEY = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"


def _example(body: Any) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": "OK", "content": {JSON: {"example": body}}}}


def no_such_key() -> ApiError:
    return ApiError(-1125, "This listenKey does not exist.")


# --- the operations, shared with the WebSocket API's userDataStream.start/ping/stop -----------


async def open_listen_key(gw: Gateway, key: KeyView) -> str:
    """The API key's live listenKey, valid for another 60 minutes, or a new one (journaled)."""
    cmd = OpenListenKey(
        actor=actor(key.api_key),
        ts_ms=gw.clock(),
        account_id=key.account_id,
        api_key=key.api_key,
        listen_key=new_key(),
    )
    for e in (await gw.service.execute(cmd)).events:
        if isinstance(e, (ListenKeyOpened, ListenKeyExtended)):
            return e.listen_key
    raise ApiError(-1001, "the listenKey could not be opened; please try again", 500)


async def extend_listen_key(gw: Gateway, key: KeyView, listen_key: str) -> None:
    await _on_key(gw, ExtendListenKey, key, listen_key)


async def close_listen_key(gw: Gateway, rt: Realtime, key: KeyView, listen_key: str) -> None:
    """The key stops working and its stream connections close."""
    await _on_key(gw, CloseListenKey, key, listen_key)
    rt.end_listen_key(listen_key)


async def _on_key(
    gw: Gateway, kind: type[ExtendListenKey | CloseListenKey], key: KeyView, listen_key: str
) -> None:
    """Journal `kind` for the API key's `listen_key`; -1125 if it holds no such live key."""
    cmd = kind(
        actor=actor(key.api_key), ts_ms=gw.clock(), api_key=key.api_key, listen_key=listen_key
    )
    if (await gw.service.execute(cmd)).refused:
        raise no_such_key()


def realtime(request: Request) -> Realtime:
    rt: Realtime = request.app.state.realtime
    return rt


@router.post(
    "/userDataStream",
    summary="Start a user data stream (USER_STREAM)",
    description="The API key's live listenKey, valid for another 60 minutes, or a new one.",
    openapi_extra=_NONE,
    responses=_example({"listenKey": _EXAMPLE_KEY}),
)
async def start(request: Request) -> Response:
    gw = gateway(request)
    key = key_holder(gw.keys, request, trade=False)
    return ok({"listenKey": await open_listen_key(gw, key)})


@router.put(
    "/userDataStream",
    summary="Keep a user data stream alive (USER_STREAM)",
    description="Valid for 60 minutes from now; -1125 if the key expired or was closed.",
    openapi_extra=_LISTEN_KEY,
    responses=_example({}),
)
async def keep_alive(request: Request) -> Response:
    gw = gateway(request)
    key = key_holder(gw.keys, request, trade=False)
    await extend_listen_key(gw, key, (await Params.read(request)).text("listenKey"))
    return ok({})


@router.delete(
    "/userDataStream",
    summary="Close a user data stream (USER_STREAM)",
    description="The key stops working and its stream connections close.",
    openapi_extra=_LISTEN_KEY,
    responses=_example({}),
)
async def close(request: Request) -> Response:
    gw = gateway(request)
    key = key_holder(gw.keys, request, trade=False)
    listen_key = (await Params.read(request)).text("listenKey")
    await close_listen_key(gw, realtime(request), key, listen_key)
    return ok({})
