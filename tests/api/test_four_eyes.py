"""Four eyes through the admin API: a route whose command four eyes cover proposes it (202);
a second, entitled person approves it citing its digest; everything else about it is refused
with a clear error and changes nothing."""

from decimal import Decimal
from typing import Any

import pytest

from bourse.commands import AddStaff
from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role
from bourse.events import AccountFrozen, DepositCredited, Outcome
from tests.api.conftest import Api
from tests.api.test_staff import OPERATOR, bearer

HOUR_MS = 3_600_000


@pytest.fixture
def office(api: Api) -> dict[str, dict[str, str]]:
    """Four eyes on their default; compliance officer cora, senior officers sid and sue."""
    r = api.client.put(
        "/admin/v1/four-eyes",
        json={"commands": sorted(DEFAULT_FOUR_EYES), "reason": "the bank's policy"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text  # none were set: one person turns them on
    people = {
        "cora": bearer(hire(api, "cora", Role.COMPLIANCE_OFFICER)),
        "sid": bearer(hire(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)),
        "sue": bearer(hire(api, "sue", Role.SENIOR_COMPLIANCE_OFFICER)),
    }
    return people


def hire(api: Api, name: str, role: Role, **fields: Any) -> str:
    """A staff member (`fields`: venues, countries, team) and their token. AddStaff is
    four-eyed here and nobody could approve the first ones yet, so they are added as `bourse
    run` seeds its demo staff: by the exchange's own genesis actor."""
    scope = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
    cmd = AddStaff(
        name=name,
        role=role,
        actor="system:genesis",
        ts_ms=api.service.clock(),
        reason="hired",
        **scope,
    )
    outcome = api.execute(cmd)
    assert not outcome.refused, outcome
    r = api.client.post(
        f"/admin/v1/staff/{name}/tokens", json={"reason": "hired"}, headers=OPERATOR
    )
    assert r.status_code == 200, r.text
    token: str = r.json()["token"]
    return token


def released(api: Api) -> list[Outcome]:
    seen: list[Outcome] = []
    api.service.on_release.append(seen.extend)
    return seen


def test_a_deposit_waits_for_a_second_officer_and_runs_as_the_proposers(
    api: Api, office: dict[str, dict[str, str]]
) -> None:
    seen = released(api)
    deposit = {"account_id": 1, "asset": "USDT", "amount": "1000000", "reason": "wire 7781"}
    r = api.client.post("/admin/v1/deposits", json=deposit, headers=office["cora"])
    assert r.status_code == 202, r.text
    proposal = r.json()["proposal"]
    assert r.json()["message"].startswith("Deposit needs a second person's approval: proposal")
    assert (proposal["type"], proposal["proposer"], proposal["reason"]) == (
        "Deposit",
        "staff:cora",
        "wire 7781",
    )
    assert proposal["command"]["amount_raw"] == 1_000_000 * 10**8 and not proposal["expired"]
    listed = api.client.get("/admin/v1/proposals", headers=office["sid"]).json()
    assert [p["proposalId"] for p in listed["proposals"]] == [proposal["proposalId"]]
    assert "Deposit" in listed["fourEyes"]
    before = _usdt(api)
    pid, digest = proposal["proposalId"], proposal["digest"]
    url = f"/admin/v1/proposals/{pid}/approve"
    # the proposer cannot approve it; a wrong digest is refused; nothing moves meanwhile
    r = api.client.post(url, json={"digest": digest, "reason": "ok"}, headers=office["cora"])
    assert r.status_code == 403 and r.json()["error"] == "SELF_APPROVAL", r.text
    r = api.client.post(url, json={"digest": "0" * 20, "reason": "ok"}, headers=office["sid"])
    assert r.status_code == 409 and r.json()["error"] == "PREVIEW_MISMATCH", r.text
    r = api.client.post(url, json={"digest": digest}, headers=office["sid"])
    assert r.status_code == 400 and r.json()["error"] == "REASON_REQUIRED", r.text
    assert _usdt(api) == before
    r = api.client.post(url, json={"digest": digest, "reason": "wire seen"}, headers=office["sid"])
    assert r.status_code == 200, r.text
    assert (r.json()["decision"], r.json()["by"]) == ("approved", "staff:sid")
    assert _usdt(api) == before + 1_000_000
    credited = [e for o in seen for e in o.events if isinstance(e, DepositCredited)]
    assert [(e.amount_raw, e.reason) for e in credited] == [(1_000_000 * 10**8, "wire 7781")]
    r = api.client.post(url, json={"digest": digest, "reason": "again"}, headers=office["sue"])
    assert r.status_code == 404 and r.json()["error"] == "PROPOSAL_NOT_FOUND", r.text


def test_the_operator_token_and_any_route_propose_and_only_a_named_officer_approves(
    api: Api, office: dict[str, dict[str, str]]
) -> None:
    seen = released(api)
    freeze = {"command": {"type": "FreezeAccount", "account_id": 1}, "reason": "alert 9"}
    r = api.client.post(
        "/admin/v1/proposals", json={**freeze, "evidence": "alert 9"}, headers=OPERATOR
    )
    assert r.status_code == 202 and r.json()["proposal"]["proposer"] == "operator", r.text
    sent = {"type": "FreezeAccount", "account_id": 2, "reason": "alert 10"}
    r2 = api.client.post("/admin/v1/commands", json=sent, headers=office["cora"])
    assert r2.status_code == 202, r2.text
    pid, digest = r.json()["proposal"]["proposalId"], r.json()["proposal"]["digest"]
    r = api.client.post(
        f"/admin/v1/proposals/{pid}/approve",
        json={"digest": digest, "reason": "x"},
        headers=OPERATOR,
    )
    assert r.status_code == 403 and "a second person" in r.json()["message"], r.text
    r = api.client.post(
        f"/admin/v1/proposals/{pid}/approve",
        json={"digest": digest, "reason": "x"},
        headers=office["sue"],
    )
    assert r.status_code == 200, r.text
    frozen = [e for o in seen for e in o.events if isinstance(e, AccountFrozen)]
    assert [(e.account_id, e.actor) for e in frozen] == [(1, "operator")]
    # the other one: rejected by sid, with a reason; then it is gone
    other = r2.json()["proposal"]["proposalId"]
    r = api.client.post(
        f"/admin/v1/proposals/{other}/reject",
        json={"reason": "wrong account"},
        headers=office["sid"],
    )
    assert r.status_code == 200 and r.json()["decision"] == "rejected", r.text
    assert api.client.get("/admin/v1/proposals", headers=office["sid"]).json()["proposals"] == []


def test_an_expired_or_stale_proposal_is_refused_and_changes_nothing(
    api: Api, office: dict[str, dict[str, str]]
) -> None:
    r = api.client.post(
        "/admin/v1/proposals",
        json={"command": {"type": "FreezeAccount", "account_id": 1}, "reason": "a", "hours": 1},
        headers=office["cora"],
    )
    expiring = r.json()["proposal"]
    # what only running it can tell (account 2 is not frozen) is refused at the approval
    r = api.client.post(
        "/admin/v1/proposals",
        json={"command": {"type": "UnfreezeAccount", "account_id": 2}, "reason": "b"},
        headers=office["cora"],
    )
    assert r.status_code == 202, r.text
    pointless = r.json()["proposal"]
    r = api.client.post(
        f"/admin/v1/proposals/{pointless['proposalId']}/approve",
        json={"digest": pointless["digest"], "reason": "ok"},
        headers=office["sid"],
    )
    assert r.status_code == 409 and r.json()["error"] == "NO_CHANGE", r.text
    assert r.json()["message"].startswith(f"proposal {pointless['proposalId']} cannot run now: ")
    real_clock = api.service.clock
    api.service.clock = lambda: real_clock() + 2 * HOUR_MS  # type: ignore[method-assign]
    r = api.client.post(
        f"/admin/v1/proposals/{expiring['proposalId']}/approve",
        json={"digest": expiring["digest"], "reason": "late"},
        headers=office["sid"],
    )
    assert r.status_code == 409 and r.json()["error"] == "PROPOSAL_EXPIRED", r.text
    listed = api.client.get("/admin/v1/proposals", headers=office["sid"]).json()["proposals"]
    assert [p["expired"] for p in listed] == [True, False]  # 1 hour, and the default 72
    assert not api.service.view.accounts[1].frozen


def test_turning_four_eyes_off_is_itself_four_eyed(
    api: Api, office: dict[str, dict[str, str]]
) -> None:
    r = api.client.put(
        "/admin/v1/four-eyes", json={"commands": [], "reason": "faster"}, headers=office["sid"]
    )
    assert r.status_code == 202, r.text
    proposal = r.json()["proposal"]
    assert proposal["type"] == "SetFourEyes" and proposal["command"]["commands"] == []
    r = api.client.post(
        f"/admin/v1/proposals/{proposal['proposalId']}/approve",
        json={"digest": proposal["digest"], "reason": "board minute 7"},
        headers=office["sue"],
    )
    assert r.status_code == 200, r.text
    assert api.client.get("/admin/v1/proposals", headers=OPERATOR).json()["fourEyes"] == []


def test_bad_proposals_are_400s_naming_what(api: Api, office: dict[str, dict[str, str]]) -> None:
    for body, words in [
        ({"command": {"type": "PlaceOrder"}, "reason": "x"}, "not a command a person proposes"),
        (
            {"command": {"type": "IssueStaffToken"}, "reason": "x"},
            "not a command a person proposes",
        ),
        (
            {"command": {"type": "FreezeAccount", "account_id": 1}, "reason": "x", "hours": 0},
            "hours",
        ),
        ({"command": {"type": "FreezeAccount", "account_id": 1}}, "reason"),
    ]:
        r = api.client.post("/admin/v1/proposals", json=body, headers=office["cora"])
        assert r.status_code == 400, r.text
        assert words in r.json()["message"], r.text
    assert api.client.get("/admin/v1/proposals", headers=OPERATOR).json()["proposals"] == []


def _usdt(api: Api) -> Decimal:
    body: Any = api.client.get("/admin/v1/accounts/1", headers=OPERATOR).json()
    return Decimal(next(b["free"] for b in body["balances"] if b["asset"] == "USDT"))
