"""One WebSocket API connection's authentication (web-socket-api.md, "Request security" and
"Session Authentication").

A SIGNED request carries `apiKey`, `timestamp` and `signature` in its params; the signature is
over every other param sorted by name, as `name=value` pairs joined by `&` (Binance's text). The
official SDK and python-binance percent-encode the values before signing (`urlencode`), so that
form is accepted as well: the two differ only for values with characters such as `[`, `"` or
`/`. After `session.logon` with an Ed25519 key, requests of the connection may leave out
`apiKey` and `signature` (they still need `timestamp`); an explicit signature overrides the
session's key for that request. Key, IP allow-list, permission, time window and signature are
checked by the same functions as REST, with the same codes.

User data stream subscriptions (web-socket-api.md, "User Data Stream requests"): a logged-on
session subscribes its own account with `userDataStream.subscribe`; `.signature` subscribes the
account of any key whose signature it carries (or the session's key, without one). One active
subscription per account per connection, at most 1,000 at once and 65,535 over the connection's
life, as on Binance. Events arrive as `{"subscriptionId", "event"}` on this connection;
`userDataStream.unsubscribe` (all, or one `subscriptionId`), `session.logout` (the subscription
made by `userDataStream.subscribe`) and a revoked key end one with `eventStreamTerminated`.
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from bourse.api.binance.auth import Caller, check_key, check_signature, check_time
from bourse.api.binance.gateway import Gateway
from bourse.api.binance.params import Params
from bourse.api.binance.replies import ApiError, key_rejected, mandatory
from bourse.domain.enums import KeyKind
from bourse.streams.hub import Subscriber
from bourse.streams.service import Realtime
from bourse.streams.user_feed import Tap
from bourse.view.model import KeyView

KEY = "apiKey"
SIGNATURE = "signature"
_ED25519_ONLY = ApiError(
    -1002,
    "You are not authorized to execute this request. Only Ed25519 API keys can log on a session.",
    401,
)
MAX_SUBSCRIPTIONS = 1000  # active at once on one connection
MAX_SUBSCRIPTION_ID = 65535  # subscriptions over a connection's life


def payloads(values: dict[str, str]) -> Iterator[bytes]:
    """The texts a client may have signed: the params but `signature`, sorted by name, as plain
    `name=value` pairs, then (only if that did not verify) percent-encoded."""
    items = sorted((k, v) for k, v in values.items() if k != SIGNATURE)
    plain = "&".join(f"{k}={v}" for k, v in items).encode()
    yield plain
    encoded = urlencode(items).encode()
    if encoded != plain:
        yield encoded


class Session:
    """A connection's state: when it opened, which key (if any) it logged on with, and whether
    its responses carry `rateLimits` unless a request says otherwise."""

    def __init__(
        self,
        gw: Gateway,
        host: str,
        *,
        return_rate_limits: bool = True,
        realtime: Realtime | None = None,
    ) -> None:
        self.gw = gw
        self.host = host
        self.connected_since = gw.clock()
        self.return_rate_limits = return_rate_limits
        self.api_key: str | None = None
        self.authorized_since: int | None = None
        self.realtime = realtime
        # the connection's queue once it subscribes: events and replies then go out through it
        self.out: Subscriber | None = None
        self._subscriptions_started = 0

    def caller(self, params: Params, *, trade: bool) -> Caller:
        """Who a SIGNED request acts for: its own `apiKey` and `signature` if it has a signature,
        else the key the session logged on with. Raises ApiError as REST would."""
        values = params.values
        if SIGNATURE in values or self.api_key is None:
            key = self._verified(params, trade=trade)
        else:
            named = values.get(KEY)
            if named is not None and named != self.api_key:
                raise mandatory(SIGNATURE)  # another key needs its own signature
            key = self._session_key(trade=trade)
            check_time(params, self.gw.clock())
        return Caller(key.account_id, key.api_key, key.can_trade)

    def _verified(self, params: Params, *, trade: bool) -> KeyView:
        gw, values = self.gw, params.values
        if KEY not in values:
            raise mandatory(KEY)
        key = check_key(gw.keys, values[KEY], self.host, trade=trade)
        check_time(params, gw.clock())
        check_signature(gw.keys, key, payloads(values), values.get(SIGNATURE))
        return key

    def _session_key(self, *, trade: bool) -> KeyView:
        """The logged-on key, if it is still valid; a key deleted or no longer allowed from this
        IP ends the session (-2015), as on Binance."""
        try:
            key = check_key(self.gw.keys, self.api_key, self.host, trade=False)
        except ApiError:
            self.logout()
            raise
        if trade and not key.can_trade:
            raise key_rejected()  # a read-only key stays logged on for reads
        return key

    # --- session.logon, session.status, session.logout ---------------------------------------

    def logon(self, params: Params) -> dict[str, Any]:
        """Authenticate the connection with a signed request of an Ed25519 key (or switch keys)."""
        values = params.values
        if KEY not in values:
            raise mandatory(KEY)
        key = check_key(self.gw.keys, values[KEY], self.host, trade=False)
        if key.kind is not KeyKind.ED25519:
            raise _ED25519_ONLY
        key = self._verified(params, trade=False)
        self.api_key, self.authorized_since = key.api_key, self.gw.clock()
        return self.status()

    def logout(self) -> dict[str, Any]:
        self.api_key = self.authorized_since = None
        for tap in self.taps():
            if tap.by_session:
                self.user_streams().end_subscription(tap)
        return self.status()

    def status(self) -> dict[str, Any]:
        return {
            "apiKey": self.api_key,
            "authorizedSince": self.authorized_since,
            "connectedSince": self.connected_since,
            "returnRateLimits": self.return_rate_limits,
            "serverTime": self.gw.clock(),
            "userDataStream": bool(self.taps()),
        }

    # --- userDataStream.subscribe, .subscribe.signature, .unsubscribe, session.subscriptions -

    def user_streams(self) -> Realtime:
        if self.realtime is None:
            raise ApiError(-1020, "This operation is not supported. No user data streams here.")
        return self.realtime

    def taps(self) -> list[Tap]:
        """The connection's active subscriptions, oldest first."""
        if self.out is None or self.realtime is None:
            return []
        return list(self.realtime.taps.get(self.out, {}).values())

    def subscribe_session(self) -> dict[str, Any]:
        """userDataStream.subscribe: the logged-on key's account."""
        if self.api_key is None:
            raise ApiError(-1002, "You are not authorized to execute this request.", 401)
        key = self._session_key(trade=False)
        return self.subscribe(key.account_id, key.api_key, by_session=True)

    def subscribe(self, account_id: int, api_key: str, *, by_session: bool) -> dict[str, Any]:
        rt = self.user_streams()
        taps = self.taps()
        if any(t.account_id == account_id for t in taps):
            raise ApiError(
                -1020,
                "This operation is not supported. The account already has an active "
                "subscription on this connection.",
            )
        if len(taps) >= MAX_SUBSCRIPTIONS or self._subscriptions_started >= MAX_SUBSCRIPTION_ID:
            raise ApiError(-1020, "This operation is not supported. Too many subscriptions.")
        if self.out is None:
            self.out = Subscriber(False, rt.queue_limit)
        number = self._subscriptions_started
        self._subscriptions_started += 1
        tap = Tap(self.out, account_id, api_key, f"#{number}", number)
        tap.by_session = by_session
        rt.attach(tap)
        return {"subscriptionId": number}

    def unsubscribe(self, params: Params) -> dict[str, Any]:
        """All subscriptions, or the one `subscriptionId` names (none if it names none)."""
        number = params.opt_integer("subscriptionId", low=0)
        for tap in self.taps():
            if number is None or tap.subscription == number:
                self.user_streams().end_subscription(tap)
        return {}

    def subscriptions(self) -> list[dict[str, int]]:
        return [{"subscriptionId": t.subscription} for t in self.taps()]
