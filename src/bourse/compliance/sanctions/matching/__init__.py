"""Name matching for sanctions screening: normalization, transliteration and name-part scoring."""

from bourse.compliance.sanctions.matching.names import (
    OPERATING_THRESHOLD,
    NameMatch,
    PreparedName,
    best_match,
    name_score,
    prepare,
    score_prepared,
    tokens,
)

__all__ = [
    "OPERATING_THRESHOLD",
    "NameMatch",
    "PreparedName",
    "best_match",
    "name_score",
    "prepare",
    "score_prepared",
    "tokens",
]
