"""Operator routes for customers' accounts and API keys: open a funded account, issue, list and
revoke keys. Each is an ordinary engine command stamped with the operator as its actor.

An HMAC secret is answered exactly once, when it is created: the engine only ever holds it sealed
under the data directory's master key, so it cannot be shown again.
"""

from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from bourse.api.admin.compliance import REASON_MAX, REASON_PATTERN
from bourse.api.admin.errors import answer, bad_request, not_found
from bourse.api.admin.four_eyes import (
    is_four_eyed,
    made,
    proposal_json,
    propose,
    send_proposal,
)
from bourse.api.admin.operator import balance_list, deposit_raw
from bourse.api.admin.scope import out_of_scope, reader_scope, sees_account
from bourse.api.binance.errors import binance_error
from bourse.api.binance.replies import ok
from bourse.api.deps import Int64, OperatorDep, ServiceDep
from bourse.commands import Deposit, OpenAccount, RevokeApiKey
from bourse.domain.limits import INT64_MAX
from bourse.events import AccountOpened, CommandRejected
from bourse.keys.api_keys import KeyRequestError, ed25519_key, hmac_key
from bourse.view import ReadModel
from bourse.view.model import KeyView

router = APIRouter(prefix="/admin/v1", tags=["operator"])
MAX_IP_RULES = 30  # as Binance's key IP allow-lists
_NO_STORE = {"Cache-Control": "no-store"}  # answers that carry a secret
Permission = Literal["read", "trade"]


def _read_and_trade() -> list[Permission]:
    return ["read", "trade"]


class OpenAccountBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    deposits: dict[str, str] = Field(
        default_factory=dict,
        max_length=100,
        description="Opening deposits: asset → decimal amount as a string.",
        examples=[{"USDT": "1000", "BTC": "0.5"}],
    )
    fee_tier: int = Field(0, alias="feeTier", ge=0, le=2**31 - 1)
    reason: str = Field(min_length=1, max_length=REASON_MAX, pattern=REASON_PATTERN)


class KeyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    account_id: int = Field(alias="accountId", ge=0, le=INT64_MAX)
    permissions: list[Permission] = Field(
        default_factory=_read_and_trade,
        max_length=2,
        description='"read" alone makes a read-only key; every key must be able to read.',
    )
    ip: list[str] = Field(
        default_factory=list,
        max_length=MAX_IP_RULES,
        description="IP addresses or CIDR ranges the key may be used from (empty: any).",
        examples=[["10.0.0.0/8", "192.0.2.7"]],
    )
    public_key: str | None = Field(
        None,
        alias="publicKey",
        max_length=4096,
        description="An Ed25519 public key (PEM): register it instead of creating an HMAC secret.",
    )
    reason: str = Field(min_length=1, max_length=REASON_MAX, pattern=REASON_PATTERN)


def _opening_deposits(view: ReadModel, deposits: dict[str, str]) -> list[tuple[str, int]]:
    """Every deposit as (asset, raw amount), or 400 before anything is sequenced."""
    raw: list[tuple[str, int]] = []
    for asset, amount in deposits.items():
        raw.append((asset, deposit_raw(view, asset, amount)))
    return raw


def _example(body: Any) -> dict[str, Any]:
    return {"application/json": {"example": body}}


_USDT = {"asset": "USDT", "free": "1000.00000000", "locked": "0.00000000"}
_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"


@router.post(
    "/accounts",
    summary="Open an account, optionally with opening deposits",
    description=(
        "Every deposit is checked before the account is opened: a bad one opens nothing. Once "
        "opened, the answer is 200; a deposit the engine refused is in `refusedDeposits`, and "
        "one four eyes cover waits for a second person's approval in `proposedDeposits`."
    ),
    responses={
        200: {
            "description": "The new account and its balances",
            "content": _example({"accountId": 3, "balances": [_USDT]}),
        }
    },
)
async def open_account(service: ServiceDep, actor: OperatorDep, body: OpenAccountBody) -> Response:
    deposits = _opening_deposits(service.view, body.deposits)
    opened = await service.execute(
        OpenAccount(actor=actor, ts_ms=service.clock(), reason=body.reason, fee_tier=body.fee_tier)
    )
    if opened.refused:
        return answer(opened)
    account_id = next(e.account_id for e in opened.events if isinstance(e, AccountOpened))
    # From here the account exists: the answer is 200 whatever a deposit meets, or a client told
    # "error" would open a second account on retry. A refused deposit is listed with its reason.
    refused: list[dict[str, Any]] = []
    proposed: list[dict[str, Any]] = []  # deposits four eyes cover: each waits for an approval
    for asset, amount_raw in deposits:
        cmd = Deposit(
            actor=actor,
            ts_ms=service.clock(),
            account_id=account_id,
            asset=asset,
            amount_raw=amount_raw,
            tx_ref="opening deposit",
            reason=body.reason,
        )
        four_eyed = is_four_eyed(service, cmd)
        outcome = await (send_proposal(service, cmd) if four_eyed else service.execute(cmd))
        if four_eyed and not outcome.refused:
            proposed.append(proposal_json(made(outcome), service.clock()))
        for event in outcome.events:
            if isinstance(event, CommandRejected):
                refused.append(
                    {"asset": asset, "code": binance_error(event.code).code, "msg": event.reason}
                )
    # the view holds every deposit's events by now: each `execute` returned once folded
    answered: dict[str, Any] = {
        "accountId": account_id,
        "balances": balance_list(service.view, account_id),
    }
    if refused:
        answered["refusedDeposits"] = refused
    if proposed:
        answered["proposedDeposits"] = proposed
    return ok(answered)


@router.post(
    "/keys",
    summary="Create an API key for an account",
    description=(
        "Without `publicKey`: a new HMAC-SHA256 key pair; the secret is in this answer only. "
        "With `publicKey`: registers the customer's Ed25519 key (they keep the private key)."
    ),
    responses={
        200: {
            "description": "The key (and, for HMAC, its secret: shown once)",
            "content": _example({"apiKey": _KEY, "secretKey": "…64 characters…"}),
        }
    },
)
async def create_key(service: ServiceDep, actor: OperatorDep, body: KeyBody) -> Response:
    if "read" not in body.permissions:
        raise bad_request("every key can read: permissions must include 'read'")
    common: dict[str, Any] = {
        "account_id": body.account_id,
        "actor": actor,
        "ts_ms": service.clock(),
        "reason": body.reason,
        "can_trade": "trade" in body.permissions,
        "ip_allow": body.ip,
    }
    try:
        if body.public_key is not None:
            cmd = ed25519_key(body.public_key, **common)
            secret = None
        else:
            cmd, secret = hmac_key(service.box, **common)
    except KeyRequestError as exc:
        raise bad_request(str(exc)) from None
    if is_four_eyed(service, cmd):
        return await propose(service, cmd)
    outcome = await service.execute(cmd)
    if outcome.refused:
        return answer(outcome)
    if secret is None:
        return ok({"apiKey": cmd.api_key, "keyType": cmd.kind.value})
    return ok({"apiKey": cmd.api_key, "secretKey": secret}, headers=_NO_STORE)


@router.delete(
    "/keys/{api_key}",
    summary="Revoke an API key",
    responses={
        200: {
            "description": "The revoked key",
            "content": _example({"apiKey": _KEY, "accountId": 1, "revoked": True}),
        }
    },
)
async def revoke_key(
    service: ServiceDep,
    actor: OperatorDep,
    api_key: str,
    reason: str = Query(min_length=1, max_length=REASON_MAX, pattern=REASON_PATTERN),
) -> Response:
    """Revoke an API key at once: requests signed with it are refused from the moment the command is
    journaled. Name the reason."""
    owner = service.view.api_keys.get(api_key)
    if owner is None:
        raise not_found("API key", api_key)
    outcome = await service.execute(
        RevokeApiKey(actor=actor, ts_ms=service.clock(), reason=reason, api_key=api_key)
    )
    if outcome.refused:
        return answer(outcome)
    return ok({"apiKey": api_key, "accountId": owner.account_id, "revoked": True})


def _describe(key: KeyView) -> dict[str, Any]:
    return {
        "apiKey": key.api_key,
        "keyType": key.kind.value,
        "permissions": ["read", "trade"] if key.can_trade else ["read"],
        "ip": list(key.ip_allow),
    }


@router.get(
    "/accounts/{account_id}/keys",
    summary="An account's API keys (never their secrets)",
    responses={
        200: {
            "description": "The keys",
            "content": _example(
                [{"apiKey": _KEY, "keyType": "HMAC_SHA256", "permissions": ["read"], "ip": []}]
            ),
        }
    },
)
async def list_keys(service: ServiceDep, actor: OperatorDep, account_id: Int64) -> Response:
    """Every API key of an account: its key type (HMAC_SHA256 or ED25519), permissions and IP
    allow-list. Secrets are never shown again after creation."""
    view = service.view
    if account_id not in view.accounts:
        raise not_found("account", account_id)
    member = reader_scope(view, actor)
    if member is not None and not sees_account(view, member, account_id):
        raise out_of_scope(member, f"account {account_id}")
    keys = sorted(
        (k for k in view.api_keys.values() if k.account_id == account_id),
        key=lambda k: k.api_key,
    )
    return ok([_describe(k) for k in keys])
