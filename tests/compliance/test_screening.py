"""Screening against the real shared lists: names with qualifiers, exact identifiers, fairness.

Expected entries are found in the raw files with regular expressions, not through the loaders,
so a loader or index bug cannot agree with itself.
"""

import csv
import re
from collections import Counter

import msgspec
import pytest

from bourse.bench.screening_bench import DATA, customer_query, load_lists
from bourse.compliance.sanctions.matching.index import ListIndex
from bourse.compliance.sanctions.matching.names import OPERATING_THRESHOLD
from bourse.compliance.sanctions.matching.screen import (
    MAX_QUALIFIER_BONUS,
    WEAK_ALIAS_WEIGHT,
    Hit,
    Query,
    screen,
    screen_address,
)

SDN = DATA / "ofac_sdn_2021-08-18.csv"
# Measured on the first 5,000 synthetic customers: 40 per 10,000 (2026-11-30, with the name
# scorer as it stood); 2 per 10,000 once alerts needed the listed name's distinctive parts
# (1.0 on the first 10,000, see screen._name_refusal). The target is under 5; this
# ceiling only ever goes down.
FAIRNESS_FLOOR_PER_10K = 5


@pytest.fixture(scope="module")
def index() -> ListIndex:
    return ListIndex.build(load_lists(DATA))  # every shared list, loaded as the bench loads them


@pytest.fixture(scope="module")
def sdn_rows() -> list[list[str]]:
    text = SDN.read_bytes().decode("utf-8", errors="replace").replace("\x1a", "")
    return [row for row in csv.reader(text.splitlines()) if len(row) >= 12]


def _row_with(rows: list[list[str]], pattern: str) -> tuple[list[str], re.Match[str]]:
    for row in rows:
        found = re.search(pattern, row[11])
        if found:
            return row, found
    raise AssertionError(f"no SDN row with {pattern}")


def _hit_for(hits: list[Hit], source: str, entry_id: str) -> Hit | None:
    return next((h for h in hits if (h.source, h.entry_id) == (source, entry_id)), None)


def test_every_entry_and_name_is_indexed(index: ListIndex) -> None:
    sdn_count = sum(1 for line in SDN.read_bytes().splitlines() if re.match(rb"\d+,", line))
    un = (DATA / "un_consolidated_2026-02-27.xml").read_bytes()
    un_count = un.count(b"<INDIVIDUAL>") + un.count(b"<ENTITY>")
    assert len(index.entries) == sdn_count + 442 + un_count
    assert len(index.names) >= len(index.entries)
    assert len(index.candidates(("mohammed", "ali"), limit=25)) == 25


def test_misspelled_reordered_name_with_dob_is_found(
    index: ListIndex, sdn_rows: list[list[str]]
) -> None:
    row, _ = _row_with(sdn_rows, r"DOB 19 Jun 1951")
    assert "ZAWAHIRI" in row[1]
    hits = screen(index, Query("Zawahiry Aymen", dob="1951-06-19", schema="Person"))
    hit = _hit_for(hits, "ofac_sdn", row[0])
    assert hit is not None and hit.score >= OPERATING_THRESHOLD
    assert "1951-06-19 matches" in hit.explanation and "zawahiri" in hit.explanation.lower()
    assert hits == sorted(hits, key=lambda h: (-h.score, h.entry_id, h.source))


def test_conflicting_dob_scores_lower(index: ListIndex, sdn_rows: list[list[str]]) -> None:
    row, _ = _row_with(sdn_rows, r"DOB 19 Jun 1951")
    scores = {}
    for dob in ("1951-06-19", "", "1960-02-03"):
        hits = screen(index, Query("Ayman al-Zawahiri", dob=dob), threshold=0.5)
        hit = _hit_for(hits, "ofac_sdn", row[0])
        assert hit is not None
        scores[dob] = hit.score
    assert scores["1960-02-03"] < scores[""] <= scores["1951-06-19"]
    conflicting = _hit_for(
        screen(index, Query("Ayman al-Zawahiri", dob="1960-02-03"), 0.5), "ofac_sdn", row[0]
    )
    assert conflicting is not None and "conflicts with listed 1951-06-19" in conflicting.explanation


def test_listed_crypto_addresses_hit_exactly(index: ListIndex, sdn_rows: list[list[str]]) -> None:
    row, found = _row_with(
        sdn_rows, r"Digital Currency Address - XBT ([13][1-9A-HJ-NP-Za-km-z]{25,34})"
    )
    address = found.group(1)
    hits = screen_address(index, address)
    assert [(h.source, h.entry_id, h.score) for h in hits] == [("ofac_sdn", row[0], 1.0)]
    assert address in hits[0].explanation and row[0] in hits[0].explanation
    # Base58 is case-sensitive, and one character off is another address.
    assert screen_address(index, address.swapcase()) == []
    assert screen_address(index, address[:-1] + ("x" if address[-1] != "x" else "y")) == []
    row, found = _row_with(sdn_rows, r"Digital Currency Address - ETH (0x[0-9a-fA-F]{40})")
    hits = screen_address(index, found.group(1).upper().replace("0X", "0x"))
    assert [(h.entry_id, h.score) for h in hits] == [(row[0], 1.0)]


def test_listed_bic_hits_whatever_the_name(index: ListIndex, sdn_rows: list[list[str]]) -> None:
    row, found = _row_with(sdn_rows, r"SWIFT/BIC ([A-Z0-9]{8})\b")
    bic = found.group(1)
    for value, words in (
        (bic, f"BIC {bic} matches ofac_sdn {row[0]}"),
        (bic + "XXX", "same institution"),
    ):
        hits = screen(index, Query("Nobody In Particular", identifiers=(value,)))
        hit = _hit_for(hits, "ofac_sdn", row[0])
        assert hit is not None and hit.score == 1.0 and words in hit.explanation
    assert (
        _hit_for(screen(index, Query("x", identifiers=(bic[:7] + "Q",))), "ofac_sdn", row[0])
        is None
    )


def test_document_number_hits_after_punctuation_is_removed(
    index: ListIndex, sdn_rows: list[list[str]]
) -> None:
    row, found = _row_with(sdn_rows, r"Passport (\d{2})/(\d{3,})")
    hits = screen(index, Query("Someone Else", identifiers=(f"{found.group(1)} {found.group(2)}",)))
    hit = _hit_for(hits, "ofac_sdn", row[0])
    assert hit is not None and hit.score == 1.0 and "passport" in hit.explanation


def test_dob_and_country_alone_never_hit(index: ListIndex, sdn_rows: list[list[str]]) -> None:
    row, _ = _row_with(sdn_rows, r"DOB 19 Jun 1951; POB Giza, Egypt")
    assert "ZAWAHIRI" in row[1]  # a listed Egyptian born 1951: same DOB and country below
    for dob in ("1951", "1951-06-19"):
        hits = screen(index, Query("Ingrid Johansson", dob=dob, country="EG", schema="Person"))
        assert hits == []
    # Identifiers aside, a hit needs the name nearly at the threshold on its own.
    for hit in screen(index, Query("Ayman Zawahiri", dob="1951-06-19", country="EG")):
        assert float(hit.matched["name_score"]) >= OPERATING_THRESHOLD - MAX_QUALIFIER_BONUS


def test_weak_alias_is_capped_below_a_primary_name(
    index: ListIndex, sdn_rows: list[list[str]]
) -> None:
    row, found = _row_with(sdn_rows, r"f\.k\.a\. '([A-Z]{3,}(?: [A-Z]+)*)'")
    hits = screen(index, Query(found.group(1), schema="Organization"), threshold=0.5)
    hit = _hit_for(hits, "ofac_sdn", row[0])
    assert hit is not None and hit.score <= WEAK_ALIAS_WEIGHT and "weak alias" in hit.explanation
    primary = _hit_for(screen(index, Query(row[1], schema="Organization")), "ofac_sdn", row[0])
    assert primary is not None and primary.score > hit.score


def test_a_person_is_never_a_vessel(index: ListIndex, sdn_rows: list[list[str]]) -> None:
    row = next(r for r in sdn_rows if r[2].strip('"') == "vessel" and len(r[1].split()) >= 2)
    assert _hit_for(screen(index, Query(row[1], schema="Vessel")), "ofac_sdn", row[0]) is not None
    assert _hit_for(screen(index, Query(row[1], schema="Person")), "ofac_sdn", row[0]) is None


def test_original_script_names_are_retrieved(index: ListIndex) -> None:
    xml = (DATA / "un_consolidated_2026-02-27.xml").read_text(encoding="utf-8")
    found = re.search(
        r"<DATAID>(\d+)</DATAID>(?:(?!</INDIVIDUAL>).)*?<NAME_ORIGINAL_SCRIPT>([^<]+)<", xml, re.S
    )
    assert found is not None
    hits = screen(index, Query(found.group(2).strip(), schema="Person"))
    assert _hit_for(hits, "un_sc", found.group(1)) is not None


def test_fairness_on_synthetic_customers(index: ListIndex) -> None:
    with (DATA / "synthetic_people_us.csv").open(encoding="utf-8", newline="") as handle:
        rows = [row for _, row in zip(range(5000), csv.DictReader(handle), strict=False)]
    assert len(rows) == 5000
    alerts: Counter[str] = Counter()
    population: Counter[str] = Counter()
    for row in rows:
        population[row["nationality"]] += 1
        hits = screen(index, customer_query(row))  # as the bench's rescreen does
        for hit in hits:  # never an alert without a name (nor an identifier: none given here)
            assert float(hit.matched["name_score"]) >= OPERATING_THRESHOLD - MAX_QUALIFIER_BONUS
            assert "name '" in hit.explanation
        if hits:
            alerts[row["nationality"]] += 1
    per_10k = sum(alerts.values()) * 10_000 / len(rows)
    print(f"\nalerts per 10,000: {per_10k:.1f} ({sum(alerts.values())} of {len(rows)})")
    for nationality, count in alerts.most_common():
        print(f"  {nationality}: {count} of {population[nationality]}")
    assert per_10k < FAIRNESS_FLOOR_PER_10K


@pytest.mark.parametrize(
    "name",
    [
        "x",  # one letter: "E. X. Co." scored 0.83
        "Maria Taylor",  # "TAYLOR, Mark John": a family name plus a guessed given name
        "Gloria Pizzo",  # "GRAJALES POSSO, Gloria Amparo"
        "Kristina Lucero",  # "LUCERO IMPORT S.A.C.": a person's name inside a company's
        "Martin Martin",  # weak alias "MARTIN": one word
        "Karl Abdullah",  # "ABDULLAH, Amir": one shared part of two
        "亮 周",  # "PAO, Yu Liang": one Chinese syllable
        "怡君 陳",  # "YUN, Cheng": syllables that only look alike
    ],
)
def test_name_alone_needs_the_distinctive_parts(index: ListIndex, name: str) -> None:
    assert screen(index, Query(name, schema="Person")) == []


def test_a_full_listed_name_still_alerts(index: ListIndex, sdn_rows: list[list[str]]) -> None:
    row, _ = _row_with(sdn_rows, r"DOB 19 Jun 1951")
    for name in ("Aymen Zawahiry", "Ayman al-Zawahiri", "ZAWAHIRI, Ayman"):
        assert _hit_for(screen(index, Query(name, schema="Person")), "ofac_sdn", row[0])


def test_an_index_of_changed_entries_finds_every_hit_the_whole_index_finds_on_them(
    index: ListIndex,
) -> None:
    """What an incremental rescreen rests on: screening against only the entries a new version
    adds or changes (workers/rescreen.py) misses none of the hits on them a full one finds."""
    sdn = next(v for v in index.versions if v.source == "ofac_sdn")
    changed = sdn.entries[::25]  # 300-odd entries: many keys look common among so few
    delta = ListIndex.build([msgspec.structs.replace(sdn, entries=changed)], common_share=1.0)
    ids = {("ofac_sdn", e.entry_id) for e in changed}
    queries = [Query(e.name, schema=e.schema) for e in changed]
    queries += [Query(e.name.replace("a", "e", 1), schema=e.schema) for e in changed]
    with (DATA / "synthetic_people_us.csv").open(encoding="utf-8", newline="") as handle:
        rows = [row for _, row in zip(range(1500), csv.DictReader(handle), strict=False)]
    queries += [customer_query(row) for row in rows]
    on_changed = 0
    for query in queries:
        whole = {
            (h.source, h.entry_id, h.score)
            for h in screen(index, query, limit=50)
            if (h.source, h.entry_id) in ids
        }
        part = {
            (h.source, h.entry_id, h.score)
            for h in screen(delta, query, limit=50, candidates=delta.name_count)
        }
        assert whole <= part, query
        on_changed += len(whole)
    assert on_changed > len(changed)  # the listed names and their variants did hit
