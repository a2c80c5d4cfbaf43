"""The listenKeys of Binance's user data streams as the stream side sees them: the read model's
(`ReadModel.live_key`), as released. They are engine state (`bourse.engine.listen_keys`), opened,
extended and closed by commands through REST (`/api/v3/userDataStream`) or the WebSocket API, so
that they survive a restart like everything else that was acknowledged. A key is valid for 60
minutes after it was opened or last kept alive, by the service clock (tests move it)."""

from typing import NamedTuple

from bourse.domain.limits import KEY_LENGTH
from bourse.keys.api_keys import random_key
from bourse.view import ReadModel


class ListenKey(NamedTuple):
    key: str
    account_id: int
    api_key: str


def new_key() -> str:
    """A fresh random listenKey (the engine is deterministic: the gateway draws it)."""
    return random_key()


def looks_like_key(name: str) -> bool:
    """A listenKey's form (stream names always have a '@' or a '!', keys never do)."""
    return len(name) == KEY_LENGTH and name.isascii() and name.isalnum()


def find(view: ReadModel, key: str, now_ms: int) -> ListenKey | None:
    """The listenKey if it is live now."""
    holder = view.live_key(key, now_ms)
    return None if holder is None else ListenKey(key, holder.account_id, holder.api_key)
