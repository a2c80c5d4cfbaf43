"""Staff in the engine: who may send which command, within which scope, and the commands that
add, change and offboard staff and their tokens.

`authorize` runs first in the compliance gate for every command a staff member sends: their
role (compliance/staff.py's ROLES) must permit the command's type, and a scoped role (regional
manager) may act only on customers resident in, or served by a venue of, its scope, and on the
jurisdiction policies of its countries. The API refuses the same things earlier for a clearer
answer; this is where it holds, whatever sent the command.

Other actors are not staff: the data directory's operator token ("operator"), the exchange's own
workers ("system:..."), and customers' API keys ("key:..."), which the gateway names.
"""

import re

from bourse.commands import (
    AddStaff,
    CancelScheduledChange,
    ChangeStaff,
    Command,
    ConfirmScreeningAlert,
    CreateApiKey,
    Deposit,
    DismissScreeningAlert,
    FreezeAccount,
    IssueStaffToken,
    OffboardStaff,
    OnboardCustomer,
    OpenAccount,
    OpenStaffSession,
    RequestWithdrawal,
    RevokeApiKey,
    RevokeStaffToken,
    SchedulePolicyChange,
    SetAccountFeeTier,
    SetAccountPermissions,
    SetJurisdictionPolicy,
    SetStaffCredentials,
    UnfreezeAccount,
    UpdateCustomer,
    WithdrawOnRequest,
)
from bourse.compliance.countries import country_problem
from bourse.compliance.staff import (
    CONSOLE,
    PROPOSALS,
    RECORDS,
    ROLES,
    SELF_SERVICE,
    SESSION_HOURS_MAX,
    SETUP_LINK_DAYS_MAX,
    Role,
    StaffError,
    TokenKind,
    check_name,
    covers,
    staff_name,
)
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.customers import venue_for
from bourse.engine.output import Output
from bourse.engine.staff_state import StaffMember, StaffToken
from bourse.engine.state import Customer, EngineState
from bourse.events import (
    StaffCredentialsSet,
    StaffRecorded,
    StaffTokenIssued,
    StaffTokenRevoked,
)

TEAM_MAX = 64
_TOKEN_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
TOKEN_LIFETIME_MAX_MS = 366 * 86_400_000  # a token lives a year at most: rotation is routine
SETUP_LIFETIME_MAX_MS = SETUP_LINK_DAYS_MAX * 86_400_000
SESSION_LIFETIME_MAX_MS = SESSION_HOURS_MAX * 3_600_000
# commands that concern one account (the customer owning it decides the scope)
_ACCOUNT_COMMANDS = (
    SetAccountPermissions,
    SetAccountFeeTier,
    FreezeAccount,
    UnfreezeAccount,
    CreateApiKey,
    Deposit,
    RequestWithdrawal,
    WithdrawOnRequest,
)


def authorize(state: EngineState, cmd: Command) -> Refusal | None:
    """Whether the staff member `cmd.actor` names may send `cmd` (None: they may)."""
    name = staff_name(cmd.actor) or ""
    member = state.staff.get(name)
    what = type(cmd).__name__
    if member is None or not member.active:
        status = "is not a staff member" if member is None else "has left (offboarded)"
        return Refusal(RejectCode.NOT_PERMITTED, f"{name!r} {status}: {what} refused")
    if what in PROPOSALS or what in RECORDS:
        return None  # engine/proposals.py checks the proposed command, and who may decide it
    if what in SELF_SERVICE and getattr(cmd, "name", None) == name:
        return None  # ending one's own token or session (logging out)
    spec = ROLES[member.role]
    if what not in spec.commands:
        return Refusal(
            RejectCode.NOT_PERMITTED,
            f"{name} is a {spec.title.lower()}, whose role does not permit {what}",
        )
    if spec.scoped:
        return scope_refusal(state, member, cmd)
    return None


def scope_refusal(state: EngineState, member: StaffMember, cmd: Command) -> Refusal | None:
    """A scoped member acts on the customers their scope covers and the policies of its
    countries, nothing else. What cannot be found is left to the later stages to refuse."""
    customer: Customer | None = None
    country = ""
    if isinstance(cmd, _ACCOUNT_COMMANDS):
        acct = state.accounts.get(cmd.account_id)
        if acct is None:
            return None
        customer = state.customers.get(acct.customer_id)
        if customer is None:
            return _out_of_scope(member, f"account {acct.id}, a house account")
    elif isinstance(cmd, RevokeApiKey):
        key = state.api_keys.get(cmd.api_key)
        if key is None:
            return None
        acct = state.accounts[key.account_id]
        customer = state.customers.get(acct.customer_id)
        if customer is None:
            return _out_of_scope(member, f"account {acct.id}, a house account")
    elif isinstance(cmd, OnboardCustomer):
        if not _covers(member, cmd.residence, venue_for(state, cmd.residence)):
            return _out_of_scope(member, f"a resident of {cmd.residence}")
        return None
    elif isinstance(cmd, (UpdateCustomer, OpenAccount)):
        customer = state.customers.get(cmd.customer_id)
        if customer is None:
            if isinstance(cmd, OpenAccount) and not cmd.customer_id:
                return _out_of_scope(member, "a house account")
            return None
        if (
            isinstance(cmd, UpdateCustomer)
            and cmd.residence
            and cmd.residence != customer.residence
        ) and not _covers(member, cmd.residence, venue_for(state, cmd.residence)):
            return _out_of_scope(member, f"a move to {cmd.residence}")
    elif isinstance(cmd, (ConfirmScreeningAlert, DismissScreeningAlert)):
        alert = state.alerts.get(cmd.alert_id)
        if alert is None:
            return None
        customer = state.customers.get(alert.customer_id)
    elif isinstance(cmd, (SetJurisdictionPolicy, SchedulePolicyChange)):
        country = cmd.spec.country
    elif isinstance(cmd, CancelScheduledChange):
        scheduled = state.scheduled.get(cmd.schedule_id)
        if scheduled is None:
            return None
        country = scheduled.spec.country
    else:
        return _out_of_scope(member, "the whole exchange")
    if country:
        if country in member.countries:
            return None
        return _out_of_scope(member, f"the jurisdiction policies of {country}")
    if customer is None or not _covers(member, customer.residence, customer.venue):
        who = "a customer" if customer is None else f"customer {customer.id}"
        where = "" if customer is None else f" (resident in {customer.residence})"
        return _out_of_scope(member, f"{who}{where}")
    return None


def _covers(member: StaffMember, residence: str, venue: str) -> bool:
    return covers(member.countries, member.venues, residence, venue)


def _out_of_scope(member: StaffMember, what: str) -> Refusal:
    scope = ", ".join([*member.venues, *member.countries]) or "nothing"
    return Refusal(
        RejectCode.OUT_OF_SCOPE,
        f"{member.name} acts within {scope} only, and this concerns {what}",
    )


# --- the staff commands ----------------------------------------------------------------------


def add(state: EngineState, out: Output, cmd: AddStaff) -> Refusal | None:
    try:
        check_name(cmd.name)
    except StaffError as exc:
        return Refusal(RejectCode.INVALID_PARAMETER, str(exc))
    if cmd.name in state.staff:
        left = "" if state.staff[cmd.name].active else " (who has left: names are not reused)"
        return Refusal(RejectCode.ALREADY_EXISTS, f"staff member {cmd.name!r} exists{left}")
    problem = _role_problem(state, cmd.role, cmd.venues, cmd.countries, cmd.team)
    if problem:
        return Refusal(RejectCode.INVALID_PARAMETER, problem)
    member = StaffMember(cmd.name, cmd.role, cmd.venues, cmd.countries, cmd.team)
    state.staff[cmd.name] = member
    _recorded(out, member, cmd.actor, cmd.reason)
    return None


def change(state: EngineState, out: Output, cmd: ChangeStaff) -> Refusal | None:
    member = active_member(state, cmd.name)
    if isinstance(member, Refusal):
        return member
    if staff_name(cmd.actor) == cmd.name:
        return Refusal(
            RejectCode.NOT_PERMITTED,
            f"{cmd.name} cannot change their own role or scope: another staff member must",
        )
    problem = _role_problem(state, cmd.role, cmd.venues, cmd.countries, cmd.team)
    if problem:
        return Refusal(RejectCode.INVALID_PARAMETER, problem)
    now = (cmd.role, cmd.venues, cmd.countries, cmd.team)
    if (member.role, member.venues, member.countries, member.team) == now:
        return Refusal(RejectCode.NO_CHANGE, f"{cmd.name} already has this role, scope and team")
    member.role, member.venues, member.countries, member.team = now
    _recorded(out, member, cmd.actor, cmd.reason)
    return None


def issue_token(state: EngineState, out: Output, cmd: IssueStaffToken) -> Refusal | None:
    member = active_member(state, cmd.name)
    if isinstance(member, Refusal):
        return member
    if cmd.kind is TokenKind.SESSION:
        return Refusal(
            RejectCode.NOT_PERMITTED,
            "a console session is opened by logging in (password and TOTP code), not issued",
        )
    if cmd.kind is TokenKind.SETUP and cmd.expires_ms > cmd.ts_ms + SETUP_LIFETIME_MAX_MS:
        return Refusal(RejectCode.INVALID_PARAMETER, "a setup link expires within 7 days")
    return _add_token(state, out, member, cmd, cmd.kind)


def set_credentials(state: EngineState, out: Output, cmd: SetStaffCredentials) -> Refusal | None:
    """Uses up the setup link: the password hash and the sealed TOTP secret it chose."""
    member = _console_member(state, cmd.actor, cmd.name)
    if isinstance(member, Refusal):
        return member
    link = member.tokens.get(cmd.setup_token_id)
    if link is None or link.kind is not TokenKind.SETUP or cmd.ts_ms >= link.expires_ms:
        return Refusal(
            RejectCode.NOT_PERMITTED,
            f"{cmd.name}'s setup link {cmd.setup_token_id!r} is used, revoked or expired: "
            "ask a staff administrator for a new one",
        )
    if not cmd.password_hash.startswith("$argon2id$") or not cmd.totp_sealed:
        return Refusal(
            RejectCode.INVALID_PARAMETER, "credentials are an argon2id hash and a sealed secret"
        )
    member.password_hash, member.totp_sealed = cmd.password_hash, cmd.totp_sealed
    member.totp_step = cmd.totp_step
    out.events.append(
        StaffCredentialsSet(
            name=cmd.name,
            password_hash=cmd.password_hash,
            totp_sealed=cmd.totp_sealed,
            actor=cmd.actor,
        )
    )
    # the link is used up; sessions opened with the credentials it replaces end with them
    for token in list(member.tokens.values()):
        if token is link or token.kind is TokenKind.SESSION:
            del member.tokens[token.token_id]
            reason = "setup link used" if token is link else "console credentials replaced"
            out.events.append(
                StaffTokenRevoked(
                    name=cmd.name, token_id=token.token_id, actor=cmd.actor, reason=reason
                )
            )
    return None


def open_session(state: EngineState, out: Output, cmd: OpenStaffSession) -> Refusal | None:
    member = _console_member(state, cmd.actor, cmd.name)
    if isinstance(member, Refusal):
        return member
    if not member.password_hash:
        return Refusal(RejectCode.NOT_PERMITTED, f"{cmd.name} has not set up a console login")
    if cmd.totp_step <= member.totp_step:
        return Refusal(
            RejectCode.NOT_PERMITTED,
            "that TOTP code, or a later one, was already used: wait for the next code",
        )
    if cmd.expires_ms > cmd.ts_ms + SESSION_LIFETIME_MAX_MS:
        return Refusal(RejectCode.INVALID_PARAMETER, "a console session lasts 12 hours at most")
    refused = _add_token(state, out, member, cmd, TokenKind.SESSION)
    if refused is None:
        member.totp_step = cmd.totp_step
    return refused


def _console_member(state: EngineState, actor: str, name: str) -> StaffMember | Refusal:
    if actor != CONSOLE:
        return Refusal(
            RejectCode.NOT_PERMITTED, "only the console's login desk sets credentials and sessions"
        )
    return active_member(state, name)


def _add_token(
    state: EngineState,
    out: Output,
    member: StaffMember,
    cmd: IssueStaffToken | OpenStaffSession,
    kind: TokenKind,
) -> Refusal | None:
    if not _TOKEN_ID.fullmatch(cmd.token_id):
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            f"token id {cmd.token_id!r} must be 1 to 32 of A-Z a-z 0-9 _ -",
        )
    if cmd.token_id in member.tokens:
        return Refusal(
            RejectCode.ALREADY_EXISTS, f"{cmd.name} already has a token {cmd.token_id!r}"
        )
    if not _DIGEST.fullmatch(cmd.digest):
        return Refusal(
            RejectCode.INVALID_PARAMETER, "a token's digest is 64 lower-case hex digits (SHA-256)"
        )
    if not cmd.ts_ms < cmd.expires_ms <= cmd.ts_ms + TOKEN_LIFETIME_MAX_MS:
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            "a token expires after it is issued and within 366 days",
        )
    for other in state.staff.values():
        if any(t.digest == cmd.digest for t in other.tokens.values()):
            return Refusal(RejectCode.ALREADY_EXISTS, "that token is already issued")
    token = StaffToken(cmd.token_id, cmd.digest, cmd.ts_ms, cmd.expires_ms, kind)
    member.tokens[cmd.token_id] = token
    out.events.append(
        StaffTokenIssued(
            name=cmd.name,
            token_id=cmd.token_id,
            digest=cmd.digest,
            expires_ms=cmd.expires_ms,
            actor=cmd.actor,
            kind=kind,
        )
    )
    return None


def revoke_token(state: EngineState, out: Output, cmd: RevokeStaffToken) -> Refusal | None:
    member = state.staff.get(cmd.name)
    if member is None:
        return _unknown(cmd.name)
    if member.tokens.pop(cmd.token_id, None) is None:
        return Refusal(RejectCode.INVALID_PARAMETER, f"{cmd.name} has no token {cmd.token_id!r}")
    out.events.append(
        StaffTokenRevoked(name=cmd.name, token_id=cmd.token_id, actor=cmd.actor, reason=cmd.reason)
    )
    return None


def offboard(state: EngineState, out: Output, cmd: OffboardStaff) -> Refusal | None:
    member = active_member(state, cmd.name)
    if isinstance(member, Refusal):
        return member
    for token_id in list(member.tokens):
        del member.tokens[token_id]
        out.events.append(
            StaffTokenRevoked(name=cmd.name, token_id=token_id, actor=cmd.actor, reason=cmd.reason)
        )
    member.active = False
    _recorded(out, member, cmd.actor, cmd.reason)
    return None


def active_member(state: EngineState, name: str) -> StaffMember | Refusal:
    """The staff member `name`, or why they cannot be acted on (unknown, or gone)."""
    member = state.staff.get(name)
    if member is None:
        return _unknown(name)
    if not member.active:
        return Refusal(RejectCode.UNKNOWN_STAFF, f"staff member {name!r} has left (offboarded)")
    return member


def _unknown(name: str) -> Refusal:
    return Refusal(RejectCode.UNKNOWN_STAFF, f"no staff member is named {name!r}")


def _role_problem(
    state: EngineState,
    role: Role,
    venues: tuple[str, ...],
    countries: tuple[str, ...],
    team: str,
) -> str | None:
    for venue in venues:
        if venue not in state.venues:
            return f"venue {venue!r} is not defined"
    for country in countries:
        problem = country_problem(country)
        if problem:
            return problem
    if len(set(venues)) != len(venues) or len(set(countries)) != len(countries):
        return "a scope names each venue and country once"
    if ROLES[role].scoped and not (venues or countries):
        return f"a {ROLES[role].title.lower()} acts within a scope: name its venues or countries"
    if not ROLES[role].scoped and (venues or countries):
        return f"a {ROLES[role].title.lower()} is not scoped: give no venues or countries"
    if len(team) > TEAM_MAX or team != team.strip():
        return f"a team name is at most {TEAM_MAX} characters, without surrounding spaces"
    return None


def _recorded(out: Output, member: StaffMember, actor: str, reason: str) -> None:
    out.events.append(
        StaffRecorded(
            name=member.name,
            role=member.role,
            venues=member.venues,
            countries=member.countries,
            team=member.team,
            active=member.active,
            actor=actor,
            reason=reason,
        )
    )
