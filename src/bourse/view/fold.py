"""The read model's one writer: each released outcome's events, folded in order.

A consumer starts from a seed (an empty model, or the engine's export of it at a snapshot's
seq) and applies every outcome after it; tests check after each command of random sessions
that the fold and the engine's export agree.
"""

from collections.abc import Callable, Iterable
from typing import Any

from bourse.banking.cards import ENDED, CardDeposit, PartnerEnd, PaymentPartner, SavedCard
from bourse.banking.cutoff import REROUTED
from bourse.banking.rails import (
    CUT_OFF,
    BankAccount,
    CutOff,
    PartnerBank,
    PaymentFile,
    Payout,
    QueuedLine,
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
    BankAccountAdded,
    BankAccountDecided,
    BankCutOff,
    BankCutOffScheduled,
    BankDefined,
    CardDepositReceived,
    CardDepositSettled,
    CardSaved,
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
    PaymentFileCreated,
    PaymentPartnerDefined,
    PaymentPartnerEnded,
    PaymentPartnerEndScheduled,
    PayoutSettled,
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
    StatementLineQueued,
    StatementLineResolved,
    SymbolListed,
    SymbolStatusChanged,
    TradeExecuted,
    VenueDefined,
    WithdrawalCompleted,
    WithdrawalFailed,
    WithdrawalRequested,
    WorkAssigned,
)
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

Handler = Callable[[ReadModel, Any, int], None]
_HANDLERS: dict[type, Handler] = {}


def _on(event_type: type) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _HANDLERS[event_type] = fn
        return fn

    return register


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


@_on(BankDefined)
def _bank(m: ReadModel, e: BankDefined, ts: int) -> None:
    known = m.banks.get(e.bic)
    m.banks[e.bic] = PartnerBank(
        bic=e.bic,
        name=e.name,
        country=e.country,
        currencies=e.currencies,
        serves=e.serves,
        accounts=dict(e.accounts),
        status=e.status,
    )
    if known is not None:  # a redefinition: its cut-off stands
        m.banks[e.bic].cutoff_id, m.banks[e.bic].cut_from_ms = known.cutoff_id, known.cut_from_ms


@_on(BankAccountAdded)
def _bank_account(m: ReadModel, e: BankAccountAdded, ts: int) -> None:
    m.bank_accounts[e.bank_account_id] = BankAccount(
        id=e.bank_account_id,
        customer_id=e.customer_id,
        iban=e.iban,
        bic=e.bic,
        holder=e.holder,
        status=e.status,
    )


@_on(BankAccountDecided)
def _bank_account_decided(m: ReadModel, e: BankAccountDecided, ts: int) -> None:
    m.bank_accounts[e.bank_account_id].status = e.status


@_on(StatementLineQueued)
def _line_queued(m: ReadModel, e: StatementLineQueued, ts: int) -> None:
    m.bank_queue[e.item_id] = QueuedLine(
        id=e.item_id,
        bank=e.bank,
        statement_id=e.statement_id,
        entry=e.entry,
        amount_raw=e.amount_raw,
        reason=e.reason,
        customer_id=e.customer_id,
    )


@_on(StatementLineResolved)
def _line_resolved(m: ReadModel, e: StatementLineResolved, ts: int) -> None:
    m.bank_queue.pop(e.item_id, None)


@_on(PaymentFileCreated)
def _payment_file(m: ReadModel, e: PaymentFileCreated, ts: int) -> None:
    m.payment_files[e.file_id] = PaymentFile(
        id=e.file_id,
        bank=e.bank,
        currency=e.currency,
        debtor_iban=e.debtor_iban,
        execution_date=e.execution_date,
        created_ms=ts,
        withdrawals=list(e.withdrawals),
    )
    for wid, account_id, amount, iban, payee in zip(
        e.withdrawals, e.account_ids, e.amounts_raw, e.ibans, e.beneficiaries, strict=True
    ):
        m.payouts[wid] = Payout(
            withdrawal_id=wid,
            account_id=account_id,
            file_id=e.file_id,
            amount_raw=amount,
            currency=e.currency,
            iban=iban,
            beneficiary=payee,
        )


@_on(PayoutSettled)
def _payout_settled(m: ReadModel, e: PayoutSettled, ts: int) -> None:
    m.payouts[e.withdrawal_id].status = e.status


@_on(BankCutOffScheduled)
def _cutoff_scheduled(m: ReadModel, e: BankCutOffScheduled, ts: int) -> None:
    _cutoff_recorded(m, e.cutoff_id, e.spec.bic, e.spec.cause, e.spec.effective_ms)
    cutoff = m.bank_cutoffs[e.cutoff_id]
    cutoff.outgoing, cutoff.preview_id = e.spec.outgoing, e.preview_id
    cutoff.actor, cutoff.reason = e.actor, e.reason


@_on(BankCutOff)
def _cutoff(m: ReadModel, e: BankCutOff, ts: int) -> None:
    if e.cutoff_id not in m.bank_cutoffs:  # at once, not scheduled
        _cutoff_recorded(m, e.cutoff_id, e.bic, e.cause, e.effective_ms)
    cutoff = m.bank_cutoffs[e.cutoff_id]
    cutoff.outgoing, cutoff.preview_id = e.outgoing, e.preview_id
    cutoff.actor, cutoff.reason = e.actor, e.reason
    cutoff.status, cutoff.applied_ms, cutoff.report = "APPLIED", ts, e.report
    m.banks[e.bic].status = CUT_OFF
    for t in e.report:
        if t.fate == REROUTED:  # taken back from the bank's file: pending for another's
            m.payouts[t.id].status = REROUTED


@_on(PaymentPartnerDefined)
def _partner(m: ReadModel, e: PaymentPartnerDefined, ts: int) -> None:
    known = m.payment_partners.get(e.code)
    if known is None:
        m.payment_partners[e.code] = PaymentPartner(
            code=e.code, name=e.name, kind=e.kind, currencies=e.currencies, serves=e.serves
        )
    else:
        known.name, known.kind, known.currencies, known.serves = (
            e.name, e.kind, e.currencies, e.serves
        )  # fmt: skip


@_on(CardSaved)
def _card(m: ReadModel, e: CardSaved, ts: int) -> None:
    m.saved_cards[e.card_id] = SavedCard(id=e.card_id, customer_id=e.customer_id,
                                         partner=e.partner, token=e.token, last4=e.last4,
                                         expiry=e.expiry, holder=e.holder)  # fmt: skip


@_on(CardDepositReceived)
def _card_deposit(m: ReadModel, e: CardDepositReceived, ts: int) -> None:
    m.card_deposits[e.deposit_id] = CardDeposit(
        id=e.deposit_id, partner=e.partner, card_id=e.card_id, account_id=e.account_id,
        currency=e.currency, amount_raw=e.amount_raw, partner_ref=e.partner_ref, created_ms=ts,
    )  # fmt: skip


@_on(CardDepositSettled)
def _card_deposit_settled(m: ReadModel, e: CardDepositSettled, ts: int) -> None:
    deposit = m.card_deposits[e.deposit_id]
    deposit.status, deposit.reason = e.status, e.reason


@_on(PaymentPartnerEndScheduled)
def _end_scheduled(m: ReadModel, e: PaymentPartnerEndScheduled, ts: int) -> None:
    _end_recorded(m, e.end_id, e.spec.partner, e.spec.effective_ms, e.preview_id, e.actor,
                  e.reason)  # fmt: skip


@_on(PaymentPartnerEnded)
def _partner_ended(m: ReadModel, e: PaymentPartnerEnded, ts: int) -> None:
    if e.end_id not in m.partner_ends:  # at once, not scheduled
        _end_recorded(m, e.end_id, e.partner, e.effective_ms, e.preview_id, e.actor, e.reason)
    end = m.partner_ends[e.end_id]
    end.status, end.applied_ms, end.cards, end.pending = "APPLIED", ts, e.cards, e.pending
    m.payment_partners[e.partner].status = ENDED


def _end_recorded(
    m: ReadModel, end_id: int, code: str, effective_ms: int, preview: str, actor: str, reason: str
) -> None:
    partner = m.payment_partners[code]
    partner.end_id, partner.ends_ms = end_id, effective_ms
    m.partner_ends[end_id] = PartnerEnd(id=end_id, partner=code, effective_ms=effective_ms,
                                        preview_id=preview, actor=actor, reason=reason)  # fmt: skip


def _cutoff_recorded(m: ReadModel, cutoff_id: int, bic: str, cause: str, effective_ms: int) -> None:
    bank = m.banks[bic]
    bank.cutoff_id, bank.cut_from_ms = cutoff_id, effective_ms
    m.bank_cutoffs[cutoff_id] = CutOff(
        id=cutoff_id,
        bic=bic,
        cause=cause,
        effective_ms=effective_ms,
        outgoing="",
        preview_id="",
        actor="",
        reason="",
    )


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
