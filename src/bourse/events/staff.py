"""Events of staff, four eyes, auditors' reads and the audit log's keys."""

from bourse.commands import Proposable
from bourse.compliance.staff import Role, TokenKind
from bourse.events.base import Event


class StaffRecorded(Event, frozen=True, kw_only=True, tag="StaffRecorded"):
    """A staff member as they now stand (added, changed or offboarded: `active` False), who
    made the change and why."""

    name: str
    role: Role
    venues: tuple[str, ...]
    countries: tuple[str, ...]
    team: str
    active: bool
    actor: str
    reason: str


class StaffTokenIssued(Event, frozen=True, kw_only=True, tag="StaffTokenIssued"):
    """A staff API token: its SHA-256 (never the token), valid until `expires_ms`."""

    name: str
    token_id: str
    digest: str
    expires_ms: int
    actor: str
    kind: TokenKind = TokenKind.API


class StaffCredentialsSet(Event, frozen=True, kw_only=True, tag="StaffCredentialsSet"):
    """A person chose their console password (kept as an argon2id hash) and second factor (the
    TOTP secret, sealed); the setup link they used is revoked beside this."""

    name: str
    password_hash: str
    totp_sealed: str
    actor: str


class StaffTokenRevoked(Event, frozen=True, kw_only=True, tag="StaffTokenRevoked"):
    name: str
    token_id: str
    actor: str
    reason: str


class FourEyesSet(Event, frozen=True, kw_only=True, tag="FourEyesSet"):
    """The command types that now need a second person's approval (empty: none)."""

    commands: tuple[str, ...]
    actor: str
    reason: str


class ProposalMade(Event, frozen=True, kw_only=True, tag="ProposalMade"):
    proposal_id: int
    command: Proposable
    digest: str  # what an approval must cite
    world: str  # a digest of what the command concerns, as it stands now
    proposer: str
    reason: str
    evidence: str
    expires_ms: int


class ProposalDecided(Event, frozen=True, kw_only=True, tag="ProposalDecided"):
    """`decision`: "approved" (the command's own events follow in the same outcome),
    "rejected" or "withdrawn"; by whom and why."""

    proposal_id: int
    decision: str
    actor: str
    reason: str


class WorkAssigned(Event, frozen=True, kw_only=True, tag="WorkAssigned"):
    """Open work (`item`: "alert:ID", "proposal:ID", "schedule:ID") now owned by `owner`."""

    item: str
    owner: str
    actor: str
    reason: str


class AccessRecorded(Event, frozen=True, kw_only=True, tag="AccessRecorded"):
    """An auditor or regulator read `path` (`query`): the record of it."""

    path: str
    query: str
    actor: str


class AuditKeyRotated(Event, frozen=True, kw_only=True, tag="AuditKeyRotated"):
    """Tree heads from this command on are signed with this key (`key_id`: the first 16 hex
    digits of SHA-256 of the raw public key)."""

    key_id: str
    public_key: str
    actor: str
    reason: str
