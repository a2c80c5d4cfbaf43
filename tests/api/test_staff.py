"""Staff tokens: the registry on the data directory, and admin routes acting as the staff member."""

import stat
from pathlib import Path
from typing import Any

import pytest

from bourse.compliance.staff import StaffError, StaffRegistry
from bourse.events import CustomerRecorded, Outcome
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


def test_a_token_identifies_its_member_and_is_never_stored(tmp_path: Path) -> None:
    staff = StaffRegistry(tmp_path)
    alice, bob = staff.add("alice"), staff.add("bob.smith")
    assert alice != bob
    assert staff.who(alice) == "alice" and staff.who(bob) == "bob.smith"
    assert staff.who("not-a-token") is None and staff.who("") is None
    assert staff.names() == ["alice", "bob.smith"]
    text = staff.file.read_text()
    assert alice not in text and bob not in text
    assert stat.S_IMODE(staff.file.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "name", ["", "Alice", "al ice", "a" * 33, "alice!", "ümit", "../etc", "alice\n"], ids=repr
)
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(StaffError, match="staff name"):
        StaffRegistry(tmp_path).add(name)


def test_duplicates_and_unknown_removals_are_refused(tmp_path: Path) -> None:
    staff = StaffRegistry(tmp_path)
    token = staff.add("alice")
    with pytest.raises(StaffError, match="already has a token"):
        staff.add("alice")
    assert staff.who(token) == "alice"  # the refused add left the first token working
    with pytest.raises(StaffError, match="no staff member"):
        staff.remove("bob")


def test_changes_by_another_process_are_seen_at_once(tmp_path: Path) -> None:
    server, cli = StaffRegistry(tmp_path), StaffRegistry(tmp_path)
    assert server.names() == []
    token = cli.add("carol")
    assert server.who(token) == "carol"
    cli.remove("carol")
    assert server.who(token) is None
    again = cli.add("carol")  # a new token: the old one stays dead
    assert server.who(again) == "carol" and server.who(token) is None


def test_operator_and_staff_tokens_act_and_others_do_not(api: Api) -> None:
    staff: StaffRegistry = api.client.app.state.staff  # type: ignore[attr-defined]
    token = staff.add("alice")
    seen: list[Outcome] = []
    api.service.on_release.append(seen.extend)
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


def test_a_removed_staff_token_stops_working_at_once(api: Api) -> None:
    cli = StaffRegistry(api.exchange.data_dir.path)  # as `bourse staff` on the server's data dir
    token = cli.add("dave")
    r = api.client.get("/admin/v1/policies", headers=bearer(token))
    assert r.status_code == 200, r.text
    cli.remove("dave")
    r = api.client.get("/admin/v1/policies", headers=bearer(token))
    assert r.status_code == 401, r.text


def test_staff_actions_record_the_member_as_actor(api: Api) -> None:
    staff: StaffRegistry = api.client.app.state.staff  # type: ignore[attr-defined]
    headers = bearer(staff.add("erin"))
    preview = api.client.post(
        "/admin/v1/policies/preview",
        json={"name": "CU pause", "country": "CU", "rules": [_rule("TRADING", "SUSPENDED")]},
        headers=headers,
    )
    assert preview.status_code == 200, preview.text
    body: dict[str, Any] = {**preview.json()["apply"], "reason": "board decision 12"}
    applied = api.client.post("/admin/v1/policies/apply", json=body, headers=headers)
    assert applied.status_code == 200, applied.text
    listed = api.client.get("/admin/v1/policies", headers=OPERATOR).json()["inForce"]
    assert [(p["country"], p["actor"]) for p in listed] == [("CU", "staff:erin")]


def _rule(capability: str, access: str) -> dict[str, str]:
    return {"capability": capability, "access": access}
