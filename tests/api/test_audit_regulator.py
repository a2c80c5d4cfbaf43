"""A regulator's request answered end to end: Erik Badege (resident in CD, listed by OFAC) lives
through a CD trading suspension, a freeze on a sanctions alert decided with four eyes, and an
unfreeze when OFAC delists him. The CD regulator reads his dossier, verifies its bundle offline
with the standalone verifier, and finds every decision with who proposed and approved it, why
and on what evidence. The KZ regulator is refused, and every read of both is on the record."""

import base64
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bourse.audit import verify_bundle
from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role
from bourse.events import AccessRecorded, Outcome
from bourse.server.linger import Linger
from tests.api.conftest import Api, serve
from tests.api.test_admin_compliance import apply, preview, rule
from tests.api.test_four_eyes import hire
from tests.api.test_screening_decisions import _sdn_without
from tests.api.test_screening_flow import SDN, alerts, answered, call, load, rescreen
from tests.api.test_staff import OPERATOR, bearer

BADEGE = {
    "legal_name": "Erik Badege",
    "date_of_birth": "1971-05-02",
    "nationality": "CD",
    "residence": "CD",
    "reason": "KYC file 4410",
}


@pytest.fixture
def audited_api(tmp_path: Path) -> Iterator[Api]:
    yield from serve(tmp_path, audit=True)


def four_eyed(
    api: Api,
    path: str,
    body: dict[str, Any],
    proposer: dict[str, str],
    approver: dict[str, str],
    why: str,
) -> dict[str, Any]:
    r = api.client.post(f"/admin/v1{path}", json=body, headers=proposer)
    assert r.status_code == 202, r.text
    proposal = r.json()["proposal"]
    url = f"/admin/v1/proposals/{proposal['proposalId']}/approve"
    r = api.client.post(url, json={"digest": proposal["digest"], "reason": why}, headers=approver)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_cd_regulator_verifies_badeges_dossier_and_the_kz_regulator_is_refused(
    audited_api: Api, tmp_path: Path
) -> None:
    api = audited_api
    seen: list[Outcome] = []
    api.service.on_release.append(seen.extend)
    badege = answered(call(api, "POST", "/customers", BADEGE))
    customer, account = badege["customerId"], badege["accountId"]
    shown = preview(api, "CD", rule("TRADING", "SUSPENDED"))
    assert apply(api, shown, "sanctions on CD entities: trading paused").status_code == 200
    r = api.client.put(
        "/admin/v1/four-eyes",
        headers=OPERATOR,
        json={"commands": sorted(DEFAULT_FOUR_EYES), "reason": "policy"},
    )
    assert r.status_code == 200, r.text
    cora = bearer(hire(api, "cora", Role.COMPLIANCE_OFFICER))
    sid = bearer(hire(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER))
    reg_cd = bearer(hire(api, "reg.cd", Role.AUDITOR, countries=["CD"]))
    reg_kz = bearer(hire(api, "reg.kz", Role.AUDITOR, countries=["KZ"]))

    load(api, SDN, "2021-08-18")
    rescreen(api)
    (hit,) = [a["alertId"] for a in alerts(api) if a["customerId"] == customer]
    four_eyed(
        api,
        f"/alerts/{hit}/confirm",
        {"reason": "same man: DOB and nationality match"},
        cora,
        sid,
        "checked the passport copy",
    )
    load(api, _sdn_without(tmp_path, "15718"), "2021-08-19")
    (review,) = rescreen(api)["delistingReviews"]
    four_eyed(
        api,
        f"/alerts/{review}/confirm",
        {"reason": "OFAC delisted him on 2021-08-19"},
        cora,
        sid,
        "delisting confirmed on treasury.gov",
    )

    # The CD regulator: the dossier, and its bundle verified without bourse.
    url = f"/admin/v1/audit/customers/{customer}/dossier"
    r = api.client.get(url, params={"format": "bundle"}, headers=reg_cd)
    assert r.status_code == 200, r.text
    bundle = tmp_path / "badege.jsonl"
    bundle.write_bytes(r.content)
    verifier = tmp_path / "verify_bundle.py"
    shutil.copyfile(verify_bundle.__file__, verifier)
    isolated = (
        "import runpy, sys; sys.modules['bourse'] = None; sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    key = answered(api.client.get("/admin/v1/audit/head", headers=reg_cd))["keys"][0]["key_id"]
    ran = subprocess.run(
        [sys.executable, "-c", isolated, str(verifier), str(bundle), "--key", key],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["verified"] is True

    dossier = answered(api.client.get(url, headers=reg_cd))
    assert dossier["verification"]["verified"] is True
    sections = dossier["sections"]
    assert sections["kyc"][0]["what"].startswith("Erik Badege, born 1971-05-02")
    (policy,) = sections["policies"]
    assert policy["what"] == "policy 'CD pause' for CD (RESIDENCE) applied: TRADING SUSPENDED"
    assert sections["policies"][0]["reason"] == "sanctions on CD entities: trading paused"
    decided = [a for a in sections["alerts"] if "raised" not in a["what"]]
    assert [a["what"] for a in decided] == [f"alert {hit} confirmed", f"alert {review} confirmed"]
    reasons = [
        ("same man: DOB and nationality match", "checked the passport copy"),
        ("OFAC delisted him on 2021-08-19", "delisting confirmed on treasury.gov"),
    ]
    for item, (reason, approval) in zip(decided, reasons, strict=True):
        assert (item["actor"], item["reason"], item["approval_reason"]) == (
            "staff:cora",
            reason,
            approval,
        )
        assert (item["proposed_by"], item["approved_by"]) == ("staff:cora", "staff:sid")
    raised = [a for a in sections["alerts"] if "raised" in a["what"]]
    assert "ofac_sdn entry 15718 (BADEGE, Eric)" in raised[0]["evidence"]
    freezes = [f["what"] for f in sections["freezes"]]
    assert freezes == [f"account {account} frozen", f"account {account} unfrozen"]
    frozen = sections["freezes"][0]
    assert frozen["approved_by"] == "staff:sid" and "ofac_sdn entry 15718" in frozen["evidence"]
    html = api.client.get(url, params={"format": "html"}, headers=reg_cd)
    assert html.status_code == 200 and "Erik Badege" in html.text and "Verified" in html.text
    pdf = api.client.get(url, params={"format": "pdf"}, headers=reg_cd)
    assert pdf.status_code == 200, pdf.text
    assert pdf.content.startswith(b"%PDF-") and pdf.headers["content-type"] == "application/pdf"
    artifacts = Path(__file__).resolve().parents[2] / "artifacts" / "audit"
    artifacts.mkdir(parents=True, exist_ok=True)  # for a person to look at, as the console's
    (artifacts / "dossier.pdf").write_bytes(pdf.content)
    (artifacts / "dossier.html").write_text(html.text)

    # One record with its proof, as the regulator names it.
    seq = frozen["seq"]
    one = api.client.get(
        f"/admin/v1/audit/records/{seq}", params={"customer": customer}, headers=reg_cd
    )
    body = answered(one)
    leaf = verify_bundle.leaf_hash(
        verify_bundle.leaf_data(
            seq, base64.b64decode(body["events_raw"]), base64.b64decode(body["command_raw"])
        )
    )
    verify_bundle.verify_inclusion(
        seq - 1,
        body["head"]["tree_size"],
        leaf,
        [bytes.fromhex(h) for h in body["proof"]],
        bytes.fromhex(body["head"]["root_hash"]),
    )
    r = api.client.get(f"/admin/v1/audit/records/{seq}", headers=reg_cd)
    assert r.status_code == 403 and r.json()["error"] == "OUT_OF_SCOPE"

    # The KZ regulator: refused, whatever the route; and every read is on the record.
    for path, params in (
        (url, {}),
        ("/admin/v1/audit/export", {"country": "CD"}),
        ("/admin/v1/audit/records", {"customer": customer}),
        ("/admin/v1/audit/export", {}),
    ):
        r = api.client.get(path, params=params, headers=reg_kz)
        assert r.status_code == 403 and r.json()["error"] == "OUT_OF_SCOPE", (path, r.text)
    reads = [e for o in seen for e in o.events if isinstance(e, AccessRecorded)]
    assert {e.actor for e in reads} == {"staff:reg.cd", "staff:reg.kz"}
    assert sum(e.actor == "staff:reg.kz" for e in reads) == 4
    assert {e.path for e in reads if e.actor == "staff:reg.cd"} >= {url, "/admin/v1/audit/head"}


def test_a_rotated_key_signs_new_heads_and_old_bundles_still_verify(
    audited_api: Api, tmp_path: Path
) -> None:
    api = audited_api
    before = api.client.get("/admin/v1/audit/export", headers=OPERATOR)
    assert before.status_code == 200, before.text
    old_bundle = tmp_path / "before.jsonl"
    old_bundle.write_bytes(before.content)
    [old_key] = answered(api.client.get("/admin/v1/audit/head", headers=OPERATOR))["keys"]
    r = api.client.put(
        "/admin/v1/four-eyes",
        headers=OPERATOR,
        json={"commands": sorted(DEFAULT_FOUR_EYES), "reason": "policy"},
    )
    assert r.status_code == 200, r.text
    ops = bearer(hire(api, "olga", Role.OPERATOR))
    other = bearer(hire(api, "otto", Role.OPERATOR))
    done = four_eyed(api, "/audit/keys", {"reason": "yearly rotation"}, ops, other, "seen")
    assert done["decision"] == "approved"
    head = answered(api.client.post("/admin/v1/audit/heads", headers=OPERATOR))
    listed = answered(api.client.get("/admin/v1/audit/head", headers=OPERATOR))["keys"]
    assert listed[0]["key_id"] == old_key["key_id"] and len(listed) == 2
    assert head["key_id"] == listed[1]["key_id"] != old_key["key_id"]
    assert listed[1]["actor"] == "staff:olga" and listed[1]["reason"] == "yearly rotation"
    assert verify_bundle.verify(str(old_bundle))["verified"]  # signed by the old key, still good
    after = tmp_path / "after.jsonl"
    after.write_bytes(api.client.get("/admin/v1/audit/export", headers=OPERATOR).content)
    result = verify_bundle.verify(str(after), pinned_key=listed[1]["key_id"])
    assert result["key_ids"] == sorted(k["key_id"] for k in listed)
    r = api.client.post("/admin/v1/audit/keys", json={"reason": " "}, headers=ops)
    assert r.status_code == 400 and r.json()["error"] == "REASON_REQUIRED", r.text


def test_a_consistency_proof_between_two_heads_verifies(audited_api: Api) -> None:
    api = audited_api
    first = answered(api.client.post("/admin/v1/audit/heads", headers=OPERATOR))
    answered(call(api, "POST", "/customers", BADEGE))
    second = answered(api.client.post("/admin/v1/audit/heads", headers=OPERATOR))
    size1, size2 = first["tree_size"], second["tree_size"]
    r = api.client.get(
        "/admin/v1/audit/consistency", params={"first": size1, "second": size2}, headers=OPERATOR
    )
    proof = [bytes.fromhex(h) for h in answered(r)["proof"]]
    verify_bundle.verify_consistency(
        size1, size2, bytes.fromhex(first["root_hash"]), bytes.fromhex(second["root_hash"]), proof
    )
    for params in ({"first": size2 + 5}, {"first": 1, "second": 10**9}, {"first": -1}):
        r = api.client.get("/admin/v1/audit/consistency", params=params, headers=OPERATOR)
        assert r.status_code == 400, (params, r.text)


def test_a_record_released_a_moment_ago_is_served_though_the_log_lingers(
    audited_api: Api,
) -> None:
    api = audited_api
    audit = api.exchange.audit
    assert audit is not None
    answered(api.client.post("/admin/v1/audit/heads", headers=OPERATOR))
    audit.linger = Linger(600.0)  # under load, for as long as nobody hurries it
    audit.linger.written()
    customer = answered(call(api, "POST", "/customers", BADEGE))
    seq = api.service.released_seq
    r = api.client.get(f"/admin/v1/audit/records/{seq}", headers=OPERATOR)
    body = answered(r)
    assert body["seq"] == seq and body["head"]["tree_size"] >= seq, body
    assert str(customer["customerId"]) in json.dumps(body)
