"""The console's fiat rails: partner banks with their accounts and state; a bank's cut-off
previewed (whom it leaves without a rail, every pending transfer and its fate, totals), then
sent citing that preview, proposed under four eyes and approved by a second person, with its
report; a stale or tampered preview refused; the reconciliation queue with a line credited or
closed; payment files with their payouts and the pain.001 the bank was given; and who may read
and do what (roles, a regional manager's scope)."""

import html
import re
from decimal import Decimal
from typing import Any

import httpx2 as httpx
import pytest

from bourse.banking.references import deposit_reference
from bourse.commands import SetAccountPermissions
from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role
from tests.api.conftest import Api
from tests.api.console import sign_in
from tests.api.test_screening_flow import OPERATOR, answered, call, onboard

BANK, OURS = "COBADEFFXXX", "DE38500400000123456700"  # Commerzbank, the exchange's account
ANNA_IBAN = "DE67100700000012345678"  # Deutsche Bank: not a partner bank
BRUNO_IBAN = "DE89370400440532013000"  # Commerzbank: his only fiat rail once it is cut off
REASON = "EU Regulation 2022/345: disconnected from SWIFT"


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


def text_of(page: str) -> str:
    """The page's text, tags dropped and spaces folded: what a reader reads."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _mt940(ref: str, remittance: str, amount: str, name: str, iban: str) -> bytes:
    """One credit on the exchange's account at Commerzbank, balances adding up as a bank's."""
    return (
        f":20:STMT-{ref}\r\n"
        f":25:{BANK}/{OURS}\r\n"
        ":28C:00001/001\r\n"
        ":60F:C261207EUR0,00\r\n"
        f":61:2612071207CR{amount}NTRFNONREF//{ref}\r\n"
        f":86:/EREF/NOTPROVIDED/ORDP//NAME/{name}/IBAN/{iban}/REMI/USTD//{remittance}/\r\n"
        f":62F:C261207EUR{amount}\r\n"
        "-\r\n"
    ).encode()


def statement(api: Api, data: bytes) -> dict[str, Any]:
    r = api.client.post(
        "/admin/v1/statements",
        content=data,
        params={"reason": "daily statement"},
        headers={**OPERATOR, "Content-Type": "text/plain"},
    )
    return dict(answered(r))


def eur(api: Api, account: int) -> Decimal:
    balances = answered(call(api, "GET", f"/accounts/{account}"))["balances"]
    return sum((Decimal(b["free"]) for b in balances if b["asset"] == "EUR"), Decimal(0))


def bank_account(api: Api, customer_id: int, iban: str, holder: str) -> None:
    body = {"iban": iban, "holder": holder, "reason": "KYC call"}
    added = answered(call(api, "POST", f"/customers/{customer_id}/bank-accounts", body))
    assert added["status"] == "VERIFIED", added


def four_eyes_on(api: Api) -> None:
    body = {"commands": sorted(DEFAULT_FOUR_EYES), "reason": "the bank's policy"}
    answered(call(api, "PUT", "/four-eyes", body))


@pytest.fixture
def world(api: Api) -> dict[str, int]:
    """Commerzbank (EUR, serving DE and AT); Anna, who banks at Deutsche Bank, with 300 EUR
    deposited through Commerzbank and a payout of 100 EUR sent in Commerzbank's payment file;
    Bruno, whose only bank account is at Commerzbank; and a line of Commerzbank's statement
    in the reconciliation queue (100 EUR from Anna, without her reference)."""
    body = {"name": "Commerzbank", "country": "DE", "currencies": ["EUR"], "serves": ["DE", "AT"],
            "accounts": {"EUR": OURS}, "reason": "partner agreement"}  # fmt: skip
    answered(call(api, "PUT", f"/banks/{BANK}", body))
    anna = onboard(api, "Anna Schmidt")
    bank_account(api, anna["customerId"], ANNA_IBAN, "Anna Schmidt")
    bruno = onboard(api, "Bruno Weber")
    bank_account(api, bruno["customerId"], BRUNO_IBAN, "Bruno Weber")
    ref = deposit_reference(anna["customerId"])
    statement(api, _mt940("CB1", ref, "300,00", "Anna Schmidt", ANNA_IBAN))
    body = {"account_id": anna["accountId"], "asset": "EUR", "amount": "100",
            "destination": ANNA_IBAN, "beneficiary": "Anna Schmidt",
            "reason": "her request"}  # fmt: skip
    wid = answered(call(api, "POST", "/withdrawals", body))["withdrawalId"]
    run = {"bank": BANK, "currency": "EUR", "execution_date": "2026-12-08", "reason": "payouts"}
    file = answered(call(api, "POST", "/payment-files", run))
    queued = statement(api, _mt940("CB2", "for my account", "100,00", "Anna Schmidt", ANNA_IBAN))
    [item] = queued["queue"]
    return {
        "anna": anna["customerId"],
        "anna_account": anna["accountId"],
        "bruno": bruno["customerId"],
        "withdrawal": wid,
        "file": file["id"],
        "item": item["id"],
    }


def preview(api: Api, csrf: str, **fields: str) -> httpx.Response:
    data = {"csrf": csrf, "cause": "SWIFT_DISCONNECTED", "outgoing": "RETURN", "effective": ""}
    return api.client.post(f"/console/banks/{BANK}/cut-off/preview", data={**data, **fields})


def cut_off(api: Api, csrf: str, shown: str, **fields: str) -> httpx.Response:
    """The cut-off form of the preview page `shown`, sent as the browser sends it."""
    data = {
        "csrf": csrf,
        "spec": hidden(shown, "spec"),
        "preview_id": hidden(shown, "preview_id"),
        "previewed": hidden(shown, "previewed"),
        "reason": REASON,
        **fields,
    }
    return api.client.post(f"/console/banks/{BANK}/cut-off", data=data, follow_redirects=False)


# --- partner banks and a cut-off --------------------------------------------------------------


def test_the_banks_page_shows_each_bank_its_accounts_and_state(
    api: Api, world: dict[str, int]
) -> None:
    sign_in(api, "cora")
    page = api.client.get("/console/banks")
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    for shown in (BANK, "Commerzbank", "DE, AT", f"EUR {OURS}", "active"):
        assert shown in text, shown
    assert f'href="/console/banks/{BANK}/cut-off"' in page.text  # an officer may cut it off
    assert "No bank has been cut off." in text
    assert 'href="/console/banks" aria-current="page"' in page.text  # in the navigation


def test_a_cut_off_is_previewed_then_sent_citing_it_and_reported(
    api: Api, world: dict[str, int]
) -> None:
    csrf = sign_in(api, "cora")
    form = api.client.get(f"/console/banks/{BANK}/cut-off")
    assert form.status_code == 200 and "Preview the cut-off" in form.text
    shown = preview(api, csrf)
    assert shown.status_code == 200, shown.text
    text = text_of(shown.text)
    assert "1 customers with an account at it" in text  # Bruno; Anna banks elsewhere
    assert "1 for whom it is the only fiat rail" in text
    assert "0 of those could move to another bank" in text
    assert "2 pending transfers" in text
    assert "Bruno Weber" in text  # the sample names him
    assert (
        f"Payout in its file withdrawal {world['withdrawal']} account {world['anna_account']}, "
        "Anna Schmidt EUR 100.00000000 Returned back to the balance of account"
    ) in text
    assert f"Queued held in the reconciliation queue as item {world['item']}" in text
    assert "EUR Queued 100.00000000" in text and "EUR Returned 100.00000000" in text  # totals
    assert api.service.view.banks[BANK].status == "ACTIVE"  # a preview changes nothing

    r = cut_off(api, csrf, shown.text)
    assert r.status_code == 303, r.text
    [cutoff] = api.service.view.bank_cutoffs.values()
    assert r.headers["location"] == f"/console/cut-offs/{cutoff.id}"
    assert (cutoff.actor, cutoff.reason, cutoff.status) == ("staff:cora", REASON, "APPLIED")
    assert api.service.view.banks[BANK].status == "CUT_OFF"
    assert eur(api, world["anna_account"]) == Decimal("300")  # the payout's money is hers again

    report = api.client.get(r.headers["location"]).text
    assert notice_of(report) == f"Commerzbank ({BANK}) is cut off: cut-off #{cutoff.id}."
    text = text_of(report)
    assert "Disconnected from SWIFT" in text and REASON in text and "staff:cora" in text
    assert f"withdrawal {world['withdrawal']}" in text and "Returned" in text
    assert "back to the balance of account" in text
    banks = text_of(api.client.get("/console/banks").text)
    assert "cut off" in banks and f"report of cut-off #{cutoff.id}" in banks
    again = api.client.get(f"/console/banks/{BANK}/cut-off")
    assert "Preview the cut-off" not in again.text and "is cut off" in again.text
    files = text_of(api.client.get("/console/payment-files").text)
    assert "returned to the customer" in files


def test_under_four_eyes_the_cut_off_is_proposed_and_a_second_person_approves_it(
    api: Api, world: dict[str, int]
) -> None:
    four_eyes_on(api)
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf, outgoing="REROUTE", cause="SANCTIONED")
    assert "Propose the cut-off" in shown.text and "second, entitled person" in shown.text
    r = cut_off(api, csrf, shown.text)
    assert r.status_code == 303 and r.headers["location"] == "/console/banks", r.text
    page = api.client.get("/console/banks").text
    notice = notice_of(page)
    assert notice.startswith("Proposed as #") and "second" in notice
    [proposal] = api.service.view.proposals.values()
    assert type(proposal.command).__name__ == "CutOffBank"
    assert proposal.proposer == "staff:cora" and proposal.reason == REASON
    assert f"cut-off proposed: #{proposal.id} waits for approval" in text_of(page)
    assert api.service.view.banks[BANK].status == "ACTIVE"  # not until approved

    csrf = sign_in(api, "sina", Role.SENIOR_COMPLIANCE_OFFICER)
    inbox = text_of(api.client.get("/console/approvals").text)
    assert f"cut off Commerzbank ({BANK}), sanctioned; payouts sent rerouted, at once" in inbox
    detail = api.client.get(f"/console/approvals/{proposal.id}").text
    assert "Its preview, counted again now" in detail and "unchanged" in detail
    assert "no other partner bank can pay it" in detail
    decided = api.client.post(
        f"/console/approvals/{proposal.id}",
        data={"csrf": csrf, "decision": "approve", "digest": proposal.digest, "reason": "seen"},
        follow_redirects=False,
    )
    assert decided.status_code == 303, decided.text
    [cutoff] = api.service.view.bank_cutoffs.values()
    assert (cutoff.status, cutoff.actor) == ("APPLIED", "staff:cora")
    report = text_of(api.client.get(f"/console/cut-offs/{cutoff.id}").text)
    assert "Sanctioned" in report and f"withdrawal {world['withdrawal']}" in report
    assert "Returned" in report  # no other partner bank serves Anna: her payout came back
    assert eur(api, world["anna_account"]) == Decimal("300")


@pytest.mark.parametrize(
    ("fields", "field", "said"),
    [
        ({"cause": ""}, "cause", "choose why"),
        ({"cause": "BORED"}, "cause", "choose why"),
        ({"outgoing": "KEEP"}, "outgoing", "return or reroute"),
        ({"effective": "soon"}, "effective", "not an ISO 8601"),
        ({"effective": "2001-01-01T00:00"}, "effective", "in the past"),
    ],
)
def test_bad_cut_off_input_is_refused_next_to_its_field(
    api: Api, world: dict[str, int], fields: dict[str, str], field: str, said: str
) -> None:
    csrf = sign_in(api, "cora")
    r = preview(api, csrf, **fields)
    assert r.status_code == 400, r.text
    assert said in error_of(r.text, field)
    assert 'aria-invalid="true"' in r.text or field == "outgoing"
    assert "What cutting off" not in r.text  # nothing previewed, nothing to send


def test_a_cut_off_without_a_reason_is_refused_with_its_preview_kept(
    api: Api, world: dict[str, int]
) -> None:
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf)
    r = cut_off(api, csrf, shown.text, reason="  ")
    assert r.status_code == 400 and "say why" in error_of(r.text, "reason")
    assert "What cutting off Commerzbank touches" in r.text  # still there to send once fixed
    assert api.service.view.banks[BANK].status == "ACTIVE"
    assert api.service.view.proposals == {}


def test_a_scheduled_cut_off_waits_for_its_time(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf, effective="2099-01-01T00:00")
    assert "2099-01-01 00:00 UTC" in shown.text
    r = cut_off(api, csrf, shown.text)
    assert r.status_code == 303, r.text
    report = api.client.get(r.headers["location"]).text
    assert "will be cut off 2099-01-01 00:00 UTC" in notice_of(report)
    assert "It has not taken effect yet" in report
    bank = api.service.view.banks[BANK]
    assert (bank.status, bank.cutoff_id) == ("ACTIVE", 1)
    assert "cut-off #1 from 2099-01-01 00:00 UTC" in text_of(api.client.get("/console/banks").text)


def test_a_stale_preview_is_refused_and_previewed_afresh(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf)
    # another line of Commerzbank's statement waits: what the cut-off touches has changed
    statement(api, _mt940("CB3", "no reference", "50,00", "Anna Schmidt", ANNA_IBAN))
    r = cut_off(api, csrf, shown.text)
    assert r.status_code == 400, r.text
    said = html.unescape(r.text)
    assert "PREVIEW_STALE" in said and "Nothing changed" in said and "previewed afresh" in said
    assert api.service.view.banks[BANK].status == "ACTIVE"
    assert "3 pending transfers" in text_of(r.text)  # previewed again, with the new line
    assert hidden(r.text, "preview_id") != hidden(shown.text, "preview_id")
    assert cut_off(api, csrf, r.text).status_code == 303  # the fresh preview applies
    assert api.service.view.banks[BANK].status == "CUT_OFF"


def test_a_tampered_cut_off_does_not_match_its_preview(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf)
    spec = hidden(shown.text, "spec").replace("RETURN", "REROUTE")
    r = cut_off(api, csrf, shown.text, spec=spec)
    assert r.status_code == 400 and "PREVIEW_MISMATCH" in r.text
    assert cut_off(api, csrf, shown.text, spec="{not json").status_code == 403
    other = hidden(shown.text, "spec").replace(BANK, "DEUTDEBBXXX")
    assert cut_off(api, csrf, shown.text, spec=other).status_code == 403
    assert api.service.view.banks[BANK].status == "ACTIVE"


# --- the reconciliation queue -------------------------------------------------------------------


def resolve(api: Api, csrf: str, item: int, **fields: str) -> httpx.Response:
    data = {"csrf": csrf, "action": "credit", "account_id": "", "reason": "her letter, 8812"}
    return api.client.post(
        f"/console/statements/queue/{item}/resolve",
        data={**data, **fields},
        follow_redirects=False,
    )


def test_the_queue_shows_why_a_line_waits_and_a_person_credits_it(
    api: Api, world: dict[str, int]
) -> None:
    csrf = sign_in(api, "cora")
    page = api.client.get("/console/statements/queue")
    assert page.status_code == 200
    text = text_of(page.text)
    assert f"Line {world['item']}: 100.00000000 EUR from Anna Schmidt" in text
    assert "it carries no deposit reference; the sending IBAN is" in text
    assert ANNA_IBAN in text and "for my account" in text and "Commerzbank" in text
    r = resolve(api, csrf, world["item"], account_id=str(world["anna_account"]))
    assert r.status_code == 303, r.text
    assert eur(api, world["anna_account"]) == Decimal("300")  # 300 in, 100 out, 100 credited
    after = api.client.get(r.headers["location"]).text
    assert notice_of(after).startswith(f"Statement line {world['item']}, 100.00 EUR")
    assert "is credited to account" in notice_of(after)
    assert "No line waits" in after and api.service.view.bank_queue == {}


def test_a_line_is_closed_without_crediting(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "cora")
    r = resolve(api, csrf, world["item"], action="close", account_id="7")
    assert r.status_code == 303, r.text
    assert "closed without crediting" in notice_of(api.client.get(r.headers["location"]).text)
    assert eur(api, world["anna_account"]) == Decimal("200")
    assert api.service.view.bank_queue == {}


@pytest.mark.parametrize(
    ("fields", "field", "said"),
    [
        ({"reason": " "}, "reason", "say why"),
        ({"account_id": ""}, "account_id", "enter the number"),
        ({"account_id": "seven"}, "account_id", "is not an account number"),
        ({"account_id": "9999"}, "account_id", "there is no account 9999"),
        ({"action": "keep"}, "action", "credit it to an account or to close it"),
    ],
)
def test_bad_resolutions_are_refused_next_to_their_field(
    api: Api, world: dict[str, int], fields: dict[str, str], field: str, said: str
) -> None:
    csrf = sign_in(api, "cora")
    r = resolve(api, csrf, world["item"], **fields)
    assert r.status_code == 400, r.text
    assert said in error_of(r.text, f"{field}-{world['item']}")
    assert world["item"] in api.service.view.bank_queue


def test_a_refused_credit_says_why_at_its_line(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "cora")
    closed = SetAccountPermissions(
        account_id=world["anna_account"], can_trade=True, can_deposit=False, can_withdraw=True,
        actor="test", ts_ms=api.service.clock(), reason="deposits closed",
    )  # fmt: skip
    assert not api.execute(closed).refused
    r = resolve(api, csrf, world["item"], account_id=str(world["anna_account"]))
    assert r.status_code == 400, r.text
    said = text_of(r.text)
    assert "Refused: deposits are disabled on account" in said and "Nothing changed" in said
    assert f'id="f-reason-{world["item"]}"' in r.text  # the form of its line, kept as sent
    assert world["item"] in api.service.view.bank_queue


def test_under_four_eyes_a_resolution_is_proposed(api: Api, world: dict[str, int]) -> None:
    four_eyes_on(api)
    csrf = sign_in(api, "cora")
    assert "Propose" in api.client.get("/console/statements/queue").text
    r = resolve(api, csrf, world["item"], account_id=str(world["anna_account"]))
    assert r.status_code == 303, r.text
    page = api.client.get(r.headers["location"]).text
    assert notice_of(page).startswith("Proposed as #")
    [proposal] = api.service.view.proposals.values()
    assert f"resolution proposed: #{proposal.id} waits for approval" in text_of(page)
    assert world["item"] in api.service.view.bank_queue  # still open until approved
    sign_in(api, "sina", Role.SENIOR_COMPLIANCE_OFFICER)
    detail = text_of(api.client.get(f"/console/approvals/{proposal.id}").text)
    assert f"credit statement line {world['item']} (100.00 EUR from Anna Schmidt)" in detail
    assert "Credits 100.00000000 EUR to account" in detail


# --- payment files ------------------------------------------------------------------------------


def test_payment_files_list_their_payouts_and_download_as_pain001(
    api: Api, world: dict[str, int]
) -> None:
    sign_in(api, "cora")
    page = api.client.get("/console/payment-files")
    assert page.status_code == 200
    text = text_of(page.text)
    assert f"File {world['file']}: Commerzbank, 100.00000000 EUR" in text
    assert f"BRS-W-{world['withdrawal']}" in text and ANNA_IBAN in text
    assert "sent, not yet on the bank's statement" in text and "2026-12-08" in text
    link = f"/console/payment-files/{world['file']}/pain.001"
    assert f'href="{link}" hx-boost="false" download' in page.text
    xml = api.client.get(link)
    assert xml.status_code == 200 and xml.headers["content-type"] == "application/xml"
    assert f"bourse-payments-{world['file']}.xml" in xml.headers["content-disposition"]
    assert xml.headers["cache-control"] == "no-store"
    admin = api.client.get(f"/admin/v1/payment-files/{world['file']}/pain.001", headers=OPERATOR)
    assert xml.content == admin.content  # the admin API's bytes, the bank's file
    assert f"<EndToEndId>BRS-W-{world['withdrawal']}</EndToEndId>".encode() in xml.content


# --- who reads and does what --------------------------------------------------------------------


def test_support_reads_the_rails_but_acts_on_none(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "cora")
    shown_to_cora = preview(api, csrf).text
    csrf = sign_in(api, "sam", Role.SUPPORT)
    nav = api.client.get("/console/").text
    for link in ("/console/banks", "/console/statements/queue", "/console/payment-files"):
        assert f'href="{link}"' in nav, link
    banks = api.client.get("/console/banks").text
    assert f"/banks/{BANK}/cut-off" not in banks
    shown = preview(api, csrf)
    assert shown.status_code == 200 and "does not send them" in shown.text
    refused = cut_off(api, csrf, shown_to_cora)  # the form sent anyway: the engine refuses it
    assert refused.status_code == 400 and "Refused:" in refused.text
    assert api.service.view.banks[BANK].status == "ACTIVE"
    queue = api.client.get("/console/statements/queue").text
    assert "does not resolve lines" in queue and "/resolve" not in queue
    assert api.client.get(f"/console/payment-files/{world['file']}/pain.001").status_code == 200


def test_a_regional_manager_reads_only_their_scope(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "rita", Role.REGIONAL_MANAGER, countries=["AT"])
    nav = api.client.get("/console/").text
    assert 'href="/console/banks"' in nav  # a regional manager reads the system's state
    queue = text_of(api.client.get("/console/statements/queue").text)
    assert "No line waits in your scope" in queue and "Anna Schmidt" not in queue
    files = text_of(api.client.get("/console/payment-files").text)
    assert "Anna Schmidt" not in files and "1 payout to customers outside your scope" in files
    download = api.client.get(f"/console/payment-files/{world['file']}/pain.001")
    assert download.status_code == 403
    shown = text_of(preview(api, csrf).text)
    assert "Bruno Weber" not in shown and "1 more in the sample are outside your scope" in shown
    assert "2 transfers of customers outside your scope are not listed" in shown
    r = resolve(api, csrf, world["item"], account_id=str(world["anna_account"]))
    assert r.status_code == 404  # a line of someone outside their scope is not theirs to see


def test_an_auditor_reads_banks_but_no_customers_rails_outside_scope(
    api: Api, world: dict[str, int]
) -> None:
    sign_in(api, "abel", Role.AUDITOR, countries=["DE"])
    assert "Commerzbank" in api.client.get("/console/banks").text
    assert "Anna Schmidt" in api.client.get("/console/statements/queue").text  # DE: theirs


def test_malformed_or_unknown_paths_are_not_found(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "cora")
    for path in (
        "/console/banks/NOTABIC/cut-off",
        "/console/banks/DEUTDEBBXXX/cut-off",
        "/console/cut-offs/abc",
        "/console/cut-offs/99",
        "/console/payment-files/x/pain.001",
        "/console/payment-files/99/pain.001",
    ):
        assert api.client.get(path).status_code == 404, path
    assert resolve(api, csrf, 99, account_id="1").status_code == 404
