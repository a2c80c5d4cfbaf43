"""Whom a record concerns, read off its command and events: a cut-off is filed under every
account its report names, so a customer's dossier shows the cut-off that returned their
payout."""

from bourse.audit.subjects import subjects
from bourse.banking.cutoff import Cause, CutOffFingerprint, CutOffSpec, Outgoing
from bourse.banking.rails import TransferFate
from bourse.commands import CutOffBank
from bourse.events import BankCutOff


def test_a_cut_off_is_filed_under_the_accounts_its_report_names() -> None:
    spec = CutOffSpec(bic="VTBRRUMMXXX", cause=Cause.SANCTIONED, outgoing=Outgoing.RETURN)
    seen = CutOffFingerprint(accounts=2, account_version=3, transfers="x")
    cmd = CutOffBank(
        actor="staff:a", ts_ms=1, reason="r", spec=spec, preview_id="p", previewed=seen
    )
    report = tuple(
        TransferFate(
            kind="PAYOUT",
            id=n,
            account_id=account,
            currency="EUR",
            amount_raw=100,
            fate="RETURNED",
            detail="back",
        )
        for n, account in ((1, 7), (2, 9), (3, 0))
    )
    event = BankCutOff(
        cutoff_id=1,
        bic=spec.bic,
        cause=spec.cause,
        effective_ms=1,
        outgoing=spec.outgoing,
        preview_id="p",
        bank_accounts=2,
        report=report,
        actor="staff:a",
        reason="r",
    )
    assert subjects(cmd, [event]) == {"account": {7, 9}}
