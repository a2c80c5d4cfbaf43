"""Signed requests as Binance checks them: the key, its IP allow-list and permissions, the time
window, and the signature over the raw query string plus the raw body.

A key's credential comes from the read model (the ApiKeyCreated event of its CreateApiKey command):
a sealed HMAC secret, opened once with the data directory's master key and cached, or an Ed25519
public key.
"""

import base64
import hmac
import ipaddress
import re
from collections.abc import Callable, Iterable
from hashlib import sha256
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from starlette.requests import HTTPConnection, Request

from bourse.api.binance.params import Params
from bourse.api.binance.replies import ApiError, bad_key_format, key_rejected, mandatory
from bourse.domain.enums import KeyKind
from bourse.keys.sealing import SecretBox
from bourse.view import ReadModel
from bourse.view.model import KeyView

KEY_HEADER = "x-mbx-apikey"
KEY_FORMAT = re.compile(r"^[A-Za-z0-9]{1,128}$")
DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60000
FUTURE_TOLERANCE_MS = 1000  # Binance: timestamp < serverTime + 1000
Verify = Callable[[bytes, str], bool]


class Caller(NamedTuple):
    """Who a signed request acts for."""

    account_id: int
    api_key: str
    can_trade: bool


class KeyRing:
    def __init__(self, view: ReadModel, box: SecretBox) -> None:
        self._view = view
        self._box = box
        self._verifiers: dict[tuple[str, str], Verify] = {}

    def find(self, api_key: str) -> KeyView | None:
        return self._view.api_keys.get(api_key)

    def verifier(self, key: KeyView) -> Verify:
        cache_key = (key.api_key, key.credential)
        verify = self._verifiers.get(cache_key)
        if verify is None:
            verify = self._verifiers[cache_key] = self._build(key)
        return verify

    def _build(self, key: KeyView) -> Verify:
        if key.kind is KeyKind.HMAC_SHA256:
            secret = self._box.open(key.credential, key.api_key).encode()

            def verify_hmac(payload: bytes, signature: str) -> bool:
                expected = hmac.new(secret, payload, sha256).hexdigest()
                return hmac.compare_digest(expected, signature.lower())

            return verify_hmac
        public = load_pem_public_key(key.credential.encode())
        if not isinstance(public, Ed25519PublicKey):
            raise ValueError(f"API key {key.api_key[:8]}… does not hold an Ed25519 public key")

        def verify_ed25519(payload: bytes, signature: str) -> bool:
            try:
                # a '+' sent unencoded arrives as a space after form decoding
                public.verify(base64.b64decode(signature.replace(" ", "+")), payload)
            except (InvalidSignature, ValueError):
                return False
            return True

        return verify_ed25519


def actor(api_key: str) -> str:
    """Who a client's command is journaled as: its API key, shortened."""
    return f"api:{api_key[:8]}"


def key_holder(keys: KeyRing, request: Request, *, trade: bool) -> KeyView:
    """The key in X-MBX-APIKEY, if it exists and may act from this IP (-2014/-2015 otherwise)."""
    return check_key(keys, request.headers.get(KEY_HEADER), client_host(request), trade=trade)


def check_key(keys: KeyRing, api_key: str | None, host: str, *, trade: bool) -> KeyView:
    """The key named `api_key`, if it exists and may act from `host` (-2014/-2015 otherwise)."""
    if not api_key or not KEY_FORMAT.match(api_key):
        raise bad_key_format()
    key = keys.find(api_key)
    if key is None or (trade and not key.can_trade):
        raise key_rejected()
    if key.ip_allow and not _ip_allowed(host, key.ip_allow):
        raise key_rejected()
    return key


def check_time(params: Params, now_ms: int) -> None:
    """`timestamp` and `recvWindow` as Binance checks them (-1021, -1131)."""
    timestamp = params.integer("timestamp")
    recv_window = params.opt_integer("recvWindow")
    if recv_window is None:
        recv_window = DEFAULT_RECV_WINDOW
    elif not 0 < recv_window <= MAX_RECV_WINDOW:
        raise ApiError(-1131, f"recvWindow must be less than {MAX_RECV_WINDOW}.")
    if timestamp >= now_ms + FUTURE_TOLERANCE_MS:
        raise ApiError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
    if now_ms - timestamp > recv_window:
        raise ApiError(-1021, "Timestamp for this request is outside of the recvWindow.")


def check_signature(
    keys: KeyRing, key: KeyView, payloads: Iterable[bytes], signature: str | None
) -> None:
    """-1102 without a signature, -1022 unless it signs one of `payloads` (the forms a client
    may have signed)."""
    if not signature:
        raise mandatory("signature")
    verify = keys.verifier(key)
    if not any(verify(payload, signature) for payload in payloads):
        raise ApiError(-1022, "Signature for this request is not valid.")


def authenticate(
    keys: KeyRing, request: Request, params: Params, now_ms: int, *, trade: bool
) -> Caller:
    """Check a SIGNED (TRADE or USER_DATA) request; returns the caller or raises ApiError."""
    key = key_holder(keys, request, trade=trade)
    check_time(params, now_ms)
    payload, signature = params.signed_payload()
    check_signature(keys, key, (payload,), signature)
    return Caller(key.account_id, key.api_key, key.can_trade)


def client_host(request: HTTPConnection) -> str:
    return request.client.host if request.client else ""


def _ip_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(cidr, strict=False) for cidr in allowed)
