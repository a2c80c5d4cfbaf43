"""The read model's one writer: each released outcome's events, folded in order.

A consumer starts from a seed (an empty model, or the engine's export of it at a snapshot's
seq) and applies every outcome after it; tests check after each command of random sessions
that the fold and the engine's export agree.
"""

from collections.abc import Iterable

from bourse.banking.rails import (
    clear_hits,
)
from bourse.commands import CutOffBank
from bourse.compliance.policy import Basis, member_key
from bourse.domain.enums import OrderStatus
from bourse.domain.symbols import FeeTier
from bourse.events import (
    AccountFeeTierChanged,
    AccountFrozen,
    AccountOpened,
    AccountPermissionsChanged,
    AccountUnfrozen,
    ApiKeyCreated,
    ApiKeyRevoked,
    AssetCreated,
    BalanceChanged,
    CustomerHeld,
    CustomerRecorded,
    CustomerReleased,
    DismissalsForgotten,
    FeeTierDefined,
    FourEyesSet,
    ListenKeyClosed,
    ListenKeyExtended,
    ListenKeyOpened,
    ListVersionForced,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderTriggered,
    Outcome,
    PolicyApplied,
    PolicyScheduled,
    PolicySweepProgressed,
    ProposalDecided,
    ProposalMade,
    ReferencePriceSet,
    RescreenRecorded,
    SanctionedAddressesSet,
    ScheduledChangeCanceled,
    ScreeningAlertDecided,
    ScreeningAlertRaised,
    StaffCredentialsSet,
    StaffRecorded,
    StaffTokenIssued,
    StaffTokenRevoked,
    SymbolListed,
    SymbolStatusChanged,
    TradeExecuted,
    VenueDefined,
    WithdrawalCompleted,
    WithdrawalFailed,
    WithdrawalRequested,
    WorkAssigned,
)
from bourse.view.fold_rails import RAILS
from bourse.view.handlers import Handlers
from bourse.view.model import (
    AccountView,
    AlertView,
    BalanceView,
    CustomerView,
    KeyView,
    OrderView,
    PolicyView,
    ProposalView,
    ReadModel,
    ReferencePriceView,
    ScheduledView,
    StaffTokenView,
    StaffView,
    SweepView,
    SymbolView,
    VenueView,
    WithdrawalView,
    forced_key,
)

_ENDED = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.EXPIRED_IN_MATCH,
        OrderStatus.REJECTED,
    }
)

_HANDLERS = Handlers(RAILS)  # the fiat rails' (view/fold_rails.py), then this module's
_on = _HANDLERS.on


def apply(model: ReadModel, outcomes: Iterable[Outcome]) -> None:
    """Fold released outcomes, in seq order; those at or below `model.last_seq` are already in.
    While an outcome's events fold, `model.last_seq` is already its seq (what a handler that
    records where something happened reads)."""
    handlers = _HANDLERS
    for outcome in outcomes:
        if outcome.seq <= model.last_seq:
            continue
        ts = outcome.ts_ms
        model.last_seq = outcome.seq
        for event in outcome.events:
            handler = handlers.get(type(event))
            if handler is not None:
                handler(model, event, ts)


# --- reference data ----------------------------------------------------------------------------


@_on(AssetCreated)
def _asset(m: ReadModel, e: AssetCreated, ts: int) -> None:
    m.assets[e.asset] = e.precision
    if e.fiat:
        m.fiat_assets.add(e.asset)


@_on(SymbolListed)
def _symbol(m: ReadModel, e: SymbolListed, ts: int) -> None:
    m.symbols[e.spec.name] = SymbolView(e.spec, e.status)


@_on(SymbolStatusChanged)
def _symbol_status(m: ReadModel, e: SymbolStatusChanged, ts: int) -> None:
    m.symbols[e.symbol].status = e.status


@_on(FeeTierDefined)
def _fee_tier(m: ReadModel, e: FeeTierDefined, ts: int) -> None:
    m.fee_tiers[e.tier] = FeeTier(e.maker_multiplier_ppm, e.taker_multiplier_ppm)


@_on(ReferencePriceSet)
def _reference_price(m: ReadModel, e: ReferencePriceSet, ts: int) -> None:
    m.reference_prices[(e.asset, e.quote)] = ReferencePriceView(e.price_raw, e.actor, e.reason, ts)


@_on(VenueDefined)
def _venue(m: ReadModel, e: VenueDefined, ts: int) -> None:
    m.venues[e.venue] = VenueView(
        e.venue, e.name, e.jurisdictions, frozenset(e.symbols), e.fee_tier
    )


# --- accounts, keys and customers --------------------------------------------------------------


@_on(AccountOpened)
def _account(m: ReadModel, e: AccountOpened, ts: int) -> None:
    m.accounts[e.account_id] = AccountView(e.account_id, e.fee_tier, e.customer_id)
    if e.customer_id:
        m.customers[e.customer_id].accounts.append(e.account_id)


@_on(AccountPermissionsChanged)
def _permissions(m: ReadModel, e: AccountPermissionsChanged, ts: int) -> None:
    acct = m.accounts[e.account_id]
    acct.can_trade, acct.can_deposit, acct.can_withdraw = e.can_trade, e.can_deposit, e.can_withdraw


@_on(AccountFeeTierChanged)
def _account_fee_tier(m: ReadModel, e: AccountFeeTierChanged, ts: int) -> None:
    m.accounts[e.account_id].fee_tier = e.fee_tier


@_on(AccountFrozen)
def _frozen(m: ReadModel, e: AccountFrozen, ts: int) -> None:
    acct = m.accounts[e.account_id]
    acct.frozen = True
    if e.manual:
        acct.manual_freeze = e.reason


@_on(AccountUnfrozen)
def _unfrozen(m: ReadModel, e: AccountUnfrozen, ts: int) -> None:
    acct = m.accounts[e.account_id]
    acct.frozen, acct.manual_freeze = False, ""


@_on(BalanceChanged)
def _balance(m: ReadModel, e: BalanceChanged, ts: int) -> None:
    balances = m.accounts[e.account_id].balances
    bal = balances.get(e.asset)
    if bal is None:
        balances[e.asset] = BalanceView(e.asset, e.free_raw, e.locked_raw)
    else:
        bal.free, bal.locked = e.free_raw, e.locked_raw


@_on(ApiKeyCreated)
def _key(m: ReadModel, e: ApiKeyCreated, ts: int) -> None:
    m.api_keys[e.api_key] = KeyView(
        e.api_key, e.account_id, e.kind, e.credential, e.can_trade, e.ip_allow
    )


@_on(ApiKeyRevoked)
def _key_revoked(m: ReadModel, e: ApiKeyRevoked, ts: int) -> None:
    key = m.api_keys.pop(e.api_key, None)
    if key is not None and key.listen_key:
        m.listen_keys.pop(key.listen_key, None)  # its user data stream ends with it


@_on(ListenKeyOpened)
def _listen_opened(m: ReadModel, e: ListenKeyOpened, ts: int) -> None:
    key = m.api_keys[e.api_key]
    m.listen_keys.pop(key.listen_key, None)  # the expired one it replaces
    key.listen_key, key.listen_expires_ms = e.listen_key, e.expires_ms
    m.listen_keys[e.listen_key] = e.api_key


@_on(ListenKeyExtended)
def _listen_extended(m: ReadModel, e: ListenKeyExtended, ts: int) -> None:
    m.api_keys[m.listen_keys[e.listen_key]].listen_expires_ms = e.expires_ms


@_on(ListenKeyClosed)
def _listen_closed(m: ReadModel, e: ListenKeyClosed, ts: int) -> None:
    api_key = m.listen_keys.pop(e.listen_key, None)
    key = m.api_keys.get(api_key or "")
    if key is not None:
        key.listen_key, key.listen_expires_ms = "", 0


@_on(CustomerRecorded)
def _customer(m: ReadModel, e: CustomerRecorded, ts: int) -> None:
    cust = m.customers.get(e.customer_id)
    if cust is None:
        m.customers[e.customer_id] = CustomerView(
            e.customer_id,
            e.legal_name,
            e.date_of_birth,
            e.nationality,
            e.residence,
            e.kyc_level,
            e.risk_tier,
            e.venue,
        )
        _join(m, e.customer_id, e.residence, e.nationality)
        return
    if (cust.residence, cust.nationality) != (e.residence, e.nationality):
        _leave(m, cust.id, cust.residence, cust.nationality)
        _join(m, cust.id, e.residence, e.nationality)
    cust.legal_name, cust.date_of_birth = e.legal_name, e.date_of_birth
    cust.nationality, cust.residence, cust.venue = e.nationality, e.residence, e.venue
    cust.kyc_level, cust.risk_tier = e.kyc_level, e.risk_tier


def _join(m: ReadModel, customer_id: int, residence: str, nationality: str) -> None:
    members = m.members
    members.setdefault(member_key(Basis.RESIDENCE, residence), {})[customer_id] = None
    members.setdefault(member_key(Basis.NATIONALITY, nationality), {})[customer_id] = None


def _leave(m: ReadModel, customer_id: int, residence: str, nationality: str) -> None:
    del m.members[member_key(Basis.RESIDENCE, residence)][customer_id]
    del m.members[member_key(Basis.NATIONALITY, nationality)][customer_id]


@_on(CustomerHeld)
def _held(m: ReadModel, e: CustomerHeld, ts: int) -> None:
    m.customers[e.customer_id].held_by.append(e.alert_id)
    m.alerts[e.alert_id].holds = True


@_on(CustomerReleased)
def _released(m: ReadModel, e: CustomerReleased, ts: int) -> None:
    m.customers[e.customer_id].held_by = list(e.held_by)


# --- compliance ----------------------------------------------------------------------------------


@_on(PolicyApplied)
def _policy(m: ReadModel, e: PolicyApplied, ts: int) -> None:
    spec = e.spec
    m.next_change_id = e.change_id + 1
    policies = m.policies(spec.basis)
    if spec.restores:
        policies.pop(spec.country, None)
    else:
        policies[spec.country] = PolicyView(spec, e.change_id, ts, e.actor, e.reason, e.previous)
    if e.schedule_id:
        m.scheduled.pop(e.schedule_id, None)


@_on(PolicyScheduled)
def _scheduled(m: ReadModel, e: PolicyScheduled, ts: int) -> None:
    m.scheduled[e.schedule_id] = ScheduledView(
        e.schedule_id, e.spec, e.effective_ms, e.preview_id, e.previewed, e.actor, e.reason
    )


@_on(ScheduledChangeCanceled)
def _unscheduled(m: ReadModel, e: ScheduledChangeCanceled, ts: int) -> None:
    m.scheduled.pop(e.schedule_id, None)


@_on(PolicySweepProgressed)
def _sweep(m: ReadModel, e: PolicySweepProgressed, ts: int) -> None:
    if e.done >= e.total:
        m.sweeps.pop(e.sweep_id, None)
    else:
        m.sweeps[e.sweep_id] = SweepView(e.sweep_id, e.change_id, e.kind, e.done, e.total)


@_on(ScreeningAlertRaised)
def _alert(m: ReadModel, e: ScreeningAlertRaised, ts: int) -> None:
    m.alerts[e.alert_id] = AlertView(
        e.alert_id, e.customer_id, e.evidence, ts, e.kind, e.reviews, e.withdrawal_id
    )
    if e.reviews:  # a delisting review and the hit it reviews name each other
        m.alerts[e.reviews].reviews = e.alert_id


@_on(ScreeningAlertDecided)
def _decided(m: ReadModel, e: ScreeningAlertDecided, ts: int) -> None:
    alert = m.alerts[e.alert_id]
    alert.decision = e.decision
    if e.remembered:  # a false positive, remembered while the listed entry is unchanged
        m.dismissals[e.remembered] = alert.evidence.entry_fingerprint
    payment = m.withdrawals.get(alert.withdrawal_id) if alert.withdrawal_id else None
    if payment is not None and alert.id in payment.held_by:  # the review no longer holds it
        payment.held_by.remove(alert.id)


@_on(DismissalsForgotten)
def _forgotten(m: ReadModel, e: DismissalsForgotten, ts: int) -> None:
    for key in e.keys:
        m.dismissals.pop(key, None)


@_on(RescreenRecorded)
def _rescreened(m: ReadModel, e: RescreenRecorded, ts: int) -> None:
    m.screened_lists = {ref.source: ref.list_sha256 for ref in e.lists}
    m.screened_matcher = e.matcher


@_on(SanctionedAddressesSet)
def _addresses(m: ReadModel, e: SanctionedAddressesSet, ts: int) -> None:
    m.address_lists[e.source] = e.list_sha256


@_on(WithdrawalRequested)
def _withdrawal(m: ReadModel, e: WithdrawalRequested, ts: int) -> None:
    m.withdrawals[e.withdrawal_id] = WithdrawalView(
        e.withdrawal_id,
        e.account_id,
        e.asset,
        e.amount_raw,
        e.destination,
        e.on_request_ref,
        e.beneficiary,
        list(e.held_by),
    )


@_on(WithdrawalCompleted)
@_on(WithdrawalFailed)
def _withdrawal_ended(m: ReadModel, e: WithdrawalCompleted | WithdrawalFailed, ts: int) -> None:
    m.withdrawals.pop(e.withdrawal_id, None)


# --- orders ------------------------------------------------------------------------------------


@_on(OrderAccepted)
def _accepted(m: ReadModel, e: OrderAccepted, ts: int) -> None:
    acct = m.accounts[e.account_id]
    acct.open_orders[e.order_id] = OrderView(
        e.order_id,
        e.account_id,
        e.symbol,
        e.side,
        e.order_type,
        e.time_in_force,
        e.price_raw,
        e.qty_raw,
        e.quote_qty_raw,
        e.stop_price_raw,
        e.client_order_id,
        e.stp,
        ts,
        e.working,
    )
    if e.client_order_id:
        acct.client_ids[e.client_order_id] = e.order_id


@_on(OrderTriggered)
def _triggered(m: ReadModel, e: OrderTriggered, ts: int) -> None:
    m.accounts[e.account_id].open_orders[e.order_id].working = True


@_on(TradeExecuted)
def _trade(m: ReadModel, e: TradeExecuted, ts: int) -> None:
    m.symbols[e.symbol].last_price = e.price_raw
    _filled(m, e.maker_account_id, e.maker_order_id, e, e.maker_status)
    _filled(m, e.taker_account_id, e.taker_order_id, e, e.taker_status)


def _filled(
    m: ReadModel, account_id: int, order_id: int, e: TradeExecuted, status: OrderStatus
) -> None:
    acct = m.accounts[account_id]
    order = acct.open_orders[order_id]
    order.executed += e.qty_raw
    order.cum_quote += e.quote_qty_raw
    order.status = status
    if status in _ENDED:
        _close(acct, order_id)


@_on(OrderCanceled)
@_on(OrderExpired)
def _ended(m: ReadModel, e: OrderCanceled | OrderExpired, ts: int) -> None:
    _close(m.accounts[e.account_id], e.order_id)


def _close(acct: AccountView, order_id: int) -> None:
    order = acct.open_orders.pop(order_id)
    if order.client_order_id:
        acct.client_ids.pop(order.client_order_id, None)


# --- staff -------------------------------------------------------------------------------------


@_on(StaffRecorded)
def _staff(m: ReadModel, e: StaffRecorded, ts: int) -> None:
    member = m.staff.get(e.name)
    if member is None:
        m.staff[e.name] = StaffView(e.name, e.role, e.venues, e.countries, e.team, e.active)
    else:
        member.role, member.venues, member.countries = e.role, e.venues, e.countries
        member.team, member.active = e.team, e.active


@_on(StaffTokenIssued)
def _staff_token(m: ReadModel, e: StaffTokenIssued, ts: int) -> None:
    token = StaffTokenView(e.token_id, e.digest, ts, e.expires_ms, e.kind)
    m.staff[e.name].tokens[e.token_id] = token
    m.staff_tokens[e.digest] = (e.name, e.token_id)


@_on(StaffCredentialsSet)
def _staff_credentials(m: ReadModel, e: StaffCredentialsSet, ts: int) -> None:
    member = m.staff[e.name]
    member.password_hash, member.totp_sealed = e.password_hash, e.totp_sealed


@_on(StaffTokenRevoked)
def _staff_token_revoked(m: ReadModel, e: StaffTokenRevoked, ts: int) -> None:
    token = m.staff[e.name].tokens.pop(e.token_id)
    m.staff_tokens.pop(token.digest, None)


# --- four eyes ---------------------------------------------------------------------------------


@_on(FourEyesSet)
def _four_eyes(m: ReadModel, e: FourEyesSet, ts: int) -> None:
    m.four_eyes = set(e.commands)
    m.four_eyes_set = True


@_on(ProposalMade)
def _proposed(m: ReadModel, e: ProposalMade, ts: int) -> None:
    m.proposals[e.proposal_id] = ProposalView(
        e.proposal_id,
        e.command,
        e.proposer,
        e.reason,
        e.evidence,
        ts,
        e.expires_ms,
        e.world,
        e.digest,
    )


@_on(ProposalDecided)
def _proposal_decided(m: ReadModel, e: ProposalDecided, ts: int) -> None:
    p = m.proposals.pop(e.proposal_id, None)
    if p is not None and e.decision == "rejected" and isinstance(p.command, CutOffBank):
        clear_hits(m.bank_cleared, p.command)


@_on(ListVersionForced)
def _list_forced(m: ReadModel, e: ListVersionForced, ts: int) -> None:
    m.forced_lists[forced_key(e.source, e.list_sha256, e.previous_sha256)] = (m.last_seq, ts)


@_on(WorkAssigned)
def _assigned(m: ReadModel, e: WorkAssigned, ts: int) -> None:
    m.owners[e.item] = e.owner
