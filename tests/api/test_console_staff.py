"""The console's staff section in-process: everyone listed with role, scope, login, tokens and
the work they own; adding and changing people (bad input refused next to its field, nothing
changed); a setup link shown once that works; a revoked session refused at once; offboarding
one person or several after a preview, their work moving to whom it names; no staff reads for
a role without them."""

import html
import re

import pytest

from bourse.api.console.web import COOKIE
from bourse.commands import RaiseScreeningAlert
from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role, TokenKind
from bourse.keys.console_login import code_at
from tests.api.conftest import Api
from tests.api.console import PASSWORD, add, secret_of, sign_in
from tests.api.test_staff import OPERATOR
from tests.engine.test_screening_decisions import EVIDENCE

DEMO_CUSTOMER = 1  # resident in DE


def alert_owned_by(api: Api, name: str) -> int:
    """A screening alert on the demo customer, assigned to `name` through the admin API."""
    outcome = api.execute(
        RaiseScreeningAlert(
            customer_id=DEMO_CUSTOMER,
            evidence=EVIDENCE,
            actor="system:screening",
            ts_ms=api.service.clock(),
        )
    )
    assert not outcome.refused, outcome
    alert_id = max(api.service.view.alerts)
    r = api.client.post(
        "/admin/v1/assignments",
        json={"item": f"alert:{alert_id}", "owner": f"staff:{name}", "reason": "desk"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text
    return alert_id


def preview_id(html: str) -> str:
    found = re.search(r'name="preview_id" value="([0-9a-f]{20})"', html)
    assert found, html
    return found.group(1)


def test_the_list_shows_role_scope_login_tokens_and_the_work_each_owns(api: Api) -> None:
    add(api, "ivan", Role.REGIONAL_MANAGER, venues=["KZ"], countries=["KZ"], team="kz")
    add(api, "cora", Role.COMPLIANCE_OFFICER)
    alert = alert_owned_by(api, "cora")
    sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    page = api.client.get("/console/staff")
    assert page.status_code == 200, page.text
    row = page.text.split('id="staff-ivan"')[1].split("</tr>")[0]
    assert "Regional manager" in row and "venues KZ; countries KZ" in row and ">kz<" in row
    assert "not set up" in row and "active" in row
    cora = page.text.split('id="staff-cora"')[1].split("</tr>")[0]
    assert "1 item" in cora and f"alert:{alert}" in cora
    sid = page.text.split('id="staff-sid"')[1].split("</tr>")[0]
    assert "set up" in sid and "not set up" not in sid
    session = next(iter(api.service.view.staff["sid"].tokens.values()))
    assert session.kind is TokenKind.SESSION
    assert f"<code>{session.token_id}</code>" in page.text and "console session" in page.text
    assert f"/staff/sid/tokens/{session.token_id}/revoke" in page.text


def test_adding_a_regional_manager_for_kz_lists_them_with_their_scope(api: Api) -> None:
    csrf = sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    form = api.client.get("/console/staff/new")
    assert form.status_code == 200 and 'name="role"' in form.text
    r = api.client.post(
        "/console/staff",
        data={
            "csrf": csrf,
            "name": "aigerim",
            "role": "regional_manager",
            "venues": "kz",
            "countries": "KZ",
            "team": "kz-compliance",
            "reason": "hired as regional manager, HR ticket 4411",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    member = api.service.view.staff["aigerim"]
    assert (member.role, member.venues, member.countries, member.team) == (
        Role.REGIONAL_MANAGER,
        ("KZ",),
        ("KZ",),
        "kz-compliance",
    )
    page = api.client.get("/console/staff")
    assert "aigerim is added as a regional manager." in page.text
    row = page.text.split('id="staff-aigerim"')[1].split("</tr>")[0]
    assert "venues KZ; countries KZ" in row and "Regional manager" in row
    # changed by the same form, prefilled: now for UZ too
    edit = api.client.get("/console/staff/aigerim/edit")
    assert (
        edit.status_code == 200
        and 'value="KZ"' in edit.text
        and 'value="kz-compliance"' in edit.text
    )
    assert '<option value="regional_manager" selected>' in edit.text
    r = api.client.post(
        "/console/staff/aigerim/edit",
        data={
            "csrf": csrf,
            "role": "regional_manager",
            "venues": "KZ",
            "countries": "KZ, UZ",
            "team": "kz-compliance",
            "reason": "now covers Uzbekistan",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert member.countries == ("KZ", "UZ")


@pytest.mark.parametrize(
    ("fields", "where", "says"),
    [
        ({"name": "Bad Name!"}, "name", "must be 1 to 32 characters"),
        ({"name": "sid"}, "name", "exists"),
        ({"countries": "", "venues": ""}, "venues", "acts within a scope"),
        ({"venues": "KZ, XX"}, "venues", "venue 'XX' is not defined"),
        ({"countries": "ZZ"}, "countries", "not an ISO 3166-1 alpha-2"),
        ({"role": "compliance_officer"}, "venues", "is not scoped"),
        ({"role": "boss"}, "role", "choose one of the roles"),
        ({"reason": "  "}, "reason", "say why"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_adds_nobody(
    api: Api, fields: dict[str, str], where: str, says: str
) -> None:
    csrf = sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    before = set(api.service.view.staff)
    good = {
        "csrf": csrf,
        "name": "aigerim",
        "role": "regional_manager",
        "venues": "KZ",
        "countries": "KZ",
        "team": "",
        "reason": "hired",
    }
    r = api.client.post("/console/staff", data={**good, **fields})
    assert r.status_code == 400, r.text
    error = re.search(rf'<p class="error" id="e-{where}">([^<]*)</p>', r.text)
    assert error and says in html.unescape(error.group(1)), r.text
    assert set(api.service.view.staff) == before
    assert 'aria-invalid="true"' in r.text


def test_under_four_eyes_adding_someone_waits_for_approval(api: Api) -> None:
    r = api.client.put(
        "/admin/v1/four-eyes",
        json={"commands": sorted(DEFAULT_FOUR_EYES), "reason": "the bank's policy"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text
    csrf = sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    data = {
        "csrf": csrf,
        "name": "cora",
        "role": "compliance_officer",
        "venues": "",
        "countries": "",
        "team": "",
        "reason": "hired, HR ticket 12",
    }
    r = api.client.post("/console/staff", data=data)
    assert r.status_code == 200
    assert "Proposed as #" in r.text and "second, entitled person approves" in r.text
    assert "cora" not in api.service.view.staff
    (proposal,) = api.service.view.proposals.values()
    assert type(proposal.command).__name__ == "AddStaff"


def test_a_setup_link_is_shown_once_and_works(api: Api) -> None:
    add(api, "olga")
    csrf = sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    form = api.client.get("/console/staff/olga/setup-link")
    assert form.status_code == 200 and 'id="f-reason"' in form.text
    blank = api.client.post(
        "/console/staff/olga/setup-link", data={"csrf": csrf, "days": "3", "reason": ""}
    )
    assert blank.status_code == 400 and 'id="e-reason"' in blank.text
    too_long = api.client.post(
        "/console/staff/olga/setup-link", data={"csrf": csrf, "days": "30", "reason": "new"}
    )
    assert too_long.status_code == 400 and 'id="e-days"' in too_long.text
    assert api.service.view.staff["olga"].tokens == {}
    r = api.client.post(
        "/console/staff/olga/setup-link",
        data={"csrf": csrf, "days": "3", "reason": "joined the KZ team"},
    )
    assert r.status_code == 200, r.text
    assert "will not be shown again" in r.text and r.headers["cache-control"] == "no-store"
    found = re.search(
        r'<code class="setup-link">http://testserver(/console/setup\?token=([\w-]+))</code>', r.text
    )
    assert found, r.text
    path, token = found.groups()
    (link,) = api.service.view.staff["olga"].tokens.values()
    assert link.kind is TokenKind.SETUP
    listed = api.client.get("/console/staff").text
    assert link.token_id in listed and "setup link" in listed and token not in listed
    # it works at /console/setup: olga chooses her password and second factor
    page = api.client.get(path)
    assert page.status_code == 200 and "Set up your console login, olga" in page.text
    secret = secret_of(page.text)
    done = api.client.post(
        "/console/setup",
        data={
            "token": token,
            "secret": secret,
            "password": PASSWORD,
            "confirm": PASSWORD,
            "code": code_at(secret, api.service.clock()),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert api.service.view.staff["olga"].password_hash.startswith("$argon2id$")
    assert api.client.get(path).status_code == 404  # once


def test_a_revoked_console_session_is_refused_at_once(api: Api) -> None:
    sign_in(api, "olga")
    assert api.client.get("/console/", follow_redirects=False).status_code == 200
    olga = api.client.cookies[COOKIE]
    (session,) = api.service.view.staff["olga"].tokens.values()
    csrf = sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    url = f"/console/staff/olga/tokens/{session.token_id}/revoke"
    blank = api.client.post(url, data={"csrf": csrf, "reason": " "})
    assert blank.status_code == 400 and f'id="e-r-{session.token_id}"' in blank.text
    assert session.token_id in api.service.view.staff["olga"].tokens
    r = api.client.post(url, data={"csrf": csrf, "reason": "laptop stolen"})
    assert r.status_code == 200 and "olga's console session" in html.unescape(r.text)
    assert api.service.view.staff["olga"].tokens == {}
    api.client.cookies.clear()
    refused = api.client.get(
        "/console/staff", headers={"Cookie": f"{COOKIE}={olga}"}, follow_redirects=False
    )
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/console/login")
    gone = api.client.post(url, data={"csrf": csrf, "reason": "again"}, follow_redirects=False)
    assert gone.status_code == 303  # signed out: no session cookie any more


def test_offboarding_an_officer_moves_the_alert_they_own_to_a_colleague(api: Api) -> None:
    add(api, "cora")
    add(api, "olena")
    alert = alert_owned_by(api, "cora")
    csrf = sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    page = api.client.get("/console/staff/cora/offboard", params={"reassign_to": "olena"})
    assert page.status_code == 200, page.text
    assert f"<td>alert:{alert}</td><td>staff:olena</td>" in page.text
    assert "can go ahead" in page.text
    seen = preview_id(page.text)
    blank = api.client.post(
        "/console/staff/cora/offboard",
        data={"csrf": csrf, "reassign_to": "olena", "preview_id": seen, "reason": ""},
    )
    assert blank.status_code == 400 and 'id="e-reason"' in blank.text
    assert api.service.view.staff["cora"].active
    r = api.client.post(
        "/console/staff/cora/offboard",
        data={"csrf": csrf, "reassign_to": "olena", "preview_id": seen, "reason": "left, HR 5120"},
    )
    assert r.status_code == 200 and "cora is offboarded" in r.text, r.text
    assert not api.service.view.staff["cora"].active
    assert api.service.view.owners[f"alert:{alert}"] == "staff:olena"
    row = r.text.split('id="staff-cora"')[1].split("</tr>")[0]
    assert "offboarded" in row and "none" in row
    assert api.client.get("/console/staff/cora/offboard").status_code == 404


def test_offboarding_that_would_leave_work_with_nobody_is_refused_on_the_form(api: Api) -> None:
    add(api, "cora")  # no team: her alert would have nowhere to go
    alert = alert_owned_by(api, "cora")
    csrf = sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    page = api.client.get("/console/staff/cora/offboard")
    assert page.status_code == 200
    assert "would be refused" in page.text and f"owns alert:{alert} and has no team" in page.text
    data = {"csrf": csrf, "reassign_to": "", "preview_id": preview_id(page.text), "reason": "x"}
    r = api.client.post("/console/staff/cora/offboard", data=data)
    assert r.status_code == 400
    error = re.search(r'<p class="error form-error" role="alert">([^<]*)</p>', r.text)
    assert error and "has no team" in html.unescape(error.group(1)), r.text
    assert api.service.view.staff["cora"].active
    # a preview that no longer says what offboarding would do is shown again, not applied
    stale = {**data, "reassign_to": "sid", "preview_id": "0" * 20}
    r = api.client.post("/console/staff/cora/offboard", data=stale)
    assert r.status_code == 400 and "has changed since the preview" in r.text
    assert api.service.view.staff["cora"].active
    assert api.service.view.owners[f"alert:{alert}"] == "staff:cora"


def test_offboarding_several_people_cites_their_preview(api: Api) -> None:
    for name in ("ivan", "olena", "petra"):
        add(api, name, team="ee")
    alert = alert_owned_by(api, "ivan")
    csrf = sign_in(api, "sid", Role.SENIOR_COMPLIANCE_OFFICER)
    nobody = api.client.get("/console/staff/offboarding", params={"look": "1"})
    assert nobody.status_code == 400 and 'id="e-leave"' in nobody.text
    chosen = {"look": "1", "leave": ["olena", "ivan"]}
    page = api.client.get("/console/staff/offboarding", params=chosen)
    assert page.status_code == 200, page.text
    assert f"<td>alert:{alert}</td><td>team:ee</td>" in page.text
    assert 'name="names" value="ivan,olena"' in page.text
    base = {"csrf": csrf, "names": "ivan,olena", "reassign_to": "", "reason": "EE region closed"}
    stale = api.client.post("/console/staff/offboarding", data={**base, "preview_id": "0" * 20})
    assert stale.status_code == 400 and "preview it again" in stale.text
    assert api.service.view.staff["ivan"].active
    r = api.client.post(
        "/console/staff/offboarding", data={**base, "preview_id": preview_id(page.text)}
    )
    assert r.status_code == 200 and "Offboarded ivan, olena" in r.text, r.text
    view = api.service.view
    assert not view.staff["ivan"].active and not view.staff["olena"].active
    assert view.staff["petra"].active and view.owners[f"alert:{alert}"] == "team:ee"


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        (Role.COMPLIANCE_OFFICER, {}),
        (Role.REGIONAL_MANAGER, {"countries": ["KZ"]}),
        (Role.SUPPORT, {}),
    ],
)
def test_a_role_without_staff_reads_gets_403(
    api: Api, role: Role, scope: dict[str, list[str]]
) -> None:
    csrf = sign_in(api, "cora", role, **scope)
    for path in ("/console/staff", "/console/staff/new", "/console/staff/cora/offboard"):
        r = api.client.get(path)
        assert r.status_code == 403 and "does not read staff" in r.text, path
    data = {"csrf": csrf, "name": "x", "role": "operator", "reason": "me"}
    assert api.client.post("/console/staff", data=data).status_code == 403
    assert 'href="/console/staff"' not in api.client.get("/console/").text
    assert set(api.service.view.staff) == {"cora"}


def test_an_operator_administers_staff_too_and_unknown_names_are_404(api: Api) -> None:
    csrf = sign_in(api, "root", Role.OPERATOR)
    r = api.client.post(
        "/console/staff",
        data={
            "csrf": csrf,
            "name": "aud",
            "role": "auditor",
            "countries": "KZ",
            "reason": "the AFSA's examiner",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert api.service.view.staff["aud"].countries == ("KZ",)
    for path in ("/console/staff/nobody/edit", "/console/staff/nobody/offboard"):
        assert api.client.get(path).status_code == 404
    r = api.client.post(
        "/console/staff/aud/tokens/nothing/revoke", data={"csrf": csrf, "reason": "x"}
    )
    assert r.status_code == 404
    # nobody changes their own role: the engine's refusal is the form's error
    r = api.client.post(
        "/console/staff/root/edit",
        data={"csrf": csrf, "role": "senior_compliance_officer", "reason": "promote myself"},
    )
    assert r.status_code == 400 and "cannot change their own role" in r.text
    assert api.service.view.staff["root"].role is Role.OPERATOR
