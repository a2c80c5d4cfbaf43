"""Venues and customers: onboarding, KYC changes, the accounts behind a customer, and the index
of who lives where (and holds which nationality) that jurisdiction policies are applied through."""

from bourse.commands import DefineVenue, OnboardCustomer, UpdateCustomer
from bourse.compliance.countries import country_problem
from bourse.compliance.customers import adult_on, kyc_problem, serving_venue
from bourse.compliance.policy import Basis, member_key
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.output import Output
from bourse.engine.state import Account, Customer, EngineState, Venue
from bourse.events import AccountFeeTierChanged, AccountOpened, CustomerRecorded, VenueDefined

VENUE_CODE_MAX = 12


def define_venue(state: EngineState, out: Output, cmd: DefineVenue) -> Refusal | None:
    problem = _venue_problem(state, cmd)
    if problem:
        return Refusal(RejectCode.INVALID_PARAMETER, problem)
    state.venues[cmd.venue] = Venue(
        cmd.venue, cmd.name, cmd.jurisdictions, cmd.symbols, cmd.fee_tier
    )
    out.events.append(
        VenueDefined(
            venue=cmd.venue,
            name=cmd.name,
            jurisdictions=cmd.jurisdictions,
            symbols=cmd.symbols,
            fee_tier=cmd.fee_tier,
            actor=cmd.actor,
            reason=cmd.reason,
        )
    )
    return None


def _venue_problem(state: EngineState, cmd: DefineVenue) -> str | None:
    if not cmd.venue.isalnum() or not cmd.venue.isupper() or len(cmd.venue) > VENUE_CODE_MAX:
        return (
            f"venue code {cmd.venue!r} must be 1 to {VENUE_CODE_MAX} upper-case letters or digits"
        )
    if not cmd.name.strip():
        return "a venue needs a name"
    if cmd.fee_tier not in state.fee_tiers:
        return f"fee tier {cmd.fee_tier} is not defined"
    for country in cmd.jurisdictions:
        problem = country_problem(country, "jurisdiction")
        if problem:
            return problem
    for symbol in cmd.symbols:
        if symbol not in state.symbols:
            return f"symbol {symbol!r} is not listed"
    existing = state.venues.get(cmd.venue)
    if existing is not None:
        if existing.jurisdictions != cmd.jurisdictions:
            served = ", ".join(existing.jurisdictions) or "the rest of the world"
            return f"venue {cmd.venue} serves {served}: whom a venue serves is fixed once defined"
        return None
    for other in state.venues.values():
        if not cmd.jurisdictions and not other.jurisdictions:
            return f"venue {other.code} already serves every residence no other venue serves"
        shared = set(cmd.jurisdictions) & set(other.jurisdictions)
        if shared:
            return f"venue {other.code} already serves {', '.join(sorted(shared))}"
    return None


def venue_for(state: EngineState, residence: str) -> str:
    """The venue that serves `residence` (compliance/customers.py's `serving_venue`)."""
    return serving_venue(state.venues.values(), residence)


def onboard(state: EngineState, out: Output, cmd: OnboardCustomer) -> Refusal | None:
    problem = kyc_problem(
        cmd.legal_name, cmd.date_of_birth, cmd.nationality, cmd.residence, cmd.kyc_level
    )
    if problem:
        return Refusal(RejectCode.INVALID_PARAMETER, problem)
    if not adult_on(cmd.date_of_birth, cmd.ts_ms):
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            f"a customer born on {cmd.date_of_birth} is under 18 and cannot be onboarded",
        )
    cust_id = state.next_customer_id
    state.next_customer_id = cust_id + 1
    cust = Customer(
        cust_id,
        cmd.legal_name,
        cmd.date_of_birth,
        cmd.nationality,
        cmd.residence,
        cmd.kyc_level,
        cmd.risk_tier,
        venue_for(state, cmd.residence),
    )
    state.customers[cust_id] = cust
    _join(state, cust)
    _recorded(out, cust, cmd.actor, cmd.reason)
    open_customer_account(state, out, cust)
    return None


def update(state: EngineState, out: Output, cmd: UpdateCustomer) -> Refusal | None:
    cust = state.customers[cmd.customer_id]
    name = cmd.legal_name or cust.legal_name
    nationality = cmd.nationality or cust.nationality
    residence = cmd.residence or cust.residence
    level = cust.kyc_level if cmd.kyc_level < 0 else cmd.kyc_level
    problem = kyc_problem(name, cust.date_of_birth, nationality, residence, level)
    if problem:
        return Refusal(RejectCode.INVALID_PARAMETER, problem)
    tier = cmd.risk_tier or cust.risk_tier
    if (name, nationality, residence, level, tier) == (
        cust.legal_name,
        cust.nationality,
        cust.residence,
        cust.kyc_level,
        cust.risk_tier,
    ):
        return Refusal(RejectCode.NO_CHANGE, f"customer {cust.id}'s record already says that")
    moves = (nationality, residence) != (cust.nationality, cust.residence)
    if moves:
        _leave(state, cust)
    cust.legal_name, cust.nationality, cust.residence = name, nationality, residence
    cust.kyc_level, cust.risk_tier = level, tier
    if moves:
        venue = venue_for(state, residence)
        if venue != cust.venue:
            cust.venue = venue
            _follow_venue_fees(state, out, cust)
        _join(state, cust)
    _recorded(out, cust, cmd.actor, cmd.reason)
    return None


def _follow_venue_fees(state: EngineState, out: Output, cust: Customer) -> None:
    """A customer who moves to another venue pays that venue's fees on every account."""
    venue = state.venues.get(cust.venue)
    tier = venue.fee_tier if venue is not None else 0
    for account_id in cust.accounts:
        acct = state.accounts[account_id]
        if acct.fee_tier != tier:
            acct.fee_tier = tier
            out.events.append(AccountFeeTierChanged(account_id=account_id, fee_tier=tier))


def open_customer_account(state: EngineState, out: Output, cust: Customer) -> None:
    venue = state.venues.get(cust.venue)
    fee_tier = venue.fee_tier if venue is not None else 0
    account_id = state.next_account_id
    state.next_account_id = account_id + 1
    state.accounts[account_id] = Account(account_id, fee_tier, cust.id)
    cust.accounts.append(account_id)
    _count_accounts(state, cust, 1)
    _touch(state, cust)
    out.events.append(AccountOpened(account_id=account_id, fee_tier=fee_tier, customer_id=cust.id))


def _keys(cust: Customer) -> tuple[str, str]:
    return (
        member_key(Basis.RESIDENCE, cust.residence),
        member_key(Basis.NATIONALITY, cust.nationality),
    )


def _join(state: EngineState, cust: Customer) -> None:
    for key in _keys(cust):
        state.members.setdefault(key, {})[cust.id] = None
    _count_accounts(state, cust, len(cust.accounts))
    _touch(state, cust)


def _leave(state: EngineState, cust: Customer) -> None:
    for key in _keys(cust):
        del state.members[key][cust.id]
    _count_accounts(state, cust, -len(cust.accounts))
    _touch(state, cust)


def _count_accounts(state: EngineState, cust: Customer, delta: int) -> None:
    """Keeps each country's account count, so a fingerprint costs nothing to take."""
    counts = state.member_accounts
    for key in _keys(cust):
        counts[key] = counts.get(key, 0) + delta


def _touch(state: EngineState, cust: Customer) -> None:
    """Membership of the customer's countries changed: previews of them are out of date."""
    versions = state.member_versions
    for key in _keys(cust):
        versions[key] = versions.get(key, 0) + 1


def _recorded(out: Output, cust: Customer, actor: str, reason: str) -> None:
    out.events.append(
        CustomerRecorded(
            customer_id=cust.id,
            legal_name=cust.legal_name,
            date_of_birth=cust.date_of_birth,
            nationality=cust.nationality,
            residence=cust.residence,
            kyc_level=cust.kyc_level,
            risk_tier=cust.risk_tier,
            venue=cust.venue,
            actor=actor,
            reason=reason,
        )
    )
