"""Card partners in the console, end to end in the system Chromium against a real `bourse run`
with four eyes on: Mastercard, two customers' saved cards and a card deposit of each pending.
The compliance officer previews Mastercard's end; a new card deposit arrives meanwhile, so the
end is refused as stale and previewed afresh; the officer proposes it; the senior officer
approves it in Approvals; the end's report lists the deposits pending at it. An operator settles
one on the card deposits page and the report shows it settled. Every page is screenshotted
(artifacts/console/) and checked with axe-core."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from bourse.keys.console_login import code_at
from bourse.server.exchange import now_ms
from tests.console.conftest import VIEWPORT
from tests.console.test_console_banks import PASSWORD, Admin, approve, look, proposed
from tests.net import http
from tests.server.server import Server

pytestmark = pytest.mark.slow
CODE = "MASTERCARD"
TOKENS = ("tok_1Nv0xYz2abcd", "tok_9Qr7bruno5678")  # Anna's and Bruno's cards
REASON = "Mastercard ends its acquiring agreement with the exchange on 2026-12-31"
PREVIEW_PNG, REPORT_PNG = "/tmp/console-partner-end-preview.png", "/tmp/console-partner-end.png"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("console-partners") / "data", four_eyes=True)
    try:
        yield s
    finally:
        s.stop()


def pay(admin: Admin, card_id: int, amount: str, ref: str) -> int:
    body = {"card_id": card_id, "currency": "EUR", "amount": amount, "partner_ref": ref,
            "reason": "acquirer notification"}  # fmt: skip
    return int(admin.call("POST", f"/partners/{CODE}/deposits", body)["id"])


@pytest.fixture(scope="module")
def world(server: Server) -> dict[str, int]:
    """Mastercard (EUR, serving DE); Anna and Bruno, each with a saved Mastercard card and a
    card deposit pending (250 EUR, 75.50 EUR); and an operator, Olga, with a console login to
    set up (adding her is four-eyed: the senior officer approves it)."""
    admin = Admin(server)
    partner = {"name": "Mastercard", "kind": "CARD_SCHEME", "currencies": ["EUR"],
               "serves": ["DE"], "reason": "card acquiring agreement signed"}  # fmt: skip
    admin.done("PUT", f"/partners/{CODE}", partner)
    ids: dict[str, int] = {}
    for who, name, token, last4, amount in (
        ("anna", "Anna Schmidt", TOKENS[0], "4444", "250.00"),
        ("bruno", "Bruno Weber", TOKENS[1], "5678", "75.50"),
    ):
        body = {"legal_name": name, "date_of_birth": "1980-03-14", "nationality": "DE",
                "residence": "DE", "reason": "KYC file"}  # fmt: skip
        made = admin.call("POST", "/customers", body)
        ids[who], ids[f"{who}_account"] = made["customerId"], made["accountId"]
        card = {"partner": CODE, "token": token, "last4": last4, "expiry": "12/39",
                "holder": name, "reason": "customer added a card"}  # fmt: skip
        saved = admin.call("POST", f"/customers/{made['customerId']}/cards", card)
        ids[f"{who}_card"] = saved["id"]
        ids[f"{who}_deposit"] = pay(admin, saved["id"], amount, f"pay_{who}")
    staff = {"name": "ops.olga", "role": "operator", "reason": "joined the operations team"}
    admin.done("POST", "/staff", staff)
    return ids


def signed_in(browser: Browser, server: Server, name: str) -> BrowserContext:
    """`name` sets up their console login through a fresh one-time link and signs in."""
    r = http.post(
        f"{server.url}/admin/v1/staff/{name}/setup-link",
        json={"reason": "console login"},
        headers=server.headers,
    )
    assert r.status_code == 200, r.text
    link = str(r.json()["link"]).removeprefix(server.url)
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url)
    page = context.new_page()
    page.goto(link)
    secret = page.locator("[data-secret]").get_attribute("data-secret")
    assert secret
    now = now_ms()
    page.fill("#f-password", PASSWORD)
    page.fill("#f-confirm", PASSWORD)
    page.fill("#f-code", code_at(secret, now))
    page.get_by_role("button", name="Save and go to sign in").click()
    expect(page.locator("div.notice")).to_contain_text("Your console login is set up")
    page.fill("#f-password", PASSWORD)
    page.fill("#f-code", code_at(secret, now + 30_000))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.close()
    return context


@pytest.fixture(scope="module")
def officer(browser: Browser, server: Server, world: dict[str, int]) -> Iterator[BrowserContext]:
    context = signed_in(browser, server, "demo.officer")
    yield context
    context.close()


@pytest.fixture(scope="module")
def senior(browser: Browser, server: Server, world: dict[str, int]) -> Iterator[BrowserContext]:
    context = signed_in(browser, server, "demo.senior")
    yield context
    context.close()


@pytest.fixture(scope="module")
def operator(browser: Browser, server: Server, world: dict[str, int]) -> Iterator[BrowserContext]:
    context = signed_in(browser, server, "ops.olga")
    yield context
    context.close()


def no_token(page: Page) -> None:
    """A card's token (which alone can charge it) is never on a page."""
    html = page.content()
    for token in TOKENS:
        assert token not in html


def test_the_header_stays_on_one_line_with_every_link(senior: BrowserContext) -> None:
    """The senior officer reads everything: eleven sections, on one line at a laptop's width."""
    page = senior.new_page()
    page.goto("/console/partners")
    links = page.locator("header nav a")
    expect(links).to_have_count(11)
    tops = {round(box["y"]) for box in (a.bounding_box() for a in links.all()) if box}
    assert len(tops) == 1, f"the navigation wraps: link tops at {sorted(tops)}"
    header = page.locator("header.top").bounding_box()
    link = links.first.bounding_box()
    assert header and link and header["height"] < 2 * link["height"] + 16, header
    expect(page.get_by_role("link", name="Card partners", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    page.close()


def test_the_partners_page_renders_with_real_data(officer: BrowserContext) -> None:
    page = officer.new_page()
    page.goto("/console/")
    page.get_by_role("link", name="Card partners", exact=True).click()
    expect(page.get_by_role("heading", name="Card partners", level=1)).to_be_visible()
    row = page.locator("tr", has_text=CODE)
    expect(row).to_contain_text("Card scheme")
    expect(row).to_contain_text("Mastercard")
    look(page, "50-partners")
    page.close()


def test_an_end_is_previewed_refused_stale_proposed_approved_reported_and_settled(
    officer: BrowserContext,
    senior: BrowserContext,
    operator: BrowserContext,
    server: Server,
    world: dict[str, int],
) -> None:
    page = officer.new_page()
    page.goto("/console/partners")
    page.get_by_role("link", name="End Mastercard…").click()
    expect(page.get_by_role("button", name="Preview the end")).to_be_visible()
    look(page, "51-partner-end-form")
    page.fill("#f-effective", "2001-01-01T00:00")
    page.get_by_role("button", name="Preview the end").click()
    expect(page.locator("#e-effective")).to_contain_text("in the past")  # next to its field
    page.fill("#f-effective", "")
    page.get_by_role("button", name="Preview the end").click()
    impact = page.locator("section", has=page.locator("#h-impact"))
    expect(impact).to_contain_text("Anna Schmidt")
    expect(impact).to_contain_text("card ending 5678, expires 12/39")
    expect(impact).to_contain_text("325.50000000")  # the totals
    pending = page.locator("section", has=page.locator("#h-pending"))
    expect(pending.locator("tbody tr")).to_have_count(2)
    expect(pending.locator("tr", has_text="pay_anna")).to_contain_text("250.00000000")
    no_token(page)
    look(page, "52-partner-end-preview")
    page.screenshot(path=PREVIEW_PNG, full_page=True)

    page.get_by_role("button", name="Propose the end").click()
    expect(page.locator("#e-reason")).to_contain_text("say why")  # a reason is required
    # meanwhile Mastercard notifies another of Bruno's card deposits: the preview is stale
    late = pay(Admin(server), world["bruno_card"], "12.00", "pay_bruno_2")
    page.fill("#f-reason", REASON)
    page.get_by_role("button", name="Propose the end").click()
    expect(page.get_by_role("alert")).to_contain_text("PREVIEW_STALE")
    expect(page.get_by_role("alert")).to_contain_text("previewed afresh")
    expect(impact).to_contain_text("337.50000000")
    expect(pending.locator("tbody tr")).to_have_count(3)
    look(page, "53-partner-end-stale")
    page.get_by_role("button", name="Propose the end").click()  # the fresh preview, reason kept
    pid = proposed(page)
    expect(page.locator("main")).to_contain_text(f"end proposed: #{pid} waits for approval")
    look(page, "54-partner-end-proposed")
    page.close()

    approve(senior, pid, "55-partner-end")
    page = senior.new_page()
    page.goto("/console/partners")
    page.get_by_role("link", name="report of end #1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("End #1: Mastercard")
    report = page.locator("section", has=page.locator("#h-report"))
    expect(report.locator("tbody tr")).to_have_count(3)
    for deposit in (world["anna_deposit"], world["bruno_deposit"], late):
        row = report.locator("tbody tr").filter(has=page.locator(f"td:text-is('{deposit}')"))
        expect(row).to_contain_text("Pending")
    expect(page.locator("main")).to_contain_text(REASON)
    expect(page.locator("main")).to_contain_text("3 still wait for the partner's settlement")
    no_token(page)
    look(page, "56-partner-end-report")
    page.close()
    settle_one(operator, senior, server, world)


def settle_one(
    operator: BrowserContext, senior: BrowserContext, server: Server, world: dict[str, int]
) -> None:
    """The operator follows the end's report to the card deposits page and settles Anna's
    deposit, as Mastercard's last settlement report says; it credits her, so a senior officer
    approves it (four eyes); the report shows it settled."""
    deposit = world["anna_deposit"]
    page = operator.new_page()
    page.goto("/console/partner-ends/1")
    page.get_by_role("link", name="settle or reverse them on the card deposits page").click()
    expect(page.get_by_role("heading", name="Card deposits", level=1)).to_be_visible()
    expect(page.locator("#f-status")).to_have_value("pending")
    row = page.locator(f"#deposit-{deposit}")
    expect(row).to_contain_text("Mastercard card ending 4444, expires 12/39")
    no_token(page)
    look(page, "57-card-deposits")
    row.get_by_role("button", name=f"Settle deposit {deposit}").click()
    expect(page.locator(f"#e-reason-{deposit}")).to_contain_text("say why")
    row = page.locator(f"#deposit-{deposit}")
    row.get_by_label("Reason").fill("Mastercard settlement report 2026-12-07, batch 4411")
    row.get_by_role("button", name=f"Settle deposit {deposit}").click()
    pid = proposed(page)  # it credits the customer: as a deposit, not on one person's word
    look(page, "58-card-deposit-settle-proposed")
    approve(senior, pid, "58-card-deposit-settle")
    page.reload()
    expect(page.locator(f"#deposit-{deposit}")).to_have_count(0)  # no longer pending
    look(page, "58-card-deposit-settled")

    page.goto("/console/partner-ends/1")
    report = page.locator("section", has=page.locator("#h-report"))
    settled = report.locator("tbody tr").filter(has=page.locator(f"td:text-is('{deposit}')"))
    expect(settled).to_contain_text("Settled")
    expect(settled).to_contain_text("batch 4411")
    expect(page.locator("main")).to_contain_text("2 still wait")
    look(page, "59-partner-end-report-settled")
    page.screenshot(path=REPORT_PNG, full_page=True)
    page.close()
    account = Admin(server).call("GET", f"/accounts/{world['anna_account']}")
    assert {b["asset"]: b["free"] for b in account["balances"]}["EUR"] == "250.00000000"
