"""Events of reference data: assets, symbols, fees, reference prices, venues."""

from bourse.domain.enums import SymbolStatus
from bourse.domain.symbols import SymbolSpec
from bourse.events.base import Event


class AssetCreated(Event, frozen=True, kw_only=True, tag="AssetCreated"):
    asset: str
    precision: int
    fiat: bool = False


class SymbolListed(Event, frozen=True, kw_only=True, tag="SymbolListed"):
    spec: SymbolSpec
    status: SymbolStatus


class SymbolStatusChanged(Event, frozen=True, kw_only=True, tag="SymbolStatusChanged"):
    symbol: str
    status: SymbolStatus
    reason: str


class ReferencePriceSet(Event, frozen=True, kw_only=True, tag="ReferencePriceSet"):
    asset: str
    quote: str
    price_raw: int
    previous_raw: int  # 0: the pair had none
    actor: str
    reason: str


class FeeTierDefined(Event, frozen=True, kw_only=True, tag="FeeTierDefined"):
    tier: int
    maker_multiplier_ppm: int
    taker_multiplier_ppm: int


class VenueDefined(Event, frozen=True, kw_only=True, tag="VenueDefined"):
    venue: str
    name: str
    jurisdictions: tuple[str, ...]
    symbols: tuple[str, ...]
    fee_tier: int
    actor: str
    reason: str
