"""The console's jurisdiction policies: a change previewed (whom it names, what they hold), then
applied, proposed under four eyes or scheduled citing that preview; bad input refused next to
its field with nothing changed; a stale preview refused; the history of changes with who and
why; reversal; and who may read it (roles, a regional manager's scope)."""

import html
import re
from typing import Any

import httpx2 as httpx
import pytest

from bourse.api.console import policies
from bourse.commands import OnboardCustomer
from bourse.compliance.policy import Access, Capability
from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role
from tests.api.conftest import Api
from tests.api.console import sign_in
from tests.api.test_staff import OPERATOR

HOUR_MS = 3_600_000
REASON = "instruction 2024/17 of the regulator"


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden field {name} in the page"
    return html.unescape(found.group(1))


def error_of(page: str, field: str) -> str:
    """The error shown next to `field` (its element id is e-FIELD)."""
    found = re.search(rf'id="e-{field}"[^>]*>([^<]*)<', page)
    assert found, f"no error next to {field}"
    return html.unescape(found.group(1))


def notice_of(page: str) -> str:
    found = re.search(r'class="notice" role="status">([^<]*)<', page)
    assert found, "no notice on the page"
    return html.unescape(found.group(1))


def preview(api: Api, csrf: str, **fields: str) -> httpx.Response:
    data = {
        "csrf": csrf,
        "country": "DE",
        "basis": "RESIDENCE",
        "name": "DE trading pause",
        "deadline": "",
        **{f"cap_{cap.value}": "OPEN" for cap in Capability},
        **fields,
    }
    return api.client.post("/console/policies/preview", data=data)


def apply(api: Api, csrf: str, shown: str, **fields: str) -> httpx.Response:
    """The apply form of the preview page `shown`, sent as the browser sends it."""
    data = {
        "csrf": csrf,
        "spec": hidden(shown, "spec"),
        "preview_id": hidden(shown, "preview_id"),
        "previewed": hidden(shown, "previewed"),
        "action": "apply",
        "effective": "",
        "reason": REASON,
        **fields,
    }
    return api.client.post("/console/policies/apply", data=data, follow_redirects=False)


def suspend_trading(api: Api, csrf: str, country: str = "DE") -> str:
    """Trading suspended for the residents of `country` through the console; the page after."""
    shown = preview(
        api, csrf, country=country, name=f"{country} trading pause", cap_TRADING="SUSPENDED"
    )
    assert shown.status_code == 200, shown.text
    r = apply(api, csrf, shown.text)
    assert r.status_code == 303, r.text
    return api.client.get(r.headers["location"]).text


def residents(api: Api, country: str) -> list[Any]:
    return [c for c in api.service.view.customers.values() if c.residence == country]


def onboard(api: Api, country: str) -> None:
    cmd = OnboardCustomer(
        legal_name=f"Another resident of {country}",
        date_of_birth="1980-02-03",
        nationality=country,
        residence=country,
        actor="test",
        ts_ms=api.service.clock(),
        reason="KYC approved",
    )
    assert not api.execute(cmd).refused


def four_eyes_on(api: Api) -> None:
    body = {"commands": sorted(DEFAULT_FOUR_EYES), "reason": "the bank's policy"}
    r = api.client.put("/admin/v1/four-eyes", json=body, headers=OPERATOR)
    assert r.status_code == 200, r.text


def test_suspending_trading_for_residents_previews_then_applies(api: Api) -> None:
    csrf = sign_in(api, "cora")
    form = api.client.get("/console/policies/edit?basis=residence&country=DE")
    assert form.status_code == 200
    assert '<label for="f-cap_TRADING">Trading</label>' in form.text
    people = residents(api, "DE")
    assert people, "the demo world has a resident of DE"

    shown = preview(api, csrf, cap_TRADING="SUSPENDED")
    assert shown.status_code == 200, shown.text
    assert f"<strong>{len(people)}</strong>customers" in shown.text
    assert people[0].legal_name in shown.text  # the sample names them
    assert "Trading suspended" in shown.text
    assert api.service.view.residence_policies == {}  # a preview changes nothing

    r = apply(api, csrf, shown.text)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/console/policies/residence/DE"
    policy = api.service.view.residence_policies["DE"]
    assert policy.spec.access(Capability.TRADING) is Access.SUSPENDED
    assert policy.spec.access(Capability.ONBOARDING) is Access.OPEN
    assert (policy.actor, policy.reason) == ("staff:cora", REASON)
    assert policy.spec.name == "DE trading pause"

    page = api.client.get(r.headers["location"]).text
    assert notice_of(page).startswith("Applied 'DE trading pause'")
    assert "staff:cora" in page and REASON in page
    index = api.client.get("/console/policies").text
    assert "DE trading pause" in index and "Trading suspended" in index


def test_under_four_eyes_the_apply_becomes_a_proposal(api: Api) -> None:
    four_eyes_on(api)
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf, cap_TRADING="SUSPENDED")
    assert "Propose" in shown.text and "second person approves" in shown.text
    r = apply(api, csrf, shown.text)
    assert r.status_code == 303, r.text
    notice = notice_of(api.client.get(r.headers["location"]).text)
    assert notice.startswith("Proposed as #") and "second" in notice
    assert api.service.view.residence_policies == {}  # not in force until approved
    [proposal] = api.service.view.proposals.values()
    assert type(proposal.command).__name__ == "SetJurisdictionPolicy"
    assert proposal.proposer == "staff:cora" and proposal.reason == REASON


@pytest.mark.parametrize(
    ("fields", "field", "said"),
    [
        ({"country": "XX", "cap_TRADING": "SUSPENDED"}, "country", "ISO 3166-1 alpha-2"),
        ({"country": "", "cap_TRADING": "SUSPENDED"}, "country", "enter the country"),
        ({"basis": "CITY", "cap_TRADING": "SUSPENDED"}, "basis", "residence or nationality"),
        ({"name": "  ", "cap_TRADING": "SUSPENDED"}, "name", "name"),
        ({"cap_TRADING": "PAUSED"}, "cap_TRADING", "choose"),
        ({}, "capabilities", "no capability changed"),
        (
            {"cap_CRYPTO_WITHDRAWAL": "WITHDRAW_ONLY", "deadline": "2001-01-01T00:00"},
            "deadline",
            "in the past",
        ),
        (
            {"cap_CRYPTO_WITHDRAWAL": "WITHDRAW_ONLY", "deadline": "next tuesday"},
            "deadline",
            "not an ISO 8601",
        ),
        ({"cap_CRYPTO_WITHDRAWAL": "WITHDRAW_ONLY"}, "deadline", "needs a deadline"),
    ],
)
def test_bad_input_is_refused_next_to_its_field(
    api: Api, fields: dict[str, str], field: str, said: str
) -> None:
    csrf = sign_in(api, "cora")
    r = preview(api, csrf, **fields)
    assert r.status_code == 400, r.text
    assert said in error_of(r.text, field)
    assert 'aria-invalid="true"' in r.text or field == "capabilities"
    assert "Impact of" not in r.text  # nothing previewed, nothing to apply
    assert api.service.view.residence_policies == {}


def test_nothing_changed_is_refused_against_the_policy_in_force(api: Api) -> None:
    csrf = sign_in(api, "cora")
    suspend_trading(api, csrf)
    r = preview(api, csrf, cap_TRADING="SUSPENDED", name="the same again")
    assert r.status_code == 400
    assert "this is the policy in force" in error_of(r.text, "capabilities")
    # the edit form starts from the policy in force
    form = api.client.get("/console/policies/edit?basis=residence&country=DE").text
    assert re.search(r'<option value="SUSPENDED" selected>Suspended</option>', form)


@pytest.mark.parametrize(
    ("fields", "field", "said"),
    [
        ({"reason": "   "}, "reason", "say why"),
        ({"action": "schedule", "effective": "soon"}, "effective", "not an ISO 8601"),
        ({"action": "schedule", "effective": "2001-01-01T00:00"}, "effective", "in the past"),
        ({"action": "schedule", "effective": ""}, "effective", "choose when"),
        ({"action": "later"}, "action", "now or to schedule"),
    ],
)
def test_bad_apply_input_is_refused_next_to_its_field(
    api: Api, fields: dict[str, str], field: str, said: str
) -> None:
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf, cap_TRADING="SUSPENDED")
    r = apply(api, csrf, shown.text, **fields)
    assert r.status_code == 400, r.text
    assert said in error_of(r.text, field)
    assert "Impact of" in r.text  # the preview is still there to apply once fixed
    assert api.service.view.residence_policies == {}
    assert api.service.view.scheduled == {}
    assert api.service.view.proposals == {}


def test_a_stale_preview_is_refused_and_previewed_afresh(api: Api) -> None:
    csrf = sign_in(api, "cora")
    before = len(residents(api, "DE"))
    shown = preview(api, csrf, cap_TRADING="SUSPENDED")
    onboard(api, "DE")  # the people the change names are no longer those previewed
    r = apply(api, csrf, shown.text)
    assert r.status_code == 400, r.text
    assert "PREVIEW_STALE" in r.text and "Nothing changed" in r.text
    assert api.service.view.residence_policies == {}
    assert f"<strong>{before + 1}</strong>customers" in r.text  # previewed again
    assert hidden(r.text, "preview_id") != hidden(shown.text, "preview_id")
    assert apply(api, csrf, r.text).status_code == 303  # the fresh preview applies
    assert "DE" in api.service.view.residence_policies


def test_a_tampered_spec_does_not_match_its_preview(api: Api) -> None:
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf, cap_TRADING="SUSPENDED")
    spec = hidden(shown.text, "spec").replace("SUSPENDED", "CLOSED")
    r = apply(api, csrf, shown.text, spec=spec)
    assert r.status_code == 400 and "PREVIEW_MISMATCH" in r.text
    r = apply(api, csrf, shown.text, spec="{not json")
    assert r.status_code == 403
    assert api.service.view.residence_policies == {}


def test_history_lists_each_change_with_actor_and_reason_newest_first(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    csrf = sign_in(api, "cora")
    suspend_trading(api, csrf)
    shown = preview(api, csrf, name="DE closed", cap_TRADING="CLOSED", cap_ONBOARDING="CLOSED")
    assert apply(api, csrf, shown.text, reason="sanctions package 14").status_code == 303

    index = api.client.get("/console/policies").text
    history = index[index.index('id="h-history"') :]
    assert history.index("DE closed") < history.index("DE trading pause")  # newest first
    assert "sanctions package 14" in history and REASON in history
    assert history.count("staff:cora") == 2
    country = api.client.get("/console/policies/residence/DE").text
    assert "sanctions package 14" in country and "Onboarding closed; Trading closed" in country

    monkeypatch.setattr(policies, "PAGE", 1)
    first = api.client.get("/console/policies").text
    assert "DE closed" in first and "DE trading pause" not in first.split('id="h-history"')[1]
    assert 'href="/console/policies?page=2"' in first
    second = api.client.get("/console/policies?page=2").text
    later = second.split('id="h-history"')[1]
    assert "DE trading pause" in later and "sanctions package 14" not in later
    assert api.client.get("/console/policies?page=x").status_code == 404


def test_schedule_then_cancel(api: Api) -> None:
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf, cap_TRADING="SUSPENDED")
    at = policies.minute_text(api.service.clock() + 2 * HOUR_MS)
    r = apply(api, csrf, shown.text, action="schedule", effective=at)
    assert r.status_code == 303, r.text
    [scheduled] = api.service.view.scheduled.values()
    assert policies.minute_text(scheduled.effective_ms) == at
    assert (scheduled.actor, scheduled.reason) == ("staff:cora", REASON)
    assert api.service.view.residence_policies == {}  # not yet

    index = api.client.get("/console/policies").text
    link = f'href="/console/policies/scheduled/{scheduled.id}"'
    assert link in index
    page = api.client.get(f"/console/policies/scheduled/{scheduled.id}")
    assert page.status_code == 200 and "Cancel this change" in page.text
    cancel = f"/console/policies/scheduled/{scheduled.id}/cancel"
    r = api.client.post(cancel, data={"csrf": csrf, "reason": ""})
    assert r.status_code == 400 and "say why" in error_of(r.text, "reason")
    assert scheduled.id in api.service.view.scheduled
    r = api.client.post(
        cancel, data={"csrf": csrf, "reason": "announcement withdrawn"}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    assert api.service.view.scheduled == {}
    assert "is canceled" in notice_of(api.client.get(r.headers["location"]).text)
    assert api.client.get(f"/console/policies/scheduled/{scheduled.id}").status_code == 404


def test_reversal_is_previewed_then_applied_like_any_change(api: Api) -> None:
    csrf = sign_in(api, "cora")
    page = suspend_trading(api, csrf)
    assert "Preview reversal" in page
    shown = api.client.post("/console/policies/residence/DE/reversal/preview", data={"csrf": csrf})
    assert shown.status_code == 200, shown.text
    assert "DE trading pause (restored)" in shown.text
    assert f"<strong>{len(residents(api, 'DE'))}</strong>customers" in shown.text
    r = apply(api, csrf, shown.text, reason="sanctions lifted")
    assert r.status_code == 303, r.text
    assert "DE" not in api.service.view.residence_policies
    country = api.client.get("/console/policies/residence/DE").text
    assert "No residence policy is in force for DE" in country
    assert "sanctions lifted" in country  # the history keeps both changes

    # nothing left to reverse: said next to the button, nothing changed
    r = api.client.post("/console/policies/residence/DE/reversal/preview", data={"csrf": csrf})
    assert r.status_code == 400
    assert "no RESIDENCE policy is in force" in error_of(r.text, "reversal")


def test_support_may_not_read_policies(api: Api) -> None:
    csrf = sign_in(api, "sam", Role.SUPPORT)
    for path in (
        "/console/policies",
        "/console/policies/residence/DE",
        "/console/policies/edit",
    ):
        assert api.client.get(path).status_code == 403, path
    r = preview(api, csrf, cap_TRADING="SUSPENDED")
    assert r.status_code == 403
    assert api.service.view.residence_policies == {}


def test_a_regional_manager_sees_and_changes_only_their_countries(api: Api) -> None:
    csrf = sign_in(api, "cora")
    suspend_trading(api, csrf, "DE")
    suspend_trading(api, csrf, "KZ")
    csrf = sign_in(api, "rita", Role.REGIONAL_MANAGER, countries=["KZ"])
    index = api.client.get("/console/policies").text
    assert "KZ trading pause" in index and "DE trading pause" not in index
    assert api.client.get("/console/policies/residence/KZ").status_code == 200
    assert api.client.get("/console/policies/residence/DE").status_code == 403
    assert api.client.get("/console/policies/edit?country=DE").status_code == 403
    r = preview(api, csrf, cap_ONBOARDING="CLOSED", cap_TRADING="SUSPENDED")  # DE
    assert r.status_code == 400 and "outside your scope" in error_of(r.text, "country")
    before = api.service.view.residence_policies["DE"].change_id
    r = preview(api, csrf, country="KZ", cap_ONBOARDING="CLOSED", cap_TRADING="SUSPENDED")
    assert r.status_code == 200, r.text
    assert apply(api, csrf, r.text).status_code == 303
    assert api.service.view.residence_policies["KZ"].actor == "staff:rita"
    assert api.service.view.residence_policies["DE"].change_id == before


def test_a_malformed_path_is_not_found(api: Api) -> None:
    sign_in(api, "cora")
    for path in (
        "/console/policies/city/DE",
        "/console/policies/residence/XX",
        "/console/policies/scheduled/abc",
        "/console/policies/scheduled/99",
        "/console/policies/edit?basis=city",
    ):
        assert api.client.get(path).status_code == 404, path
