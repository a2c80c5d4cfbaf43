"""The base of every event: a tagged, immutable struct (the tag is the wire format)."""

import msgspec


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    pass
