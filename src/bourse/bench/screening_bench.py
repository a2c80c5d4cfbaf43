"""`bourse bench screening`: the sanctions matcher measured on the shared labelled sets and lists.

Quality (no lists needed, pair by pair):
- `cases.csv`: precision, recall and F1 at 0.6/0.7/0.8/0.9 and the best threshold (0.30 to 0.99);
- `ofac_fixtures.csv`: Spearman rank correlation and mean absolute difference between our score
  times 100 and the score OFAC's own search tool gives;
- `putin_names.txt`: spellings scored at the operating threshold or more against the listed name;
- `cross_script_pairs.csv`: pairs reaching their own minimum score.

Screening (the real lists: OFAC SDN, OFAC consolidated, UN, indexed once):
- one pass over the synthetic customers (`synthetic_people_us.csv`, name, DOB and nationality)
  is both the bulk rescreen (`rescreen_s`, `names_per_s`) and the false-positive rate (alerts
  per 10,000, overall and for the five nationalities with the most alerts);
- `p50_ms`/`p99_ms`: single screenings after that pass, alternately a synthetic customer and a
  listed name (so half of them are hits and go through the scorer in full).

`--peer logic-v2` scores OpenSanctions' nomenklatura LogicV2 on the same pairs, each name as a
one-property FollowTheMoney entity of the pair's schema. The measurement functions here are also
what the quality tests in tests/compliance call, so a figure is computed one way only.
"""

import csv
import itertools
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bourse.compliance.sanctions.country_names import resolve_country
from bourse.compliance.sanctions.entries import ListVersion
from bourse.compliance.sanctions.matching.bulk import screen_many, workers_for
from bourse.compliance.sanctions.matching.index import ListIndex
from bourse.compliance.sanctions.matching.names import OPERATING_THRESHOLD, name_score
from bourse.compliance.sanctions.matching.screen import Query, screen
from bourse.compliance.sanctions.ofac import load_consolidated, load_sdn
from bourse.compliance.sanctions.un import load_un

# The shared labelled sets: BOURSE_SANCTIONS_DATA, else ../shared beside the checkout, else the
# machine's /work/shared (a clone elsewhere, as CI makes).
DATA = Path(
    os.environ.get("BOURSE_SANCTIONS_DATA")
    or next(
        (
            p
            for p in (
                Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sanctions",
                Path("/work/shared/data/sanctions"),
            )
            if p.is_dir()
        ),
        "/work/shared/data/sanctions",
    )
)
SDN_FILE = "ofac_sdn_2021-08-18.csv"
CONSOLIDATED_PUBLISHED = "2021-08-18"  # the cons_* files carry no date; same scrape era as SDN
UN_FILE = "un_consolidated_2026-02-27.xml"
PUTIN = "Vladimir Vladimirovich Putin"  # the listed name the putin_names.txt spellings target
THRESHOLDS = (0.6, 0.7, 0.8, 0.9)
LATENCY_QUERIES = 1000
TOP_NATIONALITIES = 5
PEERS = ("logic-v2",)

# (query name, listed name, schema) -> score in [0, 1]
Scorer = Callable[[str, str, str], float]
Advance = Callable[[int], None]
ProgressFactory = Callable[[str, int | None], AbstractContextManager[Advance]]


@contextmanager
def no_progress(description: str, total: int | None) -> Iterator[Advance]:
    yield lambda n: None


def our_scorer(query: str, listed: str, schema: str) -> float:
    return name_score(query, listed, schema).score


# --- the labelled sets ---


@dataclass(frozen=True)
class Case:
    name1: str
    name2: str
    schema: str
    is_match: bool


def read_cases(data: Path = DATA) -> list[Case]:
    with (data / "cases.csv").open(encoding="utf-8", newline="") as handle:
        return [
            Case(row["name1"], row["name2"], row["schema"], row["is_match"] == "true")
            for row in csv.DictReader(handle)
        ]


def read_ofac_fixtures(data: Path = DATA) -> list[tuple[str, str, float]]:
    with (data / "ofac_fixtures.csv").open(encoding="utf-8", newline="") as handle:
        return [
            (row["query_name"], row["result_name"], float(row["ofac_score"]))
            for row in csv.DictReader(handle)
        ]


def read_putin_names(data: Path = DATA) -> list[str]:
    lines = (data / "putin_names.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def read_cross_script(data: Path = DATA) -> list[tuple[str, str, float]]:
    """(query, listed, minimum score); lines starting with '#' are comments."""
    text = (data / "cross_script_pairs.csv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [(row[0], row[1], float(row[2])) for row in csv.reader(lines)]


def read_customers(data: Path = DATA, limit: int | None = None) -> list[dict[str, str]]:
    with (data / "synthetic_people_us.csv").open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle)
        return [row for _, row in zip(range(limit), rows, strict=False)] if limit else list(rows)


def customer_query(row: dict[str, str]) -> Query:
    """A synthetic customer as onboarding would screen them: name, DOB, nationality."""
    return Query(
        row["full_name"],
        dob=row["date_of_birth"],
        country=resolve_country(row["nationality"]) or "",
        schema="Person",
    )


# --- measures ---


def prf(scored: Sequence[tuple[float, bool]], threshold: float) -> tuple[float, float, float]:
    """Precision, recall and F1 of (score, is_match) pairs at `threshold`."""
    tp = sum(1 for s, y in scored if s >= threshold and y)
    fp = sum(1 for s, y in scored if s >= threshold and not y)
    fn = sum(1 for s, y in scored if s < threshold and y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def best_threshold(scored: Sequence[tuple[float, bool]]) -> tuple[float, float]:
    """(best F1, its threshold) over 0.30 to 0.99; ties go to the higher threshold."""
    return max((prf(scored, t / 100)[2], t / 100) for t in range(30, 100))


def ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 0, ties sharing their mean rank (as Spearman's rho needs)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2
        i = j + 1
    return out


def pearson(a: Sequence[float], b: Sequence[float]) -> float:
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    va = math.sqrt(sum((x - ma) ** 2 for x in a))
    vb = math.sqrt(sum((y - mb) ** 2 for y in b))
    return cov / (va * vb) if va and vb else 0.0


def score_cases(
    cases: Sequence[Case], scorer: Scorer = our_scorer, advance: Advance = lambda n: None
) -> list[tuple[float, bool]]:
    scored = []
    for case in cases:
        scored.append((scorer(case.name1, case.name2, case.schema), case.is_match))
        advance(1)
    return scored


def ofac_agreement(
    rows: Sequence[tuple[str, str, float]], scorer: Scorer = our_scorer
) -> tuple[float, float]:
    """(Spearman, mean |score*100 - OFAC's score|); OFAC's tool does not say Person or not."""
    ours = [scorer(query, listed, "Person") * 100 for query, listed, _ in rows]
    theirs = [ofac for _, _, ofac in rows]
    mad = sum(abs(a - b) for a, b in zip(ours, theirs, strict=True)) / len(rows)
    return pearson(ranks(ours), ranks(theirs)), mad


def putin_found(
    names: Sequence[str], scorer: Scorer = our_scorer, threshold: float = OPERATING_THRESHOLD
) -> list[str]:
    return [name for name in names if scorer(name, PUTIN, "Person") >= threshold]


def cross_script_ok(
    rows: Sequence[tuple[str, str, float]], scorer: Scorer = our_scorer
) -> list[tuple[str, str, float]]:
    return [row for row in rows if scorer(row[0], row[1], "Person") >= row[2]]


def list_loaders(data: Path = DATA) -> list[Callable[[], ListVersion]]:
    """Every shared list: OFAC SDN, OFAC consolidated (non-SDN), UN Security Council."""
    return [
        lambda: load_sdn(data / SDN_FILE),
        lambda: load_consolidated(data, CONSOLIDATED_PUBLISHED),
        lambda: load_un(data / UN_FILE),
    ]


def load_lists(data: Path = DATA) -> list[ListVersion]:
    return [load() for load in list_loaders(data)]


def percentile(sorted_values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


# --- the bench ---


def quality(
    data: Path, scorer: Scorer, label: str, progress: ProgressFactory = no_progress
) -> dict[str, Any]:
    """Every pair-based figure for one scorer, with its throughput on cases.csv."""
    cases = read_cases(data)
    scorer("warm up", "the scorer's lazy tables", "Person")  # not part of pairs_per_s
    with progress(f"{label}: cases.csv", len(cases)) as advance:
        started = time.perf_counter()
        scored = score_cases(cases, scorer, advance)
        cases_s = time.perf_counter() - started
    per_threshold = {}
    for threshold in THRESHOLDS:
        p, r, f = prf(scored, threshold)
        per_threshold[f"{threshold:.1f}"] = {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "f1": round(f, 3),
        }
    best_f1, best_at = best_threshold(scored)
    fixtures = read_ofac_fixtures(data)
    putin = read_putin_names(data)
    cross = read_cross_script(data)
    with progress(f"{label}: ofac, putin, cross-script", 3) as advance:
        spearman, mad = ofac_agreement(fixtures, scorer)
        advance(1)
        found = putin_found(putin, scorer)
        advance(1)
        ok = cross_script_ok(cross, scorer)
        advance(1)
    return {
        "cases": {
            "pairs": len(cases),
            "thresholds": per_threshold,
            "best": {"threshold": best_at, "f1": round(best_f1, 3)},
            "pairs_per_s": round(len(cases) / cases_s) if cases_s else None,
        },
        "ofac_agreement": {
            "pairs": len(fixtures),
            "spearman": round(spearman, 3),
            "mean_abs_diff": round(mad, 1),
        },
        "putin_names": {"found": len(found), "total": len(putin), "threshold": OPERATING_THRESHOLD},
        "cross_script": {"ok": len(ok), "total": len(cross)},
    }


def peer_scorer(name: str) -> tuple[Scorer, str]:
    """The peer's scorer and version; nomenklatura is optional: imported only when asked for."""
    if name != "logic-v2":
        raise ValueError(f"--peer must be one of {', '.join(PEERS)}, not {name!r}")
    try:
        from importlib.metadata import version

        from followthemoney import ValueEntity, model
        from nomenklatura.matching.logic_v2.model import LogicV2
    except ImportError as exc:
        raise ValueError(f"--peer logic-v2 needs `pip install nomenklatura` ({exc})") from exc
    config = LogicV2.default_config()
    ids = itertools.count()

    def score(query: str, listed: str, schema: str) -> float:
        ftm_schema = model.get(schema)
        if ftm_schema is None:
            return 0.0
        # nomenklatura memoizes per entity id: a reused id would return an earlier pair's score.
        left = ValueEntity(ftm_schema, {"id": f"query-{next(ids)}"})
        left.add("name", query)
        right = ValueEntity(ftm_schema, {"id": f"listed-{next(ids)}"})
        right.add("name", listed)
        return float(LogicV2.compare(left, right, config).score)

    return score, f"nomenklatura {version('nomenklatura')}"


def screening(
    data: Path, customers: int, progress: ProgressFactory = no_progress
) -> dict[str, Any]:
    loaders = list_loaders(data)
    with progress("loading the lists", len(loaders)) as advance:
        started = time.perf_counter()
        versions = []
        for load in loaders:
            versions.append(load())
            advance(1)
        load_s = time.perf_counter() - started
    with progress("indexing", None):
        started = time.perf_counter()
        index = ListIndex.build(versions)
        index_s = time.perf_counter() - started
    rows = read_customers(data, customers)
    queries = [customer_query(row) for row in rows]
    alerts: Counter[str] = Counter()
    population: Counter[str] = Counter(row["nationality"] for row in rows)
    # As a rescreen runs: one worker process per CPU (fewer for few customers), each starting
    # and receiving the index within the time measured.
    workers = workers_for(len(queries))
    with progress("rescreening synthetic customers", len(rows)) as advance:
        started = time.perf_counter()
        found = screen_many(index, queries, workers=workers, progress=advance)
        rescreen_s = time.perf_counter() - started
    for row, hits in zip(rows, found, strict=True):
        if hits:
            alerts[row["nationality"]] += 1
    total_alerts = sum(alerts.values())
    top = sorted(alerts.items(), key=lambda item: (-item[1], item[0]))[:TOP_NATIONALITIES]
    latencies = []
    entries = index.entries
    with progress("single screenings", LATENCY_QUERIES) as advance:
        for i in range(LATENCY_QUERIES):
            if i % 2:  # a listed name, spread over all entries: a hit
                entry = entries[(i * 7919) % len(entries)]
                query = Query(entry.name, schema=entry.schema)
            else:
                query = queries[(i // 2) % len(queries)]
            started = time.perf_counter()
            screen(index, query)
            latencies.append(time.perf_counter() - started)
            advance(1)
    latencies.sort()
    return {
        "lists": {
            "versions": [f"{v.source} {v.published}" for v in versions],
            "entries": len(index.entries),
            "names": index.name_count,
            "load_s": round(load_s, 3),
            "index_s": round(index_s, 3),
        },
        "synthetic": {
            "customers": len(rows),
            "alerted": total_alerts,
            "alerts_per_10k": round(total_alerts * 10_000 / len(rows), 1),
            "top_nationalities": [
                {
                    "nationality": nationality,
                    "alerted": count,
                    "customers": population[nationality],
                    "alerts_per_10k": round(count * 10_000 / population[nationality], 1),
                }
                for nationality, count in top
            ],
        },
        "rescreen_s": round(rescreen_s, 3),
        "workers": workers,
        "names_per_s": round(len(rows) / rescreen_s) if rescreen_s else None,
        "latency_queries": LATENCY_QUERIES,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 3),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
    }


def run(
    customers: int = 50_000,
    peer: str | None = None,
    data: Path = DATA,
    progress: ProgressFactory = no_progress,
) -> dict[str, Any]:
    if customers < 1:
        raise ValueError("--customers must be at least 1")
    # Resolve the peer first: a missing nomenklatura fails before minutes of work.
    peer_score = peer_scorer(peer) if peer is not None else None
    result: dict[str, Any] = {
        "data": str(data),
        "operating_threshold": OPERATING_THRESHOLD,
        **quality(data, our_scorer, "ours", progress),
        **screening(data, customers, progress),
    }
    if peer is not None and peer_score is not None:
        scorer, version = peer_score
        result["peer"] = {
            "name": peer,
            "version": version,
            **quality(data, scorer, peer, progress),
        }
    return result


def _quality_rows(figures: dict[str, Any]) -> list[tuple[str, str]]:
    cases = figures["cases"]
    rows = []
    for threshold, prf_ in cases["thresholds"].items():
        rows.append(
            (
                f"cases.csv P / R / F1 @ {threshold}",
                f"{prf_['precision']:.3f} / {prf_['recall']:.3f} / {prf_['f1']:.3f}",
            )
        )
    best, ofac = cases["best"], figures["ofac_agreement"]
    putin, cross = figures["putin_names"], figures["cross_script"]
    rows += [
        ("cases.csv best F1", f"{best['f1']:.3f} @ {best['threshold']:.2f}"),
        ("cases.csv pairs/s", f"{cases['pairs_per_s']:,}"),
        ("OFAC Spearman / mean |diff|", f"{ofac['spearman']:.3f} / {ofac['mean_abs_diff']:.1f}"),
        (f"putin_names @ {putin['threshold']}", f"{putin['found']} of {putin['total']}"),
        ("cross-script at minimum", f"{cross['ok']} of {cross['total']}"),
    ]
    return rows


def table(result: dict[str, Any]) -> Any:
    """The result as a Rich table: our figures, and the peer's beside them when measured."""
    from rich.table import Table

    peer = result.get("peer")
    out = Table(title=f"bench screening: {result['synthetic']['customers']:,} customers")
    out.add_column("measure")
    out.add_column("bourse", justify="right")
    if peer is not None:
        out.add_column(f"{peer['name']} ({peer['version']})", justify="right")
    theirs = dict(_quality_rows(peer)) if peer is not None else {}
    for label, value in _quality_rows(result):
        out.add_row(label, value, *([theirs.get(label, "")] if peer is not None else []))
    synthetic, lists = result["synthetic"], result["lists"]
    tops = ", ".join(
        f"{t['nationality']} {t['alerted']}/{t['customers']}"
        for t in synthetic["top_nationalities"]
    )
    for label, value in (
        ("lists: entries / names", f"{lists['entries']:,} / {lists['names']:,}"),
        ("lists: load / index s", f"{lists['load_s']:.2f} / {lists['index_s']:.2f}"),
        ("alerts per 10,000", f"{synthetic['alerts_per_10k']} ({synthetic['alerted']} alerted)"),
        ("most alerted nationalities", tops or "none"),
        ("rescreen_s", f"{result['rescreen_s']:.2f}"),
        ("names_per_s", f"{result['names_per_s']:,}"),
        ("p50_ms / p99_ms", f"{result['p50_ms']:.2f} / {result['p99_ms']:.2f}"),
    ):
        out.add_row(label, value, *([""] if peer is not None else []))
    return out
