"""exchangeInfo: symbols with their filters, and the `symbol` / `symbols` / `symbolStatus`
selection that exchangeInfo and the tickers share.

Only spot fields: never contractType, deliveryDate, expiryDate, underlying or tradability, which
make ccxt take a symbol for a derivative or a stock.
"""

import json
import re
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from bourse.api.binance.auth import KEY_HEADER
from bourse.api.binance.gateway import Gateway, gateway
from bourse.api.binance.order_view import Body
from bourse.api.binance.params import P, Params, openapi
from bourse.api.binance.ratelimit import RATE_LIMITS
from bourse.api.binance.replies import ApiError, illegal_chars, ok
from bourse.domain.enums import SelfTradePrevention, SymbolStatus
from bourse.domain.filters import LotSize
from bourse.domain.money import to_str
from bourse.view import ReadModel
from bourse.view.model import SymbolView

# Binance's own pattern for a JSON array of symbols (its -1100 message quotes it)
SYMBOLS_PATTERN = r'^\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\]$'
_SYMBOLS = re.compile(SYMBOLS_PATTERN)
_PERMISSIONS = re.compile(r'^\[("[A-Z0-9_]{1,20}"(,"[A-Z0-9_]{1,20}"){0,}){0,1}\]$')
STP_MODES = [m.value for m in SelfTradePrevention]
STATUSES = tuple(s.value for s in SymbolStatus)

SYMBOL_PARAMS = (
    P("symbol", description="One symbol; not with `symbols`"),
    P("symbols", description='A JSON array of symbols, e.g. ["BTCUSDT","ETHUSDT"]'),
    P("symbolStatus", enum=STATUSES, description="Only symbols with this status"),
)
router = APIRouter(tags=["market data"])  # mounted under /api/v3 by the market router


@router.get(
    "/exchangeInfo",
    summary="Trading rules and symbol information",
    openapi_extra=openapi(
        *SYMBOL_PARAMS,
        P("permissions", description='SPOT, or a JSON array such as ["SPOT"]'),
        P("showPermissionSets", "boolean", description="Fill permissionSets (default true)"),
    ),
)
async def exchange_info(request: Request) -> Response:
    """A request that carries a customer's API key (X-MBX-APIKEY, as python-binance and the SDK
    send on every call) sees the symbols of that customer's venue; others see every symbol."""
    gw, params = gateway(request), await Params.read(request)
    return ok(await trading_rules(gw, params, request.headers.get(KEY_HEADER)))


async def trading_rules(gw: Gateway, params: Params, api_key: str | None = None) -> Body:
    """Exchange information: GET exchangeInfo and exchangeInfo. `api_key` is the key the request
    names (signed or not), which chooses the venue's symbols."""
    listed = venue_symbols(gw.view, api_key)
    return {
        "timezone": "UTC",
        "serverTime": gw.clock(),
        "rateLimits": RATE_LIMITS,
        "exchangeFilters": [],
        "symbols": exchange_symbols(gw.view, params, listed),
    }


def venue_symbols(view: ReadModel, api_key: str | None) -> frozenset[str] | None:
    """The symbols the venue of this key's customer lists, or None (no key, a house account,
    no venues): the caller sees everything."""
    key = view.api_keys.get(api_key) if api_key else None
    acct = view.accounts.get(key.account_id) if key is not None else None
    if acct is None or not acct.customer_id:
        return None
    venue = view.venues.get(view.customers[acct.customer_id].venue)
    return venue.symbols if venue is not None else None


def combo() -> ApiError:
    return ApiError(-1128, "Combination of optional parameters invalid.")


def _status(params: Params) -> SymbolStatus | None:
    return params.opt_choice("symbolStatus", SymbolStatus, ApiError(-1122, "Invalid symbolStatus."))


def parse_symbols(text: str) -> list[str]:
    """A `symbols` JSON array (-1100 if malformed, -1151 with a symbol twice)."""
    compact = text.replace(" ", "")
    if not _SYMBOLS.match(compact):
        raise illegal_chars("symbols", SYMBOLS_PATTERN)
    names: list[str] = json.loads(compact)
    if len(set(names)) != len(names):
        raise ApiError(-1151, "Symbol is present multiple times in the list.")
    return names


def select(view: ReadModel, params: Params) -> tuple[list[SymbolView], bool]:
    """The symbols a request names, and whether it named exactly one (`symbol`: answer one
    object, else a list). Unknown symbol -1121; a single symbol whose status does not match
    `symbolStatus` -1220; with `symbols` or no selection, non-matching symbols are left out."""
    one, many, status = params.opt_text("symbol"), params.opt_text("symbols"), _status(params)
    if one is not None and many is not None:
        raise combo()
    if one is not None:
        return [one_symbol(view, params)], True
    chosen = (
        [_lookup(view, n) for n in parse_symbols(many)]
        if many is not None
        else list(view.symbols.values())
    )
    return [s for s in chosen if status is None or s.status is status], False


def one_symbol(view: ReadModel, params: Params) -> SymbolView:
    """The mandatory `symbol`, refused (-1220) if `symbolStatus` is given and differs."""
    sym = _lookup(view, params.text("symbol"))
    status = _status(params)
    if status is not None and sym.status is not status:
        raise ApiError(-1220, "The symbol's status does not match the requested symbolStatus.")
    return sym


def _lookup(view: ReadModel, name: str) -> SymbolView:
    sym = view.symbols.get(name.upper())
    if sym is None:
        raise ApiError(-1121, "Invalid symbol.")
    return sym


def exchange_symbols(
    view: ReadModel, params: Params, listed: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """exchangeInfo's `symbols` for its parameters (symbol, symbols, permissions, symbolStatus,
    showPermissionSets), among the `listed` ones if given (a venue's listing: others are
    -1121 when named, left out otherwise). Every symbol here is SPOT, so a `permissions` filter
    without SPOT leaves none; `permissions` and `symbolStatus` do not combine with `symbol`/
    `symbols`."""
    named = params.has("symbol") or params.has("symbols")
    perms = params.opt_text("permissions")
    if named and (perms is not None or params.has("symbolStatus")):
        raise combo()
    show_sets = params.flag("showPermissionSets")
    selected, _ = select(view, params)
    if listed is not None:
        if named and any(s.spec.name not in listed for s in selected):
            raise ApiError(-1121, "Invalid symbol.")
        selected = [s for s in selected if s.spec.name in listed]
    if perms is not None and "SPOT" not in _parse_permissions(perms):
        selected = []
    return [render_symbol(s, show_sets is not False) for s in selected]


def _parse_permissions(text: str) -> list[str]:
    compact = text.replace(" ", "")
    if compact.startswith("["):
        if not _PERMISSIONS.match(compact):
            raise illegal_chars("permissions", _PERMISSIONS.pattern)
        found: list[str] = json.loads(compact)
        return found
    return [compact]


def render_symbol(sym: SymbolView, permission_sets: bool = True) -> dict[str, Any]:
    spec = sym.spec
    bp, qp = spec.base_precision, spec.quote_precision
    pf, notional = spec.price_filter, spec.notional
    return {
        "symbol": spec.name,
        "status": sym.status.value,
        "baseAsset": spec.base,
        "baseAssetPrecision": bp,
        "quoteAsset": spec.quote,
        "quotePrecision": qp,
        "quoteAssetPrecision": qp,
        "baseCommissionPrecision": bp,
        "quoteCommissionPrecision": qp,
        "orderTypes": [t.value for t in spec.order_types],
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": True,
        "amendAllowed": False,
        "pegInstructionsAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": to_str(pf.min_price_raw, qp),
                "maxPrice": to_str(pf.max_price_raw, qp),
                "tickSize": to_str(pf.tick_size_raw, qp),
            },
            _lot("LOT_SIZE", spec.lot_size, bp),
            _lot("MARKET_LOT_SIZE", spec.market_lot_size, bp),
            {
                "filterType": "NOTIONAL",
                "minNotional": to_str(notional.min_notional_raw, qp),
                "applyMinToMarket": notional.apply_min_to_market,
                "maxNotional": to_str(notional.max_notional_raw, qp),
                "applyMaxToMarket": notional.apply_max_to_market,
                "avgPriceMins": notional.avg_price_mins,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]] if permission_sets else [],
        "defaultSelfTradePreventionMode": SelfTradePrevention.EXPIRE_MAKER.value,
        "allowedSelfTradePreventionModes": STP_MODES,
    }


def _lot(kind: str, lot: LotSize, precision: int) -> dict[str, Any]:
    return {
        "filterType": kind,
        "minQty": to_str(lot.min_qty_raw, precision),
        "maxQty": to_str(lot.max_qty_raw, precision),
        "stepSize": to_str(lot.step_size_raw, precision),
    }
