"""The console's sanctions alert queue: open alerts oldest first, one alert's customer beside the
listed entry with its score explained part by part, and a decision (confirm or dismiss) with a
reason, run at once or proposed for a second person under four eyes; nobody without the read,
or outside the customer's scope, sees any of it."""

import html
from pathlib import Path
from typing import Any

from bourse.api.console.alerts import score_parts
from bourse.commands import ConfirmScreeningAlert, RaiseScreeningAlert
from bourse.compliance.evidence import Evidence
from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role
from tests.api.conftest import Api
from tests.api.console import sign_in
from tests.api.test_screening_flow import DOB, LISTED, NEW_ROW, OTHER, load, sdn_with
from tests.api.test_staff import OPERATOR

# the evidence a name hit carries, in the matcher's words (screen.py `_name_hit`)
EVIDENCE = Evidence(
    source="ofac_sdn",
    list_sha256="ab" * 32,
    entry_id="15718",
    listed_name="BADEGE, Eric",
    score_bp=9_159,
    explanation=(
        "ofac_sdn 15718 at 0.92: name 'Erik Badege' ~ primary 'BADEGE, Eric' 0.94 "
        "[erik~eric (0.95), badege=badege, order swapped]; DOB 1971-05-02 differs from listed "
        "1971-06-03 (-0.05); country DE not among listed CD (-0.05)"
    ),
    entry_fingerprint="f1",
)
CUSTOMER = {
    "legal_name": "Erik Badege",
    "date_of_birth": "1971-05-02",
    "nationality": "DE",
    "residence": "DE",
    "reason": "KYC file 4410",
}


def onboard(api: Api, **fields: Any) -> tuple[int, int]:
    r = api.client.post("/admin/v1/customers", json={**CUSTOMER, **fields}, headers=OPERATOR)
    assert r.status_code == 200, r.text
    return r.json()["customerId"], r.json()["accountId"]


def raise_alert(api: Api, customer_id: int, evidence: Evidence = EVIDENCE) -> int:
    outcome = api.execute(
        RaiseScreeningAlert(
            customer_id=customer_id,
            evidence=evidence,
            actor="system:screening",
            ts_ms=api.service.clock(),
        )
    )
    assert not outcome.refused, outcome
    return max(api.service.view.alerts)


def four_eyes_on(api: Api) -> None:
    r = api.client.put(
        "/admin/v1/four-eyes",
        json={"commands": sorted(DEFAULT_FOUR_EYES), "reason": "the bank's policy"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text


def text(page: Any) -> str:
    """The page's text with entities decoded, for assertions on what a person reads."""
    return html.unescape(page.text)


def test_an_onboarding_hit_is_queued_and_shows_customer_entry_and_each_score_part(
    api: Api, tmp_path: Path
) -> None:
    load(api, sdn_with(tmp_path, "sdn.csv", NEW_ROW), "2026-03-01")
    customer, _ = onboard(api, legal_name=LISTED, date_of_birth=DOB)
    alert = next(a for a in api.service.view.alerts.values() if a.customer_id == customer)
    assert alert.holds and alert.evidence.entry_id == "99001"
    other = raise_alert(
        api, onboard(api, legal_name=OTHER, residence="FR")[0]
    )  # raised later: listed after
    sign_in(api, "cora")

    queue = api.client.get("/console/alerts")
    assert queue.status_code == 200
    page = text(queue)
    assert f'href="/console/alerts/{alert.id}"' in page
    for shown in (LISTED, "BAUMANN, Wolfgang Reinholt", "ofac_sdn", "1.00", "onboarding hit"):
        assert shown in page, shown
    assert "holds the customer" in page and "nobody" in page  # no owner yet
    assert page.index(f"Alert {alert.id}<") < page.index(f"Alert {other}<")  # oldest first

    detail = api.client.get(f"/console/alerts/{alert.id}")
    assert detail.status_code == 200
    page = text(detail)
    # the customer's record: legal name, date of birth, nationality, residence
    for kyc in (LISTED, DOB, "<dd>DE</dd>"):
        assert kyc in page, kyc
    assert f'href="/console/customers/{customer}"' in page
    # the listed entry, from the list version the evidence cites
    assert "99001" in page and "SDGT" in page and "1980-03-14" in page
    assert "published 2026-03-01" in page and alert.evidence.list_sha256 in page
    # the score part by part, with the matcher's own numbers
    parts = {p.part: p for p in score_parts(alert.evidence.explanation)}
    assert parts["Name"].effect == "1.00"
    assert [(p.query, p.listed, p.how) for p in parts["Name"].pairs] == [
        ("wolfgang", "wolfgang", "identical"),
        ("reinholt", "reinholt", "identical"),
        ("baumann", "baumann", "identical"),
    ]
    assert parts["Date of birth"].effect == "+0.05" and parts["Country"].effect == "no weight"
    assert "<td>reinholt</td><td>reinholt</td><td>identical</td>" in page
    assert "DOB 1980-03-14 matches listed 1980-03-14 by date (+0.05)" in page
    assert '<td class="num">+0.05</td>' in page and "order swapped" in page


def test_the_score_parts_of_hand_made_and_identifier_evidence() -> None:
    parts = score_parts(EVIDENCE.explanation)
    assert [(p.part, p.effect) for p in parts] == [
        ("Name", "0.94"),
        ("Date of birth", "-0.05"),
        ("Country", "-0.05"),
    ]
    assert [(p.query, p.listed, p.how, p.similarity) for p in parts[0].pairs] == [
        ("erik", "eric", "similar", "0.95"),
        ("badege", "badege", "identical", ""),
    ]
    assert parts[0].notes == ("order swapped",)
    only_parts = score_parts("erik~eric (0.95, by sound), badege=badege, unmatched in listed: x")
    assert [p.part for p in only_parts] == ["Name parts"]
    assert only_parts[0].pairs[0].note == "by sound"
    assert only_parts[0].notes == ("only in the listed name: x",)
    identifier = score_parts(
        "BIC DEUTDEFF matches ofac_sdn 7 (DEUTSCHE X) listed DEUTDEFF500 (institution code); "
        "name also matches: ofac_sdn 7 at 0.80: name 'Deutsche X' ~ alias 'DEUTSCHE X' 0.80 "
        "[deutsche=deutsche, x=x]; weak alias, weighted x0.9"
    )
    assert [(p.part, p.effect) for p in identifier] == [
        ("Identifier", "decides alone"),
        ("Name (also)", "0.80"),
        ("Weak alias (also)", "x0.9"),
    ]
    assert [(p.part, p.effect) for p in score_parts("analyst noted a likely match")] == [
        ("Explanation", "")
    ]


def test_a_decision_needs_a_reason_and_under_four_eyes_waits_for_a_second_person(
    api: Api,
) -> None:
    customer, account = onboard(api)
    alert = raise_alert(api, customer)
    four_eyes_on(api)
    token = sign_in(api, "cora")
    assigned = api.client.post(
        "/admin/v1/assignments",
        json={"item": f"alert:{alert}", "owner": "staff:cora", "reason": "sanctions desk"},
        headers=OPERATOR,
    )
    assert assigned.status_code == 200, assigned.text
    url = f"/console/alerts/{alert}/decide"
    view = api.service.view
    page = text(api.client.get(f"/console/alerts/{alert}"))
    assert "<dd>staff:cora</dd>" in page  # its owner
    assert "This list version is not stored on this server" in page  # hand-made evidence
    assert "<td>erik</td><td>eric</td><td>similar</td>" in page  # the name parts aligned
    assert '<td class="num">0.95</td>' in page and '<td class="num">-0.05</td>' in page

    blank = api.client.post(url, data={"csrf": token, "decision": "confirm", "reason": "  "})
    assert blank.status_code == 400
    assert 'id="e-reason"' in blank.text and "say why" in blank.text
    long = api.client.post(url, data={"csrf": token, "decision": "confirm", "reason": "x" * 501})
    assert long.status_code == 400 and "at most 500 characters" in long.text
    none = api.client.post(url, data={"csrf": token, "reason": "same person"})
    assert none.status_code == 400 and 'id="e-decision"' in none.text
    assert "same person" in none.text  # what was typed is kept
    forged = api.client.post(url, data={"csrf": "x", "decision": "confirm", "reason": "r"})
    assert forged.status_code == 403
    assert view.alerts[alert].decision == "" and not view.proposals
    assert not view.accounts[account].frozen

    r = api.client.post(
        url,
        data={"csrf": token, "decision": "confirm", "reason": "passport matches the listing"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/console/alerts/{alert}"
    (proposal,) = view.proposals.values()
    assert isinstance(proposal.command, ConfirmScreeningAlert)
    assert (proposal.command.alert_id, proposal.proposer) == (alert, "staff:cora")
    assert proposal.reason == "passport matches the listing"
    assert view.alerts[alert].decision == "" and not view.accounts[account].frozen
    shown = text(api.client.get(r.headers["location"]))
    assert f"Proposed as #{proposal.id}" in shown and "Approvals" in shown
    assert f'href="/console/approvals/{proposal.id}"' in shown  # the waiting proposal, linked
    queue = text(api.client.get("/console/alerts"))
    assert f"confirm proposed (#{proposal.id})" in queue


def test_without_four_eyes_a_dismissal_decides_and_a_confirmation_freezes(api: Api) -> None:
    dismissed_customer, _ = onboard(api)
    frozen_customer, frozen_account = onboard(api, legal_name="Eric Badege")
    dismiss = raise_alert(api, dismissed_customer)
    confirm = raise_alert(api, frozen_customer)
    token = sign_in(api, "cora")
    view = api.service.view

    r = api.client.post(
        f"/console/alerts/{dismiss}/decide",
        data={"csrf": token, "decision": "dismiss", "reason": "different date of birth"},
    )
    assert r.status_code == 200 and "dismissed as a false positive" in r.text
    assert view.alerts[dismiss].decision == "dismissed"
    assert "different date of birth" in text(r) and "by staff:cora" in r.text  # the store's record
    assert 'id="f-reason"' not in r.text  # decided: no form any more
    again = api.client.post(
        f"/console/alerts/{dismiss}/decide",
        data={"csrf": token, "decision": "confirm", "reason": "changed my mind"},
    )
    assert again.status_code == 400 and "is dismissed already" in again.text
    assert view.alerts[dismiss].decision == "dismissed"

    r = api.client.post(
        f"/console/alerts/{confirm}/decide",
        data={"csrf": token, "decision": "confirm", "reason": "same person"},
    )
    assert r.status_code == 200 and f"Accounts frozen: {frozen_account}" in r.text
    assert view.alerts[confirm].decision == "confirmed" and view.accounts[frozen_account].frozen

    open_only = text(api.client.get("/console/alerts"))
    assert f"/console/alerts/{dismiss}" not in open_only and "Open alerts (0)" in open_only
    everything = text(api.client.get("/console/alerts?decided=1"))
    assert f"/console/alerts/{dismiss}" in everything and f"/console/alerts/{confirm}" in everything
    assert "All alerts (2)" in everything


def test_bad_addresses_and_filters_are_clear_pages(api: Api) -> None:
    raise_alert(api, onboard(api)[0])
    sign_in(api, "cora")
    for path in ("/console/alerts/999", "/console/alerts/abc", "/console/alerts/-1"):
        r = api.client.get(path)
        assert r.status_code == 404 and "there is no alert" in r.text, path
    bad_kind = api.client.get("/console/alerts?kind=nonsense")
    assert bad_kind.status_code == 400 and 'id="e-kind"' in bad_kind.text
    bad_page = api.client.get("/console/alerts?from=x")
    assert bad_page.status_code == 400
    hits = text(api.client.get("/console/alerts?kind=hit"))
    assert "Open alerts (1)" in hits
    assert "Open alerts (0)" in text(api.client.get("/console/alerts?kind=delisting"))


def test_support_is_refused_and_a_regional_manager_reads_only_their_scope(api: Api) -> None:
    german = raise_alert(api, onboard(api)[0])
    french = raise_alert(api, onboard(api, legal_name="Eric Badege", residence="FR")[0])

    sign_in(api, "sam", Role.SUPPORT)
    for path in ("/console/alerts", f"/console/alerts/{german}"):
        r = api.client.get(path)
        assert r.status_code == 403 and "does not read compliance" in r.text, path

    token = sign_in(api, "remy", Role.REGIONAL_MANAGER, countries=["FR"])
    queue = text(api.client.get("/console/alerts"))
    assert f"/console/alerts/{french}" in queue and f"/console/alerts/{german}" not in queue
    assert "Open alerts (1)" in queue
    assert api.client.get(f"/console/alerts/{french}").status_code == 200
    refused = api.client.get(f"/console/alerts/{german}")
    assert refused.status_code == 403 and "remy reads within FR only" in refused.text
    post = api.client.post(
        f"/console/alerts/{german}/decide",
        data={"csrf": token, "decision": "dismiss", "reason": "not mine to decide"},
    )
    assert post.status_code == 403
    assert api.service.view.alerts[german].decision == ""


def test_an_auditor_reads_alerts_in_scope_but_is_offered_no_decision(api: Api) -> None:
    alert = raise_alert(api, onboard(api)[0])
    sign_in(api, "aud", Role.AUDITOR, countries=["DE"])
    page = api.client.get(f"/console/alerts/{alert}")
    assert page.status_code == 200
    assert 'id="f-reason"' not in page.text and "Your role does not decide alerts" in page.text
