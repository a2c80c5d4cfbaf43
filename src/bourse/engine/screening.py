"""Screening alerts and the decisions on them: the matcher runs beside the engine and enters it
only as RaiseScreeningAlert citing its evidence; a compliance officer's confirmation freezes
exactly that customer's accounts, a dismissal is remembered until the listed entry changes."""

import msgspec

from bourse.commands import (
    ConfirmScreeningAlert,
    DismissScreeningAlert,
    ForgetDismissals,
    RaiseDelistingReview,
    RaiseScreeningAlert,
    RecordRescreen,
    RequestWithdrawal,
    SetSanctionedAddresses,
)
from bourse.compliance.addresses import address_key
from bourse.compliance.alerts import (
    BENEFICIARY,
    CONFIRMED,
    DELISTING,
    DISMISSED,
    HIT,
    dismissal_key,
    dismissed_entry,
    payee_dismissal_key,
)
from bourse.compliance.evidence import BeneficiaryScreening, Evidence
from bourse.domain.rejections import Refusal, RejectCode
from bourse.engine.admin import freeze_account, unfreeze_account
from bourse.engine.alerts import (
    hold_customer,
    open_alert,
    release_customer,
    standing_listings,
)
from bourse.engine.funds import fail
from bourse.engine.output import Output
from bourse.engine.state import Alert, EngineState
from bourse.events import (
    DismissalsForgotten,
    RescreenRecorded,
    SanctionedAddressesSet,
    ScreeningAlertDecided,
)

MAX_SCORE_BP = 10_000


def _evidence_problem(ev: Evidence) -> Refusal | None:
    if not (ev.source and ev.entry_id and ev.list_sha256) or not 0 <= ev.score_bp <= MAX_SCORE_BP:
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            "screening evidence names a list, its version and an entry, with a score of "
            f"0 to {MAX_SCORE_BP} basis points",
        )
    return None


def raise_alert(state: EngineState, out: Output, cmd: RaiseScreeningAlert) -> Refusal | None:
    ev = cmd.evidence
    if refusal := _evidence_problem(ev):
        return refusal
    key = dismissal_key(cmd.customer_id, ev)
    if state.dismissals.get(key) == ev.entry_fingerprint:
        return Refusal(
            RejectCode.NO_CHANGE,
            f"{ev.source} entry {ev.entry_id} was dismissed for customer {cmd.customer_id} and "
            "has not changed since",
        )
    for alert in state.alerts.values():
        same = alert.evidence.source == ev.source and alert.evidence.entry_id == ev.entry_id
        if (
            same
            and alert.kind == HIT
            and alert.customer_id == cmd.customer_id
            and not alert.decision
        ):
            return Refusal(
                RejectCode.NO_CHANGE,
                f"alert {alert.id} on {ev.source} entry {ev.entry_id} is already open",
            )
    alert = open_alert(state, out, cmd.customer_id, ev, cmd.ts_ms, HIT)
    if cmd.hold:
        hold_customer(state, out, alert)
    return None


def raise_delisting_review(
    state: EngineState, out: Output, cmd: RaiseDelistingReview
) -> Refusal | None:
    hit = state.alerts.get(cmd.alert_id)
    if hit is None or hit.kind != HIT or hit.decision != CONFIRMED:
        return Refusal(
            RejectCode.INVALID_PARAMETER, f"alert {cmd.alert_id} is not a confirmed screening hit"
        )
    if hit.reviews:
        return Refusal(
            RejectCode.NO_CHANGE, f"delisting review {hit.reviews} already covers alert {hit.id}"
        )
    evidence = msgspec.structs.replace(hit.evidence, list_sha256=cmd.list_sha256)
    review = open_alert(state, out, hit.customer_id, evidence, cmd.ts_ms, DELISTING, reviews=hit.id)
    hit.reviews = review.id
    return None


def forget_dismissals(state: EngineState, out: Output, cmd: ForgetDismissals) -> Refusal | None:
    if not cmd.source or not cmd.list_sha256 or not cmd.entry_ids:
        return Refusal(
            RejectCode.INVALID_PARAMETER, "forgotten dismissals name a list version and entries"
        )
    gone = frozenset(cmd.entry_ids)
    keys = []
    for key in sorted(state.dismissals):  # sorted: a snapshot reorders the dict
        _, source, entry_id = dismissed_entry(key)
        if source == cmd.source and entry_id in gone:
            keys.append(key)
    if not keys:
        return Refusal(RejectCode.NO_CHANGE, f"no dismissal rests on those {cmd.source} entries")
    for key in keys:
        del state.dismissals[key]
    customers = sorted({dismissed_entry(key)[0] for key in keys})
    out.events.append(
        DismissalsForgotten(
            source=cmd.source,
            list_sha256=cmd.list_sha256,
            entry_ids=cmd.entry_ids,
            customers=tuple(customers),
            keys=tuple(keys),
        )
    )
    return None


def beneficiary_refusal(state: EngineState, cmd: RequestWithdrawal) -> Refusal | None:
    """A fiat withdrawal names its payee (a crypto one may), screened against every list version
    the engine holds (those whose crypto addresses it was given): an unscreened payment cannot
    leave."""
    if not cmd.beneficiary.strip():
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            f"a {cmd.asset} withdrawal names its beneficiary: the person or company the bank pays",
        )
    return unscreened(state, f"beneficiary {cmd.beneficiary.strip()!r}", cmd.screening)


def unscreened(
    state: EngineState, who: str, screening: BeneficiaryScreening | None
) -> Refusal | None:
    """`who` (a payee, a bank account's holder) must have been screened against every list
    version the engine holds, with hits that cite their evidence properly."""
    screened = set()
    if screening is not None:
        screened = {(ref.source, ref.list_sha256) for ref in screening.lists}
        for ev in screening.hits:
            if refusal := _evidence_problem(ev):
                return refusal
    missing = [
        f"{source} {sha[:12]}"
        for source, sha in sorted(state.address_lists.items())
        if (source, sha) not in screened
    ]
    if missing:
        return Refusal(
            RejectCode.UNSCREENED_BENEFICIARY,
            f"{who} was not screened against {', '.join(missing)}, in force",
        )
    return None


def confirm(state: EngineState, out: Output, cmd: ConfirmScreeningAlert) -> Refusal | None:
    alert, refusal = _open_alert(state, cmd.alert_id)
    if alert is None:
        return refusal
    alert.decision = CONFIRMED
    if alert.kind == DELISTING:
        _confirm_delisting(state, out, alert, cmd)
        return None
    out.events.append(_decided(alert, CONFIRMED, cmd.actor, cmd.reason))
    if alert.kind == BENEFICIARY:  # the payee is the listed party: the payment never leaves
        w = state.withdrawals.get(alert.withdrawal_id)
        if w is not None:
            reason = f"{cmd.reason} (beneficiary review {alert.id}: {alert.evidence.text()})"
            fail(state, out, w, reason)
        return None
    evidence = alert.evidence.text()
    for account_id in state.customers[alert.customer_id].accounts:
        acct = state.accounts[account_id]
        if not acct.frozen:
            freeze_account(state, out, acct, cmd.actor, cmd.reason, evidence)
    release_customer(state, out, alert)  # the freeze now stops everything the hold stopped
    return None


def _confirm_delisting(
    state: EngineState, out: Output, review: Alert, cmd: ConfirmScreeningAlert
) -> None:
    """The entry is gone and the officer agrees: the customer's accounts unfreeze, unless another
    confirmed listing (another list, another entry) still stands; then they stay frozen and the
    decision names it. An account staff froze by hand stays frozen until they unfreeze it."""
    standing = standing_listings(state, review.customer_id)
    ids = tuple(a.id for a in standing)
    out.events.append(_decided(review, CONFIRMED, cmd.actor, cmd.reason, ids))
    if standing:
        return
    for account_id in state.customers[review.customer_id].accounts:
        acct = state.accounts[account_id]
        if acct.frozen and not acct.manual_freeze:
            unfreeze_account(out, acct, cmd.actor, cmd.reason)


def dismiss(state: EngineState, out: Output, cmd: DismissScreeningAlert) -> Refusal | None:
    alert, refusal = _open_alert(state, cmd.alert_id)
    if alert is None:
        return refusal
    alert.decision = DISMISSED
    # A false positive is remembered until the entry changes; dismissing a delisting review
    # keeps the freeze, and remembers nothing.
    key = dismissal_key(alert.customer_id, alert.evidence) if alert.kind == HIT else ""
    w = state.withdrawals.get(alert.withdrawal_id) if alert.kind == BENEFICIARY else None
    if w is not None:  # the payment leaves once no other review holds it
        key = payee_dismissal_key(alert.customer_id, w.beneficiary, alert.evidence)
        if alert.id in w.held_by:
            w.held_by.remove(alert.id)
    if key:
        state.dismissals[key] = alert.evidence.entry_fingerprint
    out.events.append(_decided(alert, DISMISSED, cmd.actor, cmd.reason, remembered=key))
    release_customer(state, out, alert)
    return None


def set_addresses(state: EngineState, out: Output, cmd: SetSanctionedAddresses) -> Refusal | None:
    if not cmd.source or not cmd.list_sha256:
        return Refusal(RejectCode.INVALID_PARAMETER, "listed addresses name their list version")
    if state.address_lists.get(cmd.source) == cmd.list_sha256:
        return Refusal(
            RejectCode.NO_CHANGE, f"{cmd.source} {cmd.list_sha256[:12]}'s addresses are in force"
        )
    kept = {k: v for k, v in state.sanctioned_addresses.items() if v[0] != cmd.source}
    for listed in cmd.addresses:
        kept.setdefault(address_key(listed.address), (cmd.source, listed.entry_id))
    state.sanctioned_addresses = kept
    state.address_lists[cmd.source] = cmd.list_sha256
    out.events.append(
        SanctionedAddressesSet(
            source=cmd.source, list_sha256=cmd.list_sha256, addresses=len(cmd.addresses)
        )
    )
    return None


def destination_refusal(state: EngineState, destination: str) -> Refusal | None:
    """A withdrawal to an address a sanctions list names is refused, whoever asks."""
    listed = state.sanctioned_addresses.get(address_key(destination))
    if listed is None:
        return None
    source, entry_id = listed
    return Refusal(
        RejectCode.SANCTIONED_DESTINATION,
        f"withdrawals to {destination.strip()} are blocked: {source} entry {entry_id} lists it "
        f"(list version {state.address_lists[source][:12]})",
    )


def _open_alert(state: EngineState, alert_id: int) -> tuple[Alert | None, Refusal | None]:
    alert = state.alerts.get(alert_id)
    if alert is None:
        return None, Refusal(RejectCode.INVALID_PARAMETER, f"no screening alert {alert_id}")
    if alert.decision:
        return None, Refusal(RejectCode.NO_CHANGE, f"alert {alert_id} was {alert.decision}")
    return alert, None


def _decided(
    alert: Alert,
    decision: str,
    actor: str,
    reason: str,
    standing: tuple[int, ...] = (),
    remembered: str = "",
) -> ScreeningAlertDecided:
    return ScreeningAlertDecided(
        alert_id=alert.id,
        customer_id=alert.customer_id,
        decision=decision,
        actor=actor,
        reason=reason,
        standing=standing,
        remembered=remembered,
    )


def record_rescreen(state: EngineState, out: Output, cmd: RecordRescreen) -> Refusal | None:
    if not cmd.matcher or not cmd.lists or cmd.mode not in ("full", "incremental"):
        return Refusal(
            RejectCode.INVALID_PARAMETER,
            "a rescreen names its list versions, its matcher and its mode (full or incremental)",
        )
    state.screened_lists = {ref.source: ref.list_sha256 for ref in cmd.lists}
    state.screened_matcher = cmd.matcher
    out.events.append(
        RescreenRecorded(
            lists=cmd.lists, matcher=cmd.matcher, customers=cmd.customers, mode=cmd.mode
        )
    )
    return None
