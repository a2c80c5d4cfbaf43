"""What a scoped staff member (a regional manager, an auditor) may read: the customers their
scope covers (residents of its countries, customers of its venues), and nothing of the rest.
The engine holds their commands to the same scope (engine/staff.py); both ask `covers`."""

from bourse.api.admin.errors import AdminError
from bourse.commands import Command, OnboardCustomer
from bourse.compliance.customers import serving_venue
from bourse.compliance.policy import PolicySpec
from bourse.compliance.staff import ROLES, covers, staff_name
from bourse.view import ReadModel
from bourse.view.model import StaffView


def reader_scope(view: ReadModel, actor: str) -> StaffView | None:
    """The scoped staff member reading as `actor`, or None (every other reader's role decides
    what they read, not a scope)."""
    member = view.staff.get(staff_name(actor) or "")
    if member is None or not ROLES[member.role].scoped:
        return None
    return member


def sees_customer(view: ReadModel, member: StaffView | None, customer_id: int) -> bool:
    if member is None:
        return True
    cust = view.customers.get(customer_id)
    return cust is not None and covers(member.countries, member.venues, cust.residence, cust.venue)


def sees_account(view: ReadModel, member: StaffView | None, account_id: int) -> bool:
    """House accounts (no customer) are in no one's scope."""
    if member is None:
        return True
    acct = view.accounts.get(account_id)
    return acct is not None and sees_customer(view, member, acct.customer_id)


def scope_countries(view: ReadModel, member: StaffView | None) -> frozenset[str] | None:
    """The countries whose policies a reader sees: None for all (an unscoped reader), else the
    scope's countries and those its venues serve."""
    if member is None:
        return None
    countries = set(member.countries)
    for code in member.venues:
        venue = view.venues.get(code)
        if venue is not None:
            countries.update(venue.jurisdictions)
    return frozenset(countries)


def sees_country(view: ReadModel, member: StaffView | None, country: str) -> bool:
    countries = scope_countries(view, member)
    return countries is None or country in countries


def sees_command(view: ReadModel, member: StaffView | None, cmd: Command) -> bool:
    """A proposed command concerns the scope: its account, customer, alert or country. One
    that concerns the whole exchange (a staff change, a list, four eyes) is in no one's."""
    if member is None:
        return True
    if isinstance(cmd, OnboardCustomer):
        venue = serving_venue(view.venues.values(), cmd.residence)
        return covers(member.countries, member.venues, cmd.residence, venue)
    account_id = getattr(cmd, "account_id", None)
    if isinstance(account_id, int):
        return sees_account(view, member, account_id)
    customer_id = getattr(cmd, "customer_id", None)
    if isinstance(customer_id, int):
        return sees_customer(view, member, customer_id)
    alert = view.alerts.get(getattr(cmd, "alert_id", 0))
    if alert is not None:
        return sees_customer(view, member, alert.customer_id)
    spec = getattr(cmd, "spec", None)
    if isinstance(spec, PolicySpec):
        return sees_country(view, member, spec.country)
    scheduled = view.scheduled.get(getattr(cmd, "schedule_id", 0))
    if scheduled is not None:
        return sees_country(view, member, scheduled.spec.country)
    return False


def out_of_scope(member: StaffView, what: str) -> AdminError:
    scope = ", ".join([*member.venues, *member.countries])
    return AdminError(
        403, "OUT_OF_SCOPE", f"{member.name} reads within {scope} only, and {what} is not"
    )
