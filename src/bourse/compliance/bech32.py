"""Bech32 and bech32m, the checksummed encoding of segwit addresses (BIP-173, BIP-350).

Written from the BIPs' specification and tested with their vectors: no maintained package on
PyPI decodes bech32m (Taproot), and the algorithm is a few lines of integer arithmetic. Decoding
only: bourse reads withdrawal destinations, it never makes addresses.
"""

from enum import Enum
from typing import NamedTuple

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_MAX_LENGTH = 90
_CHECKSUM_LENGTH = 6


class Encoding(Enum):
    BECH32 = 1  # BIP-173: segwit version 0
    BECH32M = 0x2BC830A3  # BIP-350: segwit versions 1 to 16


class Bech32Error(ValueError):
    """Text that is not a valid bech32/bech32m string or segwit address: says what is wrong."""


class Segwit(NamedTuple):
    hrp: str  # the network: "bc" is Bitcoin's mainnet, "tb" its testnet
    version: int  # witness version, 0 to 16
    program: bytes  # 2 to 40 bytes


def _xor_of_generators(top: int) -> int:
    out = 0
    for i, generator in enumerate(_GENERATOR):
        if (top >> i) & 1:
            out ^= generator
    return out


_STEP = tuple(_xor_of_generators(top) for top in range(32))  # one lookup per character


def _polymod(values: list[int]) -> int:
    check = 1
    for value in values:
        check = ((check & 0x1FFFFFF) << 5 ^ value) ^ _STEP[check >> 25]
    return check


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def decode(text: str) -> tuple[str, list[int], Encoding]:
    """The human-readable part, the 5-bit data without the checksum, and which checksum."""
    if any(not 33 <= ord(c) <= 126 for c in text):
        raise Bech32Error("it has a character outside printable ASCII")
    if text.lower() != text and text.upper() != text:
        raise Bech32Error("it mixes upper and lower case")
    if len(text) > _MAX_LENGTH:
        raise Bech32Error(f"it is longer than {_MAX_LENGTH} characters")
    text = text.lower()
    sep = text.rfind("1")
    if sep < 1:
        raise Bech32Error("it has no network prefix before the separator '1'")
    if sep + 1 + _CHECKSUM_LENGTH > len(text):
        raise Bech32Error("it is too short to hold a checksum")
    bad = sorted({c for c in text[sep + 1 :] if c not in CHARSET})
    if bad:
        raise Bech32Error(f"{''.join(bad)!r} cannot appear in bech32 data")
    hrp, data = text[:sep], [CHARSET.index(c) for c in text[sep + 1 :]]
    residue = _polymod(_hrp_expand(hrp) + data)
    for encoding in Encoding:
        if residue == encoding.value:
            return hrp, data[:-_CHECKSUM_LENGTH], encoding
    raise Bech32Error("its checksum does not match: a typo?")


def _to_bytes(data: list[int]) -> bytes:
    """5-bit groups to bytes; at most 4 bits of zero padding are allowed (BIP-173)."""
    acc = bits = 0
    out = bytearray()
    for value in data:
        acc = ((acc << 5) | value) & 0xFFF
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc << (8 - bits)) & 0xFF:
        raise Bech32Error("its padding is not valid")
    return bytes(out)


def decode_segwit(text: str) -> Segwit:
    """A segwit address's network, witness version and program, checked as BIP-173/350 say."""
    hrp, data, encoding = decode(text)
    if not data:
        raise Bech32Error("it has no witness program")
    version = data[0]
    if version > 16:
        raise Bech32Error(f"witness version {version} does not exist (0 to 16)")
    program = _to_bytes(data[1:])
    if not 2 <= len(program) <= 40:
        raise Bech32Error(f"a witness program of {len(program)} bytes is not valid (2 to 40)")
    if version == 0 and len(program) not in (20, 32):
        raise Bech32Error(f"a version 0 witness program has 20 or 32 bytes, not {len(program)}")
    expected = Encoding.BECH32 if version == 0 else Encoding.BECH32M
    if encoding is not expected:
        raise Bech32Error(
            f"witness version {version} uses the {expected.name.lower()} checksum, "
            f"not {encoding.name.lower()}"
        )
    return Segwit(hrp, version, program)
