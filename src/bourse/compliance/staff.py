"""Who works here and what each may do: the roles table, staff names and token digests.

Staff members, their roles, scopes and tokens are engine state (journaled commands, replayed
like everything else: `engine/staff.py`). This module is the one table that says what a role
permits, by command type and by kind of read, so the engine (for commands) and the admin API (for
reads) ask the same question of the same data.

Tokens themselves (drawn, digested, migrated from the old `staff.json`) are the gateway's:
`bourse.keys.staff_tokens`. This module is pure, as the engine that reads it.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

_NAME = re.compile(r"[a-z0-9._-]{1,32}")
STAFF_PREFIX = "staff:"  # an actor "staff:NAME" is the staff member NAME


class StaffError(ValueError):
    """A staff name or record that is malformed."""


class Role(StrEnum):
    OPERATOR = "operator"
    COMPLIANCE_OFFICER = "compliance_officer"
    SENIOR_COMPLIANCE_OFFICER = "senior_compliance_officer"
    REGIONAL_MANAGER = "regional_manager"
    SUPPORT = "support"
    AUDITOR = "auditor"


class Read(StrEnum):
    """What a staff member may read through the admin API."""

    SYSTEM = "system"  # health, streams, markets, list versions, reference prices
    CUSTOMERS = "customers"  # KYC records, accounts, balances, keys, withdrawals
    COMPLIANCE = "compliance"  # screening alerts, jurisdiction policies and their previews
    STAFF = "staff"  # staff members, roles, scopes


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
    {"AddStaff", "ChangeStaff", "IssueStaffToken", "RevokeStaffToken", "OffboardStaff"}
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
# operations that are not commands (they change no engine state themselves), permitted alike
SYSTEM_OPERATIONS = frozenset({"TakeSnapshot", "RefreshLists"})
SCREENING_OPERATIONS = frozenset({"Rescreen", "RefreshLists"})


@dataclass(frozen=True)
class RoleSpec:
    title: str
    commands: frozenset[str]  # command type names this role may send (and operations)
    reads: frozenset[Read]
    scoped: bool  # acts (and, for an auditor, reads) only within its venues and countries
    summary: str


_COMPLIANCE = (
    CUSTOMER_DECISIONS | ALERT_DECISIONS | LIST_DECISIONS | POLICY_DECISIONS | SCREENING_OPERATIONS
)
_ALL_READS = frozenset(Read)

ROLES: dict[Role, RoleSpec] = {
    Role.OPERATOR: RoleSpec(
        "Operator",
        REFERENCE_DATA | PAYOUTS | STAFF_ADMIN | SYSTEM_OPERATIONS,
        frozenset({Read.SYSTEM, Read.CUSTOMERS, Read.STAFF}),
        scoped=False,
        summary="runs the system: markets, venues, payouts, staff accounts; no customer decisions",
    ),
    Role.COMPLIANCE_OFFICER: RoleSpec(
        "Compliance officer",
        _COMPLIANCE,
        frozenset({Read.SYSTEM, Read.CUSTOMERS, Read.COMPLIANCE}),
        scoped=False,
        summary="customers, freezes, screening alerts, jurisdiction policies",
    ),
    Role.SENIOR_COMPLIANCE_OFFICER: RoleSpec(
        "Senior compliance officer",
        _COMPLIANCE | STAFF_ADMIN,
        _ALL_READS,
        scoped=False,
        summary="a compliance officer who also approves, and manages staff roles",
    ),
    Role.REGIONAL_MANAGER: RoleSpec(
        "Regional manager",
        CUSTOMER_DECISIONS | ALERT_DECISIONS | POLICY_DECISIONS,
        frozenset({Read.SYSTEM, Read.CUSTOMERS, Read.COMPLIANCE}),
        scoped=True,
        summary="a compliance officer for the venues and countries of their scope only",
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
