"""Quality of the sanctions name scorer on the shared labelled sets, plus unit tests.

The floors below only ever rise: when the scorer improves, raise them to just under the new
measurement; never lower them to make a change pass.
"""

import csv
import time

import pytest

# The measures are the bench's own (`bourse bench screening`), so a figure is computed one way.
from bourse.bench.screening_bench import (
    DATA,
    best_threshold,
    cross_script_ok,
    ofac_agreement,
    prf,
    putin_found,
    read_cases,
    score_cases,
)
from bourse.compliance.sanctions.matching import (
    OPERATING_THRESHOLD,
    best_match,
    name_score,
    prepare,
    score_prepared,
    tokens,
)

PUTIN = "Vladimir Vladimirovich Putin"

# Floors: only ever rise.
F1_AT_OPERATING_FLOOR = 0.86
PRECISION_AT_OPERATING_FLOOR = 0.826
RECALL_AT_OPERATING_FLOOR = 0.895
PUTIN_FOUND_FLOOR = 81  # of 81
CROSS_SCRIPT_FLOOR = 20  # of 22
OFAC_SPEARMAN_FLOOR = 0.74
OFAC_MEAN_ABS_DIFF_CEILING = 32.0  # only ever falls


def _cases() -> list[tuple[float, bool]]:
    return score_cases(read_cases(DATA))


def test_cases_f1_at_operating_threshold() -> None:
    scored = _cases()
    # 826 labelled pairs per the data README; count raw lines independently of csv parsing.
    raw_lines = (DATA / "cases.csv").read_text(encoding="utf-8").strip().splitlines()
    assert len(scored) == len(raw_lines) - 1 == 826
    for threshold in (0.6, 0.7, 0.8, 0.9):
        p, r, f = prf(scored, threshold)
        print(f"cases.csv @ {threshold}: precision {p:.3f} recall {r:.3f} F1 {f:.3f}")
    best = best_threshold(scored)
    print(f"cases.csv best F1 {best[0]:.3f} at {best[1]}")
    p, r, f = prf(scored, OPERATING_THRESHOLD)
    assert f >= F1_AT_OPERATING_FLOOR
    assert p >= PRECISION_AT_OPERATING_FLOOR
    assert r >= RECALL_AT_OPERATING_FLOOR


def test_putin_spellings() -> None:
    lines = [ln for ln in (DATA / "putin_names.txt").read_text(encoding="utf-8").splitlines()]
    names = [ln.strip() for ln in lines if ln.strip()]
    assert len(names) == 81
    found = putin_found(names)
    print(f"putin_names.txt: {len(found)} of {len(names)} at >= {OPERATING_THRESHOLD}")
    assert len(found) >= PUTIN_FOUND_FLOOR


def test_cross_script_pairs() -> None:
    text = (DATA / "cross_script_pairs.csv").read_text(encoding="utf-8")
    data_lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    rows = list(csv.reader(data_lines))
    assert len(rows) == 22
    ok = cross_script_ok([(r[0], r[1], float(r[2])) for r in rows])
    print(f"cross_script_pairs.csv: {len(ok)} of {len(rows)} at their minimum")
    assert len(ok) >= CROSS_SCRIPT_FLOOR


def test_ofac_agreement() -> None:
    with (DATA / "ofac_fixtures.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 170
    spearman, mad = ofac_agreement(
        [(r["query_name"], r["result_name"], float(r["ofac_score"])) for r in rows]
    )
    print(f"ofac_fixtures.csv: Spearman {spearman:.3f}, mean |ours*100 - OFAC| {mad:.1f}")
    assert spearman >= OFAC_SPEARMAN_FLOOR
    assert mad <= OFAC_MEAN_ABS_DIFF_CEILING


def test_score_is_fast_and_deterministic() -> None:
    a, b = prepare("Wladimir Wladimirowitsch Putin"), prepare(PUTIN)
    first = score_prepared(a, b)
    start = time.perf_counter()
    for _ in range(1000):
        assert score_prepared(a, b) == first
    per_pair = (time.perf_counter() - start) / 1000
    assert per_pair < 0.001


def test_explanation_names_the_parts() -> None:
    m = name_score("Wladimir Putin", PUTIN)
    assert "putin=putin" in m.explanation
    assert "wladimir~vladimir" in m.explanation
    assert "vladimirovich" in m.explanation  # reported as unmatched
    assert m.query == "Wladimir Putin" and m.listed == PUTIN


@pytest.mark.parametrize("empty", ["", "   ", "., -"])
def test_empty_name_scores_zero(empty: str) -> None:
    assert name_score(empty, PUTIN).score == 0.0
    assert name_score(PUTIN, empty).score == 0.0
    assert tokens(prepare(empty)) == ()


def test_single_token() -> None:
    assert name_score("Putin", "Putin").score == 1.0
    assert name_score("Putin", PUTIN).score >= OPERATING_THRESHOLD
    assert name_score("Merkel", PUTIN).score < 0.3


def test_initials() -> None:
    m = name_score("V. Putin", PUTIN)
    assert m.score >= OPERATING_THRESHOLD
    assert "(initial)" in m.explanation
    assert name_score("A. Putin", PUTIN).score < name_score("V. Putin", PUTIN).score


def test_reordered() -> None:
    m = name_score("PUTIN, Vladimir", PUTIN)
    assert m.score >= 0.9
    assert "order swapped" in m.explanation


def test_org_legal_forms() -> None:
    m = name_score("Gazprom PJSC", "PAO Gazprom", "Company")
    assert m.score >= 0.95
    assert name_score("OAO Gazprom", "Open Joint Stock Company Gazprom", "Company").score >= 0.95
    assert name_score("Deutsche Bank AG", "Deutsche Bank GmbH", "Company").score < 0.9
    assert name_score("Gazprom LLC", "Rosneft LLC", "Company").score < 0.5


def test_cross_script_and_tokens() -> None:
    assert tokens(prepare("Владимир Путин")) == ("vladimir", "putin")
    assert name_score("Путин Владимир Владимирович", PUTIN).score >= 0.95


def test_best_match_picks_best_pair() -> None:
    queries = [prepare("Ivan Petrov"), prepare("W. Putin")]
    listed = [prepare("Angela Merkel"), prepare(PUTIN)]
    m = best_match(queries, listed)
    assert m.query == "W. Putin" and m.listed == PUTIN
    assert best_match([], listed).score == 0.0
