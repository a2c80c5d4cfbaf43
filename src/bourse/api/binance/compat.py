"""The non-spot Binance routes that spot clients call anyway, answered truthfully for a spot-only
exchange instead of with a 404 that breaks the client.

ccxt with API keys and default options loads markets through `/sapi/v1/capital/config/getall`,
`/sapi/v1/margin/allPairs`, `/sapi/v1/margin/isolated/allPairs` and the `fapi`/`dapi` exchangeInfo:
those answer here (no margin pairs, no derivatives). Any other path under the families this
exchange does not run (`/sapi/`, `/fapi/`, `/dapi/`, `/eapi/`, `/papi/`) gets -1020 "This
operation is not supported." with the path named, as HTTP 400 JSON every client can read. These
catch-alls must be the app's last routes (`install` includes this router last).
"""

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bourse.api.binance.gateway import gateway
from bourse.api.binance.params import Params, openapi
from bourse.api.binance.replies import JSON, ApiError, ok
from bourse.domain.enums import SymbolStatus
from bourse.domain.money import to_str
from bourse.store import queries

router = APIRouter()
FAMILIES = ("sapi", "fapi", "dapi", "eapi", "papi")
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
_COIN_EXAMPLE = {
    "coin": "BTC",
    "depositAllEnable": False,
    "withdrawAllEnable": False,
    "name": "BTC",
    "free": "10.00000000",
    "locked": "0.00000000",
    "freeze": "0.00000000",
    "withdrawing": "0.00000000",
    "ipoing": "0.00000000",
    "ipoable": "0.00000000",
    "storage": "0.00000000",
    "isLegalMoney": False,
    "trading": True,
    "networkList": [],
}


def _example(body: Any) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": "OK", "content": {JSON: {"example": body}}}}


@router.get(
    "/sapi/v1/capital/config/getall",
    summary="All coins' information (USER_DATA)",
    description="Every asset this exchange holds, with the caller's balances. No on-chain network "
    "is connected (deposits and withdrawals go through the operator), so `networkList` is empty "
    "and `depositAllEnable`/`withdrawAllEnable` are false.",
    tags=["Wallet"],
    openapi_extra=openapi(signed=True),
    responses=_example([_COIN_EXAMPLE]),
)
async def all_coins(request: Request) -> Response:
    """The real list rather than `[]`: clients (ccxt's fetch_currencies) take it as the set of
    currencies, and an empty one would claim the exchange has none. Balances come from the store,
    which holds only what is durable; funds held for a pending withdrawal are in `locked`, as in
    /api/v3/account, so `withdrawing` stays zero."""
    gw = gateway(request)
    params = await Params.read(request)
    caller = gw.authenticate(request, params, trade=False)
    assets = dict(gw.view.assets)
    traded = {
        asset
        for sym in gw.view.symbols.values()
        if sym.status is SymbolStatus.TRADING
        for asset in (sym.spec.base, sym.spec.quote)
    }
    held = {row.asset: row for row in await gw.read(queries.balances, caller.account_id)}
    coins = []
    for asset, precision in sorted(assets.items()):
        row = held.get(asset)
        zero = to_str(0, precision)
        coins.append(
            {
                "coin": asset,
                "depositAllEnable": False,
                "withdrawAllEnable": False,
                "name": asset,
                "free": to_str(row.free_raw, precision) if row else zero,
                "locked": to_str(row.locked_raw, precision) if row else zero,
                "freeze": zero,
                "withdrawing": zero,
                "ipoing": zero,
                "ipoable": zero,
                "storage": zero,
                "isLegalMoney": False,
                "trading": asset in traded,
                "networkList": [],
            }
        )
    return ok(coins)


@router.get(
    "/sapi/v1/margin/allPairs",
    summary="All cross margin pairs: none (spot only)",
    tags=["Compatibility"],
    responses=_example([]),
)
async def margin_pairs(request: Request) -> Response:
    """Cross margin pairs: always `[]`, as this exchange is spot only. Clients call it while loading
    markets."""
    return ok([])


@router.get(
    "/sapi/v1/margin/isolated/allPairs",
    summary="All isolated margin pairs: none (spot only)",
    tags=["Compatibility"],
    responses=_example([]),
)
async def isolated_margin_pairs(request: Request) -> Response:
    """Isolated margin pairs: always `[]` (signed), as this exchange is spot only."""
    return ok([])


@router.get(
    "/sapi/v1/system/status",
    summary="System status",
    tags=["Compatibility"],
    responses=_example({"status": 0, "msg": "normal"}),
)
async def system_status(request: Request) -> Response:
    """`{"status":0,"msg":"normal"}` while the server serves."""
    return ok({"status": 0, "msg": "normal"})


def _no_derivatives(request: Request) -> dict[str, Any]:
    return {
        "timezone": "UTC",
        "serverTime": gateway(request).clock(),
        "rateLimits": [],
        "exchangeFilters": [],
        "assets": [],
        "symbols": [],
    }


@router.get(
    "/fapi/v1/exchangeInfo",
    summary="USDⓈ-M futures exchange information: no symbols (spot only)",
    tags=["Compatibility"],
    responses=_example({"timezone": "UTC", "serverTime": 1700000000000, "symbols": []}),
)
async def futures_info(request: Request) -> Response:
    """Binance's USDⓈ-M futures exchangeInfo shape with no symbols, so that clients loading every
    market see none here."""
    return ok(_no_derivatives(request))


@router.get(
    "/dapi/v1/exchangeInfo",
    summary="COIN-M futures exchange information: no symbols (spot only)",
    tags=["Compatibility"],
    responses=_example({"timezone": "UTC", "serverTime": 1700000000000, "symbols": []}),
)
async def delivery_info(request: Request) -> Response:
    """Binance's COIN-M futures exchangeInfo shape with no symbols, so that clients loading every
    market see none here."""
    return ok(_no_derivatives(request))


@router.get(
    "/eapi/v1/exchangeInfo",
    summary="Options exchange information: no contracts (spot only)",
    tags=["Compatibility"],
    responses=_example({"timezone": "UTC", "serverTime": 1700000000000, "optionSymbols": []}),
)
async def options_info(request: Request) -> Response:
    """Binance's options exchangeInfo shape with no contracts, so that clients loading every market
    see none here."""
    return ok(
        {
            "timezone": "UTC",
            "serverTime": gateway(request).clock(),
            "optionContracts": [],
            "optionAssets": [],
            "optionSymbols": [],
            "rateLimits": [],
        }
    )


async def not_supported(request: Request) -> Response:
    raise ApiError(
        -1020,
        "This operation is not supported. "
        f"This exchange is spot only: {request.url.path} is not supported.",
    )


for _family in FAMILIES:
    router.add_api_route(
        f"/{_family}/{{rest:path}}", not_supported, methods=_METHODS, include_in_schema=False
    )
