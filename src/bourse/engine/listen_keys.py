"""The keys of Binance's user data streams (user-data-stream.md), as engine state so that they
survive a restart: valid for 60 minutes after they are opened or last extended, by the command's
time. One per API key: opening again extends the live one, as Binance does for "an account with
an active listenKey". A key answers only to its own API key."""

from bourse.commands import CloseListenKey, ExtendListenKey, OpenListenKey
from bourse.domain.limits import KEY_LENGTH
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.output import Output
from bourse.engine.state import ApiKey, EngineState
from bourse.events import ListenKeyClosed, ListenKeyExtended, ListenKeyOpened

LIFETIME_MS = 60 * 60 * 1000


def live_key(state: EngineState, listen_key: str, now_ms: int) -> ApiKey | None:
    """The API key holding `listen_key`, if the listenKey is live at `now_ms`."""
    key = state.api_keys.get(state.listen_keys.get(listen_key, ""))
    if key is None or key.listen_key != listen_key or now_ms >= key.listen_expires_ms:
        return None
    return key


def open_key(state: EngineState, out: Output, cmd: OpenListenKey) -> Refusal | None:
    key = state.api_keys.get(cmd.api_key)
    if key is None or key.account_id != cmd.account_id:
        return Refusal(RejectCode.INVALID_PARAMETER, "no such API key is registered")
    expires = cmd.ts_ms + LIFETIME_MS
    if live_key(state, key.listen_key, cmd.ts_ms) is key:
        key.listen_expires_ms = expires
        out.events.append(ListenKeyExtended(listen_key=key.listen_key, expires_ms=expires))
        return None
    new = cmd.listen_key
    if len(new) != KEY_LENGTH or not (new.isascii() and new.isalnum()):
        return Refusal(RejectCode.INVALID_PARAMETER, f"a listenKey is {KEY_LENGTH} letters/digits")
    if new in state.listen_keys:
        return Refusal(RejectCode.ALREADY_EXISTS, "that listenKey is taken")
    state.listen_keys.pop(key.listen_key, None)  # its expired one
    key.listen_key, key.listen_expires_ms = new, expires
    state.listen_keys[new] = key.api_key
    out.events.append(
        ListenKeyOpened(
            listen_key=new, account_id=key.account_id, api_key=key.api_key, expires_ms=expires
        )
    )
    return None


def extend_key(state: EngineState, out: Output, cmd: ExtendListenKey) -> Refusal | None:
    key = live_key(state, cmd.listen_key, cmd.ts_ms)
    if key is None or key.api_key != cmd.api_key:
        return _no_such_key()
    key.listen_expires_ms = cmd.ts_ms + LIFETIME_MS
    out.events.append(
        ListenKeyExtended(listen_key=key.listen_key, expires_ms=key.listen_expires_ms)
    )
    return None


def close_key(state: EngineState, out: Output, cmd: CloseListenKey) -> Refusal | None:
    key = live_key(state, cmd.listen_key, cmd.ts_ms)
    if key is None or key.api_key != cmd.api_key:
        return _no_such_key()
    forget(state, key)
    out.events.append(ListenKeyClosed(listen_key=cmd.listen_key))
    return None


def forget(state: EngineState, key: ApiKey) -> None:
    """The API key holds no listenKey any more (closed, or the API key revoked)."""
    state.listen_keys.pop(key.listen_key, None)
    key.listen_key, key.listen_expires_ms = "", 0


def _no_such_key() -> Refusal:
    return Refusal(RejectCode.INVALID_PARAMETER, "This listenKey does not exist.")
