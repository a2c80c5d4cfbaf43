"""Withdrawal destinations against each asset's network, checked with published vectors: BIP-173
and BIP-350 (bech32, bech32m, segwit addresses), EIP-55 (Ethereum's mixed-case checksum), and
the IBAN and Bitcoin addresses the standards and wikis use as examples."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bourse.compliance import bech32
from bourse.compliance.destinations import destination_problem, eip55

# --- bech32 / bech32m: BIP-173 and BIP-350 test vectors ---------------------------------------

VALID_BECH32 = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]
VALID_BECH32M = [
    "A1LQFN3A",
    "a1lqfn3a",
    "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
    "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
    "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
    "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
    "?1v759aa",
]
INVALID_BECH32 = [  # invalid for both checksums, or decoding as the other one
    " 1nwldj5",  # HRP character out of range
    "\x7f" + "1axkwrx",
    "\x80" + "1eym55h",
    "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
    "pzry9x0s0muk",  # no separator
    "1pzry9x0s0muk",  # empty HRP
    "x1b4n0q5v",  # invalid data character
    "li1dgmt3",  # too short checksum
    "de1lg7wt" + "\xff",  # invalid character in checksum
    "A1G7SGD8",  # checksum calculated with the upper-case HRP
    "10a06t8",
    "1qzzfhee",
]
INVALID_BECH32M = [
    " 1xj0phk",
    "\x7f" + "1g6xzxy",
    "\x80" + "1vctc34",
    "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4",
    "qyrz8wqd2c9m",
    "1qyrz8wqd2c9m",
    "y1b0jsk6g",
    "lt1igcx5c0",
    "in1muywd",
    "mm1crxm3i",
    "au1s5cgom",
    "M1VUXWEZ",
    "16plkw9",
    "1p2gdwpf",
]
# (address, scriptPubKey): witness version byte (OP_n), program length, program
VALID_SEGWIT = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
    ),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "6002751e"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"),
    (
        "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
]
INVALID_SEGWIT = [
    "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",  # invalid HRP (for bc/tb)
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # bech32 for v1
    "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",  # bech32 for v2
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",  # bech32 for v16
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # bech32m for v0
    "tb1q0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq24jc47",  # bech32m for v0
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",  # bad checksum character
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",  # invalid witness version
    "bc1pw5dgrnzv",  # 1-byte program
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",  # 41 bytes
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # 16 bytes for version 0
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",  # mixed case
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",  # > 4 padding bits
    "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vpggkg4j",  # non-zero padding
    "bc1gmk9yu",  # empty data
]


@pytest.mark.parametrize("text", VALID_BECH32 + VALID_BECH32M)
def test_valid_checksums_decode_and_a_flipped_character_does_not(text: str) -> None:
    _, _, encoding = bech32.decode(text)
    assert encoding is (bech32.Encoding.BECH32 if text in VALID_BECH32 else bech32.Encoding.BECH32M)
    sep = text.rfind("1")
    flipped = text[: sep + 1] + chr(ord(text[sep + 1]) ^ 1) + text[sep + 2 :]
    with pytest.raises(bech32.Bech32Error):
        bech32.decode(flipped)


@pytest.mark.parametrize("text", INVALID_BECH32 + INVALID_BECH32M)
def test_invalid_bech32_strings(text: str) -> None:
    try:
        _, _, encoding = bech32.decode(text)
    except bech32.Bech32Error:
        return
    # valid only as the other checksum
    other = bech32.Encoding.BECH32M if text in INVALID_BECH32 else bech32.Encoding.BECH32
    assert encoding is other


@pytest.mark.parametrize(("address", "script"), VALID_SEGWIT)
def test_valid_segwit_addresses_decode_to_their_script(address: str, script: str) -> None:
    hrp, version, program = bech32.decode_segwit(address)
    assert hrp in ("bc", "tb")
    op = version + 0x50 if version else 0
    assert bytes([op, len(program)]) + program == bytes.fromhex(script)


@pytest.mark.parametrize("address", INVALID_SEGWIT)
def test_invalid_segwit_addresses(address: str) -> None:
    try:
        hrp, _, _ = bech32.decode_segwit(address)
    except bech32.Bech32Error:
        return
    assert hrp not in ("bc", "tb")


# --- EIP-55: the vectors of the EIP --------------------------------------------------------

EIP55 = [
    "0x52908400098527886E0F7030069857D2E4169EE7",  # all caps
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",  # all lower
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # normal
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("address", EIP55[4:])
def test_eip55_checksums_of_the_spec(address: str) -> None:
    assert "0x" + eip55(address[2:].lower()) == address


# --- destination_problem: the whole check, per asset ------------------------------------------

BTC_OK = [
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",  # P2PKH
    "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",  # the genesis block's
    "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # P2SH
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # P2WPKH
    "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4",  # upper case is valid bech32
    "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",  # P2WSH
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",  # P2TR
    " bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4\n",  # surrounding whitespace is not part of it
]
IBAN_DE = "DE89 3704 0044 0532 0130 00"
IBAN_KZ = "KZ86125KZT5004100100"

OK = [
    *(("BTC", a) for a in BTC_OK),
    *(("ETH", a) for a in EIP55),
    *(("USDT", a) for a in EIP55),
    ("EUR", IBAN_DE),
    ("EUR", "DE89370400440532013000"),
    ("EUR", "de89370400440532013000"),
    ("KZT", IBAN_KZ),
    ("EUR", "GB82WEST12345698765432"),
]

ADDRESS_NOT_ONE = "USDT withdrawals go to an Ethereum address (ERC-20): 'not an address at all!!'"
REFUSED = [
    # (asset, destination, words the sentence says)
    ("USDT", "not an address at all!!", (ADDRESS_NOT_ONE, "0x followed by 40 hexadecimal")),
    ("BTC", IBAN_DE, ("BTC cannot be withdrawn to an IBAN",)),
    ("BTC", IBAN_KZ, ("BTC cannot be withdrawn to an IBAN",)),
    ("ETH", IBAN_DE, ("ETH cannot be withdrawn to an IBAN", "an Ethereum address")),
    ("BTC", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", ("checksum does not match",)),
    ("BTC", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNV0", ("neither base58",)),  # 0 is not base58
    ("BTC", "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", ("testnet", "mainnet only")),
    ("BTC", VALID_SEGWIT[1][0], ("testnet",)),
    ("BTC", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", ("checksum does not match",)),
    ("BTC", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", ("uses the bech32 checksum",)),
    ("BTC", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", ("witness version 2", "not an output type")),
    ("BTC", "BC1SW50QGDZ25J", ("witness version 16",)),
    ("BTC", EIP55[0], ("is not a valid Bitcoin address: it is an Ethereum address",)),
    ("ETH", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", ("it is a Bitcoin address",)),
    ("ETH", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", ("EIP-55 checksum",)),  # d flipped
    ("USDT", "0xfb6916095ca1df60bB79Ce92cE3Ea74c37c5d359", ("EIP-55 checksum",)),  # B lowered
    ("USDT", "0x52908400098527886E0F7030069857D2E4169EE", ("40 hexadecimal",)),  # 39 digits
    ("USDT", "52908400098527886E0F7030069857D2E4169EE7", ("0x followed by",)),
    ("USDT", "0X52908400098527886E0F7030069857D2E4169EE7", ("0x followed by",)),
    ("ETH", "0x" + "0" * 40, ("zero address",)),
    ("BTC", "1111111111111111111114oLvT2", ("all zeros",)),  # P2PKH of a zero hash: a burn
    ("EUR", "DE89370400440532013001", ("is not a valid IBAN", "checksum")),
    ("EUR", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", ("EUR cannot be withdrawn to a crypto",)),
    ("KZT", EIP55[0], ("KZT cannot be withdrawn to a crypto address", "an Ethereum address")),
    ("EUR", "DE00 1234", ("is not a valid IBAN",)),
    ("BTC", "", ("needs a destination",)),
    ("BTC", "   ", ("needs a destination",)),
    ("BTC", "bc1q" + "q" * 200, ("204 characters",)),
    ("BTC", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2\u200b", ("neither base58",)),  # zero-width space
]


@pytest.mark.parametrize(("asset", "destination"), OK)
def test_valid_destinations(asset: str, destination: str) -> None:
    assert destination_problem(asset, asset in ("EUR", "KZT"), destination) is None


@pytest.mark.parametrize(("asset", "destination", "words"), REFUSED)
def test_invalid_destinations_say_what_is_wrong(
    asset: str, destination: str, words: tuple[str, ...]
) -> None:
    problem = destination_problem(asset, asset in ("EUR", "KZT"), destination)
    assert problem is not None
    for word in words:
        assert word in problem


def test_an_asset_without_a_network_cannot_be_withdrawn() -> None:
    problem = destination_problem("SOL", False, "7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV")
    assert problem is not None and "SOL has no withdrawal network" in problem


@given(st.sampled_from(["BTC", "ETH", "USDT", "EUR", "SOL"]), st.text(max_size=120))
def test_any_text_gets_an_answer_never_an_exception(asset: str, text: str) -> None:
    """The engine runs this check on whatever a command carries: it must never raise."""
    problem = destination_problem(asset, asset == "EUR", text)
    assert problem is None or problem.strip()


def _segwit_v0(program: bytes) -> str:
    """A mainnet bech32 address of a version 0 program (BIP-173's encoding, for the test)."""
    bits = "".join(f"{b:08b}" for b in program)
    bits += "0" * (-len(bits) % 5)
    data = [0] + [int(bits[i : i + 5], 2) for i in range(0, len(bits), 5)]
    residue = bech32._polymod([*bech32._hrp_expand("bc"), *data, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(residue >> 5 * (5 - i)) & 31 for i in range(6)]
    return "bc1" + "".join(bech32.CHARSET[d] for d in data + checksum)


def test_a_segwit_burn_address_is_refused() -> None:
    real = bytes.fromhex("751e76e8199196d454941c45d1b3a323f1433bd6")
    assert _segwit_v0(real) == "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"  # BIP-173's example
    problem = destination_problem("BTC", False, _segwit_v0(bytes(20)))
    assert problem is not None and "all zeros" in problem
