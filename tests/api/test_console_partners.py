"""The console's card partners: each partner with its kind, currencies, countries and state; a
partner's end previewed (the customers with a saved card of it, its cards, the card deposits
pending through it and their totals), then sent citing that preview, proposed under four eyes
and approved by a second person, with its report of what became of each pending deposit; a
stale or tampered preview refused; the card deposits with a settle/reverse form per pending one;
cards shown by last four digits and expiry, never by token; and who may read and do what
(roles, a regional manager's scope)."""

from decimal import Decimal

import httpx2 as httpx
import pytest

from bourse.commands import SetAccountPermissions
from bourse.compliance.staff import Role
from tests.api.conftest import Api
from tests.api.console import sign_in
from tests.api.test_console_banks import (
    error_of,
    eur,
    four_eyes_on,
    hidden,
    notice_of,
    text_of,
)
from tests.api.test_screening_flow import answered, call, onboard

CODE = "MASTERCARD"
ANNA_TOKEN, BRUNO_TOKEN = "tok_1Nv0xYz2abcd", "tok_9Qr7bruno5678"
REASON = "Mastercard ends its acquiring agreement with the exchange on 2026-12-31"
WHY = {"reason": "acquirer notification"}


def save_card(api: Api, customer_id: int, token: str, last4: str, holder: str) -> int:
    body = {"partner": CODE, "token": token, "last4": last4, "expiry": "12/39",
            "holder": holder, **WHY}  # fmt: skip
    return int(answered(call(api, "POST", f"/customers/{customer_id}/cards", body))["id"])


def pay(api: Api, card_id: int, amount: str, ref: str) -> int:
    body = {"card_id": card_id, "currency": "EUR", "amount": amount, "partner_ref": ref, **WHY}
    return int(answered(call(api, "POST", f"/partners/{CODE}/deposits", body))["id"])


@pytest.fixture
def world(api: Api) -> dict[str, int]:
    """Mastercard (EUR, serving DE and AT); Anna (DE) and Bruno (AT), each with a saved card;
    Anna's deposit of 250 EUR and Bruno's of 75.50 EUR pending, and Anna's 40 EUR settled."""
    body = {"name": "Mastercard", "kind": "CARD_SCHEME", "currencies": ["EUR"],
            "serves": ["DE", "AT"], "reason": "card acquiring agreement"}  # fmt: skip
    answered(call(api, "PUT", f"/partners/{CODE}", body))
    anna = onboard(api, "Anna Schmidt")
    bruno = onboard(api, "Bruno Weber", "AT")
    anna_card = save_card(api, anna["customerId"], ANNA_TOKEN, "4444", "Anna Schmidt")
    bruno_card = save_card(api, bruno["customerId"], BRUNO_TOKEN, "5678", "Bruno Weber")
    settled = pay(api, anna_card, "40.00", "pay_1")
    answered(call(api, "POST", f"/card-deposits/{settled}/settlement", {"settled": True, **WHY}))
    return {
        "anna": anna["customerId"],
        "anna_account": anna["accountId"],
        "bruno": bruno["customerId"],
        "bruno_account": bruno["accountId"],
        "anna_card": anna_card,
        "bruno_card": bruno_card,
        "settled": settled,
        "anna_pending": pay(api, anna_card, "250.00", "pay_2"),
        "bruno_pending": pay(api, bruno_card, "75.50", "pay_3"),
    }


def preview(api: Api, csrf: str, **fields: str) -> httpx.Response:
    data = {"csrf": csrf, "effective": "", **fields}
    return api.client.post(f"/console/partners/{CODE}/end/preview", data=data)


def end(api: Api, csrf: str, shown: str, **fields: str) -> httpx.Response:
    """The end form of the preview page `shown`, sent as the browser sends it."""
    data = {
        "csrf": csrf,
        "spec": hidden(shown, "spec"),
        "preview_id": hidden(shown, "preview_id"),
        "previewed": hidden(shown, "previewed"),
        "reason": REASON,
        **fields,
    }
    return api.client.post(f"/console/partners/{CODE}/end", data=data, follow_redirects=False)


def settle(api: Api, csrf: str, deposit: int, **fields: str) -> httpx.Response:
    data = {"csrf": csrf, "decision": "settle", "reason": "settlement report 2026-12-07",
            "status": "pending", "partner": ""}  # fmt: skip
    return api.client.post(
        f"/console/card-deposits/{deposit}/settlement",
        data={**data, **fields},
        follow_redirects=False,
    )


def status_of(api: Api) -> str:
    return api.service.view.payment_partners[CODE].status


# --- card partners and an end -------------------------------------------------------------------


def test_the_partners_page_shows_each_partner_and_its_state(
    api: Api, world: dict[str, int]
) -> None:
    sign_in(api, "cora")
    page = api.client.get("/console/partners")
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    assert f"{CODE} Mastercard Card scheme EUR DE, AT 2 active" in text
    assert f'href="/console/partners/{CODE}/end"' in page.text  # an officer may end it
    assert f'href="/console/card-deposits?status=pending&amp;partner={CODE}"' in page.text
    assert "No card partner has ended." in text
    assert 'href="/console/partners" aria-current="page"' in page.text  # in the navigation
    assert "Card partners</a>" in api.client.get("/console/banks").text


def test_an_end_is_previewed_then_sent_citing_it_and_reported(
    api: Api, world: dict[str, int]
) -> None:
    csrf = sign_in(api, "cora")
    form = api.client.get(f"/console/partners/{CODE}/end")
    assert form.status_code == 200 and "Preview the end" in form.text
    shown = preview(api, csrf)
    assert shown.status_code == 200, shown.text
    text = text_of(shown.text)
    assert "2 customers with a saved card of it" in text
    assert "2 saved cards" in text and "2 pending card deposits" in text
    assert "Anna Schmidt DE card ending 4444, expires 12/39" in text  # the sample
    assert "Bruno Weber AT card ending 5678, expires 12/39" in text
    assert (
        f"{world['anna_pending']} Mastercard card ending 4444, expires 12/39 account "
        f"{world['anna_account']}, Anna Schmidt EUR 250.00000000 pay_2"
    ) in text
    assert "EUR Pending 325.50000000" in text  # the totals
    assert f"deposit {world['settled']} " not in text  # settled: not pending through it
    assert ANNA_TOKEN not in shown.text and BRUNO_TOKEN not in shown.text
    assert status_of(api) == "ACTIVE"  # a preview changes nothing

    r = end(api, csrf, shown.text)
    assert r.status_code == 303, r.text
    [record] = api.service.view.partner_ends.values()
    assert r.headers["location"] == f"/console/partner-ends/{record.id}"
    assert (record.actor, record.reason, record.status) == ("staff:cora", REASON, "APPLIED")
    assert status_of(api) == "ENDED"

    report = api.client.get(r.headers["location"]).text
    assert notice_of(report) == (
        f"The partnership with Mastercard ({CODE}) has ended: end #{record.id}."
    )
    text = text_of(report)
    assert REASON in text and "staff:cora" in text and "Saved cards ended 2" in text
    assert "EUR Pending 325.50000000" in text
    assert f"{world['anna_pending']} Mastercard card ending 4444" in text
    assert "2 still wait for the partner's settlement report" in text
    assert ANNA_TOKEN not in report
    partners = text_of(api.client.get("/console/partners").text)
    assert "ended" in partners and f"report of end #{record.id}" in partners
    again = api.client.get(f"/console/partners/{CODE}/end")
    assert "Preview the end" not in again.text and "has ended" in again.text


def test_under_four_eyes_the_end_is_proposed_and_a_second_person_approves_it(
    api: Api, world: dict[str, int]
) -> None:
    four_eyes_on(api)
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf)
    assert "Propose the end" in shown.text and "second, entitled person" in shown.text
    r = end(api, csrf, shown.text)
    assert r.status_code == 303 and r.headers["location"] == "/console/partners", r.text
    page = api.client.get("/console/partners").text
    notice = notice_of(page)
    assert notice.startswith("Proposed as #") and "second" in notice
    [proposal] = api.service.view.proposals.values()
    assert type(proposal.command).__name__ == "EndPaymentPartner"
    assert proposal.proposer == "staff:cora" and proposal.reason == REASON
    assert f"end proposed: #{proposal.id} waits for approval" in text_of(page)
    assert status_of(api) == "ACTIVE"  # not until approved

    csrf = sign_in(api, "sina", Role.SENIOR_COMPLIANCE_OFFICER)
    inbox = text_of(api.client.get("/console/approvals").text)
    assert f"end the partnership with Mastercard ({CODE}), at once" in inbox
    detail = api.client.get(f"/console/approvals/{proposal.id}").text
    said = text_of(detail)
    assert "Its preview, counted again now" in said and "unchanged" in said
    assert "Customers with a saved card of it 2" in said and "Pending card deposits 2" in said
    assert f"card deposit {world['bruno_pending']} ( Bruno Weber ) card ending 5678" in said
    assert "EUR Pending 325.50000000" in said
    assert ANNA_TOKEN not in detail and BRUNO_TOKEN not in detail
    decided = api.client.post(
        f"/console/approvals/{proposal.id}",
        data={"csrf": csrf, "decision": "approve", "digest": proposal.digest, "reason": "seen"},
        follow_redirects=False,
    )
    assert decided.status_code == 303, decided.text
    [record] = api.service.view.partner_ends.values()
    assert (record.status, record.actor) == ("APPLIED", "staff:cora")
    report = text_of(api.client.get(f"/console/partner-ends/{record.id}").text)
    assert f"{world['bruno_pending']} Mastercard card ending 5678" in report


def test_a_stale_proposal_says_so_on_the_approvals_page(api: Api, world: dict[str, int]) -> None:
    four_eyes_on(api)
    csrf = sign_in(api, "cora")
    assert end(api, csrf, preview(api, csrf).text).status_code == 303
    pay(api, world["anna_card"], "5.00", "pay_4")  # four eyes do not hold a notification
    [proposal] = api.service.view.proposals.values()
    sign_in(api, "sina", Role.SENIOR_COMPLIANCE_OFFICER)
    detail = text_of(api.client.get(f"/console/approvals/{proposal.id}").text)
    assert "changed since the preview it cites" in detail and "Pending card deposits 3" in detail


@pytest.mark.parametrize(
    ("effective", "said"),
    [("soon", "not an ISO 8601"), ("2001-01-01T00:00", "in the past")],
)
def test_a_bad_effective_time_is_refused_next_to_its_field(
    api: Api, world: dict[str, int], effective: str, said: str
) -> None:
    csrf = sign_in(api, "cora")
    r = preview(api, csrf, effective=effective)
    assert r.status_code == 400, r.text
    assert said in error_of(r.text, "effective")
    assert 'aria-invalid="true"' in r.text
    assert "What ending" not in r.text  # nothing previewed, nothing to send


def test_an_end_without_a_reason_is_refused_with_its_preview_kept(
    api: Api, world: dict[str, int]
) -> None:
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf)
    r = end(api, csrf, shown.text, reason="  ")
    assert r.status_code == 400 and "say why" in error_of(r.text, "reason")
    assert "What ending Mastercard touches" in r.text  # still there to send once fixed
    assert status_of(api) == "ACTIVE" and api.service.view.proposals == {}


def test_a_scheduled_end_waits_for_its_time(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf, effective="2099-01-01T00:00")
    assert "2099-01-01 00:00 UTC" in shown.text
    r = end(api, csrf, shown.text)
    assert r.status_code == 303, r.text
    report = api.client.get(r.headers["location"]).text
    assert "ends 2099-01-01 00:00 UTC: end #1" in notice_of(report)
    assert "It has not taken effect yet" in report
    partner = api.service.view.payment_partners[CODE]
    assert (partner.status, partner.end_id) == ("ACTIVE", 1)
    partners = text_of(api.client.get("/console/partners").text)
    assert "end #1 from 2099-01-01 00:00 UTC" in partners and "scheduled" in partners
    again = text_of(api.client.get(f"/console/partners/{CODE}/end").text)
    assert "has end #1 scheduled for 2099-01-01 00:00 UTC" in again


def test_a_stale_preview_is_refused_and_previewed_afresh(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf)
    pay(api, world["bruno_card"], "12.00", "pay_5")  # what the end touches has changed
    r = end(api, csrf, shown.text)
    assert r.status_code == 400, r.text
    said = text_of(r.text)
    assert "PREVIEW_STALE" in said and "Nothing changed" in said and "previewed afresh" in said
    assert status_of(api) == "ACTIVE"
    assert "3 pending card deposits" in said and "EUR Pending 337.50000000" in said
    assert hidden(r.text, "preview_id") != hidden(shown.text, "preview_id")
    assert end(api, csrf, r.text).status_code == 303  # the fresh preview applies
    assert status_of(api) == "ENDED"


def test_under_four_eyes_a_stale_preview_is_refused_before_it_is_proposed(
    api: Api, world: dict[str, int]
) -> None:
    four_eyes_on(api)
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf)
    pay(api, world["bruno_card"], "12.00", "pay_5")
    r = end(api, csrf, shown.text)
    assert r.status_code == 400, r.text
    said = text_of(r.text)
    assert "PREVIEW_STALE" in said and "previewed afresh" in said
    assert api.service.view.proposals == {}  # nobody is asked to approve a stale preview
    assert "3 pending card deposits" in said
    tampered = hidden(r.text, "spec").replace('"effective_ms":0', '"effective_ms":4102444800000')
    mismatch = end(api, csrf, r.text, spec=tampered)
    assert mismatch.status_code == 400 and "PREVIEW_MISMATCH" in mismatch.text
    assert api.service.view.proposals == {}
    assert end(api, csrf, r.text).status_code == 303  # the fresh preview is proposed
    [proposal] = api.service.view.proposals.values()
    assert proposal.command.preview_id == hidden(r.text, "preview_id")  # type: ignore[attr-defined]


def test_a_tampered_end_does_not_match_its_preview(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "cora")
    shown = preview(api, csrf)
    spec = hidden(shown.text, "spec").replace('"effective_ms":0', '"effective_ms":4102444800000')
    r = end(api, csrf, shown.text, spec=spec)
    assert r.status_code == 400 and "PREVIEW_MISMATCH" in r.text
    assert end(api, csrf, shown.text, spec="{not json").status_code == 403
    other = hidden(shown.text, "spec").replace(CODE, "VISA")
    assert end(api, csrf, shown.text, spec=other).status_code == 403
    assert status_of(api) == "ACTIVE"


# --- card deposits ------------------------------------------------------------------------------


def test_card_deposits_are_listed_and_filtered(api: Api, world: dict[str, int]) -> None:
    sign_in(api, "cora")
    page = api.client.get("/console/card-deposits")
    assert page.status_code == 200, page.text
    text = text_of(page.text)
    assert "3 card deposits" in text
    assert f"{world['settled']} Mastercard card ending 4444, expires 12/39" in text
    assert "40.00000000 EUR pay_1" in text and "Settled" in text
    assert ANNA_TOKEN not in page.text and BRUNO_TOKEN not in page.text
    assert "does not settle them" in text and "/settlement" not in page.text  # an officer
    pending = text_of(api.client.get("/console/card-deposits?status=pending").text)
    assert "2 card deposits, pending" in pending and "pay_1" not in pending
    settled = text_of(api.client.get("/console/card-deposits?status=SETTLED").text)
    assert "1 card deposit, settled" in settled and "pay_2" not in settled
    odd = text_of(api.client.get("/console/card-deposits?status=lost&partner=nobody").text)
    assert "3 card deposits" in odd  # an unknown filter shows everything


def test_an_operator_settles_and_reverses_pending_card_deposits(
    api: Api, world: dict[str, int]
) -> None:
    csrf = sign_in(api, "otto", Role.OPERATOR)
    page = api.client.get("/console/card-deposits?status=pending")
    assert f'action="/console/card-deposits/{world["anna_pending"]}/settlement"' in page.text
    assert f"/card-deposits/{world['settled']}/settlement" not in page.text  # settled already
    before = eur(api, world["anna_account"])
    r = settle(api, csrf, world["anna_pending"])
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/console/card-deposits?status=pending"
    after = api.client.get(r.headers["location"]).text
    assert notice_of(after) == (
        f"Card deposit {world['anna_pending']}, 250.00000000 EUR (Mastercard card ending 4444, "
        f"expires 12/39, payment pay_2), is settled: credited to account "
        f"{world['anna_account']}."
    )
    assert eur(api, world["anna_account"]) == before + Decimal("250")
    r = settle(api, csrf, world["bruno_pending"], decision="reverse", reason="chargeback 77")
    assert r.status_code == 303, r.text
    assert "is reversed: nothing was credited" in notice_of(
        api.client.get(r.headers["location"]).text
    )
    assert eur(api, world["bruno_account"]) == Decimal(0)
    deposits = api.service.view.card_deposits
    assert deposits[world["bruno_pending"]].status == "REVERSED"
    assert deposits[world["bruno_pending"]].reason == "chargeback 77"
    reversed_ = text_of(api.client.get("/console/card-deposits?status=reversed").text)
    assert "Reversed chargeback 77" in reversed_


def test_a_settlement_needs_a_reason_and_a_pending_deposit(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "otto", Role.OPERATOR)
    r = settle(api, csrf, world["anna_pending"], reason=" ")
    assert r.status_code == 400, r.text
    assert "say why" in error_of(r.text, f"reason-{world['anna_pending']}")
    r = settle(api, csrf, world["anna_pending"], decision="keep")
    assert r.status_code == 400 and "choose to settle the deposit or to reverse it" in r.text
    r = settle(api, csrf, world["settled"])
    assert r.status_code == 400 and "is settled already" in r.text
    assert api.service.view.card_deposits[world["anna_pending"]].status == "PENDING"


def test_a_deposit_the_rules_refuse_is_reversed_and_says_why(
    api: Api, world: dict[str, int]
) -> None:
    csrf = sign_in(api, "otto", Role.OPERATOR)
    closed = SetAccountPermissions(
        account_id=world["anna_account"], can_trade=True, can_deposit=False, can_withdraw=True,
        actor="test", ts_ms=api.service.clock(), reason="deposits closed",
    )  # fmt: skip
    assert not api.execute(closed).refused
    r = settle(api, csrf, world["anna_pending"])
    assert r.status_code == 303, r.text
    notice = notice_of(api.client.get(r.headers["location"]).text)
    assert "could not be credited and is reversed: not credited (deposits are disabled" in notice
    assert api.service.view.card_deposits[world["anna_pending"]].status == "REVERSED"


def test_the_end_report_shows_what_became_of_each_pending_deposit(
    api: Api, world: dict[str, int]
) -> None:
    csrf = sign_in(api, "cora")
    assert end(api, csrf, preview(api, csrf).text).status_code == 303
    csrf = sign_in(api, "otto", Role.OPERATOR)
    assert settle(api, csrf, world["anna_pending"]).status_code == 303
    r = settle(api, csrf, world["bruno_pending"], decision="reverse", reason="chargeback 77")
    assert r.status_code == 303
    report = text_of(api.client.get("/console/partner-ends/1").text)
    assert "EUR Reversed 75.50000000" in report and "EUR Settled 250.00000000" in report
    assert "Settled settlement report 2026-12-07" in report
    assert "Reversed chargeback 77" in report
    assert "still wait" not in report


def test_under_four_eyes_a_settlement_is_proposed(api: Api, world: dict[str, int]) -> None:
    body = {"commands": ["SettleCardDeposit"], "reason": "the bank's policy"}
    answered(call(api, "PUT", "/four-eyes", body))
    csrf = sign_in(api, "otto", Role.OPERATOR)
    r = settle(api, csrf, world["anna_pending"])
    assert r.status_code == 303, r.text
    page = api.client.get(r.headers["location"]).text
    assert notice_of(page).startswith("Proposed as #")
    [proposal] = api.service.view.proposals.values()
    assert f"settlement proposed: #{proposal.id} waits for approval" in text_of(page)
    sign_in(api, "sina", Role.SENIOR_COMPLIANCE_OFFICER)
    inbox = text_of(api.client.get("/console/approvals").text)
    assert (
        f"settle card deposit {world['anna_pending']} (250.00000000 EUR, Mastercard card ending "
        f"4444, expires 12/39) into account {world['anna_account']}"
    ) in inbox
    detail = text_of(api.client.get(f"/console/approvals/{proposal.id}").text)
    assert f"Settles card deposit {world['anna_pending']}: credits 250.00000000 EUR" in detail


def test_approvals_describe_a_partner_and_a_card_without_its_token(
    api: Api, world: dict[str, int]
) -> None:
    body = {"commands": ["DefinePaymentPartner", "SaveCard"], "reason": "the bank's policy"}
    answered(call(api, "PUT", "/four-eyes", body))
    visa = {"name": "Visa", "kind": "CARD_SCHEME", "currencies": ["EUR"], "serves": ["DE"],
            "reason": "card acquiring agreement"}  # fmt: skip
    assert call(api, "PUT", "/partners/VISA", visa).status_code == 202
    card = {"partner": CODE, "token": "tok_secret_wxyz", "last4": "9999", "expiry": "11/38",
            "holder": "Anna Schmidt", **WHY}  # fmt: skip
    assert call(api, "POST", f"/customers/{world['anna']}/cards", card).status_code == 202
    sign_in(api, "sina", Role.SENIOR_COMPLIANCE_OFFICER)
    inbox = api.client.get("/console/approvals").text
    said = text_of(inbox)
    assert "Visa (VISA), card scheme: EUR, serving residents of DE" in said
    assert (
        f"save Mastercard card ending 9999, expires 11/38, of customer {world['anna']}, "
        "Anna Schmidt"
    ) in said
    saving = max(api.service.view.proposals)
    detail = api.client.get(f"/console/approvals/{saving}").text
    assert "tok_secret_wxyz" not in inbox and "tok_secret_wxyz" not in detail
    assert "…wxyz (the rest is not shown" in text_of(detail)


# --- who reads and does what --------------------------------------------------------------------


def test_support_reads_card_partners_but_acts_on_none(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "cora")
    shown_to_cora = preview(api, csrf).text
    csrf = sign_in(api, "sam", Role.SUPPORT)
    nav = api.client.get("/console/").text
    assert 'href="/console/partners"' in nav
    partners = api.client.get("/console/partners").text
    assert f"/partners/{CODE}/end" not in partners and "Mastercard" in partners
    shown = preview(api, csrf)
    assert shown.status_code == 200 and "does not send it" in shown.text
    refused = end(api, csrf, shown_to_cora)  # the form sent anyway: the engine refuses it
    assert refused.status_code == 400 and "Refused:" in refused.text
    assert status_of(api) == "ACTIVE"
    deposits = api.client.get("/console/card-deposits").text
    assert "does not settle them" in deposits and "/settlement" not in deposits
    refused = settle(api, csrf, world["anna_pending"])
    assert refused.status_code == 400 and "Refused:" in refused.text
    assert api.service.view.card_deposits[world["anna_pending"]].status == "PENDING"


def test_a_regional_manager_reads_only_their_scope(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "rita", Role.REGIONAL_MANAGER, countries=["AT"])
    nav = api.client.get("/console/").text
    assert 'href="/console/partners"' in nav  # a regional manager reads the system's state
    partners = text_of(api.client.get("/console/partners").text)
    assert "DE, AT 1 active" in partners  # Bruno's pending deposit; Anna's is not theirs
    deposits = text_of(api.client.get("/console/card-deposits").text)
    assert "Bruno Weber" in deposits and "Anna Schmidt" not in deposits
    assert "2 card deposits of customers outside your scope are not listed" in deposits
    shown = text_of(preview(api, csrf).text)
    assert "Bruno Weber" in shown and "Anna Schmidt" not in shown
    assert "1 more in the sample are outside your scope" in shown
    assert "1 card deposit of customers outside your scope is not listed" in shown
    assert settle(api, csrf, world["anna_pending"]).status_code == 404  # not theirs to see
    csrf = sign_in(api, "cora")
    assert end(api, csrf, preview(api, csrf).text).status_code == 303
    sign_in(api, "rita")
    report = text_of(api.client.get("/console/partner-ends/1").text)
    assert "Bruno Weber" in report and "Anna Schmidt" not in report
    assert "1 card deposit of customers outside your scope is not listed" in report


def test_an_auditor_reads_card_partners_within_scope(api: Api, world: dict[str, int]) -> None:
    sign_in(api, "abel", Role.AUDITOR, countries=["DE"])
    assert "Mastercard" in api.client.get("/console/partners").text
    deposits = text_of(api.client.get("/console/card-deposits").text)
    assert "Anna Schmidt" in deposits and "Bruno Weber" not in deposits


def test_malformed_or_unknown_paths_are_not_found(api: Api, world: dict[str, int]) -> None:
    csrf = sign_in(api, "otto", Role.OPERATOR)
    for path in (
        "/console/partners/VISA/end",
        "/console/partners/x/end",
        "/console/partner-ends/abc",
        "/console/partner-ends/99",
    ):
        assert api.client.get(path).status_code == 404, path
    assert settle(api, csrf, 99).status_code == 404
    r = api.client.post("/console/card-deposits/x/settlement", data={"csrf": csrf})
    assert r.status_code == 404
