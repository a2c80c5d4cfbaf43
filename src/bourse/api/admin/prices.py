"""Reference prices: an operator's price for an asset the exchange's own markets do not value,
so that a holdings condition decides on a stated price instead of counting the asset as 0.

Setting one is the SetReferencePrice command, stamped with the staff member and their reason.
Valuation uses it only where no traded market leads from the asset to a condition's asset.
"""

from typing import Any

import msgspec
from fastapi import APIRouter
from starlette.responses import Response

from bourse.api.admin.compliance import Reason, body_doc, first, parse
from bourse.api.admin.four_eyes import execute_or_propose
from bourse.api.admin.operator import decimal_raw
from bourse.api.binance.replies import ok
from bourse.api.deps import OperatorDep, ServiceDep
from bourse.commands import SetReferencePrice
from bourse.domain.money import to_str
from bourse.events import ReferencePriceSet
from bourse.server.service import GatewayService
from bourse.view.model import ReferencePriceView

router = APIRouter(prefix="/admin/v1", tags=["compliance"])


class PriceBody(msgspec.Struct, forbid_unknown_fields=True):
    price: str  # a decimal amount of the quote asset per one whole asset
    reason: Reason


def _price(
    service: GatewayService, asset: str, quote: str, ref: ReferencePriceView, traded: bool
) -> dict[str, Any]:
    return {
        "asset": asset,
        "quote": quote,
        "price": to_str(ref.price, service.view.assets[quote]),
        # a traded market leads from one to the other: valuation uses its price instead
        "tradedPrice": traded,
        "setMs": ref.set_ms,
        "actor": ref.actor,
        "reason": ref.reason,
    }


@router.get(
    "/reference-prices",
    summary="List reference prices",
    description=(
        "Each operator-set price of an asset in another, and whether a traded market now "
        "values the pair (then the trade price counts and the reference price is not used)."
    ),
)
async def list_prices(service: ServiceDep, actor: OperatorDep) -> Response:
    prices = sorted(service.view.reference_prices.items())
    return ok(
        [_price(service, a, q, ref, await service.traded_price(a, q)) for (a, q), ref in prices]
    )


@router.put(
    "/reference-prices/{asset}/{quote}",
    summary="Set the reference price of an asset",
    description=(
        "The price of one whole `asset` in `quote` (a decimal), replacing the pair's previous "
        "one. Holdings conditions of jurisdiction policies value `asset` at it where no traded "
        "market leads to the condition's asset; until an asset held by the people a policy "
        "names has a price (or the condition excludes it), applying the policy is refused."
    ),
)
async def set_price(
    service: ServiceDep,
    actor: OperatorDep,
    asset: str,
    quote: str,
    body: dict[str, Any] = body_doc(
        {"price": "55000", "reason": "EUR reference per ECB rate"}, PriceBody
    ),
) -> Response:
    req = parse(body, PriceBody)
    view = service.view
    price_raw = decimal_raw(view, quote, req.price, "price")
    cmd = SetReferencePrice(
        actor=actor,
        ts_ms=service.clock(),
        reason=req.reason,
        asset=asset,
        quote=quote,
        price_raw=price_raw,
    )

    # asked first: no failure may follow the journaled command (setting a price lists nothing)
    traded = await service.traded_price(asset, quote)

    def shown(outcome: Any) -> dict[str, Any]:
        event = first(outcome, ReferencePriceSet)
        previous = to_str(event.previous_raw, view.assets[quote]) if event.previous_raw else None
        return {
            **_price(service, asset, quote, view.reference_prices[(asset, quote)], traded),
            "previous": previous,
            "seq": outcome.seq,
        }

    return await execute_or_propose(service, cmd, shown)
