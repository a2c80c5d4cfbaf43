"""UN consolidated list loader, on the real published XML and malformed copies of it."""

import re
from pathlib import Path

import pytest

from bourse.bench.screening_bench import DATA
from bourse.compliance.sanctions.country_names import resolve_country
from bourse.compliance.sanctions.entries import Identifier, ListEntry, ListFormatError, ListVersion
from bourse.compliance.sanctions.un import load_un, parse_un, parse_un_counting

UN_XML = DATA / "un_consolidated_2026-02-27.xml"


@pytest.fixture(scope="module")
def raw() -> bytes:
    return UN_XML.read_bytes()


@pytest.fixture(scope="module")
def version() -> ListVersion:
    return load_un(UN_XML)


def by_id(version: ListVersion, entry_id: str) -> ListEntry:
    (entry,) = [e for e in version.entries if e.entry_id == entry_id]
    return entry


def test_header(version: ListVersion, raw: bytes) -> None:
    assert version.source == "un_sc"
    assert version.published == "2026-02-27"
    assert version.origin == str(UN_XML)
    assert len(version.content_sha256) == 64


def test_counts_match_readme_and_raw_bytes(version: ListVersion, raw: bytes) -> None:
    people = [e for e in version.entries if e.schema == "Person"]
    orgs = [e for e in version.entries if e.schema == "Organization"]
    # README: 730 individuals, 273 entities; counted again here straight from the bytes.
    assert len(people) == 730 == len(re.findall(rb"<INDIVIDUAL>", raw))
    assert len(orgs) == 273 == len(re.findall(rb"<ENTITY>", raw))
    assert len({e.entry_id for e in version.entries}) == 1003


def test_aliases_match_readme(version: ListVersion, raw: bytes) -> None:
    # README's 2,308 counts INDIVIDUAL_ALIAS elements, some of which are empty (no name, no
    # quality); those carry no alias. Good → aliases, Low → weak_aliases.
    individuals = raw[raw.index(b"<INDIVIDUALS>") : raw.index(b"</INDIVIDUALS>")]
    elements = re.findall(rb"<INDIVIDUAL_ALIAS>.*?</INDIVIDUAL_ALIAS>", individuals, re.S)
    assert len(elements) == 2308
    empty = [a for a in elements if b"<ALIAS_NAME/>" in a]
    good = [a for a in elements if b"<QUALITY>Good</QUALITY>" in a]
    low = [a for a in elements if b"<QUALITY>Low</QUALITY>" in a]
    assert len(empty) + len(good) + len(low) == 2308
    people = [e for e in version.entries if e.schema == "Person"]
    assert sum(len(e.aliases) for e in people) == len(good)
    assert sum(len(e.weak_aliases) for e in people) == len(low)
    orgs = [e for e in version.entries if e.schema == "Organization"]
    assert sum(len(e.weak_aliases) for e in orgs) == raw.count(b"<QUALITY>f.k.a.</QUALITY>")


def test_original_script_names_match_readme(version: ListVersion, raw: bytes) -> None:
    in_file = re.findall(rb"<NAME_ORIGINAL_SCRIPT>[^<]*\S[^<]*</NAME_ORIGINAL_SCRIPT>", raw)
    assert len(in_file) == 378
    assert sum(len(e.original_script_names) for e in version.entries) == 378


def test_every_entry_is_named_and_well_formed(version: ListVersion) -> None:
    for entry in version.entries:
        assert entry.name.strip() == entry.name != ""
        assert entry.entry_id.isdigit()
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry.listed_on), entry
        assert entry.programs and entry.remarks.startswith("UN reference ")
        for dob in entry.dates_of_birth:
            assert re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", dob), entry
        for country in entry.countries:
            assert re.fullmatch(r"[A-Z]{2}", country), entry


def test_cyrillic_original_script_entry(version: ListVersion) -> None:
    umarov = by_id(version, "2960872")
    assert umarov.schema == "Person"
    assert umarov.name == "DOKU KHAMATOVICH UMAROV"
    assert umarov.original_script_names == ("Умаров Доку Хаматович",)
    assert umarov.aliases == ("Lom-ali Butayev (Butaev)", "Dokka Umarov", "Dokka Umarov")
    assert umarov.weak_aliases == ()
    # DOB elements first, then the alias DOBs (all repeats here).
    assert umarov.dates_of_birth == ("1964-04-13", "1965-04-13", "1964-05-12", "1955")
    assert umarov.countries == ("RU",)  # "former Soviet Union" resolves to nothing
    assert umarov.identifiers == (
        Identifier(kind="PASSPORT", value="96 03 464086", label="Passport", country="RU"),
    )
    assert umarov.programs == ("Al-Qaida",)
    assert umarov.listed_on == "2011-03-10"
    assert umarov.remarks.startswith("UN reference QDi.290. Physical description: 180 cm tall")


def test_arabic_original_script_entry(version: ListVersion) -> None:
    saddam = by_id(version, "6908048")
    assert saddam.name == "SADDAM HUSSEIN AL-TIKRITI"
    assert saddam.original_script_names == ("صدام حسين التكريتي",)
    assert saddam.aliases == ()
    assert saddam.weak_aliases == ("Abu Ali",)
    assert saddam.dates_of_birth == ("1937-04-28",)
    assert saddam.countries == ("IQ",)
    assert saddam.identifiers == ()
    assert saddam.programs == ("Iraq",)
    assert saddam.listed_on == "2003-06-27"
    assert saddam.remarks == "UN reference IQi.001"


def test_entry_with_passports(version: ListVersion) -> None:
    adam = by_id(version, "690728")
    assert adam.name == "NOURREDINE ADAM"
    assert adam.aliases[0] == "Nureldine Adam" and len(adam.aliases) == 5
    assert adam.dates_of_birth == ("1970", "1969", "1971", "1970-01-01", "1971-01-01")
    assert adam.countries == ("CF", "SD")
    assert adam.identifiers == (
        Identifier(kind="PASSPORT", value="D00001184", label="Passport", country="CF"),
        Identifier(kind="PASSPORT", value="P04838205", label="Passport"),
        Identifier(
            kind="NATIONAL_ID",
            value="20227088368",
            label="National Identification Number",
            country="SD",
        ),
    )


def test_entity_with_addresses(version: ListVersion) -> None:
    wasel = by_id(version, "6908332")
    assert wasel.schema == "Organization"
    assert wasel.name == "AL WASEL AND BABEL GENERAL TRADING LLC"
    assert wasel.aliases == wasel.weak_aliases == ()  # its one alias element is empty
    assert wasel.countries == ("AE", "IQ")
    assert wasel.dates_of_birth == ()
    assert wasel.identifiers == ()
    assert wasel.programs == ("Iraq",)
    assert wasel.listed_on == "2004-04-26"


def test_date_ranges_listed_on_offsets_and_approximate_years(version: ListVersion) -> None:
    # FROM_YEAR..TO_YEAR gives every year of the range.
    ranged = [
        e for e in version.entries if {"1955", "1956", "1957", "1958"} <= set(e.dates_of_birth)
    ]
    assert ranged
    # LISTED_ON written with a UTC offset ("2015-04-07-04:00") keeps only the date.
    assert all(len(e.listed_on) == 10 for e in version.entries)


def test_unresolved_countries_are_few(raw: bytes) -> None:
    _, unresolved = parse_un_counting(raw, "un.xml")
    assert dict(unresolved) == {"former Soviet Union": 1}


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Iran (Islamic Republic of)", "IR"),
        ("Democratic People's Republic of Korea", "KP"),
        ("Korea, North", "KP"),
        ("Syrian Arab Republic", "SY"),
        ("Russian Federation", "RU"),
        ("Russia", "RU"),
        ("Democratic Republic of the Congo", "CD"),
        ("Congo", "CG"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("United Kingdom of Great Britain and Northern Ireland", "GB"),
        ("China, Hong Kong Special Administrative Region", "HK"),
        ("State of Palestine", "PS"),
        ("na", ""),  # "not available", not Namibia
        ("", ""),
        ("former Soviet Union", None),
        ("RU", None),  # codes are not names
    ],
)
def test_resolve_country(name: str, code: str | None) -> None:
    assert resolve_country(name) == code


def test_hash_changes_with_one_byte(raw: bytes) -> None:
    one = parse_un(raw, "a")
    changed = raw.replace(b"<FIRST_NAME>ERIC</FIRST_NAME>", b"<FIRST_NAME>ERIK</FIRST_NAME>", 1)
    assert len(changed) == len(raw) and changed != raw
    two = parse_un(changed, "a")
    assert one.content_sha256 != two.content_sha256
    assert parse_un(raw, "b").content_sha256 == one.content_sha256
    assert two.entries[0].name == "ERIK BADEGE"


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "un.xml"
    path.write_bytes(data)
    return path


def test_truncated_xml_is_refused(tmp_path: Path, raw: bytes) -> None:
    path = write(tmp_path, raw[: len(raw) // 2])
    with pytest.raises(ListFormatError) as caught:
        load_un(path)
    assert caught.value.origin == str(path)
    assert caught.value.where.startswith("line ")
    assert "not XML" in caught.value.problem


def test_individual_without_dataid_is_refused(tmp_path: Path, raw: bytes) -> None:
    second = raw.replace(b"<DATAID>6907994</DATAID>", b"", 1)
    assert second != raw
    with pytest.raises(ListFormatError) as caught:
        load_un(write(tmp_path, second))
    assert caught.value.where == "CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL[2]"
    assert caught.value.problem == "no DATAID"


def test_date_that_is_not_a_date_is_refused(tmp_path: Path, raw: bytes) -> None:
    bad = raw.replace(b"<DATE>1937-04-28</DATE>", b"<DATE>1937-13-45</DATE>", 1)
    assert bad != raw
    with pytest.raises(ListFormatError) as caught:
        parse_un(bad, "bad.xml")
    assert caught.value.where == "INDIVIDUAL DATAID=6908048/INDIVIDUAL_DATE_OF_BIRTH[1]/DATE"
    assert "'1937-13-45' is not a date" in str(caught.value)


def test_other_malformations_are_refused(raw: bytes) -> None:
    cases = {
        b"<QUALITY>Low</QUALITY>": (b"<QUALITY>Meh</QUALITY>", "QUALITY"),
        b"<LISTED_ON>2012-12-31</LISTED_ON>": (b"<LISTED_ON>31/12/2012</LISTED_ON>", "LISTED_ON"),
        b"<YEAR>1970</YEAR>": (b"<YEAR>c. 1970</YEAR>", "YEAR"),
        b'dateGenerated="2026': (b'dateGenerated="x026', "dateGenerated"),
        b"<DATAID>6908048</DATAID>": (b"<DATAID>6907993</DATAID>", "DATAID=6907993"),
    }
    for old, (new, where) in cases.items():
        bad = raw.replace(old, new, 1)
        assert bad != raw, old
        with pytest.raises(ListFormatError) as caught:
            parse_un(bad, "bad.xml")
        assert where in caught.value.where, (old, caught.value)
