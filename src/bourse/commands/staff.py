"""Staff: members, their roles and scopes, their tokens, offboarding."""

from bourse.commands.base import Command, OperatorCommand
from bourse.compliance.staff import Role, TokenKind


class AddStaff(OperatorCommand, frozen=True, kw_only=True, tag="AddStaff"):
    """A new staff member with a role (compliance/staff.py's ROLES). A scoped role (regional
    manager, auditor) acts only on the customers and countries of `venues` and `countries`, and
    needs at least one of them. `team` is the queue their work goes to when they leave."""

    name: str
    role: Role
    venues: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    team: str = ""


class ChangeStaff(OperatorCommand, frozen=True, kw_only=True, tag="ChangeStaff"):
    """A staff member's new role, scope and team (all of them, as they are to be)."""

    name: str
    role: Role
    venues: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    team: str = ""


class IssueStaffToken(OperatorCommand, frozen=True, kw_only=True, tag="IssueStaffToken"):
    """An API token for `name`, valid until `expires_ms`. The gateway draws the token and shows
    it once; the journal keeps only its SHA-256 (`digest`)."""

    name: str
    token_id: str
    digest: str
    expires_ms: int
    kind: TokenKind = TokenKind.API  # a console session is opened by OpenStaffSession only


class SetStaffCredentials(OperatorCommand, frozen=True, kw_only=True, tag="SetStaffCredentials"):
    """A person's console password (an argon2id hash: the password is never journaled) and
    second factor (the TOTP secret, sealed under the data directory's master key), chosen on
    the page of their one-time setup link `setup_token_id`, which this uses up. `totp_step` is
    the time step of the code they confirmed the secret with. Sent by the console only."""

    name: str
    setup_token_id: str
    password_hash: str
    totp_sealed: str
    totp_step: int


class OpenStaffSession(OperatorCommand, frozen=True, kw_only=True, tag="OpenStaffSession"):
    """A console session for `name`, after the console checked their password and TOTP code:
    like a token (only its SHA-256 is kept), for hours at most. `totp_step` is the code's time
    step: a code is used once. Sent by the console only."""

    name: str
    token_id: str
    digest: str
    expires_ms: int
    totp_step: int


class RevokeStaffToken(OperatorCommand, frozen=True, kw_only=True, tag="RevokeStaffToken"):
    name: str
    token_id: str


class OffboardStaff(OperatorCommand, frozen=True, kw_only=True, tag="OffboardStaff"):
    """Ends `name`'s access at once (every token, every proposal of theirs withdrawn); their
    past actions stay theirs. What they own moves to `reassign_to` (a staff member's name, or
    "team:NAME" for a team's queue), else to their own team's queue; refused if anything would
    be left with no one entitled to decide it."""

    name: str
    reassign_to: str = ""


class OffboardMany(OperatorCommand, frozen=True, kw_only=True, tag="OffboardMany"):
    """Offboards `names` together (a layoff, a region closed), citing the preview they were
    shown (`preview_id`): refused if the preview would now say something else, or leaves work
    with no one entitled to decide it."""

    names: tuple[str, ...]
    preview_id: str
    reassign_to: str = ""


class RecordAccess(Command, frozen=True, kw_only=True, tag="RecordAccess"):
    """What an auditor or regulator read (`path`, `query`): every such read is on the record."""

    path: str
    query: str = ""


class AssignWork(OperatorCommand, frozen=True, kw_only=True, tag="AssignWork"):
    """Gives open work (`item`: "alert:ID", "proposal:ID" or "schedule:ID") to `owner`
    ("staff:NAME" or "team:NAME"), who must be able to decide it. An assigned proposal is
    approved or rejected by its owner only."""

    item: str
    owner: str
