"""The one binary encoding of records (journal, snapshots, projector IPC): exact at any size.

msgspec's msgpack holds integers from -2**63 to 2**64 - 1 and raises OverflowError beyond, but an
amount may not fit: 18-decimal assets put 10**19 raw units in 10 coins, and a balance is the sum of
many deposits. A record holding such an integer is written as msgspec JSON instead, which keeps
integers of any size exactly; every other record stays msgpack, byte for byte as before, so
existing journals and snapshots read as they did. `decode` tells the two apart by the first byte:
a record is always a struct or a list, which msgpack starts with a map or array marker, JSON with
`{` or `[` (to msgpack the small integers 123 and 91, never a record).
"""

from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")
_JSON_STARTS = frozenset(b"{[")
_msgpack = msgspec.msgpack.Encoder()
_json = msgspec.json.Encoder()


def encode(value: object) -> bytes:
    """msgpack, or JSON when an integer in `value` is beyond msgpack's 64 bits."""
    try:
        return _msgpack.encode(value)
    except OverflowError:
        return _json.encode(value)


class Decoder(Generic[T]):
    """Decodes what `encode` wrote, of one type (give the type twice: `Decoder[X](X)`, as a
    union such as `AnyCommand` is not a class)."""

    __slots__ = ("_json", "_msgpack")

    def __init__(self, type_: Any) -> None:
        self._msgpack: msgspec.msgpack.Decoder[T] = msgspec.msgpack.Decoder(type_)
        self._json: msgspec.json.Decoder[T] = msgspec.json.Decoder(type_)

    def decode(self, data: bytes | memoryview) -> T:
        if data and data[0] in _JSON_STARTS:
            return self._json.decode(data)
        return self._msgpack.decode(data)
