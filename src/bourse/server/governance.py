"""Staff and four eyes when a server starts: what a data directory from before gets once, and
the demo's two officers.

`staff.json` (staff tokens of an earlier version) moves into the journal: each name becomes a
staff member (a compliance officer: what those tokens were used for) whose token keeps working,
now as engine state with an expiry. The file is deleted once its commands are durable; a crash
before that only repeats the names not yet in the state. A data directory that never set four
eyes gets the default set (or none, when its operator starts it with --no-four-eyes), journaled
by "system:migration" (or "system:genesis" for a new one), so the choice is on the record.
"""

import logging

from bourse.commands import AddStaff, Command, IssueStaffToken, SetFourEyes
from bourse.compliance.staff import (
    DEFAULT_FOUR_EYES,
    ROLES,
    Role,
    StaffError,
    TokenKind,
    check_name,
)
from bourse.keys.staff_tokens import (
    DAY_MS,
    DEFAULT_TOKEN_DAYS,
    LEGACY_FILE,
    SETUP_LINK_DAYS,
    issue,
    read_legacy_file,
)
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange, now_ms

log = logging.getLogger(__name__)
ACTOR = "system:migration"
BOOTSTRAP = "system:bootstrap"
ROLE = Role.COMPLIANCE_OFFICER
TOKEN_ID = "migrated"


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
                expires_ms=ts + DEFAULT_TOKEN_DAYS * DAY_MS,
                actor=ACTOR,
                ts_ms=ts,
                reason=reason,
            ),
        ):
            _execute(exchange, cmd)
        moved.append(name)
    (dd.path / LEGACY_FILE).unlink()
    if moved:
        log.warning(
            "moved %d staff member(s) from %s into the journal as %s with %d-day tokens: %s "
            "(review their roles with `bourse staff list`)",
            len(moved),
            LEGACY_FILE,
            ROLE.value,
            DEFAULT_TOKEN_DAYS,
            ", ".join(moved),
        )
    return moved


def settle_four_eyes(exchange: Exchange, *, default: bool, fresh: bool) -> str | None:
    """Journal the default four-eyes set (or none, `default=False`) if this data directory never
    set one; what was set, for the start banner, or None if it was set before."""
    if exchange.read_model().four_eyes_set:
        return None
    commands = tuple(sorted(DEFAULT_FOUR_EYES)) if default else ()
    why = "the default for a new data directory" if fresh else "four eyes did not exist before"
    if not default:
        why = "started with --no-four-eyes"
    actor = "system:genesis" if fresh else ACTOR
    _execute(exchange, SetFourEyes(commands=commands, actor=actor, ts_ms=now_ms(), reason=why))
    return f"{len(commands)} command types" if commands else "none (--no-four-eyes)"


DEMO_STAFF = {
    "demo.officer": Role.COMPLIANCE_OFFICER,
    "demo.senior": Role.SENIOR_COMPLIANCE_OFFICER,
}


def create_demo_staff(dd: DataDir, exchange: Exchange) -> None:
    """Two staff members for a new demo data directory, so four eyes can be tried at once: a
    compliance officer proposes, the senior officer approves. Their API tokens and one-time
    console setup links are kept in plain text (demo-staff.json, demo-links.json, 0600) for
    the demo only, as the demo API key is."""
    tokens: dict[str, str] = {}
    links: dict[str, str] = {}  # name → one-time console setup token
    reason = "demo staff for a new data directory"
    for name, role in DEMO_STAFF.items():
        ts = now_ms()
        _execute(
            exchange,
            AddStaff(name=name, role=role, actor="system:genesis", ts_ms=ts, reason=reason),
        )
        cmd, token = issue(
            name, DEFAULT_TOKEN_DAYS, actor="system:genesis", reason=reason, ts_ms=ts
        )
        _execute(exchange, cmd)
        tokens[name] = token
        links[name] = issue_setup_link(exchange, name, "system:genesis", reason)
    dd.write_demo_staff(tokens)
    dd.write_demo_links(links)


def issue_setup_link(exchange: Exchange, name: str, actor: str, reason: str) -> str:
    """A one-time console setup token for `name` (journaled as its SHA-256 only)."""
    cmd, token = issue(
        name, SETUP_LINK_DAYS, actor=actor, reason=reason, ts_ms=now_ms(), kind=TokenKind.SETUP
    )
    _execute(exchange, cmd)
    return token


def bootstrap(exchange: Exchange, name: str, role: Role = Role.OPERATOR) -> str:
    """A founding staff member of a data directory, and their one-time setup token: how a new
    exchange gets its first people without a default password. Adding staff is four-eyed, and
    nobody approves their own proposal, so two founders are needed: the first (an operator) and
    a second who can approve staff changes (another operator, or a senior compliance officer).
    Refused once two people who approve staff changes exist: from then on they add people."""
    check_name(name)
    staff = exchange.read_model().staff
    if not ROLES[role].approves >= {"AddStaff"}:
        raise StaffError(
            f"a founder approves staff changes: an operator or a senior compliance officer, "
            f"not a {ROLES[role].title.lower()}"
        )
    approvers = [
        m.name for m in staff.values() if m.active and "AddStaff" in ROLES[m.role].approves
    ]
    if len(approvers) >= 2:
        raise StaffError(
            f"{' and '.join(approvers[:2])} already approve each other's staff changes here: "
            "ask one of them to add people and give setup links (bourse staff setup-link NAME)"
        )
    if not approvers and role is not Role.OPERATOR:
        raise StaffError("the first founder is an operator: bootstrap them first")
    if name in staff:
        raise StaffError(f"{name!r} is already a staff member here (or was): choose another name")
    reason = (
        f"founder {len(approvers) + 1} of 2, created by `bourse staff bootstrap` on the data "
        "directory"
    )
    ts = now_ms()
    _execute(exchange, AddStaff(name=name, role=role, actor=BOOTSTRAP, ts_ms=ts, reason=reason))
    return issue_setup_link(exchange, name, BOOTSTRAP, reason)


def _execute(exchange: Exchange, cmd: Command) -> None:
    outcome = exchange.execute(cmd)
    if outcome.refused:
        raise RuntimeError(f"{type(cmd).__name__} was refused: {outcome.events}")
