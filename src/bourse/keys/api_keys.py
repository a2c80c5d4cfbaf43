"""API keys as operator commands: a new HMAC key pair (the secret sealed before it reaches the
journal, returned once to show the customer) or a customer's own Ed25519 public key."""

import ipaddress
import secrets
import string

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from bourse.commands import CreateApiKey
from bourse.domain.enums import KeyKind
from bourse.domain.limits import KEY_LENGTH
from bourse.keys.sealing import SecretBox

_ALPHABET = string.ascii_letters + string.digits


class KeyRequestError(ValueError):
    """A key request that cannot be turned into a command (the message says why)."""


def random_key() -> str:
    """64 random letters and digits: an API key, a secret or a listenKey, as Binance's."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(KEY_LENGTH))


def _networks(ip_allow: list[str]) -> tuple[str, ...]:
    try:
        return tuple(str(ipaddress.ip_network(c.strip(), strict=False)) for c in ip_allow)
    except ValueError as exc:
        raise KeyRequestError(f"not an IP address or CIDR range: {exc}") from None


def hmac_key(
    box: SecretBox,
    *,
    account_id: int,
    actor: str,
    ts_ms: int,
    reason: str,
    can_trade: bool = True,
    ip_allow: list[str] | None = None,
) -> tuple[CreateApiKey, str]:
    """The command registering a new HMAC key, and the plain secret to show once."""
    api_key, secret = random_key(), random_key()
    cmd = CreateApiKey(
        actor=actor,
        ts_ms=ts_ms,
        reason=reason,
        account_id=account_id,
        api_key=api_key,
        kind=KeyKind.HMAC_SHA256,
        credential=box.seal(secret, api_key),
        can_trade=can_trade,
        ip_allow=_networks(ip_allow or []),
    )
    return cmd, secret


def ed25519_key(
    public_key_pem: str,
    *,
    account_id: int,
    actor: str,
    ts_ms: int,
    reason: str,
    can_trade: bool = True,
    ip_allow: list[str] | None = None,
) -> CreateApiKey:
    """The command registering a customer's Ed25519 public key (PEM) under a new API key."""
    try:
        public = load_pem_public_key(public_key_pem.encode())
    except ValueError:
        raise KeyRequestError("the public key is not PEM") from None
    if not isinstance(public, Ed25519PublicKey):
        raise KeyRequestError("the public key is not an Ed25519 key")
    return CreateApiKey(
        actor=actor,
        ts_ms=ts_ms,
        reason=reason,
        account_id=account_id,
        api_key=random_key(),
        kind=KeyKind.ED25519,
        credential=public_key_pem.strip() + "\n",
        can_trade=can_trade,
        ip_allow=_networks(ip_allow or []),
    )
