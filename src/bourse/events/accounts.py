"""Events of accounts: permissions, fees, freezes, API keys and listen keys."""

from bourse.domain.enums import KeyKind
from bourse.events.base import Event


class AccountPermissionsChanged(Event, frozen=True, kw_only=True, tag="AccountPermissionsChanged"):
    account_id: int
    can_trade: bool
    can_deposit: bool
    can_withdraw: bool
    reason: str


class AccountFeeTierChanged(Event, frozen=True, kw_only=True, tag="AccountFeeTierChanged"):
    account_id: int
    fee_tier: int


class AccountFrozen(Event, frozen=True, kw_only=True, tag="AccountFrozen"):
    account_id: int
    actor: str
    reason: str
    evidence: str
    manual: bool = False  # frozen by staff by hand (FreezeAccount): only staff lift it


class AccountUnfrozen(Event, frozen=True, kw_only=True, tag="AccountUnfrozen"):
    account_id: int
    actor: str
    reason: str
    overrides: tuple[int, ...] = ()  # confirmed listings (alert ids) still standing, overridden


class ApiKeyCreated(Event, frozen=True, kw_only=True, tag="ApiKeyCreated"):
    """A key was registered. Its credential travels sealed (an HMAC secret under the data
    directory's master key) or public (an Ed25519 key), so a gateway process can verify
    signatures from the read model without the engine's state or the plain secret."""

    api_key: str
    account_id: int
    kind: KeyKind
    can_trade: bool
    ip_allow: tuple[str, ...]
    # a sealed HMAC secret or an Ed25519 public key: what a gateway verifies signatures with
    credential: str = ""


class ApiKeyRevoked(Event, frozen=True, kw_only=True, tag="ApiKeyRevoked"):
    api_key: str
    account_id: int
    reason: str


class ListenKeyOpened(Event, frozen=True, kw_only=True, tag="ListenKeyOpened"):
    listen_key: str
    account_id: int
    api_key: str
    expires_ms: int


class ListenKeyExtended(Event, frozen=True, kw_only=True, tag="ListenKeyExtended"):
    listen_key: str
    expires_ms: int


class ListenKeyClosed(Event, frozen=True, kw_only=True, tag="ListenKeyClosed"):
    listen_key: str
