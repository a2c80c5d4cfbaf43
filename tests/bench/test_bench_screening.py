"""`bourse bench screening` prints every figure the issue asks for, each within its range.

Quality and speed are never asserted here (tests/compliance holds the quality floors); only that
every key is there and every figure is sane: shares in [0, 1], counts within their totals, the
totals themselves counted from the files independently of the bench's readers.
"""

import csv
import importlib.util
import json
import re
from itertools import islice
from typing import Any

import pytest

from bourse.bench import screening_bench
from bourse.bench.screening_bench import DATA, percentile, prf, ranks
from tests.server.server import run_cli

CUSTOMERS = 500


def _data_lines(name: str) -> list[str]:
    text = (DATA / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _check_quality(figures: dict[str, Any]) -> None:
    cases = figures["cases"]
    assert cases["pairs"] == len(_data_lines("cases.csv")) - 1  # less the header
    assert set(cases["thresholds"]) == {"0.6", "0.7", "0.8", "0.9"}
    for prf_ in cases["thresholds"].values():
        assert set(prf_) == {"precision", "recall", "f1"}
        assert all(0 <= value <= 1 for value in prf_.values())
    best = cases["best"]
    assert 0.3 <= best["threshold"] <= 0.99
    assert max(p["f1"] for p in cases["thresholds"].values()) <= best["f1"] <= 1
    assert cases["pairs_per_s"] > 0
    ofac = figures["ofac_agreement"]
    assert ofac["pairs"] == len(_data_lines("ofac_fixtures.csv")) - 1
    assert -1 <= ofac["spearman"] <= 1
    assert 0 <= ofac["mean_abs_diff"] <= 100
    putin = figures["putin_names"]
    assert putin["total"] == len(_data_lines("putin_names.txt")) == 81
    assert 0 <= putin["found"] <= putin["total"]
    cross = figures["cross_script"]
    assert cross["total"] == len(_data_lines("cross_script_pairs.csv")) == 22
    assert 0 <= cross["ok"] <= cross["total"]


def test_bench_screening_prints_every_figure() -> None:
    result = run_cli("bench", "screening", "--customers", str(CUSTOMERS), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {
        "operating_threshold",
        "cases",
        "ofac_agreement",
        "putin_names",
        "cross_script",
        "lists",
        "synthetic",
        "rescreen_s",
        "names_per_s",
        "latency_queries",
        "p50_ms",
        "p99_ms",
    } <= set(out)
    assert "peer" not in out
    _check_quality(out)
    lists = out["lists"]
    # Records counted in the raw files: OFAC lines start with their numeric id (the last line is
    # a 0x1A end-of-file byte), UN entries are elements.
    ofac = [DATA / screening_bench.SDN_FILE, DATA / "ofac_cons_prim.csv"]
    ofac_entries = sum(
        1 for path in ofac for line in path.read_bytes().splitlines() if re.match(rb"\d+,", line)
    )
    un = (DATA / screening_bench.UN_FILE).read_bytes()
    un_entries = un.count(b"<INDIVIDUAL>") + un.count(b"<ENTITY>")
    assert lists["entries"] == ofac_entries + un_entries
    assert lists["names"] >= lists["entries"]
    assert len(lists["versions"]) == 3
    synthetic = out["synthetic"]
    assert synthetic["customers"] == CUSTOMERS
    assert 0 <= synthetic["alerted"] <= CUSTOMERS
    assert synthetic["alerts_per_10k"] == round(synthetic["alerted"] * 10_000 / CUSTOMERS, 1)
    tops = synthetic["top_nationalities"]
    assert len(tops) <= 5
    assert sum(t["alerted"] for t in tops) <= synthetic["alerted"]
    with (DATA / "synthetic_people_us.csv").open(encoding="utf-8", newline="") as handle:
        first = [row["nationality"] for row in islice(csv.DictReader(handle), CUSTOMERS)]
    for top in tops:
        assert 0 < top["alerted"] <= top["customers"] == first.count(top["nationality"])
    assert [t["alerted"] for t in tops] == sorted((t["alerted"] for t in tops), reverse=True)
    assert out["rescreen_s"] > 0 and out["names_per_s"] > 0
    assert out["latency_queries"] == 1000
    assert 0 < out["p50_ms"] <= out["p99_ms"]


def test_bench_screening_table_and_bad_options() -> None:
    result = run_cli("bench", "screening", "--customers", "50")
    assert result.returncode == 0, result.stderr
    for words in ("cases.csv P / R / F1 @ 0.7", "putin_names", "rescreen_s", "p50_ms"):
        assert words in result.stdout
    result = run_cli("bench", "screening", "--customers", "0")
    assert result.returncode == 2 and "--customers must be at least 1" in result.stderr
    result = run_cli("bench", "screening", "--peer", "logic-v9", "--customers", "10")
    assert result.returncode == 2 and "--peer must be one of logic-v2" in result.stderr


def test_peer_logic_v2_is_scored_on_the_same_pairs_or_refused_clearly() -> None:
    # nomenklatura is optional (not a dependency): without it the peer is refused with the
    # install hint; with it (`pip install nomenklatura`) its figures are measured. Never skipped.
    if importlib.util.find_spec("nomenklatura") is None:
        with pytest.raises(ValueError, match="pip install nomenklatura"):
            screening_bench.peer_scorer("logic-v2")
        return
    scorer, version = screening_bench.peer_scorer("logic-v2")
    assert version.startswith("nomenklatura ")
    # Two different pairs in a row: the wrapper must not let the peer's per-id memo leak.
    assert scorer("Angela Merkel", "Olaf Scholz", "Person") < 0.5
    assert scorer("Olaf Scholze", "Olaf Scholz", "Person") > 0.5
    figures = screening_bench.quality(DATA, scorer, "logic-v2")
    _check_quality(figures)


def test_measures() -> None:
    scored = [(0.9, True), (0.8, False), (0.75, True), (0.2, True), (0.1, False)]
    # At 0.7: 2 true positives, 1 false positive, 1 false negative.
    assert prf(scored, 0.7) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert prf([], 0.7) == (0.0, 0.0, 0.0)
    assert ranks([10.0, 30.0, 20.0, 20.0]) == [0.0, 3.0, 1.5, 1.5]
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 0.99) == 99.0
