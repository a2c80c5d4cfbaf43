"""Screening alerts: the one way to open one, shared by customer hits, delisting reviews and the
reviews that hold a fiat withdrawal, and the holds they place. (Their kinds, decisions and
dismissal keys are plain values in compliance/alerts.py.)"""

from bourse.commands import RequestWithdrawal
from bourse.compliance.alerts import BENEFICIARY, CONFIRMED, HIT, payee_dismissal_key
from bourse.compliance.evidence import Evidence
from bourse.engine.cancels import cancel_account_orders
from bourse.engine.output import Output
from bourse.engine.state import Alert, EngineState
from bourse.events import CustomerHeld, CustomerReleased, ScreeningAlertRaised


def open_alert(
    state: EngineState,
    out: Output,
    customer_id: int,
    evidence: Evidence,
    raised_ms: int,
    kind: str,
    reviews: int = 0,
    withdrawal_id: int = 0,
) -> Alert:
    alert_id = state.next_alert_id
    state.next_alert_id = alert_id + 1
    alert = Alert(alert_id, customer_id, evidence, raised_ms, kind)
    alert.reviews = reviews
    alert.withdrawal_id = withdrawal_id
    state.alerts[alert_id] = alert
    out.events.append(
        ScreeningAlertRaised(
            alert_id=alert_id,
            customer_id=customer_id,
            evidence=evidence,
            kind=kind,
            reviews=reviews,
            withdrawal_id=withdrawal_id,
        )
    )
    return alert


def standing_listings(state: EngineState, customer_id: int) -> list[Alert]:
    """The customer's confirmed hits whose listing still stands: every list, every entry, unless
    a confirmed delisting review says the entry is gone. Any one of them keeps a freeze."""
    standing = []
    for alert in state.alerts.values():
        if alert.customer_id != customer_id or alert.kind != HIT or alert.decision != CONFIRMED:
            continue
        review = state.alerts.get(alert.reviews) if alert.reviews else None
        if review is None or review.decision != CONFIRMED:
            standing.append(alert)
    return standing


def listings_text(alerts: list[Alert]) -> str:
    """Each listing as its alert and entry, e.g. `alert 2 (un_sc entry 6907993, ERIC BADEGE)`."""
    return ", ".join(
        f"alert {a.id} ({a.evidence.source} entry {a.evidence.entry_id}, {a.evidence.listed_name})"
        for a in alerts
    )


def hold_customer(state: EngineState, out: Output, alert: Alert) -> None:
    """A customer screened at onboarding with a hit may not move money until it is decided."""
    alert.holds = True
    cust = state.customers[alert.customer_id]
    cust.held_by.append(alert.id)
    out.events.append(CustomerHeld(customer_id=cust.id, alert_id=alert.id))
    for account_id in cust.accounts:  # none rest so soon after onboarding; if one does, it ends
        acct = state.accounts[account_id]
        if acct.open_orders:
            cancel_account_orders(state, out, acct, f"held for screening alert {alert.id}")


def release_customer(state: EngineState, out: Output, alert: Alert) -> None:
    """The decided alert no longer holds its customer (others may still)."""
    held_by = state.customers[alert.customer_id].held_by
    if alert.id in held_by:
        held_by.remove(alert.id)
        out.events.append(
            CustomerReleased(
                customer_id=alert.customer_id, alert_id=alert.id, held_by=tuple(held_by)
            )
        )


def hold_for_review(
    state: EngineState, out: Output, cmd: RequestWithdrawal, withdrawal_id: int, customer_id: int
) -> list[int]:
    """A review for each entry the payee matched, except those dismissed for this customer and
    payee while unchanged; the ids of the alerts now holding the withdrawal."""
    held: list[int] = []
    seen: set[tuple[str, str]] = set()
    for ev in cmd.screening.hits if cmd.screening else ():
        if (ev.source, ev.entry_id) in seen:
            continue
        seen.add((ev.source, ev.entry_id))
        key = payee_dismissal_key(customer_id, cmd.beneficiary, ev)
        if state.dismissals.get(key) == ev.entry_fingerprint:
            continue
        alert = open_alert(
            state, out, customer_id, ev, cmd.ts_ms, BENEFICIARY, withdrawal_id=withdrawal_id
        )
        held.append(alert.id)
    return held
