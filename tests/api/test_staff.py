"""Staff through the admin API: added, scoped, given tokens (kept as digests in the journal),
refused beyond their role, and gone at once when offboarded; staff.json migrated once."""

import json
from pathlib import Path
from typing import Any

import pytest

from bourse.api.admin.access import ROUTES
from bourse.compliance.staff import ROLES
from bourse.events import CustomerRecorded, Outcome
from bourse.keys.staff_tokens import LEGACY_FILE, token_digest
from bourse.server.exchange import Exchange
from bourse.server.governance import migrate_legacy_staff
from tests.api.conftest import Api

OPERATOR = {"Authorization": "Bearer operator-token"}
CUSTOMER = {
    "legal_name": "Aigerim Bekova",
    "date_of_birth": "1990-04-12",
    "nationality": "KZ",
    "residence": "KZ",
    "reason": "KYC file 8812 approved",
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add(api: Api, name: str, role: str, **scope: Any) -> str:
    """Add `name` as the operator would, and issue their token: the token."""
    body = {"name": name, "role": role, "reason": "hired", **scope}
    r = api.client.post("/admin/v1/staff", json=body, headers=OPERATOR)
    assert r.status_code == 200, r.text
    r = api.client.post(
        f"/admin/v1/staff/{name}/tokens", json={"reason": "hired"}, headers=OPERATOR
    )
    assert r.status_code == 200, r.text
    token: str = r.json()["token"]
    return token


def test_a_token_acts_as_its_member_and_only_its_digest_is_journaled(api: Api) -> None:
    seen: list[Outcome] = []
    api.service.on_release.append(seen.extend)
    token = add(api, "alice", "compliance_officer")
    for headers, status in [
        (OPERATOR, 200),
        (bearer(token), 200),
        (bearer("operator-token-not"), 401),
        (bearer(token + "x"), 401),
        ({}, 401),
    ]:
        r = api.client.post("/admin/v1/customers", json=CUSTOMER, headers=headers)
        assert r.status_code == status, r.text
        if status == 401:
            assert r.json()["error"] == "UNAUTHORIZED"
    actors = [e.actor for o in seen for e in o.events if isinstance(e, CustomerRecorded)]
    assert actors == ["operator", "staff:alice"]
    journal = b"".join(payload for _, payload in api.exchange.journal.replay())
    assert token.encode() not in journal and token_digest(token).encode() in journal


def test_a_role_limits_reads_and_commands(api: Api) -> None:
    support = bearer(add(api, "sam", "support"))
    operator = bearer(add(api, "olga", "operator"))
    assert api.client.get("/admin/v1/customers", headers=support).status_code == 200
    r = api.client.get("/admin/v1/alerts", headers=support)
    assert r.status_code == 403, r.text
    assert r.json() == {
        "error": "NOT_PERMITTED",
        "message": "sam is a support, whose role does not read compliance",
    }
    # a command: the engine refuses it, journaled, with the same 403
    r = api.client.post("/admin/v1/customers", json=CUSTOMER, headers=support)
    assert r.status_code == 403 and r.json()["error"] == "NOT_PERMITTED", r.text
    assert "does not permit OnboardCustomer" in r.json()["message"] and r.json()["seq"] > 0
    r = api.client.post(
        "/admin/v1/deposits",
        json={"account_id": 1, "asset": "USDT", "amount": "1000000", "reason": "mint"},
        headers=operator,
    )
    assert r.status_code == 403 and "does not permit Deposit" in r.json()["message"], r.text
    r = api.client.post("/admin/v1/snapshot", headers=support)
    assert r.status_code == 403 and "TakeSnapshot" in r.json()["message"], r.text
    assert api.client.post("/admin/v1/snapshot", headers=operator).status_code == 200


def test_a_regional_manager_is_refused_outside_their_scope(api: Api) -> None:
    r = api.client.put(
        "/admin/v1/venues/KZ",
        json={"name": "Bourse Kazakhstan", "jurisdictions": ["KZ"], "reason": "licence"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text
    kai = bearer(add(api, "kai", "regional_manager", venues=["KZ"], countries=["KZ"]))
    assert api.client.post("/admin/v1/customers", json=CUSTOMER, headers=kai).status_code == 200
    german = {**CUSTOMER, "nationality": "DE", "residence": "DE"}
    r = api.client.post("/admin/v1/customers", json=german, headers=kai)
    assert r.status_code == 403 and r.json()["error"] == "OUT_OF_SCOPE", r.text
    assert r.json()["message"] == "kai acts within KZ, KZ only, and this concerns a resident of DE"


def test_offboarding_ends_every_token_at_once_and_keeps_the_record(api: Api) -> None:
    token = add(api, "dave", "compliance_officer")
    r = api.client.post("/admin/v1/staff/dave/tokens", json={"reason": "phone"}, headers=OPERATOR)
    second = r.json()["token"]
    assert api.client.get("/admin/v1/policies", headers=bearer(token)).status_code == 200
    r = api.client.post("/admin/v1/staff/dave/offboard", json={"reason": "left"}, headers=OPERATOR)
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["tokens"] == []
    for t in (token, second):
        assert api.client.get("/admin/v1/policies", headers=bearer(t)).status_code == 401
    listed = api.client.get("/admin/v1/staff", headers=OPERATOR).json()
    assert [(m["name"], m["active"]) for m in listed["staff"]] == [("dave", False)]
    assert set(listed["roles"]) == {r.value for r in ROLES}
    r = api.client.post("/admin/v1/staff/nobody/offboard", json={"reason": "x"}, headers=OPERATOR)
    assert r.status_code == 404 and r.json()["error"] == "STAFF_NOT_FOUND"


def test_a_revoked_or_expired_token_is_refused(api: Api) -> None:
    token = add(api, "erin", "compliance_officer")
    listed = api.client.get("/admin/v1/staff", headers=OPERATOR).json()["staff"][0]
    token_id, expires = listed["tokens"][0]["tokenId"], listed["tokens"][0]["expiresMs"]
    assert expires - api.service.clock() == pytest.approx(90 * 86_400_000, abs=60_000)
    r = api.client.delete(f"/admin/v1/staff/erin/tokens/{token_id}", headers=OPERATOR)
    assert r.status_code == 400 and r.json()["error"] == "REASON_REQUIRED", r.text
    r = api.client.delete(f"/admin/v1/staff/erin/tokens/{token_id}?reason=lost", headers=OPERATOR)
    assert r.status_code == 200, r.text
    assert api.client.get("/admin/v1/policies", headers=bearer(token)).status_code == 401
    r = api.client.post(
        "/admin/v1/staff/erin/tokens", json={"reason": "x", "days": 400}, headers=OPERATOR
    )
    assert r.status_code == 400, r.text
    short = api.client.post(
        "/admin/v1/staff/erin/tokens", json={"reason": "x", "days": 1}, headers=OPERATOR
    ).json()
    view = api.service.view
    assert view.staff_member(token_digest(short["token"]), short["expiresMs"] - 1) is not None
    assert view.staff_member(token_digest(short["token"]), short["expiresMs"]) is None


def test_nobody_changes_their_own_role(api: Api) -> None:
    sid = bearer(add(api, "sid", "senior_compliance_officer"))
    r = api.client.put(
        "/admin/v1/staff/sid", json={"role": "operator", "reason": "me"}, headers=sid
    )
    assert r.status_code == 403 and "cannot change their own role" in r.json()["message"], r.text
    add(api, "cora", "compliance_officer")
    r = api.client.put(
        "/admin/v1/staff/cora",
        json={"role": "senior_compliance_officer", "reason": "promotion"},
        headers=sid,
    )
    assert r.status_code == 200 and r.json()["role"] == "senior_compliance_officer", r.text


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Bad Name", "role": "support", "reason": "x"},
        {"name": "x", "role": "boss", "reason": "x"},
        {"name": "x", "role": "regional_manager", "reason": "x"},
        {"name": "x", "role": "support", "countries": ["KZ"], "reason": "x"},
        {"name": "x", "role": "support"},
        {"role": "support", "reason": "x"},
    ],
    ids=["name", "role", "scope-missing", "scope-not-allowed", "reason", "no-name"],
)
def test_bad_staff_input_is_a_400_naming_what(api: Api, body: dict[str, Any]) -> None:
    r = api.client.post("/admin/v1/staff", json=body, headers=OPERATOR)
    assert r.status_code == 400, r.text
    assert r.json()["error"] in ("BAD_REQUEST", "INVALID_PARAMETER", "REASON_REQUIRED")
    assert api.client.get("/admin/v1/staff", headers=OPERATOR).json()["staff"] == []


def test_every_admin_route_is_in_the_access_table(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    routes = {
        (method.upper(), path)
        for path, methods in paths.items()
        if path.startswith("/admin/")
        for method in methods
    }
    assert routes == set(ROUTES)


def test_staff_json_is_moved_into_the_journal_once(api: Api, tmp_path: Path) -> None:
    data = api.exchange.data_dir
    token = "legacy-token-of-alice"
    (data.path / LEGACY_FILE).write_text(json.dumps({"alice": token_digest(token)}))
    exchange: Exchange = api.exchange
    assert api.client.portal.call(_migrate, data, exchange) == ["alice"]  # type: ignore[attr-defined]
    assert not (data.path / LEGACY_FILE).exists()
    r = api.client.get("/admin/v1/policies", headers=bearer(token))
    assert r.status_code == 200, r.text
    member = api.client.get("/admin/v1/staff", headers=OPERATOR).json()["staff"][0]
    assert (member["name"], member["role"]) == ("alice", "compliance_officer")
    # a second file naming her again (a crash before the delete) moves nothing twice
    (data.path / LEGACY_FILE).write_text(json.dumps({"alice": token_digest(token)}))
    assert api.client.portal.call(_migrate, data, exchange) == []  # type: ignore[attr-defined]


async def _migrate(data: Any, exchange: Exchange) -> list[str]:
    import asyncio

    return await asyncio.to_thread(migrate_legacy_staff, data, exchange)
