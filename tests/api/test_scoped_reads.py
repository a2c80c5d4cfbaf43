"""A scoped staff member reads only what their scope covers, and an auditor's every read is
journaled."""

from bourse.compliance.staff import Role
from bourse.events import AccessRecorded, Outcome
from tests.api.conftest import Api
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
