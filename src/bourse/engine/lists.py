"""Sanctions list versions as the engine records them: a load that would remove an unusual share
of the version in force, or that has no entries, goes into force only when an operator forces it
with a reason (compliance/sanctions/versions.py refuses it otherwise), and that decision is a
command, journaled before the version goes into force."""

from bourse.commands import ForceListVersion
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.output import Output
from bourse.engine.state import EngineState
from bourse.events import ListVersionForced
from bourse.view.model import forced_key


def force_version(state: EngineState, out: Output, cmd: ForceListVersion) -> Refusal | None:
    if not cmd.source or not cmd.list_sha256 or not cmd.measure:
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            "a forced list version names its list, its hash and what its counts count",
        )
    kept = cmd.count_before - cmd.removed
    if not 0 <= cmd.removed <= cmd.count_before or cmd.count_after < kept:
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            f"a version that removes {cmd.removed} of {cmd.count_before} {cmd.measure} keeps "
            f"{kept}, so it cannot have {cmd.count_after}",
        )
    key = forced_key(cmd.source, cmd.list_sha256, cmd.previous_sha256)
    state.forced_lists[key] = (state.last_seq, cmd.ts_ms)  # the latest decision on it
    out.events.append(
        ListVersionForced(
            source=cmd.source,
            list_sha256=cmd.list_sha256,
            previous_sha256=cmd.previous_sha256,
            measure=cmd.measure,
            count_before=cmd.count_before,
            count_after=cmd.count_after,
            removed=cmd.removed,
            actor=cmd.actor,
            reason=cmd.reason,
        )
    )
    return None
