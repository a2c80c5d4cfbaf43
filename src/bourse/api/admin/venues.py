"""Venue routes of the compliance admin API: the regulated entities, whom they serve and what
they list. Defining one is an engine command stamped with the staff member and their reason."""

from typing import Any

import msgspec
from fastapi import APIRouter
from starlette.responses import Response

from bourse.api.admin.compliance import Reason, body_doc, code_of, one_line, parse
from bourse.api.admin.four_eyes import execute_or_propose
from bourse.api.binance.replies import ok
from bourse.api.deps import OperatorDep, ServiceDep
from bourse.commands import DefineVenue
from bourse.view.model import VenueView

router = APIRouter(prefix="/admin/v1", tags=["compliance"])


class VenueBody(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    reason: Reason
    jurisdictions: list[str] = []
    symbols: list[str] = []
    fee_tier: int = 0


def _venue(venue: VenueView) -> dict[str, Any]:
    return {
        "code": venue.code,
        "name": venue.name,
        "jurisdictions": list(venue.jurisdictions),
        "symbols": sorted(venue.symbols),
        "feeTier": venue.fee_tier,
    }


@router.get(
    "/venues",
    summary="List venues",
    description="Each venue, the residences it serves (none: every residence no other serves), "
    "the symbols it lists and its fee tier.",
)
async def list_venues(service: ServiceDep, actor: OperatorDep) -> Response:
    return ok([_venue(v) for v in service.view.venues.values()])


@router.put(
    "/venues/{code}",
    summary="Define or redefine a venue",
    description=(
        "Whom a venue serves is fixed once defined; its name, symbols and fee tier may change."
    ),
)
async def define_venue(
    service: ServiceDep,
    actor: OperatorDep,
    code: str,
    body: dict[str, Any] = body_doc(
        {
            "name": "Bourse Kazakhstan",
            "jurisdictions": ["KZ"],
            "symbols": ["BTCUSDT"],
            "reason": "AFSA licence granted",
        },
        VenueBody,
    ),
) -> Response:
    req = parse(body, VenueBody)
    code_of("venue code", code)
    one_line("name", req.name)
    cmd = DefineVenue(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        venue=code,
        name=req.name,
        jurisdictions=tuple(req.jurisdictions),
        symbols=tuple(req.symbols),
        fee_tier=req.fee_tier,
    )
    return await execute_or_propose(service, cmd, lambda o: _venue(service.view.venues[code]))
