"""listenKeys as engine state: one per API key, 60 minutes from the last open or extension, only
for their own API key, gone with a close or a revoked API key, and kept by snapshots."""

from bourse.commands import (
    CloseListenKey,
    CreateApiKey,
    ExtendListenKey,
    OpenListenKey,
    RevokeApiKey,
)
from bourse.domain.enums import KeyKind
from bourse.engine import Engine, snapshot
from bourse.engine.listen_keys import LIFETIME_MS, live_key
from bourse.events import CommandRejected, ListenKeyClosed, ListenKeyExtended, ListenKeyOpened
from tests.builders import Runner, of, one, world

FIRST, SECOND = "A" * 64, "B" * 64


def keyed() -> Runner:
    r = world(accounts=2)
    for account_id, api_key in ((1, "k1"), (2, "k2")):
        r.do(
            CreateApiKey,
            account_id=account_id,
            api_key=api_key,
            kind=KeyKind.HMAC_SHA256,
            credential="sealed",
        )
    return r


def test_opening_again_extends_the_live_key_and_an_expired_one_is_replaced() -> None:
    r = keyed()
    opened = one(r.do(OpenListenKey, account_id=1, api_key="k1", listen_key=FIRST), ListenKeyOpened)
    assert (opened.listen_key, opened.expires_ms) == (FIRST, r.ts_ms + LIFETIME_MS)
    again = one(
        r.do(OpenListenKey, account_id=1, api_key="k1", listen_key=SECOND), ListenKeyExtended
    )
    assert again.listen_key == FIRST  # the live key, not the new candidate
    r.ts_ms = again.expires_ms  # an hour without a keepalive: expired
    assert live_key(r.state, FIRST, r.ts_ms) is None
    assert of(r.do(ExtendListenKey, api_key="k1", listen_key=FIRST), CommandRejected)
    fresh = one(r.do(OpenListenKey, account_id=1, api_key="k1", listen_key=SECOND), ListenKeyOpened)
    assert fresh.listen_key == SECOND and FIRST not in r.state.listen_keys


def test_a_key_answers_only_to_its_own_api_key_and_ends_with_it() -> None:
    r = keyed()
    r.do(OpenListenKey, account_id=1, api_key="k1", listen_key=FIRST)
    assert of(r.do(OpenListenKey, account_id=1, api_key="k2", listen_key=SECOND), CommandRejected)
    for cls in (ExtendListenKey, CloseListenKey):
        assert of(r.do(cls, api_key="k2", listen_key=FIRST), CommandRejected)
    assert of(r.do(ExtendListenKey, api_key="k1", listen_key=FIRST), ListenKeyExtended)
    assert of(r.do(CloseListenKey, api_key="k1", listen_key=FIRST), ListenKeyClosed)
    assert of(r.do(CloseListenKey, api_key="k1", listen_key=FIRST), CommandRejected)  # gone
    r.do(OpenListenKey, account_id=2, api_key="k2", listen_key=SECOND)
    r.do(RevokeApiKey, api_key="k2")
    assert r.state.listen_keys == {} and live_key(r.state, SECOND, r.ts_ms) is None


def test_a_snapshot_keeps_the_live_keys() -> None:
    r = keyed()
    r.do(OpenListenKey, account_id=1, api_key="k1", listen_key=FIRST)
    restored = Engine(snapshot.load(snapshot.dump(r.state)))
    assert snapshot.digest(restored.state) == snapshot.digest(r.state)
    held = live_key(restored.state, FIRST, r.ts_ms)
    assert held is not None and (held.api_key, held.account_id) == ("k1", 1)
