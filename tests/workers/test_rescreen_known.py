"""What a rescreen leaves out as already decided (`_known`): only a hit still open, or confirmed
while its entry never left the list. A payee review or a delisting review on the same entry never
stands in for a hit on the customer."""

from bourse.commands import ConfirmScreeningAlert, RaiseDelistingReview, RaiseScreeningAlert
from bourse.engine.alerts import BENEFICIARY, open_alert
from bourse.engine.output import Output
from bourse.workers.rescreen import _known
from tests.builders import onboard, world
from tests.engine.test_screening_decisions import EVIDENCE

KEY_OF = "{}:ofac_sdn:15718"


def test_only_open_or_standing_hits_are_left_out() -> None:
    r = world(accounts=1)
    payer, _ = onboard(r, "DE", name="Anna Schmidt")
    listed, _ = onboard(r, "CD", name="Erik Badege")
    out = Output()
    out.events = []
    open_alert(r.state, out, payer, EVIDENCE, r.ts_ms, BENEFICIARY, withdrawal_id=1)
    assert KEY_OF.format(payer) not in _known(r.state).open  # paying them is not being them

    r.do(RaiseScreeningAlert, customer_id=listed, evidence=EVIDENCE)
    assert KEY_OF.format(listed) in _known(r.state).open  # open
    hit = max(r.state.alerts)
    r.do(ConfirmScreeningAlert, alert_id=hit)
    assert KEY_OF.format(listed) in _known(r.state).open  # confirmed: frozen on it already
    r.do(RaiseDelistingReview, alert_id=hit, list_sha256="ef" * 32)
    assert KEY_OF.format(listed) not in _known(r.state).open  # gone: its return is new
