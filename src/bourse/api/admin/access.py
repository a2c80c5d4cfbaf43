"""Who may call which admin route: every route is in one table, by method and path.

A route that sends an engine command is authorized by the engine itself (the staff member's role
and scope, `engine/staff.py`): the table says so and the API adds nothing of its own, so there
is one rule and one refusal. A read needs its kind of read in the role (compliance/staff.py's
`Read`); an operation that is not a command (a snapshot, a rescreen, a list download) needs its
name among the role's commands, as if it were one. A test holds every route to this table.
"""

from dataclasses import dataclass

from bourse.compliance.staff import ROLES, Read, Role

ENGINE = None  # the route sends a command: the engine's gate decides


@dataclass(frozen=True)
class Operation:
    """A staff action that changes no engine state by itself, permitted like a command."""

    name: str


SNAPSHOT = Operation("TakeSnapshot")
RESCREEN = Operation("Rescreen")
REFRESH_LISTS = Operation("RefreshLists")
SIGN_AUDIT_HEAD = Operation("SignAuditHead")

Need = Read | Operation | None

ROUTES: dict[tuple[str, str], Need] = {
    ("POST", "/admin/v1/accounts"): ENGINE,
    ("POST", "/admin/v1/keys"): ENGINE,
    ("DELETE", "/admin/v1/keys/{api_key}"): ENGINE,
    ("GET", "/admin/v1/accounts/{account_id}/keys"): Read.CUSTOMERS,
    ("GET", "/admin/v1/alerts"): Read.COMPLIANCE,
    ("POST", "/admin/v1/alerts/{alert_id}/confirm"): ENGINE,
    ("POST", "/admin/v1/alerts/{alert_id}/dismiss"): ENGINE,
    ("POST", "/admin/v1/screening/rescreen"): RESCREEN,
    ("POST", "/admin/v1/customers"): ENGINE,
    ("GET", "/admin/v1/customers"): Read.CUSTOMERS,
    ("GET", "/admin/v1/customers/{customer_id}"): Read.CUSTOMERS,
    ("PATCH", "/admin/v1/customers/{customer_id}"): ENGINE,
    ("POST", "/admin/v1/customers/{customer_id}/accounts"): ENGINE,
    ("POST", "/admin/v1/commands"): ENGINE,
    ("POST", "/admin/v1/deposits"): ENGINE,
    ("POST", "/admin/v1/snapshot"): SNAPSHOT,
    ("GET", "/admin/v1/audit/head"): Read.AUDIT,
    ("GET", "/admin/v1/audit/consistency"): Read.AUDIT,
    ("POST", "/admin/v1/audit/heads"): SIGN_AUDIT_HEAD,
    ("POST", "/admin/v1/audit/keys"): ENGINE,
    ("GET", "/admin/v1/audit/records"): Read.AUDIT,
    ("GET", "/admin/v1/audit/records/{seq}"): Read.AUDIT,
    ("GET", "/admin/v1/audit/export"): Read.AUDIT,
    ("GET", "/admin/v1/audit/customers/{customer_id}/dossier"): Read.AUDIT,
    ("GET", "/admin/v1/state"): Read.SYSTEM,
    ("GET", "/admin/v1/accounts/{account_id}"): Read.CUSTOMERS,
    ("POST", "/admin/v1/withdrawals/on-request"): ENGINE,
    ("POST", "/admin/v1/policies/preview"): Read.COMPLIANCE,
    ("POST", "/admin/v1/policies/apply"): ENGINE,
    ("POST", "/admin/v1/policies/schedule"): ENGINE,
    ("DELETE", "/admin/v1/policies/schedule/{schedule_id}"): ENGINE,
    ("GET", "/admin/v1/policies"): Read.COMPLIANCE,
    ("POST", "/admin/v1/policies/{basis}/{country}/reversal/preview"): Read.COMPLIANCE,
    ("GET", "/admin/v1/closures/{change_id}"): Read.COMPLIANCE,
    ("GET", "/admin/v1/reference-prices"): Read.SYSTEM,
    ("PUT", "/admin/v1/reference-prices/{asset}/{quote}"): ENGINE,
    ("POST", "/admin/v1/screen"): Read.COMPLIANCE,
    ("POST", "/admin/v1/lists/refresh"): REFRESH_LISTS,
    ("POST", "/admin/v1/lists/force"): ENGINE,
    ("GET", "/admin/v1/venues"): Read.SYSTEM,
    ("PUT", "/admin/v1/venues/{code}"): ENGINE,
    ("POST", "/admin/v1/withdrawals"): ENGINE,
    ("GET", "/admin/v1/streams"): Read.SYSTEM,
    ("GET", "/admin/v1/staff"): Read.STAFF,
    ("POST", "/admin/v1/staff"): ENGINE,
    ("PUT", "/admin/v1/staff/{name}"): ENGINE,
    ("POST", "/admin/v1/staff/{name}/tokens"): ENGINE,
    ("POST", "/admin/v1/staff/{name}/setup-link"): ENGINE,
    ("DELETE", "/admin/v1/staff/{name}/tokens/{token_id}"): ENGINE,
    ("POST", "/admin/v1/staff/{name}/offboard"): ENGINE,
    ("POST", "/admin/v1/assignments"): ENGINE,
    ("POST", "/admin/v1/staff/offboarding/preview"): Read.STAFF,
    ("POST", "/admin/v1/staff/offboarding"): ENGINE,
    ("GET", "/admin/v1/proposals"): Read.PROPOSALS,
    ("POST", "/admin/v1/proposals"): ENGINE,
    ("POST", "/admin/v1/proposals/{proposal_id}/approve"): ENGINE,
    ("POST", "/admin/v1/proposals/{proposal_id}/reject"): ENGINE,
    ("POST", "/admin/v1/proposals/{proposal_id}/withdraw"): ENGINE,
    ("PUT", "/admin/v1/four-eyes"): ENGINE,
    ("GET", "/admin/v1/banks"): Read.SYSTEM,
    ("PUT", "/admin/v1/banks/{bic}"): ENGINE,
    ("PUT", "/admin/v1/banks/{bic}/suspension"): ENGINE,
    ("POST", "/admin/v1/banks/{bic}/cut-off/preview"): Read.SYSTEM,
    ("POST", "/admin/v1/banks/{bic}/cut-off"): ENGINE,
    ("GET", "/admin/v1/cut-offs"): Read.SYSTEM,
    ("GET", "/admin/v1/cut-offs/{cutoff_id}"): Read.SYSTEM,
    ("GET", "/admin/v1/partners"): Read.SYSTEM,
    ("PUT", "/admin/v1/partners/{code}"): ENGINE,
    ("POST", "/admin/v1/customers/{customer_id}/cards"): ENGINE,
    ("GET", "/admin/v1/cards"): Read.CUSTOMERS,
    ("POST", "/admin/v1/partners/{code}/deposits"): ENGINE,
    ("GET", "/admin/v1/card-deposits"): Read.CUSTOMERS,
    ("POST", "/admin/v1/card-deposits/{deposit_id}/settlement"): ENGINE,
    ("POST", "/admin/v1/partners/{code}/end/preview"): Read.SYSTEM,
    ("POST", "/admin/v1/partners/{code}/end"): ENGINE,
    ("GET", "/admin/v1/partner-ends"): Read.SYSTEM,
    ("GET", "/admin/v1/bank-accounts"): Read.CUSTOMERS,
    ("POST", "/admin/v1/customers/{customer_id}/bank-accounts"): ENGINE,
    ("POST", "/admin/v1/bank-accounts/{bank_account_id}/decision"): ENGINE,
    ("POST", "/admin/v1/statements"): ENGINE,
    ("GET", "/admin/v1/statements/queue"): Read.CUSTOMERS,
    ("POST", "/admin/v1/statements/queue/{item_id}/resolve"): ENGINE,
    ("POST", "/admin/v1/payment-files"): ENGINE,
    ("GET", "/admin/v1/payment-files"): Read.CUSTOMERS,
    ("GET", "/admin/v1/payment-files/{file_id}/pain.001"): Read.CUSTOMERS,
}


def refusal(role: Role, name: str, method: str, path: str) -> str | None:
    """Why staff member `name` in `role` may not call this route (None: they may, or the engine
    decides). A route missing from the table is refused: access is granted, never assumed."""
    key = (method, path)
    if key not in ROUTES:
        return f"{method} {path} is not open to staff"
    need = ROUTES[key]
    spec = ROLES[role]
    if need is None:
        return None
    if isinstance(need, Read):
        if need in spec.reads:
            return None
        return f"{name} is a {spec.title.lower()}, whose role does not read {need.value}"
    if need.name in spec.commands:
        return None
    return f"{name} is a {spec.title.lower()}, whose role does not permit {need.name}"
