"""The fiat rails in the console, end to end in the system Chromium against a real `bourse run`
with four eyes on: a partner bank, a customer's payout in its payment file and a line of its
statement waiting in the reconciliation queue. The compliance officer previews the bank's
cut-off and proposes it; the senior officer approves it in Approvals; the report shows the
payout returned. A queue line is resolved (proposed, approved) and a payment file downloaded as
pain.001. Every page is screenshotted (artifacts/console/) and checked with axe-core."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from lxml import etree
from playwright.sync_api import Browser, BrowserContext, Page, expect

from bourse.banking.references import deposit_reference
from bourse.keys.console_login import code_at
from bourse.server.exchange import now_ms
from tests.console.conftest import VIEWPORT, assert_accessible, shot
from tests.net import http
from tests.server.server import Server

pytestmark = pytest.mark.slow
PASSWORD = "a long passphrase nobody guesses"
BANK, OURS = "COBADEFFXXX", "DE38500400000123456700"  # Commerzbank, the exchange's account
ANNA_IBAN = "DE67100700000012345678"  # Deutsche Bank: not a partner bank
BRUNO_IBAN = "DE89370400440532013000"  # Commerzbank: his only fiat rail
REASON = "EU Regulation 2022/345: disconnected from SWIFT on 2022-03-12"
PREVIEW_PNG, REPORT_PNG = "/tmp/console-cutoff-preview.png", "/tmp/console-cutoff-report.png"


class Admin:
    """The admin API of `server`, as the operator (`as_=None`) or a demo staff member."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.tokens: dict[str, str] = json.loads((server.data_dir / "demo-staff.json").read_text())

    def call(self, method: str, path: str, body: Any = None, as_: str | None = None) -> Any:
        token = self.server.token if as_ is None else self.tokens[as_]
        r = http.request(
            method,
            f"{self.server.url}/admin/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code in (200, 202), r.text
        return r.json()

    def done(self, method: str, path: str, body: Any) -> Any:
        """The operator's command; where four eyes apply, approved by the senior officer."""
        answer = self.call(method, path, body)
        proposal = answer.get("proposal") if isinstance(answer, dict) else None
        if proposal is None:
            return answer
        approval = {"digest": proposal["digest"], "reason": "checked the agreement"}
        self.call("POST", f"/proposals/{proposal['proposalId']}/approve", approval, "demo.senior")
        return None

    def statement(self, ref: str, remittance: str, amount: str) -> dict[str, Any]:
        """Commerzbank's statement of one credit from Anna."""
        data = (
            f":20:STMT-{ref}\r\n:25:{BANK}/{OURS}\r\n:28C:00001/001\r\n:60F:C261207EUR0,00\r\n"
            f":61:2612071207CR{amount}NTRFNONREF//{ref}\r\n"
            f":86:/EREF/NOTPROVIDED/ORDP//NAME/Anna Schmidt/IBAN/{ANNA_IBAN}/REMI/USTD//"
            f"{remittance}/\r\n:62F:C261207EUR{amount}\r\n-\r\n"
        ).encode()
        r = http.post(
            f"{self.server.url}/admin/v1/statements",
            content=data,
            params={"reason": "daily statement"},
            headers={**self.server.headers, "Content-Type": "text/plain"},
        )
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("console-banks") / "data", four_eyes=True)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def world(server: Server) -> dict[str, int]:
    """Commerzbank; Anna (banks at Deutsche Bank) with 300 EUR in and a payout of 100 EUR sent
    in Commerzbank's payment file; Bruno, whose only bank account is at Commerzbank; a line of
    Commerzbank's statement in the reconciliation queue."""
    admin = Admin(server)
    bank = {"name": "Commerzbank", "country": "DE", "currencies": ["EUR"], "serves": ["DE"],
            "accounts": {"EUR": OURS}, "reason": "partner agreement signed"}  # fmt: skip
    admin.done("PUT", f"/banks/{BANK}", bank)
    ids: dict[str, int] = {}
    for who, name, iban in (
        ("anna", "Anna Schmidt", ANNA_IBAN),
        ("bruno", "Bruno Weber", BRUNO_IBAN),
    ):
        body = {"legal_name": name, "date_of_birth": "1980-03-14", "nationality": "DE",
                "residence": "DE", "reason": "KYC file"}  # fmt: skip
        made = admin.call("POST", "/customers", body)
        ids[who], ids[f"{who}_account"] = made["customerId"], made["accountId"]
        account = {"iban": iban, "holder": name, "reason": "KYC call"}
        admin.done("POST", f"/customers/{made['customerId']}/bank-accounts", account)
    admin.statement("CB261207000001", f"DEPOSIT {deposit_reference(ids['anna'])}", "300,00")
    payout = {"account_id": ids["anna_account"], "asset": "EUR", "amount": "100",
              "destination": ANNA_IBAN, "beneficiary": "Anna Schmidt",
            "reason": "her request"}  # fmt: skip
    admin.done("POST", "/withdrawals", payout)
    run = {"bank": BANK, "currency": "EUR", "execution_date": "2026-12-08", "reason": "payouts"}
    file = admin.done("POST", "/payment-files", run)
    [sent] = file["payouts"]
    queued = admin.statement("CB261207000002", "for my trading account", "250,00")
    [item] = queued["queue"]
    return {**ids, "file": file["id"], "withdrawal": sent["withdrawalId"], "item": item["id"]}


def look(page: Page, name: str) -> None:
    """Every page the flow reaches: kept as a screenshot, and checked for accessibility."""
    shot(page, name)
    assert_accessible(page)


def signed_in(browser: Browser, server: Server, name: str) -> BrowserContext:
    """`name` sets up their console login through their one-time link and signs in."""
    links = json.loads((server.data_dir / "demo-links.json").read_text())
    context = browser.new_context(viewport=VIEWPORT, base_url=server.url)
    page = context.new_page()
    page.goto(f"/console/setup?token={links[name]}")
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
def officer(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    context = signed_in(browser, server, "demo.officer")
    yield context
    context.close()


@pytest.fixture(scope="module")
def senior(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    context = signed_in(browser, server, "demo.senior")
    yield context
    context.close()


def proposed(page: Page) -> int:
    notice = page.locator("div.notice")
    expect(notice).to_contain_text("Proposed as #")
    text = notice.inner_text()
    return int(text.split("Proposed as #", 1)[1].split(":", 1)[0])


def approve(senior: BrowserContext, pid: int, shots: str) -> None:
    page = senior.new_page()
    page.goto("/console/approvals")
    link = page.locator(f'a[href="/console/approvals/{pid}"]')
    expect(link).to_have_count(1)
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(str(pid))
    look(page, f"{shots}-proposal")
    page.fill("#f-reason", "checked the preview beside it")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("div.notice")).to_contain_text(f"Approved proposal {pid}")
    page.close()


def test_the_rails_pages_render_with_real_data(
    officer: BrowserContext, world: dict[str, int]
) -> None:
    page = officer.new_page()
    page.goto("/console/")
    page.get_by_role("link", name="Banks", exact=True).click()
    expect(page.get_by_role("heading", name="Partner banks")).to_be_visible()
    expect(page.locator("main")).to_contain_text(OURS)
    look(page, "40-banks")
    page.get_by_role("link", name="Reconciliation", exact=True).click()
    expect(page.get_by_role("heading", name="Reconciliation queue")).to_be_visible()
    expect(page.locator("main")).to_contain_text("it carries no deposit reference")
    look(page, "41-reconciliation")
    page.get_by_role("link", name="Payment files", exact=True).click()
    expect(page.get_by_role("heading", name="Payment files", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"BRS-W-{world['withdrawal']}")
    look(page, "42-payment-files")
    page.close()


def test_a_cut_off_is_previewed_proposed_approved_and_reported(
    officer: BrowserContext, senior: BrowserContext, world: dict[str, int]
) -> None:
    page = officer.new_page()
    page.goto("/console/banks")
    page.get_by_role("link", name="Cut off Commerzbank…").click()
    expect(page.get_by_role("button", name="Preview the cut-off")).to_be_visible()
    look(page, "43-cutoff-form")
    page.get_by_role("button", name="Preview the cut-off").click()
    expect(page.locator("#e-cause")).to_contain_text("choose why")  # next to its field
    page.select_option("#f-cause", "SWIFT_DISCONNECTED")
    page.check("#f-outgoing-return")
    page.get_by_role("button", name="Preview the cut-off").click()
    impact = page.locator("section", has=page.locator("#h-impact"))
    expect(impact).to_contain_text("Bruno Weber")  # his only fiat rail
    transfers = page.locator("section", has=page.locator("#h-transfers"))
    expect(transfers).to_contain_text(f"withdrawal {world['withdrawal']}")
    expect(transfers).to_contain_text(f"held in the reconciliation queue as item {world['item']}")
    look(page, "44-cutoff-preview")
    page.screenshot(path=PREVIEW_PNG, full_page=True)
    page.get_by_role("button", name="Propose the cut-off").click()
    expect(page.locator("#e-reason")).to_contain_text("say why")  # a reason is required
    page.fill("#f-reason", REASON)
    page.get_by_role("button", name="Propose the cut-off").click()
    pid = proposed(page)
    expect(page.locator("main")).to_contain_text(f"cut-off proposed: #{pid} waits for approval")
    look(page, "45-cutoff-proposed")
    page.close()

    approve(senior, pid, "46-cutoff")
    page = senior.new_page()
    page.goto("/console/banks")
    page.get_by_role("link", name="report of cut-off #1").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cut-off #1: Commerzbank")
    report = page.locator("section", has=page.locator("#h-report"))
    row = report.locator("tr", has_text=f"withdrawal {world['withdrawal']}")
    expect(row).to_contain_text("Returned")
    expect(row).to_contain_text(f"back to the balance of account {world['anna_account']}")
    expect(page.locator("main")).to_contain_text(REASON)
    look(page, "47-cutoff-report")
    page.screenshot(path=REPORT_PNG, full_page=True)
    page.close()


def test_a_queue_line_is_resolved_with_four_eyes(
    officer: BrowserContext, senior: BrowserContext, world: dict[str, int]
) -> None:
    item = world["item"]
    page = officer.new_page()
    page.goto("/console/statements/queue")
    line = page.locator("section", has=page.locator(f"#h-line-{item}"))
    expect(line).to_contain_text("250.00000000 EUR from Anna Schmidt")
    line.locator(f"#f-account_id-{item}").fill(str(world["anna_account"]))
    line.locator(f"#f-reason-{item}").fill("her letter: reference forgotten, ticket 8812")
    line.get_by_role("button", name="Propose").click()
    pid = proposed(page)
    expect(page.locator("main")).to_contain_text(f"resolution proposed: #{pid}")
    look(page, "48-queue-proposed")
    page.close()
    approve(senior, pid, "49-queue")
    page = senior.new_page()
    page.goto("/console/statements/queue")
    expect(page.locator("main")).to_contain_text("No line waits")
    page.close()


def test_a_payment_file_downloads_as_pain001(
    officer: BrowserContext, world: dict[str, int]
) -> None:
    page = officer.new_page()
    page.goto("/console/payment-files")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download file {world['file']} as pain.001 (XML)").click()
    assert download.value.suggested_filename == f"bourse-payments-{world['file']}.xml"
    path = download.value.path()
    doc = etree.parse(str(path))
    ids = [e.text for e in doc.iter() if isinstance(e.tag, str) and e.tag.endswith("EndToEndId")]
    assert ids == [f"BRS-W-{world['withdrawal']}"]
    page.close()
