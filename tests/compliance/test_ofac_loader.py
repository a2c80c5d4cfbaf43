"""OFAC loaders on the real shared files, and on malformed copies of them under tmp_path."""

import re
from pathlib import Path

import pytest

from bourse.bench.screening_bench import DATA
from bourse.compliance.sanctions.entries import Identifier, ListEntry, ListFormatError
from bourse.compliance.sanctions.ofac import (
    load_consolidated,
    load_sdn,
    parse_consolidated,
    parse_sdn,
)
from bourse.compliance.sanctions.ofac_remarks import parse_dob

SDN = DATA / "ofac_sdn_2021-08-18.csv"
CONS = ("prim", "alt", "add", "comments")


@pytest.fixture(scope="module")
def sdn() -> dict[str, ListEntry]:
    version = load_sdn(SDN)
    assert version.source == "ofac_sdn"
    assert version.published == "2021-08-18"
    return {e.entry_id: e for e in version.entries}


@pytest.fixture(scope="module")
def cons() -> dict[str, ListEntry]:
    version = load_consolidated(DATA, published="2022-03-26")
    assert version.source == "ofac_cons"
    return {e.entry_id: e for e in version.entries}


def _cons_bytes() -> list[bytes]:
    return [(DATA / f"ofac_cons_{p}.csv").read_bytes() for p in CONS]


def test_every_sdn_record_is_one_entry(sdn: dict[str, ListEntry]) -> None:
    raw = SDN.read_bytes()
    # Independently: records start with digits and a comma at a line start; the EOF line is 0x1A.
    ids = re.findall(rb"^(\d+),", raw, flags=re.MULTILINE)
    assert raw.endswith(b"\r\n\x1a")
    assert len(ids) == raw.count(b"\r\n") == 9083
    assert sorted(sdn) == sorted(i.decode() for i in ids)


def test_schemas_follow_sdn_type(sdn: dict[str, ListEntry]) -> None:
    raw = SDN.read_text()
    for kind, schema in (("individual", "Person"), ("vessel", "Vessel"), ("aircraft", "Aircraft")):
        expected = len(re.findall(rf'^\d+,"[^"]*","{kind}",', raw, flags=re.MULTILINE))
        assert sum(e.schema == schema for e in sdn.values()) == expected > 0
    organizations = len(re.findall(r'^\d+,"[^"]*",-0- ,', raw, flags=re.MULTILINE))
    assert sum(e.schema == "Organization" for e in sdn.values()) == organizations > 0


def test_individual_with_dob_nationality_passports(sdn: dict[str, ListEntry]) -> None:
    e = sdn["13086"]
    assert e.name == "LEONTYEV, Vladislav Vladimirovich"
    assert e.schema == "Person"
    assert e.aliases == ("Vladislav Vladimirovich LEONTYEV",)
    assert e.weak_aliases == (
        "BELOBRYSYY", "BELYY", "VADIK BELEY", "VADIM BELYY", "VADIK BELYY",
    )  # fmt: skip
    assert e.dates_of_birth == ("1971-07-05",)
    assert e.programs == ("TCO",)
    assert e.countries[0] == "RU"
    assert set(e.countries) == {"RU", "GR", "GH"}  # nationality, then passport issuers
    passports = [(i.value, i.country) for i in e.identifiers if i.kind == "PASSPORT"]
    assert passports == [
        ("515731854", "RU"), ("2200319927", "RU"), ("AK0517906", "GR"), ("H2214925", "GH"),
        ("326106", ""), ("1602418", ""), ("20382107", ""),
    ]  # fmt: skip
    assert e.remarks.startswith("DOB 05 Jul 1971; POB Nizhny Novgorod, Russia;")


def test_entity_with_bic_and_registration(sdn: dict[str, ListEntry]) -> None:
    e = sdn["12028"]
    assert (e.name, e.schema, e.programs) == ("ONERBANK ZAO", "Organization", ("IRAN",))
    assert e.aliases == ()
    assert e.identifiers == (
        Identifier(kind="BIC", value="HNRBBY2X"),
        Identifier(kind="REGISTRATION", value="807000227", country="BY"),
    )


def test_crypto_addresses_with_networks(sdn: dict[str, ListEntry]) -> None:
    e = sdn["29584"]
    assert e.name == "POTEKHIN, Danil"
    assert e.dates_of_birth == ("1995-09-14", "1990-09-14", "1990-08-08")
    assert [(i.network, i.value) for i in e.identifiers if i.kind == "CRYPTO_ADDRESS"] == [
        ("XBT", "1Q9UAQbcDezmyouFrzt94t4dSMxgsUfW1X"),
        ("XBT", "1Kys8fqDen8NGFUJ6AFcXfFW5qquuTH4eh"),
        ("ETH", "0x7F367cC41522cE07553e823bf3be79A889DEbe1B"),
    ]
    assert e.weak_aliases == ("cronuswar", "SERGEY, Kireev Valerievich")
    networks = {i.network for i in sdn["31164"].identifiers}
    assert networks == {"ZEC", "DASH"}


def test_vessel_with_imo_flag_and_call_sign(sdn: dict[str, ListEntry]) -> None:
    e = sdn["15036"]
    assert (e.name, e.schema) == ("ARTAVIL", "Vessel")
    assert Identifier(kind="IMO", value="9187629") in e.identifiers
    assert Identifier(kind="OTHER", value="T2EU4", label="Call Sign") in e.identifiers
    assert e.countries == ("IR",)  # the flag
    assert e.weak_aliases == ("ALPHA",)  # f.k.a.


def test_identifier_totals_match_an_independent_count(sdn: dict[str, ListEntry]) -> None:
    raw = SDN.read_text()
    # Complete addresses end a clause ("; ") or the remarks ('."'); one cut off by OFAC's
    # 1,000-character column ends at the bare closing quote and must not become an identifier.
    crypto = re.findall(r"Digital Currency Address - (\w+) (\w+)(?=; |\.\")", raw)
    bics = re.findall(r"SWIFT/BIC (\w+)", raw)
    truncated = re.findall(r"Digital Currency Address - \w+ \w+\"", raw)
    assert len(truncated) == 1
    ours = [i for e in sdn.values() for i in e.identifiers]
    assert sorted((i.network, i.value) for i in ours if i.kind == "CRYPTO_ADDRESS") == sorted(
        crypto
    )
    assert sorted(i.value for i in ours if i.kind == "BIC") == sorted(bics)
    assert len(crypto) > 50 and len(bics) > 50


XBT = "1DbShx4r8i2XesthoDBf5EkYWz5dsKEusV"


def _full_column(last: str) -> str:
    """A remarks column of exactly 1,000 characters (OFAC's limit) whose text ends with `last`."""
    filler = "; ".join(f"a.k.a. 'NAME {n:03d}'" for n in range(60))
    head = filler[: 1000 - len(last) - 2].rstrip("; ")
    column = f"{head}; {last}".rjust(1000)  # leading spaces pad it to the limit
    assert len(column) == 1000
    return column


def _sdn_row(remarks: str) -> bytes:
    empty = ",-0- " * 7
    return f'36,"EXAMPLE EXCHANGE",-0- ,"CYBER2"{empty},"{remarks}"'.encode()


CUT_CASES = [  # (the column's last characters, whether the address is indexed)
    (f"Digital Currency Address - XBT {XBT};", True),  # cut before the "; " separator
    (f"Digital Currency Address - XBT {XBT}.", True),  # the remarks' own end
    (f"Digital Currency Address - XBT {XBT[:-3]}", False),  # cut mid-address
    (f"Digital Currency Address - XBT {XBT}", False),  # may be cut: nothing says it is whole
]


@pytest.mark.parametrize(("last", "indexed"), CUT_CASES)
def test_a_full_remarks_column_keeps_a_complete_last_clause(last: str, indexed: bool) -> None:
    (entry,) = parse_sdn(_sdn_row(_full_column(last)), "sdn.csv", "2026-01-05").entries
    crypto = [i for i in entry.identifiers if i.kind == "CRYPTO_ADDRESS"]
    assert crypto == ([Identifier(kind="CRYPTO_ADDRESS", value=XBT, network="XBT")] * indexed)
    assert "a.k.a. 'NAME 000'" not in entry.weak_aliases and "NAME 000" in entry.weak_aliases


def test_comments_continue_remarks_cut_at_a_space(cons: dict[str, ListEntry]) -> None:
    # cons_prim's column ends "Registration Number 1027700070518 " and cons_comments goes on
    # "(Russia); ...": the space at the cut separates the number from its country.
    (prim,) = [r for r in _cons_bytes()[0].split(b"\r\n") if r.startswith(b"17250,")]
    assert prim.endswith(b'Registration Number 1027700070518 "')
    registration = Identifier(kind="REGISTRATION", value="1027700070518", country="RU")
    assert registration in cons["17250"].identifiers
    assert "1027700070518 (Russia)" in cons["17250"].remarks


def test_consolidated_joins_alt_add_and_comments(cons: dict[str, ListEntry]) -> None:
    prim, alt, add, _ = _cons_bytes()
    assert len(cons) == len(re.findall(rb"^\d+,", prim, flags=re.MULTILINE)) == 442
    vtb = cons["17013"]
    vtb_alt = re.findall(r'^17013,\d+,"(\w+)","([^"]*)"', alt.decode(), flags=re.MULTILINE)
    assert len(vtb_alt) == alt.count(b"\n17013,") == 27
    assert vtb.aliases == tuple(name for kind, name in vtb_alt if kind == "aka")
    fka_names = tuple(name for kind, name in vtb_alt if kind == "fka")
    assert len(fka_names) == 21
    assert vtb.weak_aliases == (*fka_names, "JSC VTB BANK NEW DELHI BRANCH")
    vtb_addresses = re.findall(rb'^17013,\d+,.*,"([^"]*)",-0- \r$', add, flags=re.MULTILINE)
    assert len(vtb_addresses) == 12
    assert set(vtb_addresses) == {b"Russia", b"China", b"India"}
    assert set(vtb.countries) == {"RU", "CN", "IN"}
    assert Identifier(kind="BIC", value="VTBRRUMM") in vtb.identifiers
    assert Identifier(kind="TAX_ID", value="7702070139", country="RU") in vtb.identifiers
    zahhar = cons["9647"]
    assert zahhar.aliases == (
        "Mahmoud Khaled ZAHHAR", "AL ZAHAR, Mahmoud Khaled", "Mahmoud Khaled AL ZAHAR",
    )  # fmt: skip
    assert zahhar.countries == ("PS",)
    assert zahhar.dates_of_birth == ("1945",)
    # cons_comments continues the cut remarks mid-word ("Registration Numbe" + "r 1027...").
    bank = cons["17014"]
    assert "Registration Number 1027700342890 (Russia)" in bank.remarks
    assert Identifier(kind="REGISTRATION", value="1027700342890", country="RU") in bank.identifiers
    assert bank.weak_aliases == ("RUSAG",)  # only in the comment
    fka = len(re.findall(rb'^\d+,\d+,"fka"', alt, flags=re.MULTILINE))
    assert fka > 0
    assert sum(len(e.weak_aliases) for e in cons.values()) >= fka


def test_dates_of_birth() -> None:
    assert parse_dob("12 Oct 1952") == ["1952-10-12"]
    assert parse_dob("Oct 1952") == ["1952-10"]
    assert parse_dob("circa 1952") == ["1952"]
    assert parse_dob("1952 to 1954") == ["1952", "1953", "1954"]
    assert parse_dob("01 Jan 1960 to 31 Dec 1961.") == ["1960", "1961"]
    assert parse_dob("circa 1979-1982") == ["1979", "1980", "1981", "1982"]
    assert parse_dob("unknown") == []


def _lines() -> list[bytes]:
    return SDN.read_bytes().split(b"\r\n")


def _refused(lines: list[bytes], line: int, problem: str) -> None:
    with pytest.raises(ListFormatError) as caught:
        parse_sdn(b"\r\n".join(lines), "copy.csv", "2021-08-18")
    assert caught.value.where == f"sdn line {line}"
    assert problem in caught.value.problem


def test_wrong_number_of_columns_is_refused() -> None:
    lines = _lines()
    assert lines[3].startswith(b"424,") and lines[3].endswith(b",-0- ")
    lines[3] = lines[3].removesuffix(b",-0- ")
    _refused(lines, 4, "11 columns, expected 12")


def test_non_numeric_ent_num_is_refused() -> None:
    lines = _lines()
    lines[4] = b"X" + lines[4]
    _refused(lines, 5, "is not a number")


def test_unterminated_quote_is_refused() -> None:
    lines = _lines()
    lines[2] = lines[2].removesuffix(b'"')  # 306,...,"a.k.a. 'BNC'.  with no closing quote
    _refused(lines, 3, "not a CSV record")


def test_non_utf8_bytes_are_refused() -> None:
    lines = _lines()
    lines[6000] = lines[6000].replace(b"-0- ", b"\xe9\xff", 1)
    _refused(lines, 6001, "not UTF-8")


def test_unknown_type_is_refused() -> None:
    lines = _lines()
    lines[0] = lines[0].replace(b"-0- ", b'"company"', 1)
    _refused(lines, 1, "unknown SDN_Type")


def test_consolidated_companion_for_unknown_entry_is_refused() -> None:
    prim, alt, add, comments = _cons_bytes()
    alt = b'99999999,1,"aka","NOBODY",-0- \r\n' + alt
    with pytest.raises(ListFormatError) as caught:
        parse_consolidated(prim, alt, add, comments, "cons", "2022-03-26")
    assert caught.value.where == "cons_alt line 1"


def test_load_from_a_malformed_file(tmp_path: Path) -> None:
    lines = _lines()
    lines[10] = lines[10] + b",extra"
    copy = tmp_path / "sdn_2021-08-19.csv"
    copy.write_bytes(b"\r\n".join(lines))
    with pytest.raises(ListFormatError, match="sdn line 11"):
        load_sdn(copy)


def test_hash_changes_with_one_byte() -> None:
    raw = SDN.read_bytes()
    first = parse_sdn(raw, "a", "2021-08-18").content_sha256
    changed = raw.replace(b"HAVIGB2L", b"HAVIGB2M")
    assert changed != raw
    assert parse_sdn(changed, "a", "2021-08-18").content_sha256 != first
    assert parse_sdn(raw, "b", "2021-08-18").content_sha256 == first
    prim, alt, add, comments = _cons_bytes()
    base = parse_consolidated(prim, alt, add, comments, "c", "x").content_sha256
    changed_comment = comments.replace(b"RUSAG", b"RUSAH")
    again = parse_consolidated(prim, alt, add, changed_comment, "c", "x").content_sha256
    assert again != base
