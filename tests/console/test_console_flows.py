"""The console end to end in the system Chromium, against a real `bourse run` with four eyes on:
the demo's two officers set up their logins with TOTP through their one-time links (one only
with the keyboard); the officer proposes a country suspension, the senior officer approves it,
and a bot's order is refused; a sanctions alert is confirmed with four eyes; an officer is
offboarded and their work moves. Every page is screenshotted (artifacts/console/) and checked
with axe-core: no serious or critical violations."""

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from bourse.audit.verify_bundle import verify
from bourse.bench.screening_bench import DATA
from bourse.keys.console_login import code_at
from bourse.server.exchange import now_ms
from tests.console.conftest import VIEWPORT, assert_accessible, shot
from tests.net import http
from tests.server.server import Server, cli

pytestmark = pytest.mark.slow
PASSWORD = "a long passphrase nobody guesses"
CUSTOMER = {"date_of_birth": "1971-01-01", "reason": "KYC file"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("console") / "data", four_eyes=True)
    try:
        cli(s, "lists", "load", "un_sc", str(DATA / "un_consolidated_2026-02-27.xml"))
        yield s
    finally:
        s.stop()


def onboard(server: Server, name: str, country: str) -> dict[str, int]:
    body = {"legal_name": name, "nationality": country, "residence": country, **CUSTOMER}
    r = http.post(f"{server.url}/admin/v1/customers", json=body, headers=server.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def alert_of(server: Server, customer_id: int) -> int:
    r = http.get(f"{server.url}/admin/v1/alerts", headers=server.headers)
    [found] = [a for a in r.json()["alerts"] if a["customerId"] == customer_id]
    return int(found["alertId"])


def look(page: Page, name: str) -> None:
    """Every page a flow reaches: kept as a screenshot, and checked for accessibility."""
    shot(page, name)
    assert_accessible(page)


def set_up(browser: Browser, server: Server, name: str, keyboard: bool = False) -> BrowserContext:
    """`name` opens their one-time setup link, chooses a password, adds the TOTP secret to
    their "app" (this test computes its codes) and signs in: a context holding their session."""
    links = json.loads((server.data_dir / "demo-links.json").read_text())
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url)
    page = context.new_page()
    page.goto(f"/console/setup?token={links[name]}")
    look(page, f"01-setup-{name}")
    secret = page.locator("[data-secret]").get_attribute("data-secret")
    assert secret
    # the code the app shows now confirms the secret; the next one (accepted a step early, as
    # from a clock a little off) signs in: no wait for the next step, whenever the test runs
    now = now_ms()
    page.fill("#f-password", PASSWORD)
    page.fill("#f-confirm", "not the same passphrase")
    page.fill("#f-code", code_at(secret, now))
    page.get_by_role("button", name="Save and go to sign in").click()
    expect(page.locator("#e-password")).to_contain_text("the two passwords differ")
    look(page, f"02-setup-error-{name}")
    page.fill("#f-password", PASSWORD)
    page.fill("#f-confirm", PASSWORD)
    page.fill("#f-code", code_at(secret, now))
    page.get_by_role("button", name="Save and go to sign in").click()
    expect(page.locator("div.notice")).to_contain_text("Your console login is set up")
    look(page, f"03-login-{name}")
    page.fill("#f-password", "a wrong passphrase, typed in haste")
    page.fill("#f-code", code_at(secret, now + 30_000))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".form-error")).to_contain_text("name, password or code is wrong")
    if keyboard:  # from the top of the page, with the keyboard only
        page.goto(f"/console/login?name={name}")
        for _ in range(12):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "f-password":
                break
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Tab")
        page.keyboard.type(code_at(secret, now + 30_000))
        page.keyboard.press("Enter")
    else:
        page.fill("#f-password", PASSWORD)
        page.fill("#f-code", code_at(secret, now + 30_000))
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    look(page, f"04-dashboard-{name}")
    page.close()
    return context


@pytest.fixture(scope="module")
def officer(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    context = set_up(browser, server, "demo.officer")
    yield context
    context.close()


@pytest.fixture(scope="module")
def senior(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    context = set_up(browser, server, "demo.senior", keyboard=True)
    yield context
    context.close()


def proposal_id(page: Page) -> int:
    notice = page.locator("div.notice").inner_text()  # the one the action left
    found = re.search(r"Proposed as #(\d+)", notice)
    assert found, notice
    return int(found.group(1))


def approve(senior: BrowserContext, pid: int, shots: str) -> None:
    page = senior.new_page()
    page.goto("/console/approvals")
    link = page.locator(f'a[href="/console/approvals/{pid}"]')
    expect(link).to_have_count(1)
    look(page, f"{shots}-inbox")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(str(pid))
    look(page, f"{shots}-proposal")
    page.fill("#f-reason", "checked the evidence beside it")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("div.notice")).to_contain_text(f"Approved proposal {pid}")
    page.close()


def bot_order(server: Server) -> httpx.Response:
    key = json.loads((server.data_dir / "demo-api-key.json").read_text())
    fields = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    text = urlencode({**fields, "quantity": "0.001", "price": "50000", "timestamp": now_ms()})
    sig = hmac.new(key["secretKey"].encode(), text.encode(), hashlib.sha256).hexdigest()
    return http.post(
        f"{server.url}/api/v3/order?{text}&signature={sig}",
        headers={"X-MBX-APIKEY": key["apiKey"]},
    )


def test_a_country_suspension_is_proposed_approved_and_a_bots_order_refused(
    server: Server, officer: BrowserContext, senior: BrowserContext
) -> None:
    assert bot_order(server).status_code == 200  # the demo trader lives in DE
    page = officer.new_page()
    page.goto("/console/policies")
    look(page, "10-policies")
    page.goto("/console/policies/edit?basis=residence&country=DE")
    page.fill("#f-name", "DE trading pause")
    page.select_option("#f-cap_TRADING", "SUSPENDED")
    look(page, "11-policy-edit")
    page.get_by_role("button", name="Preview impact").click()
    expect(page.get_by_role("button", name="Propose")).to_be_visible()
    look(page, "12-policy-preview")
    page.fill("#f-reason", "regulator's instruction 2026/14")
    page.get_by_role("button", name="Propose").click()
    pid = proposal_id(page)
    look(page, "13-policy-proposed")
    page.close()
    assert bot_order(server).status_code == 200  # proposed only: nothing changed yet
    approve(senior, pid, "14-policy")
    refused = bot_order(server)
    assert refused.status_code == 400 and refused.json()["code"] == -2010, refused.text
    assert "DE trading pause" in refused.json()["msg"]
    page = senior.new_page()
    page.goto("/console/policies/residence/DE")
    expect(page.locator("main")).to_contain_text("staff:demo.officer")  # who proposed it
    look(page, "15-policy-in-force")
    page.goto("/console/")
    look(page, "16-dashboard-with-policy")
    page.close()


def test_a_sanctions_alert_is_confirmed_with_four_eyes(
    server: Server, officer: BrowserContext, senior: BrowserContext
) -> None:
    listed = onboard(server, "Eric Badege", "CD")
    alert = alert_of(server, listed["customerId"])
    page = officer.new_page()
    page.goto("/console/alerts")
    look(page, "20-alert-queue")
    page.get_by_role("link", name=f"Alert {alert}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(str(alert))
    look(page, "21-alert")
    page.check("#f-decision-confirm")
    page.get_by_role("button", name="Send the decision").click()
    expect(page.locator("#e-reason")).to_be_visible()  # a reason is required, next to it
    page.check("#f-decision-confirm")
    page.fill("#f-reason", "same person: name and date of birth match the UN entry")
    page.get_by_role("button", name="Send the decision").click()
    pid = proposal_id(page)
    page.close()
    approve(senior, pid, "22-alert")
    alerts = http.get(f"{server.url}/admin/v1/alerts", headers=server.headers).json()["alerts"]
    assert [a["status"] for a in alerts if a["alertId"] == alert] == ["confirmed"]
    account = http.get(
        f"{server.url}/admin/v1/accounts/{listed['accountId']}", headers=server.headers
    ).json()
    assert account["frozen"] is True, account
    page = senior.new_page()
    page.goto(f"/console/customers/{listed['customerId']}")
    expect(page.locator("main")).to_contain_text("Eric Badege")
    look(page, "23-customer")
    # the decision in the audit log, with both people, and a bundle that verifies offline
    page.goto(f"/console/audit?customer={listed['customerId']}")
    expect(page.locator("main")).to_contain_text("approved by staff:")
    look(page, "24-audit")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download these records as a verifiable bundle").click()
    bundle = download.value.path()
    assert verify(str(bundle))["records"] >= 3
    page.close()


def test_an_officer_is_offboarded_and_their_work_moves(
    server: Server, officer: BrowserContext, senior: BrowserContext
) -> None:
    listed = onboard(server, "Gaston Iyamuremye", "RW")
    alert = alert_of(server, listed["customerId"])
    r = http.post(
        f"{server.url}/admin/v1/assignments",
        json={"item": f"alert:{alert}", "owner": "staff:demo.officer", "reason": "hers"},
        headers=server.headers,
    )
    assert r.status_code == 200, r.text
    page = senior.new_page()
    page.goto("/console/staff")
    look(page, "30-staff")
    page.goto("/console/staff/demo.officer/offboard?reassign_to=demo.senior")
    expect(page.locator("main")).to_contain_text(f"alert:{alert}")
    look(page, "31-offboard-preview")
    page.fill("#f-reason", "left the company, HR 5120")
    page.get_by_role("button", name="Offboard demo.officer").click()
    expect(page.locator("div.notice")).to_contain_text("demo.officer is offboarded")
    look(page, "32-offboarded")
    page.goto(f"/console/alerts/{alert}")
    expect(page.locator("main")).to_contain_text("staff:demo.senior")  # her work moved
    page.close()
    gone = officer.new_page()  # her session ends at once
    gone.goto("/console/")
    expect(gone.get_by_role("heading", name="Sign in to the console")).to_be_visible()
    gone.close()
