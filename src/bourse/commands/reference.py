"""Reference data: assets, symbols, reference prices, fee tiers."""

from bourse.commands.base import OperatorCommand
from bourse.domain.enums import (
    SymbolStatus,
)
from bourse.domain.symbols import SymbolSpec


class CreateAsset(OperatorCommand, frozen=True, kw_only=True, tag="CreateAsset"):
    """`fiat` assets move through banks (fiat deposit/withdrawal capabilities), others on-chain."""

    asset: str
    precision: int
    fiat: bool = False


class ListSymbol(OperatorCommand, frozen=True, kw_only=True, tag="ListSymbol"):
    spec: SymbolSpec
    status: SymbolStatus = SymbolStatus.TRADING


class SetSymbolStatus(OperatorCommand, frozen=True, kw_only=True, tag="SetSymbolStatus"):
    symbol: str
    status: SymbolStatus


class SetReferencePrice(OperatorCommand, frozen=True, kw_only=True, tag="SetReferencePrice"):
    """An operator's price of one whole `asset` in `quote` (`price_raw` in quote's precision),
    replacing the pair's previous one: what a holdings condition values `asset` at where no
    traded market leads to the condition's asset."""

    asset: str
    quote: str
    price_raw: int


class DefineFeeTier(OperatorCommand, frozen=True, kw_only=True, tag="DefineFeeTier"):
    """A tier pays `multiplier_ppm` / 1,000,000 of each symbol's maker and taker rates."""

    tier: int
    maker_multiplier_ppm: int
    taker_multiplier_ppm: int
