"""The executive exodus through the admin API: the regional head for Eastern Europe leaves with
an alert and an approval assigned to him and a proposal of his own; his access ends at once,
his work moves to the colleague named, and the next approval is hers to decide. His API token
and his console session are both refused the moment he is offboarded."""

from typing import Any

from bourse.commands import RaiseScreeningAlert
from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role
from tests.api.conftest import Api
from tests.api.console import log_in, set_up
from tests.api.test_four_eyes import hire
from tests.api.test_staff import OPERATOR, bearer
from tests.engine.test_screening_decisions import EVIDENCE

EE = ["RU", "BY", "UA"]
RU_CUSTOMER = {
    "legal_name": "Pyotr Ivanov",
    "date_of_birth": "1977-02-03",
    "nationality": "RU",
    "residence": "RU",
    "reason": "KYC file 2201",
}


def call(api: Api, method: str, path: str, who: dict[str, str], **body: Any) -> Any:
    r = api.client.request(method, f"/admin/v1{path}", json=body or None, headers=who)
    return r


def test_the_regional_head_leaves_and_his_work_is_decided_by_his_successor(api: Api) -> None:
    r = call(
        api, "PUT", "/four-eyes", OPERATOR, commands=sorted(DEFAULT_FOUR_EYES), reason="policy"
    )
    assert r.status_code == 200, r.text
    ivan = bearer(hire(api, "ivan", Role.REGIONAL_MANAGER, countries=EE, team="ee"))
    olena = bearer(hire(api, "olena", Role.REGIONAL_MANAGER, countries=EE, team="ee"))
    cora = bearer(hire(api, "cora", Role.COMPLIANCE_OFFICER, team="ee"))
    sid = bearer(hire(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER))
    onboarded = call(api, "POST", "/customers", OPERATOR, **RU_CUSTOMER)
    assert onboarded.status_code == 200, onboarded.text
    customer, account = onboarded.json()["customerId"], onboarded.json()["accountId"]
    raised = api.execute(
        RaiseScreeningAlert(
            customer_id=customer,
            evidence=EVIDENCE,
            actor="system:screening",
            ts_ms=api.service.clock(),
        )
    )
    assert not raised.refused, raised
    alert = max(api.service.view.alerts)

    # his work: an alert and cora's proposed freeze assigned to him, a deposit he proposed
    r = call(
        api,
        "POST",
        "/assignments",
        sid,
        item=f"alert:{alert}",
        owner="staff:ivan",
        reason="RU desk",
    )
    assert r.status_code == 200, r.text
    freeze = {"type": "FreezeAccount", "account_id": account, "reason": f"alert {alert}"}
    r = call(api, "POST", "/commands", cora, **freeze)
    assert r.status_code == 202, r.text
    freeze_id = r.json()["proposal"]["proposalId"]
    r = call(
        api,
        "POST",
        "/assignments",
        sid,
        item=f"proposal:{freeze_id}",
        owner="staff:ivan",
        reason="RU desk",
    )
    assert r.status_code == 200, r.text
    deposit = {"account_id": account, "asset": "USDT", "amount": "100", "reason": "wire PI-1"}
    r = call(api, "POST", "/deposits", ivan, **deposit)
    assert r.status_code == 202, r.text
    own_id = r.json()["proposal"]["proposalId"]
    assert call(api, "GET", "/alerts", ivan).status_code == 200
    assert log_in(api, "ivan", set_up(api, "ivan")).status_code == 303  # his console session
    assert api.client.get("/console/alerts").status_code == 200

    # he leaves: everything he owns to olena, what he proposed withdrawn, his token dead at once
    r = call(api, "POST", "/staff/ivan/offboard", OPERATOR, reason="resigned", reassignTo="olena")
    assert r.status_code == 200 and r.json()["active"] is False, r.text
    assert call(api, "GET", "/alerts", ivan).status_code == 401
    ended = api.client.get("/console/alerts", follow_redirects=False)  # his session, too
    assert ended.status_code == 303 and ended.headers["location"].startswith("/console/login")
    alerts = call(api, "GET", "/alerts", sid).json()
    rows = alerts if isinstance(alerts, list) else alerts["alerts"]
    assert [a["owner"] for a in rows if a["alertId"] == alert] == ["staff:olena"]
    waiting = call(api, "GET", "/proposals", sid).json()["proposals"]
    assert [(p["proposalId"], p["owner"]) for p in waiting] == [(freeze_id, "staff:olena")]
    assert own_id not in [p["proposalId"] for p in waiting]

    # the next approval is the new owner's
    digest = waiting[0]["digest"]
    r = call(api, "POST", f"/proposals/{freeze_id}/approve", sid, digest=digest, reason="agreed")
    assert r.status_code == 403 and "assigned to staff:olena" in r.json()["message"], r.text
    r = call(api, "POST", f"/proposals/{freeze_id}/approve", olena, digest=digest, reason="agreed")
    assert r.status_code == 200, r.text
    assert api.service.view.accounts[account].frozen


def test_an_offboarding_that_would_orphan_work_is_refused_naming_it(api: Api) -> None:
    r = call(
        api, "PUT", "/four-eyes", OPERATOR, commands=sorted(DEFAULT_FOUR_EYES), reason="policy"
    )
    assert r.status_code == 200, r.text
    cora = bearer(hire(api, "cora", Role.COMPLIANCE_OFFICER))
    hire(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    hire(api, "sam", Role.SUPPORT)
    r = call(api, "POST", "/deposits", cora, account_id=1, asset="USDT", amount="5", reason="wire")
    pid = r.json()["proposal"]["proposalId"]
    r = call(api, "POST", "/staff/sid/offboard", OPERATOR, reason="layoff", reassignTo="sam")
    assert r.status_code == 403, r.text
    assert f"no one else could decide proposal:{pid}" in r.json()["message"]
    assert call(api, "GET", "/staff", OPERATOR).json()["staff"][1]["active"] is True  # sid stays


def test_a_region_closes_its_staff_leave_together_as_previewed(api: Api) -> None:
    r = call(
        api, "PUT", "/four-eyes", OPERATOR, commands=sorted(DEFAULT_FOUR_EYES), reason="policy"
    )
    assert r.status_code == 200, r.text
    ivan = bearer(hire(api, "ivan", Role.REGIONAL_MANAGER, countries=EE, team="ee"))
    hire(api, "olena", Role.REGIONAL_MANAGER, countries=EE, team="ee")
    hire(api, "cora", Role.COMPLIANCE_OFFICER, team="hq")
    sid = bearer(hire(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER))
    onboarded = call(api, "POST", "/customers", OPERATOR, **RU_CUSTOMER).json()
    api.execute(
        RaiseScreeningAlert(
            customer_id=onboarded["customerId"],
            evidence=EVIDENCE,
            actor="system:screening",
            ts_ms=api.service.clock(),
        )
    )
    alert = max(api.service.view.alerts)
    call(api, "POST", "/assignments", sid, item=f"alert:{alert}", owner="staff:ivan", reason="RU")
    deposit = {"account_id": onboarded["accountId"], "asset": "USDT", "amount": "1", "reason": "w"}
    own = call(api, "POST", "/deposits", ivan, **deposit).json()["proposal"]["proposalId"]

    # both of team ee at once: their queue would be empty, so the work must go elsewhere
    group = {"names": ["ivan", "olena"]}
    preview = call(api, "POST", "/staff/offboarding/preview", OPERATOR, **group).json()
    assert preview["refused"] and f"team:ee cannot decide alert:{alert}" in preview["why"]
    preview = call(
        api, "POST", "/staff/offboarding/preview", OPERATOR, **group, reassignTo="team:hq"
    ).json()
    assert preview["refused"] is False, preview
    assert preview["moves"] == [{"item": f"alert:{alert}", "to": "team:hq"}]
    assert preview["proposalsWithdrawn"] == [own]
    assert [t["name"] for t in preview["tokensEnded"]] == ["ivan", "olena"]
    assert call(api, "GET", "/staff", OPERATOR).json()["staff"][1]["active"] is True  # unchanged

    apply = {**group, "reassignTo": "team:hq", "reason": "EE region closed"}
    r = call(api, "POST", "/staff/offboarding", OPERATOR, **apply, previewId="0" * 20)
    assert r.status_code == 409 and r.json()["error"] == "PREVIEW_STALE", r.text
    r = call(api, "POST", "/staff/offboarding", OPERATOR, **apply, previewId=preview["previewId"])
    assert r.status_code == 200 and r.json()["offboarded"] == ["ivan", "olena"], r.text
    assert call(api, "GET", "/alerts", ivan).status_code == 401
    staff = {m["name"]: m["active"] for m in call(api, "GET", "/staff", OPERATOR).json()["staff"]}
    assert staff == {"cora": True, "ivan": False, "olena": False, "sid": True}
    assert api.service.view.owners[f"alert:{alert}"] == "team:hq"
