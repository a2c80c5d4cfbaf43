"""The listenKeys of Binance's user data streams (user-data-stream.md): created, kept alive and
closed over REST (`/api/v3/userDataStream`) or the WebSocket API, valid for 60 minutes after
creation or the last keepalive, by the service clock (tests move it).

One live key per API key: creating again returns that key with its validity extended, as Binance
does for "an account with an active listenKey"; an account with several API keys holds one per
key. A key belongs to its API key: keeping alive or closing it with another key answers as if it
did not exist. Keys live in memory only: after a restart clients create new ones, as they do
after a Binance disconnect.
"""

import secrets
import string
from collections.abc import Callable

LIFETIME_MS = 60 * 60 * 1000
KEY_LENGTH = 64  # as Binance's keys: tells a listenKey from a stream name at /ws/<name>
_ALPHABET = string.ascii_letters + string.digits


def looks_like_key(name: str) -> bool:
    """A listenKey's form (stream names always have a '@' or a '!', keys never do)."""
    return len(name) == KEY_LENGTH and name.isascii() and name.isalnum()


class ListenKey:
    __slots__ = ("account_id", "api_key", "expires_ms", "key")

    def __init__(self, key: str, account_id: int, api_key: str, expires_ms: int) -> None:
        self.key = key
        self.account_id = account_id
        self.api_key = api_key
        self.expires_ms = expires_ms


class ListenKeys:
    def __init__(self) -> None:
        self._keys: dict[str, ListenKey] = {}
        self._of_api_key: dict[str, str] = {}  # API key → its newest listenKey

    def __len__(self) -> int:
        return len(self._keys)

    def create(self, account_id: int, api_key: str, now_ms: int) -> ListenKey:
        """The API key's live listenKey, valid for another 60 minutes, or a new one."""
        found = self.find(self._of_api_key.get(api_key, ""), now_ms)
        if found is None:
            key = "".join(secrets.choice(_ALPHABET) for _ in range(KEY_LENGTH))
            found = self._keys[key] = ListenKey(key, account_id, api_key, now_ms)
            self._of_api_key[api_key] = key
        found.expires_ms = now_ms + LIFETIME_MS
        return found

    def find(self, key: str, now_ms: int) -> ListenKey | None:
        """The key if it is live (an expired one stays until `expire` ends its streams)."""
        found = self._keys.get(key)
        return found if found is not None and now_ms < found.expires_ms else None

    def keep_alive(self, key: str, api_key: str, now_ms: int) -> ListenKey | None:
        found = self.find(key, now_ms)
        if found is None or found.api_key != api_key:
            return None
        found.expires_ms = now_ms + LIFETIME_MS
        return found

    def close(self, key: str, api_key: str, now_ms: int) -> ListenKey | None:
        found = self.find(key, now_ms)
        if found is None or found.api_key != api_key:
            return None
        self._remove(found)
        return found

    def expire(self, now_ms: int, alive: Callable[[ListenKey], bool]) -> list[ListenKey]:
        """Remove and return the keys past their time, or whose API key is no longer `alive`
        (revoked: its streams end too)."""
        ended = [k for k in self._keys.values() if now_ms >= k.expires_ms or not alive(k)]
        for k in ended:
            self._remove(k)
        return ended

    def _remove(self, found: ListenKey) -> None:
        del self._keys[found.key]
        if self._of_api_key.get(found.api_key) == found.key:
            del self._of_api_key[found.api_key]
