"""A scoped staff member reads only what their scope covers, and an auditor's every read is
journaled."""

from bourse.compliance.staff import Role
from bourse.events import AccessRecorded, Outcome
from tests.api.conftest import Api
from tests.api.test_admin_compliance import apply, preview, rule
from tests.api.test_four_eyes import hire
from tests.api.test_staff import OPERATOR, bearer

KZ = {
    "legal_name": "Aigerim Bekova",
    "date_of_birth": "1990-04-12",
    "nationality": "KZ",
    "residence": "KZ",
    "reason": "KYC file 8812",
}


def test_an_auditor_for_kz_reads_kz_only_and_every_read_is_on_the_record(api: Api) -> None:
    seen: list[Outcome] = []
    api.service.on_release.append(seen.extend)
    kz = api.client.post("/admin/v1/customers", json=KZ, headers=OPERATOR).json()
    auditor = bearer(hire(api, "reg.kz", Role.AUDITOR, countries=["KZ"]))
    manager = bearer(hire(api, "kai", Role.REGIONAL_MANAGER, countries=["KZ"]))
    for who in (auditor, manager):
        listed = api.client.get("/admin/v1/customers", headers=who).json()["customers"]
        assert {c["residence"] for c in listed} == {"KZ"} and kz["customerId"] in {
            c["customerId"] for c in listed
        }
        # the demo's customer 1 lives in DE; account 2 is the house's market maker
        r = api.client.get("/admin/v1/customers/1", headers=who)
        assert r.status_code == 403 and r.json()["error"] == "OUT_OF_SCOPE", r.text
        for path in ("/admin/v1/accounts/2", "/admin/v1/accounts/1/keys"):
            assert api.client.get(path, headers=who).status_code == 403
        r = api.client.get(f"/admin/v1/accounts/{kz['accountId']}", headers=who)
        assert r.status_code == 200, r.text
    records = [e for o in seen for e in o.events if isinstance(e, AccessRecorded)]
    assert [r.actor for r in records] == ["staff:reg.kz"] * 5  # the auditor's reads, not kai's
    assert records[1].path == "/admin/v1/customers/1"  # refused reads are on the record too
    # an auditor changes nothing
    r = api.client.post("/admin/v1/customers", json=KZ, headers=auditor)
    assert r.status_code == 403 and r.json()["error"] == "NOT_PERMITTED", r.text


def test_a_scoped_reader_sees_the_policies_and_proposals_of_their_scope_only(api: Api) -> None:
    for country in ("KZ", "RU"):
        shown = preview(api, country, rule("TRADING", "SUSPENDED"))
        assert apply(api, shown).status_code == 200
    kz = api.client.post("/admin/v1/customers", json=KZ, headers=OPERATOR).json()
    for account in (1, kz["accountId"]):  # a DE resident's account and a KZ resident's
        r = api.client.post(
            "/admin/v1/proposals",
            json={"command": {"type": "FreezeAccount", "account_id": account}, "reason": "r"},
            headers=OPERATOR,
        )
        assert r.status_code == 202, r.text
    manager = bearer(hire(api, "kai", Role.REGIONAL_MANAGER, countries=["KZ"]))
    policies = api.client.get("/admin/v1/policies", headers=manager).json()
    assert [p["country"] for p in policies["inForce"]] == ["KZ"]
    everyone = api.client.get("/admin/v1/policies", headers=OPERATOR).json()
    assert sorted(p["country"] for p in everyone["inForce"]) == ["KZ", "RU"]
    proposals = api.client.get("/admin/v1/proposals", headers=manager).json()["proposals"]
    assert [p["command"]["account_id"] for p in proposals] == [kz["accountId"]]
    assert len(api.client.get("/admin/v1/proposals", headers=OPERATOR).json()["proposals"]) == 2
    body = {"name": "RU pause", "country": "RU", "rules": [rule("TRADING", "SUSPENDED")]}
    r = api.client.post("/admin/v1/policies/preview", json=body, headers=manager)
    assert r.status_code == 403 and r.json()["error"] == "OUT_OF_SCOPE", r.text
    r = api.client.post("/admin/v1/policies/RESIDENCE/RU/reversal/preview", headers=manager)
    assert r.status_code == 403 and r.json()["error"] == "OUT_OF_SCOPE", r.text
    r = api.client.post("/admin/v1/policies/RESIDENCE/KZ/reversal/preview", headers=manager)
    assert r.status_code == 200, r.text
