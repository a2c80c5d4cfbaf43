"""Crypto addresses compared the way their networks do: 0x-hex (Ethereum family) and bech32 are
case-insensitive, base58 (Bitcoin legacy, Tron, ...) is not. One rule for the matcher's exact
index and for the engine's block on withdrawals to listed addresses."""

import re

_HEX = re.compile(r"0x[0-9a-fA-F]+")
_BECH32 = ("bc1", "ltc1", "tb1")


def address_key(address: str) -> str:
    value = address.strip()
    if _HEX.fullmatch(value) or value.lower().startswith(_BECH32):
        value = value.lower()
    return value
