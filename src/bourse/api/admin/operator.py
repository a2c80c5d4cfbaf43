"""Operator routes: send any command, deposit with a decimal amount, snapshot, inspect state.

Every command is stamped here with the authenticated actor and the time it was accepted, so a
client can neither forge who acted nor when.
"""

from typing import Any, get_args

import msgspec
from fastapi import APIRouter, Response

from bourse.api.admin.compliance import Reason, body_doc, parse
from bourse.api.admin.errors import answer, bad_request, not_found
from bourse.api.admin.four_eyes import (
    execute_or_propose,
    is_four_eyed,
    propose,
    screen_approved,
)
from bourse.api.admin.scope import out_of_scope, reader_scope, sees_account
from bourse.api.deps import Int64, OperatorDep, ServiceDep
from bourse.commands import AnyCommand, Deposit
from bourse.domain.limits import field_problem
from bourse.domain.money import PrecisionError, to_raw, to_str
from bourse.view import ReadModel

router = APIRouter(prefix="/admin/v1", tags=["operator"])
# The commands that record a reason: all an admin may send through /commands.
REASONED = frozenset(
    t.__struct_config__.tag for t in get_args(AnyCommand) if "reason" in t.__struct_fields__
)


class ReasonOnly(msgspec.Struct):
    """What /commands checks before decoding the command itself."""

    type: str
    reason: Reason


@router.post(
    "/commands",
    summary="Sequence any engine command that records its reason",
    description=(
        'A command as JSON: {"type": "<CommandName>", "reason": "...", ...fields}, without '
        "`actor` and `ts_ms`, which the server stamps. Every command sent here is an admin action "
        "and must carry a reason: a customer's or the system's own commands (orders, listenKeys, "
        "screening records), which record none, are refused. Answers once the command is durable."
    ),
)
async def post_command(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {"type": "SetSymbolStatus", "symbol": "ETHBTC", "status": "HALT", "reason": "maintenance"},
        ReasonOnly,
    ),
) -> Response:
    kind = body.get("type")
    if kind not in REASONED:
        raise bad_request(
            f"{kind!r} is not a command an admin may send: commands here record their reason "
            f"({', '.join(sorted(REASONED))})"
        )
    parse(body, ReasonOnly)  # REASON_REQUIRED before anything is sequenced
    fields = {**body, "actor": actor, "ts_ms": service.clock()}
    try:
        cmd: AnyCommand = msgspec.convert(fields, AnyCommand)
    except msgspec.ValidationError as exc:
        raise bad_request(f"malformed command: {exc}") from None
    if problem := field_problem(cmd):  # the engine would refuse it too, but journaled
        raise bad_request(f"malformed command: {problem}")
    if is_four_eyed(service, cmd):
        return await propose(service, cmd)
    outcome = await service.execute(cmd)
    # screened as through its own route: onboarding here must not skip its screening and hold
    await screen_approved(service, cmd, outcome)
    return answer(outcome)


class DepositRequest(msgspec.Struct, forbid_unknown_fields=True):
    account_id: int
    asset: str
    amount: str
    reason: Reason
    tx_ref: str = ""


@router.post(
    "/deposits",
    summary="Credit a deposit given as a decimal amount",
    description="The `reason` (why staff credit it) is journaled with the deposit and shown "
    "with it (DepositCredited); `tx_ref` is the transfer's reference.",
)
async def post_deposit(
    service: ServiceDep,
    actor: OperatorDep,
    body: dict[str, Any] = body_doc(
        {"account_id": 1, "asset": "BTC", "amount": "0.5", "reason": "wire 7781 received"},
        DepositRequest,
    ),
) -> Response:
    """Credit an account with a deposit of an asset, as an operator command naming its actor and
    reason. The engine's gate may refuse it (e.g. a jurisdiction closed to deposits); the answer
    is the command's seq and outcome once it is journaled."""
    req = parse(body, DepositRequest)  # checks the integers' ranges too
    view = service.view
    if req.account_id not in view.accounts:
        raise not_found("account", req.account_id)
    cmd = Deposit(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        account_id=req.account_id,
        asset=req.asset,
        amount_raw=deposit_raw(view, req.asset, req.amount),
        tx_ref=req.tx_ref,
    )
    return await execute_or_propose(service, cmd)


def decimal_raw(view: ReadModel, asset: str, text: str, what: str) -> int:
    """A decimal given in `asset` (an amount, a price in it) in raw units, or 404 (unknown
    asset) or 400 (malformed, too precise, too large) naming `what`."""
    precision = view.assets.get(asset)
    if precision is None:
        raise not_found("asset", repr(asset))
    try:
        return to_raw(text, precision, what=what)
    except PrecisionError as exc:
        raise bad_request(str(exc)) from None


def deposit_raw(view: ReadModel, asset: str, amount: str) -> int:
    """A positive decimal amount of `asset` (a deposit, a withdrawal) in raw units, or 404
    (unknown asset) or 400 (malformed, too precise, too large, not positive), before any policy
    is consulted."""
    raw = decimal_raw(view, asset, amount, f"{asset} amount")
    if raw <= 0:
        raise bad_request(f"the {asset} amount must be positive, not {amount.strip()}")
    return raw


def balance_list(view: ReadModel, account_id: int) -> list[dict[str, str]]:
    """The account's balances, by asset, as decimal strings."""
    acct = view.accounts[account_id]
    return [
        {
            "asset": b.asset,
            "free": to_str(b.free, view.assets[b.asset]),
            "locked": to_str(b.locked, view.assets[b.asset]),
        }
        for b in sorted(acct.balances.values(), key=lambda b: b.asset)
    ]


@router.post("/snapshot", summary="Write a snapshot of the engine state now")
async def post_snapshot(service: ServiceDep, actor: OperatorDep) -> dict[str, Any]:
    """Write a snapshot of the engine state at the last durable command now (as the server also does
    every `--snapshot-every` commands and on stop), so that the next recovery replays less.
    Answers the snapshot's seq and path."""
    seq, path = await service.snapshot()
    return {"seq": seq, "path": path}


@router.get("/state", summary="Sequence numbers and the state digest")
async def get_state(service: ServiceDep, actor: OperatorDep) -> dict[str, Any]:
    """The engine's last seq, the journal's durable seq, the SQL store's projected seq and the
    sha256 digest of the engine state, which `bourse replay` reproduces from the journal."""
    return await service.state()


@router.get("/accounts/{account_id}", summary="An account's permissions and balances")
async def get_account(service: ServiceDep, actor: OperatorDep, account_id: Int64) -> dict[str, Any]:
    """An account's Binance capabilities (canTrade, canDeposit, canWithdraw), frozen flag and free
    and locked balances per asset."""
    view = service.view
    acct = view.accounts.get(account_id)
    if acct is None:
        raise not_found("account", account_id)
    member = reader_scope(view, actor)
    if member is not None and not sees_account(view, member, account_id):
        raise out_of_scope(member, f"account {account_id}")
    return {
        "accountId": acct.id,
        "canTrade": acct.can_trade,
        "canDeposit": acct.can_deposit,
        "canWithdraw": acct.can_withdraw,
        "frozen": acct.frozen,
        # held: the customer's onboarding screening alerts, open (no deposit, trade, withdrawal)
        "heldBy": list(view.customers[acct.customer_id].held_by) if acct.customer_id else [],
        "feeTier": acct.fee_tier,
        "openOrders": len(acct.open_orders),
        "balances": balance_list(view, account_id),
    }
