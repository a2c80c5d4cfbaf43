"""Folding a batch's screening events into rows (see `batch`): alerts, with their decisions and
the payee they hold, rescreens with their list versions, list versions given to the engine.

Pure, like `batch`: an alert raised in this batch is one insert with its decision folded in; a
decision on an alert of an earlier batch is a patch the projector overlays on the stored row.
"""

from typing import Any

from bourse.events import (
    ProposalDecided,
    RescreenRecorded,
    SanctionedAddressesSet,
    ScreeningAlertDecided,
    ScreeningAlertRaised,
    WithdrawalRequested,
)

Row = dict[str, Any]

ScreeningEvent = (
    ScreeningAlertRaised
    | ScreeningAlertDecided
    | RescreenRecorded
    | SanctionedAddressesSet
    | WithdrawalRequested
)


class ScreeningBatch:
    def __init__(self) -> None:
        self.new_alerts: dict[int, Row] = {}
        self.alert_patches: dict[int, Row] = {}
        self.rescreens: list[Row] = []
        self.rescreen_lists: list[Row] = []
        self.list_versions: list[Row] = []

    def add(
        self, e: ScreeningEvent, seq: int, ts: int, approval: ProposalDecided | None = None
    ) -> None:
        """`approval`: the second person's, when the decision ran as an approved proposal."""
        match e:
            case ScreeningAlertRaised():
                self._raised(e, seq, ts)
            case ScreeningAlertDecided():
                self._alert(
                    e.alert_id,
                    decision=e.decision,
                    decided_by=e.actor,
                    decision_reason=e.reason,
                    decided_seq=seq,
                    decided_ms=ts,
                    approved_by=approval.actor if approval else None,
                    approval_reason=approval.reason if approval else None,
                )
            case RescreenRecorded():
                self.rescreens.append(
                    {
                        "seq": seq,
                        "ts_ms": ts,
                        "matcher": e.matcher,
                        "customers": e.customers,
                        "mode": e.mode,
                    }
                )
                self.rescreen_lists += [
                    {
                        "seq": seq,
                        "position": n,
                        "source": ref.source,
                        "list_sha256": ref.list_sha256,
                    }
                    for n, ref in enumerate(e.lists)
                ]
            case WithdrawalRequested():
                # the payee each review holding it is about: the alerts name only the
                # withdrawal's id (raised just before it, by the same command)
                for alert_id in e.held_by:
                    self._alert(alert_id, beneficiary=e.beneficiary)
            case SanctionedAddressesSet():
                self.list_versions.append(
                    {
                        "seq": seq,
                        "ts_ms": ts,
                        "source": e.source,
                        "list_sha256": e.list_sha256,
                        "addresses": e.addresses,
                    }
                )

    def _raised(self, e: ScreeningAlertRaised, seq: int, ts: int) -> None:
        ev = e.evidence
        self.new_alerts[e.alert_id] = {
            "alert_id": e.alert_id,
            "raised_seq": seq,
            "raised_ms": ts,
            "customer_id": e.customer_id,
            "kind": e.kind,
            "source": ev.source,
            "list_sha256": ev.list_sha256,
            "entry_id": ev.entry_id,
            "listed_name": ev.listed_name,
            "score_bp": ev.score_bp,
            "explanation": ev.explanation,
            "entry_fingerprint": ev.entry_fingerprint,
            "reviews": e.reviews,
            "withdrawal_id": e.withdrawal_id,
            "beneficiary": "",
            "decision": None,
            "decided_by": None,
            "decision_reason": None,
            "decided_seq": None,
            "decided_ms": None,
            "approved_by": None,
            "approval_reason": None,
        }

    def _alert(self, alert_id: int, **fields: Any) -> None:
        row = self.new_alerts.get(alert_id)
        if row is not None:  # raised in this batch: fold into its insert
            row.update(fields)
        else:
            self.alert_patches.setdefault(alert_id, {}).update(fields)
