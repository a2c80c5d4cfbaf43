"""Accounts: opening, permissions, fees, freezes, API keys and listenKeys."""

from bourse.commands.base import Command, OperatorCommand
from bourse.domain.enums import (
    KeyKind,
)


class OpenAccount(OperatorCommand, frozen=True, kw_only=True, tag="OpenAccount"):
    """Opens the next account; its id is the engine's next account number.

    `customer_id` 0 opens a house account (the exchange's own, a market maker under contract),
    which no jurisdiction policy names; otherwise the account belongs to that customer and takes
    its venue's fee tier.
    """

    fee_tier: int = 0
    customer_id: int = 0


class SetAccountPermissions(
    OperatorCommand, frozen=True, kw_only=True, tag="SetAccountPermissions"
):
    account_id: int
    can_trade: bool
    can_deposit: bool
    can_withdraw: bool


class SetAccountFeeTier(OperatorCommand, frozen=True, kw_only=True, tag="SetAccountFeeTier"):
    account_id: int
    fee_tier: int


class FreezeAccount(OperatorCommand, frozen=True, kw_only=True, tag="FreezeAccount"):
    """Stops everything the account initiates and cancels its open orders.

    `evidence` cites what justifies the freeze (from the sanctions issue on, a screening hit).
    """

    account_id: int
    evidence: str = ""


class UnfreezeAccount(OperatorCommand, frozen=True, kw_only=True, tag="UnfreezeAccount"):
    """Refused while a confirmed sanctions listing of the account's customer stands, unless
    `overrides` names every such listing (its confirmed alert's id): lifting a sanctions freeze
    by hand is a decision taken against a named listing (a licence, a mistaken identity), on
    the record, never a side effect."""

    account_id: int
    overrides: tuple[int, ...] = ()


class CreateApiKey(OperatorCommand, frozen=True, kw_only=True, tag="CreateApiKey"):
    """Registers an API key for an account.

    `credential` is the HMAC secret sealed by the gateway (never the plain secret: the journal and
    snapshots must not reveal it) or, for Ed25519, the customer's public key in PEM. Every key may
    read; `can_trade` adds placing and canceling orders. `ip_allow` lists CIDRs (empty: any).
    """

    account_id: int
    api_key: str
    kind: KeyKind
    credential: str
    can_trade: bool = True
    ip_allow: tuple[str, ...] = ()


class RevokeApiKey(OperatorCommand, frozen=True, kw_only=True, tag="RevokeApiKey"):
    api_key: str


class OpenListenKey(Command, frozen=True, kw_only=True, tag="OpenListenKey"):
    """A user data stream's key for `api_key`: its live one, valid for another hour, or else
    `listen_key` (made by the gateway: the engine draws no random numbers)."""

    account_id: int
    api_key: str
    listen_key: str


class ExtendListenKey(Command, frozen=True, kw_only=True, tag="ExtendListenKey"):
    api_key: str
    listen_key: str


class CloseListenKey(Command, frozen=True, kw_only=True, tag="CloseListenKey"):
    api_key: str
    listen_key: str
