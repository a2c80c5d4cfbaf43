"""Operator routes: send any command, deposit with a decimal amount, snapshot, inspect state.

Every command is stamped here with the authenticated actor and the time it was accepted, so a
client can neither forge who acted nor when.
"""

from typing import Any

import msgspec
from fastapi import APIRouter, Body, HTTPException, Response

from bourse.api.deps import Int64, OperatorDep, ServiceDep
from bourse.commands import AnyCommand, Deposit
from bourse.domain.limits import field_problem
from bourse.domain.money import PrecisionError, to_raw, to_str
from bourse.engine import snapshot
from bourse.engine.state import EngineState
from bourse.events import CommandRejected, Outcome

router = APIRouter(prefix="/admin/v1", tags=["operator"])


def answer(outcome: Outcome) -> Response:
    """200 with the outcome, or 400 with Binance's {code, msg} when the engine refused."""
    for event in outcome.events:
        if isinstance(event, CommandRejected):
            err = event.code.binance
            body = {
                "code": err.code,
                "msg": event.reason,
                "reject": event.code.name,
                "seq": outcome.seq,
            }
            return Response(
                msgspec.json.encode(body), status_code=400, media_type="application/json"
            )
    return Response(msgspec.json.encode(outcome), media_type="application/json")


@router.post(
    "/commands",
    summary="Sequence any engine command",
    description=(
        'A command as JSON: {"type": "<CommandName>", ...fields}, without `actor` and `ts_ms`, '
        "which the server stamps. Answers once the command is durable."
    ),
)
async def post_command(
    service: ServiceDep, actor: OperatorDep, body: dict[str, Any] = Body(...)
) -> Response:
    fields = {**body, "actor": actor, "ts_ms": service.clock()}
    try:
        cmd: AnyCommand = msgspec.convert(fields, AnyCommand)
    except msgspec.ValidationError as exc:
        raise HTTPException(
            400, detail={"code": -1102, "msg": f"malformed command: {exc}"}
        ) from None
    if problem := field_problem(cmd):  # the engine would refuse it too, but journaled
        raise HTTPException(400, detail={"code": -1102, "msg": f"malformed command: {problem}"})
    return answer(await service.execute(cmd))


class DepositRequest(msgspec.Struct, forbid_unknown_fields=True):
    account_id: int
    asset: str
    amount: str
    tx_ref: str = ""


@router.post("/deposits", summary="Credit a deposit given as a decimal amount")
async def post_deposit(
    service: ServiceDep, actor: OperatorDep, body: dict[str, Any] = Body(...)
) -> Response:
    try:
        req = msgspec.convert(body, DepositRequest)
    except msgspec.ValidationError as exc:
        raise HTTPException(400, detail={"code": -1102, "msg": str(exc)}) from None
    if problem := field_problem(req):
        raise HTTPException(400, detail={"code": -1102, "msg": problem})
    amount_raw = deposit_raw(service.exchange.engine.state, req.asset, req.amount)
    cmd = Deposit(
        actor=actor,
        ts_ms=service.clock(),
        account_id=req.account_id,
        asset=req.asset,
        amount_raw=amount_raw,
        tx_ref=req.tx_ref,
    )
    return answer(await service.execute(cmd))


def deposit_raw(state: EngineState, asset: str, amount: str) -> int:
    """A positive decimal amount of `asset` (a deposit, a withdrawal) in raw units, or 400
    (-1100 unknown asset, -1111 malformed, too precise or too large, -1130 not positive),
    before any policy is consulted."""
    precision = state.assets.get(asset)
    if precision is None:
        raise HTTPException(400, detail={"code": -1100, "msg": f"asset {asset!r} does not exist"})
    try:
        raw = to_raw(amount, precision, what=f"{asset} amount")
    except PrecisionError as exc:
        raise HTTPException(400, detail={"code": -1111, "msg": str(exc)}) from None
    if raw <= 0:
        msg = f"the {asset} amount must be positive, not {amount.strip()}"
        raise HTTPException(400, detail={"code": -1130, "msg": msg})
    return raw


def balance_list(state: EngineState, account_id: int) -> list[dict[str, str]]:
    """The account's balances in the engine, by asset, as decimal strings."""
    acct = state.accounts[account_id]
    return [
        {
            "asset": b.asset,
            "free": to_str(b.free, state.assets[b.asset]),
            "locked": to_str(b.locked, state.assets[b.asset]),
        }
        for b in sorted(acct.balances.values(), key=lambda b: b.asset)
    ]


@router.post("/snapshot", summary="Write a snapshot of the engine state now")
async def post_snapshot(service: ServiceDep, actor: OperatorDep) -> dict[str, Any]:
    seq, path = service.exchange.write_snapshot()
    return {"seq": seq, "path": path}


@router.get("/state", summary="Sequence numbers and the state digest")
async def get_state(service: ServiceDep, actor: OperatorDep) -> dict[str, Any]:
    ex = service.exchange
    return {
        "last_seq": ex.engine.state.last_seq,
        "durable_seq": ex.journal.durable_seq,
        "store_seq": ex.projection.applied_seq,
        "digest": snapshot.digest(ex.engine.state),
    }


@router.get("/accounts/{account_id}", summary="An account's permissions and balances")
async def get_account(service: ServiceDep, actor: OperatorDep, account_id: Int64) -> dict[str, Any]:
    state = service.exchange.engine.state
    acct = state.accounts.get(account_id)
    if acct is None:
        raise HTTPException(
            404, detail={"code": -2015, "msg": f"account {account_id} does not exist"}
        )
    return {
        "accountId": acct.id,
        "canTrade": acct.can_trade,
        "canDeposit": acct.can_deposit,
        "canWithdraw": acct.can_withdraw,
        "frozen": acct.frozen,
        "feeTier": acct.fee_tier,
        "openOrders": len(acct.open_orders),
        "balances": balance_list(state, account_id),
    }
