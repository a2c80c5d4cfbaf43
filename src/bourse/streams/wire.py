"""Stream messages framed once and written straight to each connection's socket.

Through ASGI every message to every subscriber is its own `send`: a dict, Starlette's state
checks, a WebSocket frame built for that connection and a write system call. A trade published to
100 subscribers paid that 100 times, and the fan-out took the server's CPU from matching. Here the
hub frames a message once (an unmasked, uncompressed text frame, the same bytes for every
server-to-client connection; valid even where permessage-deflate was negotiated, since RFC 7692
leaves each message's compression to the sender), and what is queued for a connection goes out
in one write: from the hub's flush once per loop pass, or from the connection's writer task when
the socket was full.

The direct path needs the connection's transport. The app keeps the ASGI `send` the server gave
it (before middleware wraps it) in the scope as SERVER_SEND; under uvicorn's `websockets-sansio`
protocol (its default) that is a method of the protocol, which holds the transport. Under any
other server (the test client) the writer falls back to ASGI sends of the same text.

Flow control is uvicorn's: a write waits while the transport's buffer is over its high-water
mark, so a stalled reader fills its queue, as before, and is cut off.
"""

import asyncio
from collections.abc import Mapping
from typing import Any

from websockets.frames import Frame, Opcode
from websockets.protocol import State

SERVER_SEND = "bourse.server_send"  # scope key: the server's own ASGI send


def text_frame(payload: bytes) -> bytes:
    """A server's text frame carrying `payload` (UTF-8 JSON)."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


def frame_text(frame: bytes) -> str:
    """The text a frame made by `text_frame` carries (for the ASGI fallback)."""
    length = frame[1] & 0x7F
    return frame[2 if length < 126 else 4 if length == 126 else 10 :].decode()


class DirectLink:
    """Writes frames to uvicorn's transport for one WebSocket connection."""

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol
        self._transport: asyncio.WriteTransport = protocol.transport  # or uvloop's alike
        self._writable: asyncio.Event = protocol.writable

    @property
    def writable(self) -> bool:
        """Whether the socket's buffer is under its high-water mark."""
        return self._writable.is_set()

    async def wait_writable(self) -> None:
        await self._writable.wait()

    def write(self, data: bytes) -> bool:
        """False once the connection is closing: nothing more may be written to it."""
        p = self._protocol
        if p.close_sent or p.conn.state is not State.OPEN or self._transport.is_closing():
            return False
        self._transport.write(data)
        return True


def direct_link(scope: Mapping[str, Any]) -> DirectLink | None:
    """The direct path for a connection served by uvicorn's websockets-sansio protocol, or None
    (write through ASGI)."""
    protocol = getattr(scope.get(SERVER_SEND), "__self__", None)
    if (
        isinstance(getattr(protocol, "writable", None), asyncio.Event)
        and callable(getattr(getattr(protocol, "transport", None), "write", None))  # uvloop's
        and isinstance(getattr(protocol, "close_sent", None), bool)
        and isinstance(getattr(getattr(protocol, "conn", None), "state", None), State)
    ):
        return DirectLink(protocol)
    return None
