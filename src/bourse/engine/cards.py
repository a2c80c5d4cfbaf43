"""Card partners in the engine: partners, saved cards, card deposits pending → settled or
reversed, and a partner's end (previewed in slices, applied citing the preview's fingerprint,
at once or from its effective time through RunDuePolicies, as a bank's cut-off).

A card deposit is credited only when it settles, through the one deposit path: the gate's rules
(a frozen or held customer, a policy closing fiat deposits) decide then as for any deposit, and
one they refuse is reversed, so the partner refunds the card and nothing is stranded.
"""

import hashlib
from collections.abc import Generator

import msgspec

from bourse.banking.cards import (
    ACTIVE,
    ENDED,
    PENDING,
    REVERSED,
    SETTLED,
    CardDeposit,
    PartnerEnd,
    PartnerEndFingerprint,
    PartnerEndImpact,
    PartnerEndSpec,
    PaymentPartner,
    SavedCard,
    card_problem,
    end_preview_id,
    expired,
    partner_problem,
)
from bourse.banking.minor_units import unpayable
from bourse.banking.names import names_agree
from bourse.commands import (
    DefinePaymentPartner,
    Deposit,
    EndPaymentPartner,
    ReceiveCardDeposit,
    SaveCard,
    SettleCardDeposit,
)
from bourse.domain.calendar import utc_text
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine import funds
from bourse.engine.gate import deposit_refusal
from bourse.engine.output import Output
from bourse.engine.state import EngineState
from bourse.events import (
    CardDepositReceived,
    CardDepositSettled,
    CardSaved,
    PaymentPartnerDefined,
    PaymentPartnerEnded,
    PaymentPartnerEndScheduled,
)

PREVIEW_SLICE = 2000  # saved cards counted per step of a preview
SAMPLE = 10


def _invalid(text: str) -> Refusal:
    return Refusal(RejectCode.INVALID_PARAMETER, text)


def define_partner(state: EngineState, out: Output, cmd: DefinePaymentPartner) -> Refusal | None:
    problem = partner_problem(cmd.code, cmd.kind)
    if problem:
        return _invalid(problem)
    unknown = sorted({c for c in cmd.currencies if c not in state.fiat_assets})
    if unknown:
        return _invalid(f"partner {cmd.code}: {', '.join(unknown)} is not a fiat asset")
    if not cmd.currencies or not cmd.serves or not cmd.name.strip():
        return _invalid(f"partner {cmd.code} needs a name, a currency and a country it serves")
    partners = state.banking.partners
    partner = partners.get(cmd.code)
    if partner is None:
        partner = partners[cmd.code] = PaymentPartner(
            code=cmd.code,
            name=cmd.name.strip(),
            kind=cmd.kind,
            currencies=cmd.currencies,
            serves=cmd.serves,
        )
    elif partner.status == ENDED:
        return _invalid(f"{partner.name} ({cmd.code}) has ended: define a partner anew")
    else:
        partner.name, partner.kind = cmd.name.strip(), cmd.kind
        partner.currencies, partner.serves = cmd.currencies, cmd.serves
    out.events.append(
        PaymentPartnerDefined(
            code=partner.code,
            name=partner.name,
            kind=partner.kind,
            currencies=partner.currencies,
            serves=partner.serves,
            status=partner.status,
            reason=cmd.reason,
        )
    )
    return None


def _open_partner(state: EngineState, code: str, ts_ms: int) -> PaymentPartner | Refusal:
    partner = state.banking.partners.get(code)
    if partner is None:
        return _invalid(f"{code} is not a payment partner")
    if not partner.open_at(ts_ms):
        return Refusal(
            RejectCode.PARTNER_ENDED,
            f"{partner.name} ({partner.code}) has ended: no card payment goes through it",
        )
    return partner


def save_card(state: EngineState, out: Output, cmd: SaveCard) -> Refusal | None:
    customer = state.customers.get(cmd.customer_id)
    if customer is None:
        return Refusal(RejectCode.UNKNOWN_CUSTOMER, f"customer {cmd.customer_id} does not exist")
    partner = _open_partner(state, cmd.partner, cmd.ts_ms)
    if isinstance(partner, Refusal):
        return partner
    problem = card_problem(cmd.token, cmd.last4, cmd.expiry)
    if problem:
        return _invalid(problem)
    if expired(cmd.expiry, cmd.ts_ms):
        return _invalid(f"the card expired at the end of {cmd.expiry}")
    if not names_agree(cmd.holder, customer.legal_name):
        return _invalid(
            f"the card's holder {cmd.holder!r} is not the customer {customer.legal_name!r}: a "
            "customer deposits only from their own card"
        )
    banking = state.banking
    saved = banking.cards_by_partner.get(partner.code, ())
    if any(banking.cards[i].token == cmd.token for i in saved):
        return Refusal(RejectCode.ALREADY_EXISTS, f"this {partner.code} card is saved already")
    card = SavedCard(
        id=banking.next_card_id,
        customer_id=customer.id,
        partner=partner.code,
        token=cmd.token,
        last4=cmd.last4,
        expiry=cmd.expiry,
        holder=cmd.holder.strip(),
    )
    banking.next_card_id += 1
    banking.cards[card.id] = card
    banking.cards_by_partner.setdefault(partner.code, []).append(card.id)
    banking.card_versions[partner.code] = banking.card_versions.get(partner.code, 0) + 1
    out.events.append(
        CardSaved(
            card_id=card.id,
            customer_id=card.customer_id,
            partner=card.partner,
            token=card.token,
            last4=card.last4,
            expiry=card.expiry,
            holder=card.holder,
        )
    )
    return None


def receive_deposit(state: EngineState, out: Output, cmd: ReceiveCardDeposit) -> Refusal | None:
    partner = _open_partner(state, cmd.partner, cmd.ts_ms)
    if isinstance(partner, Refusal):
        return partner
    banking = state.banking
    ref = f"{partner.code}:{cmd.partner_ref.strip()}"
    if not cmd.partner_ref.strip():
        return _invalid("a card deposit names the partner's reference for the payment")
    if ref in banking.card_refs:
        return Refusal(
            RejectCode.ALREADY_EXISTS,
            f"{partner.code} payment {cmd.partner_ref} is card deposit {banking.card_refs[ref]}",
        )
    card = banking.cards.get(cmd.card_id)
    if card is None or card.partner != partner.code:
        return _invalid(f"card {cmd.card_id} is not a saved {partner.code} card")
    if expired(card.expiry, cmd.ts_ms):
        return _invalid(f"card {card.id} expired at the end of {card.expiry}")
    if cmd.currency not in partner.currencies:
        return _invalid(f"{partner.name} takes card deposits in {', '.join(partner.currencies)}")
    if cmd.amount_raw <= 0:
        return _invalid("a card deposit's amount is positive")
    if problem := unpayable(cmd.amount_raw, state.assets[cmd.currency], cmd.currency):
        return _invalid(f"a card payment is in whole minor units: {problem}")
    customer = state.customers[card.customer_id]
    if customer.residence not in partner.serves:
        return _invalid(f"{partner.name} does not serve residents of {customer.residence}")
    if not customer.accounts:
        return _invalid(f"customer {customer.id} has no account to credit")
    account_id = customer.accounts[0]
    probe = _deposit(cmd, account_id, cmd.currency, cmd.amount_raw, ref)
    # refused now rather than reversed at settlement
    refusal = funds.beyond_bound(state, cmd.currency, cmd.amount_raw) or deposit_refusal(
        state, probe
    )
    if refusal is not None:
        return refusal
    deposit = CardDeposit(
        id=banking.next_card_deposit_id,
        partner=partner.code,
        card_id=card.id,
        account_id=account_id,
        currency=cmd.currency,
        amount_raw=cmd.amount_raw,
        partner_ref=cmd.partner_ref.strip(),
        created_ms=cmd.ts_ms,
    )
    banking.next_card_deposit_id += 1
    banking.card_deposits[deposit.id] = deposit
    banking.card_refs[ref] = deposit.id
    banking.pending_card_deposits.setdefault(partner.code, []).append(deposit.id)
    out.events.append(
        CardDepositReceived(
            deposit_id=deposit.id,
            partner=deposit.partner,
            card_id=deposit.card_id,
            account_id=deposit.account_id,
            currency=deposit.currency,
            amount_raw=deposit.amount_raw,
            partner_ref=deposit.partner_ref,
        )
    )
    return None


def _deposit(
    cmd: ReceiveCardDeposit | SettleCardDeposit, account_id: int, asset: str, raw: int, ref: str
) -> Deposit:
    return Deposit(
        actor=cmd.actor,
        ts_ms=cmd.ts_ms,
        account_id=account_id,
        asset=asset,
        amount_raw=raw,
        tx_ref=f"card:{ref}",
        reason=f"card deposit {ref}: {cmd.reason}",
    )


def settle_deposit(state: EngineState, out: Output, cmd: SettleCardDeposit) -> Refusal | None:
    deposit = state.banking.card_deposits.get(cmd.deposit_id)
    if deposit is None or deposit.status != PENDING:
        return _invalid(f"card deposit {cmd.deposit_id} is not pending")
    state.banking.pending_card_deposits[deposit.partner].remove(deposit.id)
    if cmd.settled:
        ref = f"{deposit.partner}:{deposit.partner_ref}"
        credit = _deposit(cmd, deposit.account_id, deposit.currency, deposit.amount_raw, ref)
        refusal = deposit_refusal(state, credit) or funds.deposit(state, out, credit)
        if refusal is None:
            deposit.status, deposit.reason = SETTLED, cmd.reason
        else:  # the money came, but may not be credited: the partner refunds the card
            deposit.status = REVERSED
            deposit.reason = f"not credited ({refusal.reason}): refunded to the card"
    else:
        deposit.status, deposit.reason = REVERSED, cmd.reason
    out.events.append(
        CardDepositSettled(deposit_id=deposit.id, status=deposit.status, reason=deposit.reason)
    )
    return None


# --- a partner's end -------------------------------------------------------------------------


def end_problem(state: EngineState, spec: PartnerEndSpec, ts_ms: int) -> str:
    partner = state.banking.partners.get(spec.partner)
    if partner is None:
        return f"{spec.partner} is not a payment partner"
    if partner.status != ACTIVE:
        return f"{partner.name} ({partner.code}) has ended already"
    if partner.end_id:
        return f"{partner.name} ({partner.code}) ends already at {utc_text(partner.ends_ms)}"
    if spec.effective_ms and spec.effective_ms <= ts_ms:
        return (
            f"an end's effective time is in the future ({utc_text(spec.effective_ms)} has "
            "passed): give none to end it at once"
        )
    return ""


def _pending(state: EngineState, code: str) -> list[CardDeposit]:
    banking = state.banking
    return [banking.card_deposits[i] for i in banking.pending_card_deposits.get(code, ())]


def end_fingerprint(state: EngineState, spec: PartnerEndSpec) -> PartnerEndFingerprint:
    banking = state.banking
    pending = [(d.id, d.amount_raw) for d in _pending(state, spec.partner)]
    return PartnerEndFingerprint(
        cards=len(banking.cards_by_partner.get(spec.partner, ())),
        card_version=banking.card_versions.get(spec.partner, 0),
        pending=hashlib.sha256(msgspec.json.encode(pending)).hexdigest()[:20],
    )


def end_preview(
    state: EngineState, spec: PartnerEndSpec, slice_size: int = PREVIEW_SLICE
) -> Generator[None, None, PartnerEndImpact]:
    """Whom and what a partner's end touches, counted in steps (see cutoff.preview)."""
    banking = state.banking
    partner = banking.partners[spec.partner]
    seen = end_fingerprint(state, spec)
    impact = PartnerEndImpact(
        spec=spec,
        name=partner.name,
        previewed=seen,
        preview_id=end_preview_id(spec, seen),
        as_of_seq=state.last_seq,
    )
    for d in _pending(state, spec.partner):
        impact.pending.append(msgspec.to_builtins(d))
        impact.by_currency[d.currency] = impact.by_currency.get(d.currency, 0) + d.amount_raw
    card_ids = banking.cards_by_partner.get(spec.partner, [])
    counted: set[int] = set()
    for start in range(0, len(card_ids), slice_size):
        if start:
            yield
        for card_id in card_ids[start : start + slice_size]:
            card = banking.cards[card_id]
            impact.cards += 1
            if card.customer_id in counted:
                continue
            counted.add(card.customer_id)
            impact.customers += 1
            if len(impact.sample) < SAMPLE:
                customer = state.customers[card.customer_id]
                impact.sample.append(
                    {
                        "customer_id": customer.id,
                        "legal_name": customer.legal_name,
                        "residence": customer.residence,
                        "card_id": card.id,
                        "last4": card.last4,
                    }
                )
    return impact


def end_partner(state: EngineState, out: Output, cmd: EndPaymentPartner) -> Refusal | None:
    spec = cmd.spec
    why = end_problem(state, spec, cmd.ts_ms)
    if why:
        return _invalid(why)
    if cmd.preview_id != end_preview_id(spec, cmd.previewed):
        return Refusal(
            RejectCode.PREVIEW_MISMATCH,
            f"this end cites preview {cmd.preview_id or '(none)'}, which was not made for it: "
            "preview the end you mean to apply, then apply that preview",
        )
    now = end_fingerprint(state, spec)
    if now != cmd.previewed:
        what = (
            "the card deposits pending through it"
            if now.pending != cmd.previewed.pending
            else f"its saved cards ({cmd.previewed.cards} then, {now.cards} now)"
        )
        return Refusal(
            RejectCode.PREVIEW_STALE,
            f"since preview {cmd.preview_id}, {what} have changed: preview it again",
        )
    banking = state.banking
    partner = banking.partners[spec.partner]
    record = PartnerEnd(
        id=banking.next_end_id,
        partner=partner.code,
        effective_ms=spec.effective_ms or cmd.ts_ms,
        preview_id=cmd.preview_id,
        actor=cmd.actor,
        reason=cmd.reason,
    )
    banking.next_end_id += 1
    banking.partner_ends[record.id] = record
    partner.end_id, partner.ends_ms = record.id, record.effective_ms
    if spec.effective_ms:
        out.events.append(
            PaymentPartnerEndScheduled(
                end_id=record.id,
                spec=spec,
                preview_id=cmd.preview_id,
                actor=cmd.actor,
                reason=cmd.reason,
            )
        )
    else:
        apply_end(state, out, record)
    return None


def due_ends(state: EngineState, ts_ms: int) -> list[PartnerEnd]:
    return [
        e
        for e in state.banking.partner_ends.values()
        if e.status == "SCHEDULED" and e.effective_ms <= ts_ms
    ]


def apply_end(state: EngineState, out: Output, record: PartnerEnd) -> None:
    """The partner ends: its saved cards with it; what is pending through it stays pending,
    for its settlement report to settle or reverse."""
    banking = state.banking
    partner = banking.partners[record.partner]
    partner.status = ENDED
    card_ids = banking.cards_by_partner.get(partner.code, [])
    customers = {banking.cards[i].customer_id for i in card_ids}
    pending = tuple(d.id for d in _pending(state, partner.code))
    record.status, record.applied_ms = "APPLIED", out.ts_ms
    record.cards, record.pending = len(card_ids), pending
    out.events.append(
        PaymentPartnerEnded(
            end_id=record.id,
            partner=partner.code,
            effective_ms=record.effective_ms,
            preview_id=record.preview_id,
            cards=len(card_ids),
            customers=len(customers),
            pending=pending,
            actor=record.actor,
            reason=record.reason,
        )
    )
