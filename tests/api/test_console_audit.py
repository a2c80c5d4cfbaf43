"""The console's audit browser in-process: the signed head, records found by person, customer
and command with who proposed and approved them, a bundle and a dossier to download that verify
offline; a regulator reads its jurisdiction only, and says which part of it."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from bourse.audit.verify_bundle import verify
from bourse.compliance.staff import Role
from tests.api.conftest import Api, serve
from tests.api.console import sign_in
from tests.api.test_staff import OPERATOR

KZ = 2  # the demo's customer 2, resident of KZ, account 3


@pytest.fixture
def audited_api(tmp_path: Path) -> Iterator[Api]:
    yield from serve(tmp_path, audit=True)


def page(api: Api, path: str, status: int = 200) -> str:
    r = api.client.get(f"/console{path}")
    assert r.status_code == status, r.text
    return r.text


def test_an_officer_finds_a_freeze_downloads_it_and_the_bundle_verifies(
    audited_api: Api, tmp_path: Path
) -> None:
    api = audited_api
    r = api.client.post(
        "/admin/v1/commands",
        json={"type": "FreezeAccount", "account_id": 3, "reason": "court order 17/2026"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text
    sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    html = page(api, "/audit")
    assert "Signed tree head" in html and "Audit</a>" in html
    html = page(api, f"/audit?customer={KZ}&command=FreezeAccount")
    assert "court order 17/2026" in html and "FreezeAccount" in html
    bundle = api.client.get(f"/console/audit/export?customer={KZ}&command=FreezeAccount")
    assert bundle.status_code == 200, bundle.text
    path = tmp_path / "freeze.jsonl"
    path.write_bytes(bundle.content)
    assert verify(str(path))["records"] == 1
    dossier = api.client.get(f"/console/audit/customers/{KZ}/dossier.html")
    assert dossier.status_code == 200 and "court order 17/2026" in dossier.text
    assert "attachment" in dossier.headers["content-disposition"]
    assert "whole numbers" in page(api, "/audit?customer=abc")
    assert page(api, "/audit/customers/9999/dossier.html", 404)
    assert page(api, f"/audit/customers/{KZ}/dossier.docx", 404)


def test_a_regulator_reads_its_jurisdiction_only(audited_api: Api) -> None:
    api = audited_api
    sign_in(api, "reg.kz", Role.AUDITOR, countries=["KZ"])
    html = page(api, "/audit")
    assert "name a customer, a country or a venue" in html  # nothing shown until it says which
    html = page(api, f"/audit?customer={KZ}")
    assert "Demo Kazakhstan Trader" not in html or "#" in html
    assert "OnboardCustomer" in html
    html = page(api, "/audit?customer=1")  # the demo's DE customer
    assert "reads within KZ only" in html and "OnboardCustomer" not in html
    assert page(api, "/audit/customers/1/dossier.json", 403)
    assert page(api, "/audit/export?country=DE", 403)


def test_a_damaged_list_of_heads_is_named_not_a_server_error(audited_api: Api) -> None:
    api = audited_api
    sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    heads = api.service.data_dir / "audit" / "heads.jsonl"
    kept = heads.read_bytes() if heads.exists() else b""
    heads.write_bytes(b"{not json\n" + kept + b'{"tree_size": 1}\n')  # damaged in the middle
    r = api.client.get("/console/audit")
    assert r.status_code == 503, r.text
    assert "heads.jsonl" in r.text
