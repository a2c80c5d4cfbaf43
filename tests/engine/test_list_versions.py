"""ForceListVersion: the journaled record of an operator putting in force a list version that the
load guard refused (no entries, or too many removed), with who, why and how much."""

from typing import Any

import pytest

from bourse.commands import ForceListVersion
from bourse.domain.rejections import RejectCode
from bourse.engine import Engine, snapshot
from bourse.events import CommandRejected, ListVersionForced
from tests.builders import ACTOR, Runner, one

FORCED: dict[str, Any] = {
    "source": "ofac_sdn",
    "list_sha256": "cd" * 32,
    "previous_sha256": "ab" * 32,
    "measure": "entries",
    "count_before": 9083,
    "count_after": 0,
    "removed": 9083,
}

REFUSED = [  # (fields changed, code, words of the reason)
    ({"source": ""}, RejectCode.INVALID_PARAMETER, "names its list"),
    ({"list_sha256": ""}, RejectCode.INVALID_PARAMETER, "names its list"),
    ({"measure": ""}, RejectCode.INVALID_PARAMETER, "what its counts count"),
    ({"removed": 9084}, RejectCode.INVALID_PARAMETER, "removes 9084 of 9083 entries"),
    ({"removed": -1}, RejectCode.INVALID_PARAMETER, "removes -1 of 9083"),
    ({"removed": 10, "count_after": 9000}, RejectCode.INVALID_PARAMETER, "keeps 9073"),
    ({"reason": " "}, RejectCode.REASON_REQUIRED, "needs a reason"),
]


def test_a_forced_version_is_recorded_with_who_why_and_how_much() -> None:
    r = Runner()
    events = r.do(ForceListVersion, **FORCED, reason="OFAC withdrew the list")
    forced = one(events, ListVersionForced)
    assert (forced.source, forced.removed, forced.count_before) == ("ofac_sdn", 9083, 9083)
    assert (forced.actor, forced.reason) == (ACTOR, "OFAC withdrew the list")
    again = Engine()  # replayed from the journal, it records the same
    assert again.execute(1, r.commands[0]) == events
    assert snapshot.digest(again.state) == snapshot.digest(r.state)


@pytest.mark.parametrize(("changed", "code", "words"), REFUSED)
def test_an_inconsistent_forced_version_is_refused(
    changed: dict[str, Any], code: RejectCode, words: str
) -> None:
    r = Runner()
    rejected = one(r.do(ForceListVersion, **(FORCED | changed)), CommandRejected)
    assert rejected.code == code and words in rejected.reason
