"""What a rescreen leaves out as already decided (`_known`, read from the read model): only a hit
still open, or confirmed while its entry never left the list. A payee review or a delisting review
on the same entry never stands in for a hit on the customer."""

from bourse.commands import (
    ConfirmScreeningAlert,
    RaiseDelistingReview,
    RaiseScreeningAlert,
    RequestWithdrawal,
    SetSanctionedAddresses,
)
from bourse.compliance.evidence import BeneficiaryScreening, ListRef
from bourse.events import ScreeningAlertRaised
from bourse.workers.rescreen import _known
from tests.builders import BTC_ADDRESS, of, onboard, raw, world
from tests.engine.test_screening_decisions import EVIDENCE

KEY_OF = "{}:ofac_sdn:15718"


def test_only_open_or_standing_hits_are_left_out() -> None:
    r = world(accounts=1)
    r.do(SetSanctionedAddresses, source="ofac_sdn", list_sha256=EVIDENCE.list_sha256, addresses=())
    payer, account = onboard(r, "DE", name="Anna Schmidt")
    listed, _ = onboard(r, "CD", name="Erik Badege")
    r.deposit(account, "BTC", "1")
    screened = BeneficiaryScreening(
        lists=(ListRef(source="ofac_sdn", list_sha256=EVIDENCE.list_sha256),), hits=(EVIDENCE,)
    )
    paid = r.do(
        RequestWithdrawal,
        account_id=account,
        asset="BTC",
        amount_raw=raw("0.1"),
        destination=BTC_ADDRESS,
        beneficiary="Eric Badege",
        screening=screened,
    )
    assert [e.kind for e in of(paid, ScreeningAlertRaised)] == ["beneficiary"]
    assert KEY_OF.format(payer) not in _known(r.view).open  # paying them is not being them

    r.do(RaiseScreeningAlert, customer_id=listed, evidence=EVIDENCE)
    assert KEY_OF.format(listed) in _known(r.view).open  # open
    hit = max(r.view.alerts)
    r.do(ConfirmScreeningAlert, alert_id=hit)
    assert KEY_OF.format(listed) in _known(r.view).open  # confirmed: frozen on it already
    r.do(RaiseDelistingReview, alert_id=hit, list_sha256="ef" * 32)
    assert KEY_OF.format(listed) not in _known(r.view).open  # gone: its return is new
