"""Who works here and what each may do: the roles table, staff names and token digests.

Staff members, their roles, scopes and tokens are engine state (journaled commands, replayed
like everything else: `engine/staff.py`). This module is the one table that says what a role
permits, by command type and by kind of read, so the engine (for commands) and the admin API (for
reads) ask the same question of the same data.

Tokens themselves (drawn, digested, migrated from the old `staff.json`) are the gateway's:
`bourse.keys.staff_tokens`. This module is pure, as the engine that reads it.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

_NAME = re.compile(r"[a-z0-9._-]{1,32}")
STAFF_PREFIX = "staff:"  # an actor "staff:NAME" is the staff member NAME
OPERATOR = "operator"  # the data directory's token: a person, though not a named one
CONSOLE = "system:console"  # the console's login desk: sets credentials and opens sessions


class StaffError(ValueError):
    """A staff name or record that is malformed."""


class Role(StrEnum):
    OPERATOR = "operator"
    COMPLIANCE_OFFICER = "compliance_officer"
    SENIOR_COMPLIANCE_OFFICER = "senior_compliance_officer"
    REGIONAL_MANAGER = "regional_manager"
    SUPPORT = "support"
    AUDITOR = "auditor"


SETUP_LINK_DAYS_MAX = 7  # a setup link is for the coming days, not for later
SESSION_HOURS_MAX = 12  # a console session lasts a working day at most


class TokenKind(StrEnum):
    """What a staff token opens: the admin API (`api`), the console (`session`, after a password
    and a TOTP code), or the one page where a person chooses their password and second factor
    (`setup`, the one-time link)."""

    API = "api"
    SESSION = "session"
    SETUP = "setup"


class Read(StrEnum):
    """What a staff member may read through the admin API."""

    SYSTEM = "system"  # health, streams, markets, list versions, reference prices
    CUSTOMERS = "customers"  # KYC records, accounts, balances, keys, withdrawals
    COMPLIANCE = "compliance"  # screening alerts, jurisdiction policies and their previews
    STAFF = "staff"  # staff members, roles, scopes
    PROPOSALS = "proposals"  # what waits for a second person's approval
    AUDIT = "audit"  # the audit log: records, signed heads, exports, customer dossiers


# --- what commands do, grouped as a compliance department thinks of them -------------------
REFERENCE_DATA = frozenset(
    {
        "CreateAsset",
        "ListSymbol",
        "SetSymbolStatus",
        "SetReferencePrice",
        "DefineFeeTier",
        "DefineVenue",
    }
)
PAYOUTS = frozenset({"CompleteWithdrawal", "FailWithdrawal"})  # settling what was requested
STAFF_ADMIN = frozenset(
    {
        "AddStaff",
        "ChangeStaff",
        "IssueStaffToken",
        "RevokeStaffToken",
        "OffboardStaff",
        "OffboardMany",
    }
)
CUSTOMER_DECISIONS = frozenset(
    {
        "OnboardCustomer",
        "UpdateCustomer",
        "OpenAccount",
        "SetAccountPermissions",
        "SetAccountFeeTier",
        "FreezeAccount",
        "UnfreezeAccount",
        "CreateApiKey",
        "RevokeApiKey",
        "Deposit",
        "RequestWithdrawal",
        "WithdrawOnRequest",
    }
)
ALERT_DECISIONS = frozenset({"ConfirmScreeningAlert", "DismissScreeningAlert"})
LIST_DECISIONS = frozenset({"ForceListVersion"})
POLICY_DECISIONS = frozenset(
    {"SetJurisdictionPolicy", "SchedulePolicyChange", "CancelScheduledChange"}
)
CONTROLS = frozenset({"SetFourEyes"})  # which commands need four eyes
AUDIT_KEYS = frozenset({"RotateAuditKey"})  # the key that signs the audit log's tree heads
# the fiat rails: partner banks and their statements (operators), and the decisions on what
# they bring: customers' bank accounts, statement lines no rule could credit (compliance). A
# bank's cut-off is both's to propose: sanctions are compliance's, a relationship operators'.
RAILS = frozenset(
    {
        "DefineBank",
        "ImportStatement",
        "CreatePaymentFile",
        "CutOffBank",
        "SuspendBank",
        # card partners, and what their notifications and settlement reports bring
        "DefinePaymentPartner",
        "ReceiveCardDeposit",
        "SettleCardDeposit",
        "EndPaymentPartner",
    }
)
BANK_DECISIONS = frozenset(
    {
        "AddBankAccount",
        "DecideBankAccount",
        "ResolveStatementLine",
        "CutOffBank",
        "SaveCard",
        "EndPaymentPartner",
    }
)
WORK = frozenset({"AssignWork"})  # giving open work to a colleague or a team's queue
# proposing, and taking one's own proposal back: any active staff member (the proposed command
# is what their role must permit); approving and rejecting: whom the role's `approves` names
PROPOSALS = frozenset({"ProposeCommand", "WithdrawProposal", "ApproveProposal", "RejectProposal"})
# what any active staff member sends about themselves: a record of what they read
RECORDS = frozenset({"RecordAccess"})
# what a staff member may send about themselves whatever their role: ending their own token or
# session (logging out)
SELF_SERVICE = frozenset({"RevokeStaffToken"})
# Four eyes by default: what a bank's compliance department would not let one person do alone.
DEFAULT_FOUR_EYES = frozenset(
    {
        "FreezeAccount",
        "UnfreezeAccount",
        "ConfirmScreeningAlert",
        "DismissScreeningAlert",
        "SetJurisdictionPolicy",
        "SchedulePolicyChange",
        "CancelScheduledChange",
        "Deposit",
        "WithdrawOnRequest",
        "ForceListVersion",
        "AddStaff",
        "ChangeStaff",
        "SetFourEyes",
        "RotateAuditKey",
        "DefineBank",
        "DecideBankAccount",
        "ResolveStatementLine",
        "CutOffBank",
        "DefinePaymentPartner",
        "EndPaymentPartner",
        # it credits the customer, as a Deposit does: one person could otherwise record a card
        # payment of any amount and settle it
        "SettleCardDeposit",
    }
)
# operations that are not commands (they change no engine state themselves), permitted alike
SYSTEM_OPERATIONS = frozenset({"TakeSnapshot", "RefreshLists", "SignAuditHead"})
SCREENING_OPERATIONS = frozenset({"Rescreen", "RefreshLists"})


@dataclass(frozen=True)
class RoleSpec:
    title: str
    commands: frozenset[str]  # command type names this role may send (and operations)
    reads: frozenset[Read]
    scoped: bool  # acts (and, for an auditor, reads) only within its venues and countries
    summary: str
    approves: frozenset[str] = frozenset()  # the proposed command types it may approve


_COMPLIANCE = (
    CUSTOMER_DECISIONS
    | ALERT_DECISIONS
    | LIST_DECISIONS
    | POLICY_DECISIONS
    | SCREENING_OPERATIONS
    | WORK
    | BANK_DECISIONS
)
_ALL_READS = frozenset(Read)

ROLES: dict[Role, RoleSpec] = {
    Role.OPERATOR: RoleSpec(
        "Operator",
        REFERENCE_DATA | PAYOUTS | STAFF_ADMIN | SYSTEM_OPERATIONS | WORK | AUDIT_KEYS | RAILS,
        frozenset({Read.SYSTEM, Read.CUSTOMERS, Read.STAFF, Read.PROPOSALS}),
        scoped=False,
        summary="runs the system: markets, venues, payouts, staff accounts; no customer decisions",
        approves=REFERENCE_DATA | PAYOUTS | STAFF_ADMIN | AUDIT_KEYS | RAILS,
    ),
    Role.COMPLIANCE_OFFICER: RoleSpec(
        "Compliance officer",
        _COMPLIANCE,
        frozenset({Read.SYSTEM, Read.CUSTOMERS, Read.COMPLIANCE, Read.PROPOSALS, Read.AUDIT}),
        scoped=False,
        summary="customers, freezes, screening alerts, jurisdiction policies",
    ),
    Role.SENIOR_COMPLIANCE_OFFICER: RoleSpec(
        "Senior compliance officer",
        _COMPLIANCE | STAFF_ADMIN | CONTROLS,
        _ALL_READS,
        scoped=False,
        summary="a compliance officer who also approves, manages staff roles and four eyes",
        # and a partner bank's definition: its due diligence is compliance's
        approves=_COMPLIANCE | STAFF_ADMIN | CONTROLS | RAILS,
    ),
    Role.REGIONAL_MANAGER: RoleSpec(
        "Regional manager",
        CUSTOMER_DECISIONS | ALERT_DECISIONS | POLICY_DECISIONS,
        frozenset({Read.SYSTEM, Read.CUSTOMERS, Read.COMPLIANCE, Read.PROPOSALS, Read.AUDIT}),
        scoped=True,
        summary="a compliance officer for the venues and countries of their scope only, who "
        "approves there",
        approves=CUSTOMER_DECISIONS | ALERT_DECISIONS | POLICY_DECISIONS,
    ),
    Role.SUPPORT: RoleSpec(
        "Support",
        frozenset(),
        frozenset({Read.SYSTEM, Read.CUSTOMERS}),
        scoped=False,
        summary="reads customers' records to help them; changes nothing",
    ),
    Role.AUDITOR: RoleSpec(
        "Auditor / regulator",
        frozenset(),
        _ALL_READS,
        scoped=True,
        summary="reads within one jurisdiction; changes nothing",
    ),
}


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise StaffError(
            f"staff name {name!r} must be 1 to 32 characters of a-z, 0-9, '.', '_' or '-'"
        )
    return name


def staff_name(actor: str) -> str | None:
    """The staff member an actor names ("staff:alice" → "alice"), or None."""
    return actor[len(STAFF_PREFIX) :] if actor.startswith(STAFF_PREFIX) else None


def is_person(actor: str) -> bool:
    """A staff member or the operator token, not one of the exchange's own workers."""
    return actor == OPERATOR or actor.startswith(STAFF_PREFIX)


def four_eyed(four_eyes: Collection[str], command: str, actor: str) -> bool:
    """Whether `actor` may send `command` only as a proposal a second person approves."""
    return command in four_eyes and is_person(actor)


def covers(countries: Collection[str], venues: Collection[str], residence: str, venue: str) -> bool:
    """Whether a scope (its countries and venues) covers a customer resident in `residence`,
    served by `venue`: what a regional manager acts on and an auditor reads."""
    return residence in countries or (bool(venue) and venue in venues)
