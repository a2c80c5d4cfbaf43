"""The read model as the engine's state has it: the one read-only view that leaves the engine.

A consumer that starts from a snapshot (or joins a running engine) takes this export at the
state's `last_seq`, while that state is exactly what is durable, and folds every outcome after
it (`bourse.view.fold`). Tests compare the fold with this export after every command.
"""

from collections.abc import Iterator

import msgspec

from bourse.banking.rails import OPEN
from bourse.engine.state import EngineState
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
)


def api_keys(state: EngineState) -> Iterator[KeyView]:
    """The API keys as the read model has them, one at a time, without exporting the rest (what
    an engine's start checks read: a million accounts need not be copied for one key)."""
    for key in state.api_keys.values():
        kv = KeyView(
            key.api_key, key.account_id, key.kind, key.credential, key.can_trade, key.ip_allow
        )
        kv.listen_key, kv.listen_expires_ms = key.listen_key, key.listen_expires_ms
        yield kv


def export(state: EngineState) -> ReadModel:
    m = ReadModel()
    m.last_seq = state.last_seq
    m.assets = dict(state.assets)
    m.fiat_assets = set(state.fiat_assets)
    m.symbols = {
        name: SymbolView(sym.spec, sym.status, sym.last_price)
        for name, sym in state.symbols.items()
    }
    m.fee_tiers = dict(state.fee_tiers)  # values: shared, never changed in place
    m.accounts = {}
    for acct in state.accounts.values():
        view = m.accounts[acct.id] = AccountView(acct.id, acct.fee_tier, acct.customer_id)
        view.can_trade, view.can_deposit = acct.can_trade, acct.can_deposit
        view.can_withdraw, view.frozen = acct.can_withdraw, acct.frozen
        view.manual_freeze = acct.manual_freeze
        view.balances = {
            a: BalanceView(a, b.free, b.locked)
            for a, b in acct.balances.items()
            if b.free or b.locked
        }
        view.open_orders = {
            o.id: OrderView(
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
            )
            for o in acct.open_orders.values()
        }
        view.client_ids = dict(acct.client_ids)
    m.api_keys = {kv.api_key: kv for kv in api_keys(state)}
    m.listen_keys = dict(state.listen_keys)
    for c in state.customers.values():
        cv = m.customers[c.id] = CustomerView(
            c.id,
            c.legal_name,
            c.date_of_birth,
            c.nationality,
            c.residence,
            c.kyc_level,
            c.risk_tier,
            c.venue,
        )
        cv.accounts, cv.held_by = list(c.accounts), list(c.held_by)
    m.venues = {
        code: VenueView(v.code, v.name, v.jurisdictions, frozenset(v.symbols), v.fee_tier)
        for code, v in state.venues.items()
    }
    for source, target in (
        (state.residence_policies, m.residence_policies),
        (state.nationality_policies, m.nationality_policies),
    ):
        for country, p in source.items():
            target[country] = PolicyView(
                p.spec, p.change_id, p.applied_ms, p.actor, p.reason, p.previous
            )
    m.next_change_id = state.next_change_id
    m.reference_prices = {
        pair: ReferencePriceView(r.price, r.actor, r.reason, r.set_ms)
        for pair, r in state.reference_prices.items()
    }
    for a in state.alerts.values():
        av = m.alerts[a.id] = AlertView(
            a.id, a.customer_id, a.evidence, a.raised_ms, a.kind, a.reviews, a.withdrawal_id
        )
        av.decision, av.holds = a.decision, a.holds
    m.withdrawals = {
        w.id: WithdrawalView(
            w.id,
            w.account_id,
            w.asset,
            w.amount,
            w.destination,
            w.on_request_ref,
            w.beneficiary,
            list(w.held_by),
        )
        for w in state.withdrawals.values()
    }
    m.members = {key: dict(ids) for key, ids in state.members.items()}
    m.scheduled = {
        s.id: ScheduledView(
            s.id, s.spec, s.effective_ms, s.preview_id, s.previewed, s.actor, s.reason
        )
        for s in state.scheduled.values()
    }
    m.sweeps = {
        s.id: SweepView(s.id, s.change_id, s.kind, s.done, len(s.customer_ids))
        for s in state.sweeps.values()
    }
    m.dismissals = dict(state.dismissals)
    m.screened_lists = dict(state.screened_lists)
    m.screened_matcher = state.screened_matcher
    m.address_lists = dict(state.address_lists)
    for s in state.staff.values():
        member = m.staff[s.name] = StaffView(
            s.name, s.role, s.venues, s.countries, s.team, s.active
        )
        member.password_hash, member.totp_sealed = s.password_hash, s.totp_sealed
        for t in s.tokens.values():
            member.tokens[t.token_id] = StaffTokenView(
                t.token_id, t.digest, t.issued_ms, t.expires_ms, t.kind
            )
            m.staff_tokens[t.digest] = (s.name, t.token_id)
    m.four_eyes = set(state.four_eyes)
    m.four_eyes_set = state.four_eyes_set
    m.forced_lists = dict(state.forced_lists)
    m.owners = dict(state.owners)
    m.proposals = {
        p.id: ProposalView(
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
        for p in state.proposals.values()
    }
    # the rails' structs are the engine's own, mutable: the view gets copies
    banking = state.banking
    m.banks = {
        bic: msgspec.structs.replace(b, accounts=dict(b.accounts))
        for bic, b in banking.banks.items()
    }
    m.bank_accounts = {i: msgspec.structs.replace(a) for i, a in banking.bank_accounts.items()}
    m.payment_files = {
        i: msgspec.structs.replace(f, withdrawals=list(f.withdrawals))
        for i, f in banking.files.items()
    }
    m.payouts = {i: msgspec.structs.replace(p) for i, p in banking.payouts.items()}
    m.bank_queue = {
        i: msgspec.structs.replace(q) for i, q in banking.queue.items() if q.status == OPEN
    }
    m.bank_cutoffs = {i: msgspec.structs.replace(c) for i, c in banking.cutoffs.items()}
    m.bank_cleared = {bic: list(keys) for bic, keys in banking.cleared.items()}
    m.payment_partners = {c: msgspec.structs.replace(p) for c, p in banking.partners.items()}
    m.saved_cards = {i: msgspec.structs.replace(c) for i, c in banking.cards.items()}
    m.card_deposits = {i: msgspec.structs.replace(d) for i, d in banking.card_deposits.items()}
    m.partner_ends = {i: msgspec.structs.replace(e) for i, e in banking.partner_ends.items()}
    return m
