"""Bulk screening in worker processes, and the shortcuts that make one screening cheaper.

Neither may change a hit: `screen_many` must return what `screen` returns query by query, and
`screen` with its shortcuts what it returns with them turned off. Checked on the real lists with
synthetic customers, listed names (as listed, with a letter dropped, with no schema), identifiers
and the labelled name sets.
"""

import functools
import os
import subprocess
import sys
import threading

import pytest

from bourse.bench.screening_bench import (
    DATA,
    PUTIN,
    customer_query,
    load_lists,
    read_cases,
    read_cross_script,
    read_customers,
    read_putin_names,
)
from bourse.compliance.sanctions.entries import ListEntry, ListVersion
from bourse.compliance.sanctions.matching import screen as screening
from bourse.compliance.sanctions.matching.bulk import screen_many, workers_for
from bourse.compliance.sanctions.matching.index import (
    PRIMARY,
    WEAK_ALIAS,
    ListIndex,
    Outline,
    outline,
)
from bourse.compliance.sanctions.matching.names import PreparedName, prepare, score_prepared
from bourse.compliance.sanctions.matching.normalize import Part
from bourse.compliance.sanctions.matching.screen import Hit, Query, screen


@pytest.fixture(scope="module")
def versions() -> list[ListVersion]:
    return load_lists(DATA)


@pytest.fixture(scope="module")
def index(versions: list[ListVersion]) -> ListIndex:
    return ListIndex.build(versions)


def _sample(index: ListIndex, customers: int, every: int) -> list[tuple[Query, float, int]]:
    """(query, threshold, limit): customers, listed names and identifiers (many of them hits)."""
    sample = [(customer_query(row), 0.7, 10) for row in read_customers(DATA, customers)]
    for n, entry in enumerate(index.entries[::every]):
        name = entry.name
        if n % 3 == 1 and len(name) > 6:
            name = name[: len(name) // 2] + name[len(name) // 2 + 1 :]  # a letter dropped
        dob = entry.dates_of_birth[0] if entry.dates_of_birth and n % 2 else ""
        schema = entry.schema if n % 4 else ""
        sample.append((Query(name, dob=dob, schema=schema), 0.6 if n % 2 else 0.7, 3 + n % 8))
        if entry.identifiers and n % 2:
            ids = (entry.identifiers[0].value,)
            sample.append((Query(entry.name if n % 4 == 1 else "", identifiers=ids), 0.7, 10))
    sample += [(Query(name, schema="Person"), 0.6, 10) for name in read_putin_names(DATA)]
    return sample


def _screen_all(index: ListIndex, sample: list[tuple[Query, float, int]]) -> list[list[Hit]]:
    return [screen(index, query, threshold, limit) for query, threshold, limit in sample]


def test_shortcuts_change_no_hit(index: ListIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    sample = _sample(index, customers=600, every=12)
    fast = _screen_all(index, sample)
    # Turned off: every shortlisted name goes through the full scorer, as before they existed.
    monkeypatch.setattr(screening, "_may_alert", lambda *args: True)
    monkeypatch.setattr(screening, "_best_possible", lambda *args: 2.0)
    full = _screen_all(index, sample)
    assert fast == full
    assert sum(1 for hits in full if hits) > 700  # the listed names: most are hits
    assert any(len(hits) > 1 for hits in full)


def _entry(name: str, schema: str) -> ListEntry:
    return ListEntry(source="test", entry_id="1", schema=schema, name=name)


def _pairs(index: ListIndex) -> list[tuple[Query, PreparedName, ListEntry, str]]:
    """(query, listed name prepared, its entry, its kind): labelled pairs and shortlists."""
    pairs = []
    for case in read_cases(DATA):
        for kind in (PRIMARY, WEAK_ALIAS):
            pairs.append(
                (
                    Query(case.name1, schema=case.schema),
                    prepare(case.name2, case.schema),
                    _entry(case.name2, case.schema),
                    kind,
                )
            )
    named = [(spelling, PUTIN) for spelling in read_putin_names(DATA)]
    named += [(text, listed) for text, listed, _ in read_cross_script(DATA)]
    for text, listed in named:
        pairs.append(
            (Query(text, schema="Person"), prepare(listed), _entry(listed, "Person"), PRIMARY)
        )
    queries = [customer_query(row) for row in read_customers(DATA, 400)]
    for entry in index.entries[::25]:
        queries.append(Query(entry.name, schema=entry.schema))
        # Run together with a letter dropped: only the whole-name comparison can find it.
        merged = "".join(entry.name.split())
        merged = merged[: len(merged) // 2] + merged[len(merged) // 2 + 1 :]
        queries.append(Query(merged, schema=entry.schema))
    for query in queries:
        prepared = prepare(query.name, query.schema)
        for name_id in index.candidates(tuple(p.text for p in prepared.parts)):
            name = index.names[name_id]
            pairs.append((query, name.prepared, index.entries[name.entry], name.kind))
    return pairs


def test_the_prefilter_turns_away_only_names_that_cannot_alert(index: ListIndex) -> None:
    part_ids: dict[Part, int] = {}
    turned_away = 0
    pairs = _pairs(index)
    for query, listed, entry, kind in pairs:
        prepared = prepare(query.name, entry.schema if not query.schema else query.schema)
        shape: Outline = outline(prepared, False, {})
        similarities: list[dict[int, float]] = [{} for _ in shape.evidence]
        may = screening._may_alert(shape, outline(listed, True, part_ids), kind, similarities)
        match = score_prepared(prepared, listed)
        refusal = screening._name_refusal(match, query, entry, kind, len(listed.parts))
        assert may or refusal, (query.name, listed.original, kind, match)
        turned_away += not may
    # What makes it worth having: most shortlisted names share a part and nothing more.
    assert turned_away > len(pairs) // 2


def test_bulk_screening_in_workers_returns_what_screen_returns(index: ListIndex) -> None:
    sample = [(query, 0.6, 5) for query, _, _ in _sample(index, customers=300, every=60)]
    queries = [query for query, _, _ in sample]
    done: list[int] = []
    threads: set[str] = set()

    def progress(n: int) -> None:
        done.append(n)
        threads.add(threading.current_thread().name)

    found = screen_many(index, queries, 0.6, 5, workers=2, progress=progress, min_per_worker=1)
    assert found == _screen_all(index, sample)
    assert any(found)
    assert sum(done) == len(queries) and len(done) > 2  # batch by batch
    assert threads == {threading.current_thread().name}
    # Another shortlist length reaches the workers (an incremental rescreen scores them all).
    listed = queries[300:380]
    short = screen_many(index, listed, 0.6, 5, workers=2, min_per_worker=1, candidates=2)
    assert short == [screen(index, query, 0.6, 5, 2) for query in listed]
    assert short != found[300:380]


def test_workers_that_build_their_own_index_screen_the_same(
    index: ListIndex, versions: list[ListVersion]
) -> None:
    # A worker's own build (another process, another hash seed) must rank names the same way.
    queries = [query for query, _, _ in _sample(index, customers=100, every=80)]
    build = functools.partial(ListIndex.build, versions)
    found = screen_many(build, queries, workers=2, min_per_worker=1)
    assert found == [screen(index, query) for query in queries]
    assert any(found)


def test_one_worker_screens_in_this_process(index: ListIndex) -> None:
    pids: list[int] = []

    def build() -> ListIndex:  # a closure: it could not even be sent to another process
        pids.append(os.getpid())
        return index

    queries = [Query("Vladimir Putin"), Query("Jane Doe", dob="1980-01-01")]
    assert screen_many(build, queries, workers=1) == [screen(index, q) for q in queries]
    assert pids == [os.getpid()]
    # Too few queries to repay starting processes: in this process too.
    assert screen_many(build, queries, workers=2) == [screen(index, q) for q in queries]
    assert pids == [os.getpid()] * 2
    assert workers_for(10, 2, min_per_worker=5) == 2
    assert workers_for(9, 2, min_per_worker=5) == 1
    assert workers_for(100_000, None) == (os.cpu_count() or 1)
    with pytest.raises(ValueError, match="at least 1"):
        screen_many(index, queries, workers=0)


_CANDIDATES = """
import json, sys
from bourse.bench.screening_bench import DATA, load_lists
from bourse.compliance.sanctions.matching.index import ListIndex
from bourse.compliance.sanctions.matching.names import prepare, tokens
index = ListIndex.build(load_lists(DATA))
out = [index.candidates(tokens(prepare(e.name, e.schema))) for e in index.entries[::6]]
json.dump([out, index._norms], sys.stdout)
"""


def test_ranking_does_not_depend_on_the_hash_seed() -> None:
    # Sums of floats in a set's order came out differently from one process to the next (in
    # the last bits), and with them the order of near-ties, so a worker could disagree.
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _CANDIDATES],
            env={**os.environ, "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for seed in ("1", "2")
    ]
    outputs = [run.communicate()[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs[0] and outputs[0] == outputs[1]
