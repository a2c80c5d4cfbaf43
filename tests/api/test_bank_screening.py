"""A sanctions hit on a partner bank's name or BIC proposes its cut-off, for a second person to
approve: approved, the bank is cut off; rejected, the same listed entries never propose it
again; a bank the lists do not name is never proposed."""

from typing import Any

import pytest

from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role
from tests.api.conftest import Api
from tests.api.test_four_eyes import hire
from tests.api.test_screening_flow import SDN, load
from tests.api.test_staff import OPERATOR, bearer

HAVIN = {"bic": "HAVIGB2LXXX", "name": "Havin Bank Ltd", "country": "GB"}  # SDN entry 906
DAESONG = {"bic": "KDBKKPPYXXX", "name": "Daesong Credit", "country": "KP"}  # SDN entry 12312
COMMERZ = {"bic": "COBADEFFXXX", "name": "Commerzbank", "country": "DE"}


@pytest.fixture
def office(api: Api) -> dict[str, dict[str, str]]:
    """Four eyes on their default; senior compliance officers sid and sue."""
    body = {"commands": sorted(DEFAULT_FOUR_EYES), "reason": "the bank's policy"}
    r = api.client.put("/admin/v1/four-eyes", headers=OPERATOR, json=body)
    assert r.status_code == 200, r.text
    return {
        name: bearer(hire(api, name, Role.SENIOR_COMPLIANCE_OFFICER)) for name in ("sid", "sue")
    }


def _define(api: Api, bank: dict[str, str], approver: dict[str, str]) -> None:
    """Define a partner bank as four eyes want it: proposed by the operator, approved."""
    body = {"name": bank["name"], "country": bank["country"], "currencies": ["EUR"],
            "serves": [bank["country"]], "reason": "correspondent agreement"}  # fmt: skip
    r = api.client.put(f"/admin/v1/banks/{bank['bic']}", json=body, headers=OPERATOR)
    assert r.status_code == 202, r.text
    _decide(api, r.json()["proposal"], "approve", approver)


def _decide(api: Api, proposal: dict[str, Any], verb: str, who: dict[str, str]) -> Any:
    body = {"reason": "looked at the listing"}
    if verb == "approve":
        body["digest"] = proposal["digest"]
    r = api.client.post(f"/admin/v1/proposals/{proposal['proposalId']}/{verb}", json=body,
                        headers=who)  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()


def _cutoff_proposals(api: Api, who: dict[str, str]) -> list[dict[str, Any]]:
    listed = api.client.get("/admin/v1/proposals", headers=who).json()["proposals"]
    return [p for p in listed if p["type"] == "CutOffBank"]


def test_a_listed_bank_is_proposed_for_cut_off_and_a_rejection_is_remembered(
    api: Api, office: dict[str, dict[str, str]]
) -> None:
    load(api, SDN, "2021-08-18")
    sid, sue = office["sid"], office["sue"]
    _define(api, COMMERZ, sid)
    assert _cutoff_proposals(api, sue) == []  # not listed: nothing proposed
    _define(api, HAVIN, sid)  # its BIC is in entry 906's remarks
    [proposal] = _cutoff_proposals(api, sue)
    assert proposal["proposer"] == "system:screening"
    command = proposal["command"]
    assert command["spec"] == {"bic": HAVIN["bic"], "cause": "SANCTIONED", "outgoing": "RETURN",
                               "effective_ms": 0}  # fmt: skip
    assert [e["entry_id"] for e in command["evidence"]] == ["906"]
    assert "HAVIN BANK LIMITED" in proposal["evidence"]
    decided = _decide(api, proposal, "reject", sue)  # a person finds it is another bank
    assert decided["decision"] == "rejected"
    again = api.client.post("/admin/v1/screening/rescreen", headers=OPERATOR)
    assert again.status_code == 200, again.text
    assert again.json()["bankCutOffsProposed"] == []  # the rejected hit is remembered
    assert _cutoff_proposals(api, sue) == []
    banks = {b["bic"]: b["status"] for b in api.client.get("/admin/v1/banks", headers=sue).json()}
    assert banks == {COMMERZ["bic"]: "ACTIVE", HAVIN["bic"]: "ACTIVE"}

    _define(api, DAESONG, sid)
    [proposal] = _cutoff_proposals(api, sue)
    assert [e["entry_id"] for e in proposal["command"]["evidence"]] == ["12312"]
    denied = api.client.post(
        f"/admin/v1/proposals/{proposal['proposalId']}/approve",
        json={"digest": proposal["digest"], "reason": "listed"},
        headers=bearer(hire(api, "carl", Role.COMPLIANCE_OFFICER)),
    )
    assert denied.status_code == 403, denied.text  # approving is a senior officer's
    _decide(api, proposal, "approve", sue)
    [cutoff] = api.client.get("/admin/v1/cut-offs", headers=sue).json()
    assert (cutoff["bank"], cutoff["cause"], cutoff["status"], cutoff["actor"]) == (
        DAESONG["bic"], "SANCTIONED", "APPLIED", "system:screening"
    )  # fmt: skip
    banks = {b["bic"]: b["status"] for b in api.client.get("/admin/v1/banks", headers=sue).json()}
    assert banks[DAESONG["bic"]] == "CUT_OFF"
    rescreened = api.client.post("/admin/v1/screening/rescreen", headers=OPERATOR).json()
    assert rescreened["bankCutOffsProposed"] == []  # cut off already: nothing more to propose
