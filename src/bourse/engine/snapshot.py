"""The state as canonical bytes: for snapshots, and for the digest replay determinism compares.

Everything is written in a canonical order (ids, names, book priority), so two engines in the same
state produce byte-identical images however they got there (replay from empty, or snapshot+replay).
"""

import hashlib

from bourse import codec
from bourse.banking.rails import Banking
from bourse.compliance.policy import Basis
from bourse.compliance.staff import TokenKind
from bourse.domain.enums import (
    Side,
)
from bourse.domain.symbols import FeeTier
from bourse.engine.orders import stop_list
from bourse.engine.snapshot_format import (
    FORMAT,
    READABLE,
    AccountImage,
    AlertImage,
    ApiKeyImage,
    CustomerImage,
    OrderImage,
    PolicyImage,
    ProposalImage,
    ScheduledImage,
    StaffImage,
    StateImage,
    SweepImage,
    SymbolImage,
    VenueImage,
)
from bourse.engine.staff_state import Proposal, StaffMember, StaffToken
from bourse.engine.state import (
    Account,
    Alert,
    ApiKey,
    Balance,
    Customer,
    EngineState,
    Order,
    Policy,
    ReferencePrice,
    ScheduledChange,
    Sweep,
    SymbolState,
    Venue,
    Withdrawal,
)

_decoder = codec.Decoder[StateImage](StateImage)


def dump(state: EngineState) -> bytes:
    return codec.encode(_image(state))


def digest(state: EngineState) -> str:
    return hashlib.sha256(dump(state)).hexdigest()


def load(data: bytes) -> EngineState:
    image = _decoder.decode(data)
    if image.format not in READABLE:
        raise ValueError(f"snapshot format {image.format} is not one of {READABLE}")
    state = EngineState()
    state.last_seq = image.last_seq
    state.next_account_id = image.next_account_id
    state.next_order_id = image.next_order_id
    state.next_withdrawal_id = image.next_withdrawal_id
    state.assets = dict(image.assets)
    state.fee_tiers = {tier: FeeTier(maker, taker) for tier, maker, taker in image.fee_tiers}
    state.deposited = dict(image.deposited)
    state.withdrawn = dict(image.withdrawn)
    state.accounts = {}
    for a in image.accounts:
        acct = Account(a.id, a.fee_tier, a.customer_id)
        acct.can_trade, acct.can_deposit, acct.can_withdraw = (
            a.can_trade,
            a.can_deposit,
            a.can_withdraw,
        )
        acct.frozen = a.frozen
        acct.manual_freeze = a.manual_freeze
        acct.balances = {
            asset: Balance(a.id, asset, free, locked) for asset, free, locked in a.balances
        }
        state.accounts[a.id] = acct
    open_orders: list[Order] = []
    for s in image.symbols:
        sym = SymbolState(s.spec, s.status)
        sym.last_price, sym.next_trade_id = s.last_price, s.next_trade_id
        state.symbols[s.spec.name] = sym
        for o in s.book:
            order = _order(o)
            sym.book.add(order)
            open_orders.append(order)
        for o in s.stops:
            order = _order(o)
            stop_list(sym, order).add(order)
            open_orders.append(order)
    for order in sorted(open_orders, key=lambda o: o.id):
        acct = state.accounts[order.account_id]
        acct.open_orders[order.id] = order
        if order.client_order_id:
            acct.client_ids[order.client_order_id] = order.id
    for wid, account_id, asset, amount, destination in image.withdrawals:
        state.withdrawals[wid] = Withdrawal(wid, account_id, asset, amount, destination)
    for k in image.api_keys:
        key = state.api_keys[k.api_key] = ApiKey(
            k.api_key, k.account_id, k.kind, k.credential, k.can_trade, k.ip_allow
        )
        if k.listen_key:
            key.listen_key, key.listen_expires_ms = k.listen_key, k.listen_expires_ms
            state.listen_keys[k.listen_key] = k.api_key
    _load_compliance(state, image)
    return state


def _load_compliance(state: EngineState, image: StateImage) -> None:
    for wid, ref in image.withdrawal_refs:
        state.withdrawals[wid].on_request_ref = ref
    for wid, beneficiary, held_by in image.withdrawal_payees:
        state.withdrawals[wid].beneficiary = beneficiary
        state.withdrawals[wid].held_by = list(held_by)
    state.fiat_assets = set(image.fiat_assets)
    state.next_customer_id = image.next_customer_id
    state.next_change_id = image.next_change_id
    state.next_sweep_id = image.next_sweep_id
    state.next_schedule_id = image.next_schedule_id
    for c in image.customers:
        cust = Customer(
            c.id,
            c.legal_name,
            c.date_of_birth,
            c.nationality,
            c.residence,
            c.kyc_level,
            c.risk_tier,
            c.venue,
        )
        cust.accounts = list(c.accounts)
        state.customers[c.id] = cust
    for v in image.venues:
        state.venues[v.code] = Venue(v.code, v.name, v.jurisdictions, tuple(v.symbols), v.fee_tier)
    state.members = {key: dict.fromkeys(ids) for key, ids in image.members}
    state.member_accounts = {
        key: sum(len(state.customers[c].accounts) for c in ids) for key, ids in image.members
    }
    state.member_versions = dict(image.member_versions)
    for p in image.policies:
        policy = Policy(p.spec, p.change_id, p.applied_ms, p.actor, p.reason, p.previous)
        by_basis = (
            state.residence_policies
            if p.spec.basis is Basis.RESIDENCE
            else state.nationality_policies
        )
        by_basis[p.spec.country] = policy
    for w in image.sweeps:
        sweep = Sweep(w.id, w.change_id, w.kind, list(w.customer_ids), w.batch, w.note)
        sweep.done = w.done
        state.sweeps[w.id] = sweep
    state.next_alert_id = image.next_alert_id
    for a in image.alerts:
        alert = Alert(a.id, a.customer_id, a.evidence, a.raised_ms, a.kind)
        alert.reviews = a.reviews
        alert.withdrawal_id = a.withdrawal_id
        alert.decision = a.decision
        alert.holds = a.holds
        state.alerts[a.id] = alert
        if a.holds and not a.decision:
            state.customers[a.customer_id].held_by.append(a.id)
    state.dismissals = dict(image.dismissals)
    state.sanctioned_addresses = {k: (src, entry) for k, src, entry in image.sanctioned_addresses}
    state.address_lists = dict(image.address_lists)
    state.screened_lists = dict(image.screened_lists)
    state.screened_matcher = image.screened_matcher
    state.reference_prices = {
        (a, q): ReferencePrice(price, actor, reason, set_ms)
        for a, q, price, actor, reason, set_ms in image.reference_prices
    }
    for m in image.staff:
        member = StaffMember(m.name, m.role, m.venues, m.countries, m.team)
        member.active = m.active
        kinds = dict(m.token_kinds)
        member.tokens = {t[0]: StaffToken(*t, TokenKind(kinds.get(t[0], "api"))) for t in m.tokens}
        member.password_hash, member.totp_sealed, member.totp_step = m.login
        state.staff[m.name] = member
    state.four_eyes = set(image.four_eyes)
    state.four_eyes_set = image.four_eyes_set
    state.next_proposal_id = image.next_proposal_id
    state.forced_lists = {key: (seq, ts) for key, seq, ts in image.forced_lists}
    state.owners = dict(image.owners)
    state.banking = image.banking if image.banking is not None else Banking()
    if state.banking.bank_accounts and not state.banking.by_customer:  # written before indexes
        for account in state.banking.bank_accounts.values():
            state.banking.index(account)
    for pi in image.proposals:
        state.proposals[pi.id] = Proposal(
            pi.id,
            pi.command,
            pi.proposer,
            pi.reason,
            pi.evidence,
            pi.proposed_ms,
            pi.expires_ms,
            pi.world,
            pi.digest,
        )
    for d in image.scheduled:
        state.scheduled[d.id] = ScheduledChange(
            d.id,
            d.spec,
            d.effective_ms,
            d.preview_id,
            d.previewed,
            d.actor,
            d.reason,
            d.sweep_batch,
        )


def _image(state: EngineState) -> StateImage:
    return StateImage(
        format=FORMAT,
        last_seq=state.last_seq,
        next_account_id=state.next_account_id,
        next_order_id=state.next_order_id,
        next_withdrawal_id=state.next_withdrawal_id,
        assets=sorted(state.assets.items()),
        fee_tiers=sorted(
            (t, f.maker_multiplier_ppm, f.taker_multiplier_ppm) for t, f in state.fee_tiers.items()
        ),
        deposited=sorted(state.deposited.items()),
        withdrawn=sorted(state.withdrawn.items()),
        accounts=[_account(state.accounts[i]) for i in sorted(state.accounts)],
        symbols=[_symbol(state.symbols[name]) for name in sorted(state.symbols)],
        withdrawals=[
            (w.id, w.account_id, w.asset, w.amount, w.destination)
            for _, w in sorted(state.withdrawals.items())
        ],
        api_keys=[
            ApiKeyImage(
                k.api_key,
                k.account_id,
                k.kind,
                k.credential,
                k.can_trade,
                k.ip_allow,
                k.listen_key,
                k.listen_expires_ms,
            )
            for _, k in sorted(state.api_keys.items())
        ],
        withdrawal_refs=[
            (w.id, w.on_request_ref)
            for _, w in sorted(state.withdrawals.items())
            if w.on_request_ref
        ],
        fiat_assets=sorted(state.fiat_assets),
        next_customer_id=state.next_customer_id,
        next_change_id=state.next_change_id,
        next_sweep_id=state.next_sweep_id,
        next_schedule_id=state.next_schedule_id,
        customers=[_customer(state.customers[i]) for i in sorted(state.customers)],
        venues=[
            VenueImage(v.code, v.name, v.jurisdictions, sorted(v.symbols), v.fee_tier)
            for v in state.venues.values()
        ],
        members=[(key, list(state.members[key])) for key in sorted(state.members)],
        member_versions=sorted(state.member_versions.items()),
        policies=[
            _policy(p)
            for policies in (state.residence_policies, state.nationality_policies)
            for _, p in sorted(policies.items())
        ],
        sweeps=[
            SweepImage(w.id, w.change_id, w.kind, w.customer_ids, w.batch, w.note, w.done)
            for _, w in sorted(state.sweeps.items())
        ],
        scheduled=[
            ScheduledImage(
                d.id,
                d.spec,
                d.effective_ms,
                d.preview_id,
                d.previewed,
                d.actor,
                d.reason,
                d.sweep_batch,
            )
            for _, d in sorted(state.scheduled.items())
        ],
        next_alert_id=state.next_alert_id,
        alerts=[
            AlertImage(
                a.id,
                a.customer_id,
                a.evidence,
                a.raised_ms,
                a.decision,
                a.kind,
                a.reviews,
                a.withdrawal_id,
                a.holds,
            )
            for _, a in sorted(state.alerts.items())
        ],
        dismissals=sorted(state.dismissals.items()),
        sanctioned_addresses=sorted((k, s, e) for k, (s, e) in state.sanctioned_addresses.items()),
        address_lists=sorted(state.address_lists.items()),
        withdrawal_payees=[
            (w.id, w.beneficiary, list(w.held_by))
            for _, w in sorted(state.withdrawals.items())
            if w.beneficiary
        ],
        screened_lists=sorted(state.screened_lists.items()),
        screened_matcher=state.screened_matcher,
        reference_prices=[
            (a, q, p.price, p.actor, p.reason, p.set_ms)
            for (a, q), p in sorted(state.reference_prices.items())
        ],
        staff=[_staff(m) for _, m in sorted(state.staff.items())],
        four_eyes=sorted(state.four_eyes),
        four_eyes_set=state.four_eyes_set,
        next_proposal_id=state.next_proposal_id,
        forced_lists=[(k, seq, ts) for k, (seq, ts) in sorted(state.forced_lists.items())],
        owners=sorted(state.owners.items()),
        banking=state.banking,
        proposals=[
            ProposalImage(
                p.id,
                p.command,  # type: ignore[arg-type]  # a Proposable: only those are proposed
                p.proposer,
                p.reason,
                p.evidence,
                p.proposed_ms,
                p.expires_ms,
                p.world,
                p.digest,
            )
            for _, p in sorted(state.proposals.items())
        ],
    )


def _staff(m: StaffMember) -> StaffImage:
    tokens = [(t.token_id, t.digest, t.issued_ms, t.expires_ms) for t in m.tokens.values()]
    kinds = [(t.token_id, str(t.kind)) for t in m.tokens.values() if t.kind is not TokenKind.API]
    login = (m.password_hash, m.totp_sealed, m.totp_step)
    return StaffImage(
        m.name,
        m.role,
        m.venues,
        m.countries,
        m.team,
        m.active,
        sorted(tokens),
        login,
        sorted(kinds),
    )


def _customer(c: Customer) -> CustomerImage:
    return CustomerImage(
        c.id,
        c.legal_name,
        c.date_of_birth,
        c.nationality,
        c.residence,
        c.kyc_level,
        c.risk_tier,
        c.venue,
        list(c.accounts),
    )


def _policy(p: Policy) -> PolicyImage:
    return PolicyImage(p.spec, p.change_id, p.applied_ms, p.actor, p.reason, p.previous)


def _account(acct: Account) -> AccountImage:
    return AccountImage(
        id=acct.id,
        can_trade=acct.can_trade,
        can_deposit=acct.can_deposit,
        can_withdraw=acct.can_withdraw,
        frozen=acct.frozen,
        fee_tier=acct.fee_tier,
        balances=sorted((b.asset, b.free, b.locked) for b in acct.balances.values()),
        customer_id=acct.customer_id,
        manual_freeze=acct.manual_freeze,
    )


def _symbol(sym: SymbolState) -> SymbolImage:
    book = [_order_image(o) for o in sym.book.orders(Side.BUY)]
    book += [_order_image(o) for o in sym.book.orders(Side.SELL)]
    stops = sorted([*sym.stops_rising, *sym.stops_falling], key=lambda o: o.id)
    return SymbolImage(
        spec=sym.spec,
        status=sym.status,
        last_price=sym.last_price,
        next_trade_id=sym.next_trade_id,
        book=book,
        stops=[_order_image(o) for o in stops],
    )


def _order_image(o: Order) -> OrderImage:
    return OrderImage(
        o.id,
        o.account_id,
        o.symbol,
        o.side,
        o.order_type,
        o.time_in_force,
        o.price,
        o.qty,
        o.quote_qty,
        o.stop_price,
        o.client_order_id,
        o.stp,
        o.created_ms,
        o.working,
        o.executed,
        o.cum_quote,
        o.status,
        o.held,
    )


def _order(i: OrderImage) -> Order:
    return Order(
        i.id,
        i.account_id,
        i.symbol,
        i.side,
        i.order_type,
        i.time_in_force,
        i.price,
        i.qty,
        i.quote_qty,
        i.stop_price,
        i.client_order_id,
        i.stp,
        i.created_ms,
        working=i.working,
        executed=i.executed,
        cum_quote=i.cum_quote,
        status=i.status,
        held=i.held,
    )
