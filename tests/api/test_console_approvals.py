"""The console's approvals inbox in-process: officer A proposes, senior officer B sees the
proposal with its evidence and what it would do, and approves it citing the digest the page
showed (the command then takes effect), or rejects it; the engine's refusals (self-approval, a
wrong digest, a world changed since, an expired proposal) are shown on the page and change
nothing; a role without the read is refused the inbox, a regional manager sees only their scope."""

import re
from typing import Any

import pytest

from bourse.commands import (
    AssignWork,
    Command,
    FreezeAccount,
    RaiseScreeningAlert,
    SetAccountPermissions,
    proposal_of,
)
from bourse.compliance.evidence import Evidence
from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role
from bourse.demo import DEMO_ACCOUNT_ID, KZ_ACCOUNT_ID
from tests.api.conftest import Api, wait_until
from tests.api.console import sign_in
from tests.api.test_four_eyes import hire
from tests.api.test_staff import OPERATOR, bearer

HOUR_MS = 3_600_000
EVIDENCE = "screening alert 12: OFAC SDN entry 31164, score 0.97, same date of birth"
LISTED = Evidence(
    source="ofac_sdn",
    list_sha256="ab" * 32,
    entry_id="31164",
    listed_name="TRADER, Demo",
    score_bp=9_700,
    explanation="name and date of birth match the listing",
    entry_fingerprint="f" * 16,
)


@pytest.fixture
def four_eyes(api: Api) -> None:
    """Four eyes on their default, as `bourse run` has them."""
    r = api.client.put(
        "/admin/v1/four-eyes",
        json={"commands": sorted(DEFAULT_FOUR_EYES), "reason": "the bank's policy"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text


def propose(api: Api, cmd: Command, *, hours: int = 72, evidence: str = EVIDENCE) -> int:
    """`cmd` proposed by its actor (ProposeCommand); the proposal's id."""
    expires = cmd.ts_ms + hours * HOUR_MS
    outcome = api.execute(proposal_of(cmd, expires_ms=expires, evidence=evidence))
    assert not outcome.refused, outcome
    return max(api.service.view.proposals)


def freeze(api: Api, account_id: int, by: str = "cora") -> FreezeAccount:
    return FreezeAccount(
        account_id=account_id,
        actor=f"staff:{by}",
        ts_ms=api.service.clock(),
        reason="screening alert 12 confirmed by the officer",
    )


def decide(api: Api, csrf: str, pid: int, decision: str, reason: str, **fields: str) -> Any:
    digest = fields.pop("digest", api.service.view.proposals[pid].digest)
    data = {"csrf": csrf, "decision": decision, "reason": reason, "digest": digest, **fields}
    return api.client.post(f"/console/approvals/{pid}", data=data, follow_redirects=False)


def rows(html: str) -> list[str]:
    """The proposal numbers the inbox lists, in order."""
    return re.findall(r'<td class="num">(\d+)</td>\s*<td><a href="/console/approvals/', html)


def test_a_senior_officer_sees_the_evidence_approves_and_the_freeze_takes_effect(
    api: Api, four_eyes: None
) -> None:
    cora = bearer(hire(api, "cora", Role.COMPLIANCE_OFFICER))
    body = {
        "command": {"type": "FreezeAccount", "account_id": DEMO_ACCOUNT_ID},
        "reason": "screening alert 12 confirmed by the officer",
        "evidence": EVIDENCE,
    }
    r = api.client.post("/admin/v1/proposals", json=body, headers=cora)
    assert r.status_code == 202, r.text
    pid, digest = r.json()["proposal"]["proposalId"], r.json()["proposal"]["digest"]
    older = propose(api, freeze(api, KZ_ACCOUNT_ID))  # made later: listed after it
    csrf = sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)

    inbox = api.client.get("/console/approvals")
    assert inbox.status_code == 200
    assert rows(inbox.text) == [str(pid), str(older)]  # oldest first
    assert "staff:cora" in inbox.text and "screening alert 12 confirmed" in inbox.text
    assert "account 1 (customer 1, Demo Trader)" in inbox.text
    assert "any entitled person" in inbox.text and "expired" not in inbox.text

    page = api.client.get(f"/console/approvals/{pid}")
    assert page.status_code == 200
    text = page.text
    assert EVIDENCE in text and digest in text
    assert "Demo Trader" in text and 'class="badge ok">active' in text  # as it is now
    assert "cancels its 0 open orders" in text
    assert 'value="approve"' in text and 'value="reject"' in text
    assert 'value="withdraw"' not in text  # only the proposer withdraws
    assert f'name="digest" value="{digest}"' in text

    r = decide(api, csrf, pid, "approve", "evidence checked against the passport copy")
    assert r.status_code == 303 and r.headers["location"] == "/console/approvals"
    account = api.service.view.accounts[DEMO_ACCOUNT_ID]
    assert account.frozen and account.manual_freeze
    assert pid not in api.service.view.proposals
    after = api.client.get("/console/approvals")
    assert f"Approved proposal {pid}" in after.text
    assert rows(after.text) == [str(older)]


def test_the_proposer_cannot_approve_their_own_and_may_withdraw_it(
    api: Api, four_eyes: None
) -> None:
    csrf = sign_in(api, "sue", Role.SENIOR_COMPLIANCE_OFFICER)
    pid = propose(api, freeze(api, DEMO_ACCOUNT_ID, by="sue"))
    page = api.client.get(f"/console/approvals/{pid}")
    assert page.status_code == 200
    assert 'value="approve"' not in page.text and 'value="reject"' not in page.text
    assert 'value="withdraw"' in page.text and "You proposed it" in page.text
    assert "staff:sue (you)" in page.text

    refused = decide(api, csrf, pid, "approve", "looks right to me")
    assert refused.status_code == 400
    assert 'class="error form-error"' in refused.text and "SELF_APPROVAL" in refused.text
    assert "looks right to me" in refused.text  # the reason typed is kept
    assert pid in api.service.view.proposals
    assert not api.service.view.accounts[DEMO_ACCOUNT_ID].frozen

    r = decide(api, csrf, pid, "withdraw", "proposed on the wrong account")
    assert r.status_code == 303
    assert pid not in api.service.view.proposals
    assert not api.service.view.accounts[DEMO_ACCOUNT_ID].frozen
    assert f"Withdrew proposal {pid}" in api.client.get("/console/approvals").text


def test_a_rejection_needs_a_reason_and_only_the_proposer_withdraws(
    api: Api, four_eyes: None
) -> None:
    sign_in(api, "cora")
    pid = propose(api, freeze(api, DEMO_ACCOUNT_ID))
    csrf = sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    blank = decide(api, csrf, pid, "reject", "   ")
    assert blank.status_code == 400
    assert 'id="e-reason"' in blank.text and 'aria-invalid="true"' in blank.text
    assert pid in api.service.view.proposals
    no_decision = decide(api, csrf, pid, "", "a reason")
    assert no_decision.status_code == 400 and "choose a decision" in no_decision.text
    not_his = decide(api, csrf, pid, "withdraw", "not mine to take back")
    assert not_his.status_code == 400 and "NOT_PERMITTED" in not_his.text
    assert pid in api.service.view.proposals

    r = decide(api, csrf, pid, "reject", "the alert names another person")
    assert r.status_code == 303
    assert pid not in api.service.view.proposals
    assert not api.service.view.accounts[DEMO_ACCOUNT_ID].frozen
    gone = api.client.get(f"/console/approvals/{pid}")
    assert gone.status_code == 404 and "already decided" in gone.text
    assert api.client.get("/console/approvals/abc").status_code == 404


def test_a_wrong_digest_a_changed_world_or_an_expired_proposal_is_refused(
    api: Api, four_eyes: None
) -> None:
    sign_in(api, "cora")
    pid = propose(api, freeze(api, DEMO_ACCOUNT_ID))
    short = propose(api, freeze(api, KZ_ACCOUNT_ID), hours=1)
    csrf = sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)

    wrong = decide(api, csrf, pid, "approve", "checked", digest="0" * 20)
    assert wrong.status_code == 400 and "PREVIEW_MISMATCH" in wrong.text
    assert not api.service.view.accounts[DEMO_ACCOUNT_ID].frozen

    # the account changes after the page was shown: the approval is stale
    changed = api.execute(
        SetAccountPermissions(
            account_id=DEMO_ACCOUNT_ID,
            can_trade=True,
            can_deposit=True,
            can_withdraw=False,
            actor="operator",
            ts_ms=api.service.clock(),
            reason="bank asked to pause payouts",
        )
    )
    assert not changed.refused, changed
    stale = decide(api, csrf, pid, "approve", "checked")
    assert stale.status_code == 400 and "PROPOSAL_STALE" in stale.text
    assert "nothing changed" in stale.text
    assert not api.service.view.accounts[DEMO_ACCOUNT_ID].frozen
    assert pid in api.service.view.proposals

    now = api.service.clock()
    api.service.clock = lambda: now + 2 * HOUR_MS  # type: ignore[method-assign]
    inbox = api.client.get("/console/approvals")
    assert 'class="badge bad">expired' in inbox.text
    page = api.client.get(f"/console/approvals/{short}")
    assert 'value="approve"' not in page.text and 'value="reject"' in page.text
    late = decide(api, csrf, short, "approve", "late")
    assert late.status_code == 400 and "PROPOSAL_EXPIRED" in late.text
    assert not api.service.view.accounts[KZ_ACCOUNT_ID].frozen


def test_an_alert_confirmation_shows_the_customer_beside_the_listed_entry(
    api: Api, four_eyes: None
) -> None:
    raised = api.execute(
        RaiseScreeningAlert(
            customer_id=1, evidence=LISTED, actor="system:screening", ts_ms=api.service.clock()
        )
    )
    assert not raised.refused, raised
    alert = max(api.service.view.alerts)
    cora = bearer(hire(api, "cora", Role.COMPLIANCE_OFFICER))
    r = api.client.post(
        f"/admin/v1/alerts/{alert}/confirm", json={"reason": "same person"}, headers=cora
    )
    assert r.status_code == 202, r.text
    pid = r.json()["proposal"]["proposalId"]
    csrf = sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    page = api.client.get(f"/console/approvals/{pid}")
    assert page.status_code == 200
    assert "The customer beside the listed entry" in page.text
    assert "Demo Trader" in page.text and "TRADER, Demo" in page.text
    assert "ofac_sdn entry 31164" in page.text and "score 0.97" in page.text
    assert "name and date of birth match the listing" in page.text
    assert "every account of theirs (1) is frozen" in page.text

    r = decide(api, csrf, pid, "approve", "passport copy matches the listing")
    assert r.status_code == 303
    assert api.service.view.accounts[DEMO_ACCOUNT_ID].frozen
    assert api.service.view.alerts[alert].decision == "confirmed"
    # the decision's record names both people: who proposed it, and who approved it
    approved = "approved by staff:sid (“passport copy matches the listing”)"
    wait_until(lambda: approved in api.client.get(f"/console/alerts/{alert}").text)
    shown = api.client.get(f"/console/alerts/{alert}").text
    assert "proposed by staff:cora (“same person”)" in shown


def test_a_policy_proposal_shows_its_preview_counted_again(api: Api, four_eyes: None) -> None:
    preview = api.client.post(
        "/admin/v1/policies/preview",
        json={
            "name": "DE trading pause",
            "country": "DE",
            "rules": [{"capability": "TRADING", "access": "SUSPENDED"}],
        },
        headers=OPERATOR,
    )
    assert preview.status_code == 200, preview.text
    cora = bearer(hire(api, "cora", Role.COMPLIANCE_OFFICER))
    applied = api.client.post(
        "/admin/v1/policies/apply",
        json={**preview.json()["apply"], "reason": "regulator's instruction 2024/17"},
        headers=cora,
    )
    assert applied.status_code == 202, applied.text
    pid = applied.json()["proposal"]["proposalId"]
    sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    page = api.client.get(f"/console/approvals/{pid}")
    assert page.status_code == 200
    assert "trading suspended" in page.text and "none: all open" in page.text
    assert 'class="badge ok">unchanged' in page.text
    assert "1: Demo Trader" in page.text  # the sample of whom it names
    # someone joins the people it names: the page says the approval would be refused
    joined = api.client.post(
        "/admin/v1/customers",
        json={
            "legal_name": "Jonas Achterberg",
            "date_of_birth": "1980-03-14",
            "nationality": "DE",
            "residence": "DE",
            "reason": "KYC approved",
        },
        headers=OPERATOR,
    )
    assert joined.status_code == 200, joined.text
    page = api.client.get(f"/console/approvals/{pid}")
    assert 'class="badge bad">changed' in page.text
    assert "the approval will be refused" in page.text


def test_the_mine_filter_and_an_assignment_to_someone_else(api: Api, four_eyes: None) -> None:
    sign_in(api, "cora")
    pid = propose(api, freeze(api, DEMO_ACCOUNT_ID))
    sign_in(api, "sue", Role.SENIOR_COMPLIANCE_OFFICER)
    assigned = api.execute(
        AssignWork(
            item=f"proposal:{pid}",
            owner="staff:sue",
            actor="operator",
            ts_ms=api.service.clock(),
            reason="sue covers this desk",
        )
    )
    assert not assigned.refused, assigned
    assert rows(api.client.get("/console/approvals?show=mine").text) == [str(pid)]
    sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    mine = api.client.get("/console/approvals?show=mine")
    assert rows(mine.text) == [] and "Nothing waiting is assigned to you" in mine.text
    assert rows(api.client.get("/console/approvals").text) == [str(pid)]
    page = api.client.get(f"/console/approvals/{pid}")
    assert "assigned to staff:sue" in page.text and 'value="approve"' not in page.text


def test_support_is_refused_and_a_regional_manager_sees_only_their_scope(
    api: Api, four_eyes: None
) -> None:
    sign_in(api, "cora")
    de = propose(api, freeze(api, DEMO_ACCOUNT_ID))
    kz = propose(api, freeze(api, KZ_ACCOUNT_ID))
    sign_in(api, "sam", Role.SUPPORT)
    assert api.client.get("/console/approvals").status_code == 403
    assert api.client.get(f"/console/approvals/{de}").status_code == 403

    csrf = sign_in(api, "kaz", Role.REGIONAL_MANAGER, countries=["KZ"])
    inbox = api.client.get("/console/approvals")
    assert inbox.status_code == 200 and rows(inbox.text) == [str(kz)]
    assert api.client.get(f"/console/approvals/{de}").status_code == 403
    refused = api.client.post(
        f"/console/approvals/{de}",
        data={"csrf": csrf, "decision": "approve", "reason": "x", "digest": "0"},
    )
    assert refused.status_code == 403 and de in api.service.view.proposals
    r = decide(api, csrf, kz, "approve", "KZ desk checked the evidence")
    assert r.status_code == 303
    assert api.service.view.accounts[KZ_ACCOUNT_ID].frozen
    assert not api.service.view.accounts[DEMO_ACCOUNT_ID].frozen
