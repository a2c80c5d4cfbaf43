"""Where a withdrawal may go: each asset's network and the form of a destination on it.

One table says which network pays out each crypto asset; fiat assets go to an IBAN. One check,
`destination_problem`, says in a sentence why a destination cannot receive an asset: the
gateways answer it as a 400 before anything is journaled, and the engine refuses a withdrawal
command with it, so no path (the admin API, the CLI, a raw command) holds funds for a
destination the network would reject or, worse, for someone else's address on another chain.

- Bitcoin: mainnet only. Base58check P2PKH (1...) and P2SH (3...), and bech32/bech32m segwit
  (bc1...) outputs in use: P2WPKH, P2WSH and P2TR. Testnet addresses and witness versions no
  wallet spends yet are refused: the coins would be lost. So is an all-zero hash (a burn address).
- Ethereum, and USDT as an ERC-20 token on it: 0x and 40 hex digits; a mixed-case address must
  carry a valid EIP-55 checksum. The zero address is refused (it burns what it receives).
- Fiat: an IBAN, checked by schwifty (country, length, check digits).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import base58
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from bourse.compliance.bech32 import Bech32Error, decode_segwit


@dataclass(frozen=True)
class Network:
    kind: str  # what a destination is: "Bitcoin address"
    address: str  # the same with its article and token standard: "an Ethereum address (ERC-20)"
    problem: Callable[[str], str | None]  # why text is not a valid destination, None if it is


_P2PKH, _P2SH = 0x00, 0x05  # base58check version bytes on Bitcoin's mainnet
_TESTNET_VERSIONS = (0x6F, 0xC4)
_SPENDABLE_SEGWIT = {(0, 20): "P2WPKH", (0, 32): "P2WSH", (1, 32): "P2TR"}
_TESTNET = "it is a Bitcoin testnet address; bourse pays out on mainnet only"
_BURN = "its hash is all zeros: nobody can spend what it receives"


def _bitcoin_problem(text: str) -> str | None:
    if text.lower().startswith(("bc1", "tb1", "bcrt1")):
        try:
            hrp, version, program = decode_segwit(text)
        except Bech32Error as exc:
            return str(exc)
        if hrp in ("tb", "bcrt"):
            return _TESTNET
        if hrp != "bc":
            return f"its prefix {hrp!r} is not Bitcoin's 'bc'"
        if (version, len(program)) not in _SPENDABLE_SEGWIT:
            return (
                f"witness version {version} with a {len(program)}-byte program is not an output "
                f"type in use ({', '.join(_SPENDABLE_SEGWIT.values())}): coins sent there could "
                "be lost"
            )
        return None if any(program) else _BURN
    try:
        payload = base58.b58decode_check(text)
    except ValueError as exc:  # a character outside base58, or the checksum
        if "checksum" in str(exc).lower():
            return "its checksum does not match: a typo?"
        return "it is neither base58 (1... or 3...) nor bech32 (bc1...)"
    if len(payload) != 21:
        return "it does not decode to a version byte and a 20-byte hash"
    if payload[0] in _TESTNET_VERSIONS:
        return _TESTNET
    if payload[0] not in (_P2PKH, _P2SH):
        return f"its version byte {payload[0]} is neither P2PKH (1...) nor P2SH (3...)"
    return None if any(payload[1:]) else _BURN


_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def eip55(hex40: str) -> str:
    """The EIP-55 checksummed form of 40 hex digits (no 0x): a letter is upper case where the
    Keccak-256 of the lower-case digits has a nibble of 8 or more."""
    # Imported at the first Ethereum address, not with the engine: pycryptodome's import parses
    # C declarations through cffi (~80 ms), and every process that imports the engine paid it.
    from Crypto.Hash import keccak

    lower = hex40.lower()
    digest = keccak.new(digest_bits=256, data=lower.encode("ascii")).hexdigest()
    nibbles = digest[: len(lower)]
    return "".join(c.upper() if int(d, 16) >= 8 else c for c, d in zip(lower, nibbles, strict=True))


def _ethereum_problem(text: str) -> str | None:
    if not _HEX_ADDRESS.fullmatch(text):
        return "an Ethereum address is 0x followed by 40 hexadecimal digits"
    digits = text[2:]
    mixed = digits != digits.lower() and digits != digits.upper()
    if mixed and digits != eip55(digits):
        return "its EIP-55 checksum (the pattern of capital letters) does not match: a typo?"
    if int(digits, 16) == 0:
        return "it is the zero address, which burns what it receives"
    return None


def _iban_problem(text: str) -> str | None:
    try:
        IBAN(text)
    except SchwiftyException as exc:
        # schwifty's message may end with the IBAN itself, which the refusal already quotes
        detail = str(exc).removesuffix("".join(text.split()).upper()).rstrip(" :")
        return detail[:1].lower() + detail[1:]
    return None


BITCOIN = Network("Bitcoin address", "a Bitcoin address", _bitcoin_problem)
ETHEREUM = Network("Ethereum address", "an Ethereum address", _ethereum_problem)
ERC20 = Network("Ethereum address", "an Ethereum address (ERC-20)", _ethereum_problem)
BANK = Network("IBAN", "an IBAN", _iban_problem)

# The network each crypto asset is paid out on. An asset missing here cannot be withdrawn
# until its network and a check of its addresses are added.
CRYPTO_NETWORKS: dict[str, Network] = {"BTC": BITCOIN, "ETH": ETHEREUM, "USDT": ERC20}


_LONGEST = 90  # a bech32 string; an IBAN has at most 34 characters, other addresses fewer


def network_of(asset: str, fiat: bool) -> Network | None:
    return BANK if fiat else CRYPTO_NETWORKS.get(asset)


def destination_problem(asset: str, fiat: bool, destination: str) -> str | None:
    """Why `destination` cannot receive a withdrawal of `asset`, as a full sentence; None if it
    can. Surrounding whitespace is ignored; an IBAN may be written in groups."""
    network = network_of(asset, fiat)
    if network is None:
        known = ", ".join(sorted(CRYPTO_NETWORKS))
        return (
            f"{asset} has no withdrawal network configured, so it cannot be withdrawn "
            f"(crypto withdrawals are checked for {known})"
        )
    text = destination.strip()
    if not text:
        return f"a withdrawal needs a destination: {asset} withdrawals go to {network.address}"
    if len(text) > _LONGEST:
        return (
            f"{asset} withdrawals go to {network.address}: the destination has {len(text)} "
            f"characters, and none has more than {_LONGEST}"
        )
    problem = network.problem(text)
    if problem is None:
        return None
    if not fiat and _iban_problem(text) is None:
        return (
            f"{asset} cannot be withdrawn to an IBAN: {asset} withdrawals go to {network.address}"
        )
    elsewhere = next((n for n in (BITCOIN, ETHEREUM) if n.problem(text) is None), None)
    if fiat and elsewhere is not None:
        return (
            f"{asset} cannot be withdrawn to a crypto address ({text!r} is {elsewhere.address}): "
            f"{asset} withdrawals go to {network.address}"
        )
    if elsewhere is not None:
        problem = f"it is {elsewhere.address}"
    return (
        f"{asset} withdrawals go to {network.address}: {text!r} is not a valid {network.kind}: "
        f"{problem}"
    )
