"""The one-time move of `staff.json` (staff tokens of an earlier version) into the journal.

Each name in the file becomes a staff member (a compliance officer: what those tokens were used
for) whose token keeps working, now as engine state with an expiry. The file is deleted once its
commands are durable; a crash before that only repeats the names not yet in the state.
"""

import logging

from bourse.commands import AddStaff, IssueStaffToken
from bourse.compliance.staff import Role
from bourse.keys.staff_tokens import LEGACY_FILE, read_legacy_file
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange, now_ms

log = logging.getLogger(__name__)
ACTOR = "system:migration"
ROLE = Role.COMPLIANCE_OFFICER
TOKEN_ID = "migrated"
TOKEN_DAYS = 90


def migrate_legacy_staff(dd: DataDir, exchange: Exchange) -> list[str]:
    """Journal the staff of `staff.json`, then delete it; the names migrated."""
    legacy = read_legacy_file(dd.path)
    if legacy is None:
        return []
    known = exchange.read_model().staff
    moved = []
    reason = f"migrated from {LEGACY_FILE}, where staff tokens were kept before"
    for name, digest in legacy.items():
        if name in known:
            continue
        ts = now_ms()
        for cmd in (
            AddStaff(name=name, role=ROLE, actor=ACTOR, ts_ms=ts, reason=reason),
            IssueStaffToken(
                name=name,
                token_id=TOKEN_ID,
                digest=digest,
                expires_ms=ts + TOKEN_DAYS * 86_400_000,
                actor=ACTOR,
                ts_ms=ts,
                reason=reason,
            ),
        ):
            outcome = exchange.execute(cmd)
            if outcome.refused:
                raise RuntimeError(f"migrating {name!r} from {LEGACY_FILE}: {outcome.events}")
        moved.append(name)
    (dd.path / LEGACY_FILE).unlink()
    if moved:
        log.warning(
            "moved %d staff member(s) from %s into the journal as %s with %d-day tokens: %s "
            "(review their roles with `bourse staff list`)",
            len(moved),
            LEGACY_FILE,
            ROLE.value,
            TOKEN_DAYS,
            ", ".join(moved),
        )
    return moved
