"""The console's customers in-process: a search by number or name (bounded, scoped), and the page
an officer reads before a decision (KYC record, balances as exact decimals, open orders, the
policies that name the customer, screening alerts and their decisions, freezes), with freeze and
unfreeze forms that refuse bad input next to the field and change nothing, and propose under
four eyes."""

import re

import httpx2 as httpx
import pytest

from bourse.commands import (
    CompleteWithdrawal,
    ConfirmScreeningAlert,
    DismissScreeningAlert,
    OnboardCustomer,
    RaiseScreeningAlert,
)
from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role
from tests.api.conftest import Api, wait_until
from tests.api.console import sign_in
from tests.api.test_staff import OPERATOR
from tests.builders import BTC_ADDRESS
from tests.engine.test_screening_decisions import EVIDENCE

DEMO = 1  # customer 1, "Demo Trader", resident and national of DE, account 1
KZ = 2  # customer 2, "Demo Kazakhstan Trader", resident of KZ, account 3


def page(api: Api, path: str, status: int = 200) -> str:
    r = api.client.get(f"/console{path}")
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def post(api: Api, path: str, **fields: str) -> httpx.Response:
    return api.client.post(f"/console{path}", data=fields, follow_redirects=False)


def found_ids(html: str) -> list[int]:
    return [
        int(n) for n in re.findall(r'<td class="num"><a href="/console/customers/(\d+)">', html)
    ]


def test_search_by_number_or_any_part_of_the_name(api: Api) -> None:
    sign_in(api, "cora")
    assert found_ids(page(api, "/customers?q=demo")) == [DEMO, KZ]
    assert found_ids(page(api, "/customers?q=KAZAKH")) == [KZ]
    assert found_ids(page(api, "/customers?q=1")) == [DEMO]
    html = page(api, "/customers?q=Demo+Trader")
    assert found_ids(html) == [DEMO]
    assert "<td>DE</td>" in html and "GLOBAL" in html
    none = page(api, "/customers?q=nobody+called+this")
    assert found_ids(none) == [] and "No customer you may read matches" in none
    long = api.client.get("/console/customers", params={"q": "x" * 101})
    assert long.status_code == 400 and 'id="e-q"' in long.text
    assert "at most 100 characters" in long.text


def test_a_search_stops_at_fifty_matches_and_says_so(api: Api) -> None:
    for n in range(52):
        cmd = OnboardCustomer(
            actor="system:genesis",
            ts_ms=api.service.clock(),
            reason="KYC approved",
            legal_name=f"Ana Common {n}",
            date_of_birth="1980-01-01",
            nationality="FR",
            residence="FR",
        )
        assert not api.execute(cmd).refused
    sign_in(api, "cora")
    html = page(api, "/customers?q=common")
    assert len(found_ids(html)) == 50 and "stopped at the first 50 matches" in html
    few = page(api, "/customers?q=common+5")  # 5, 50, 51
    assert len(found_ids(few)) == 3 and "stopped at" not in few


def test_the_page_shows_the_record_exact_balances_and_open_orders(api: Api) -> None:
    r = api.signed(
        "POST",
        "/api/v3/order",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.01",
        price="50000",
    )
    assert r.status_code == 200, r.text
    order_id = r.json()["orderId"]
    sign_in(api, "cora")
    html = page(api, f"/customers/{DEMO}")
    assert "<h1>Customer 1: Demo Trader</h1>" in html
    assert "<dt>Date of birth</dt><dd>1990-01-01</dd>" in html
    usdt = re.search(r"<tr><td>USDT</td>(.*?)</tr>", html)
    assert usdt is not None
    assert re.findall(r'<td class="num">([^<]*)</td>', usdt.group(1)) == [
        "999500.00000000",
        "500.00000000",
        "1000000.00000000",
    ]
    assert '<td class="num">10.00000000</td>' in html  # BTC, untouched
    row = re.search(
        rf'<td class="num">{order_id}</td><td>BTCUSDT</td><td>BUY</td>(.*?)</tr>', html, re.S
    )
    assert row is not None
    assert re.findall(r'<td class="num">([^<]*)</td>', row.group(1)) == [
        "50000.00000000",
        "0.01000000",
        "0.00000000",
    ]
    # no policy names DE: everything open
    assert "No jurisdiction policy names residents of DE" in html
    assert "No screening alert has been raised" in html


def test_the_policies_that_apply_and_what_they_stop(api: Api) -> None:
    body = {
        "name": "DE withdrawals pause",
        "country": "DE",
        "basis": "NATIONALITY",
        "rules": [{"capability": "CRYPTO_WITHDRAWAL", "access": "SUSPENDED"}],
    }
    shown = api.client.post("/admin/v1/policies/preview", json=body, headers=OPERATOR)
    assert shown.status_code == 200, shown.text
    applied = api.client.post(
        "/admin/v1/policies/apply",
        json={**shown.json()["apply"], "reason": "regulator's letter 7"},
        headers=OPERATOR,
    )
    assert applied.status_code == 200, applied.text
    sign_in(api, "cora")
    html = page(api, f"/customers/{DEMO}")
    assert "DE withdrawals pause" in html and "crypto withdrawal suspended" in html
    assert "regulator&#39;s letter 7" in html
    row = re.search(r"<td>Crypto withdrawals</td>(.*?)</tr>", html, re.S)
    assert row is not None and "refused" in row.group(1) and "account 1:" in row.group(1)
    trading = re.search(r"<td>Trading</td>(.*?)</tr>", html, re.S)
    assert trading is not None and "allowed" in trading.group(1)
    # the KZ customer is named by no DE policy
    assert "DE withdrawals pause" not in page(api, f"/customers/{KZ}")


def test_freeze_with_a_reason_and_unfreeze(api: Api) -> None:
    token = sign_in(api, "cora")
    acct = api.service.view.accounts[1]
    r = post(
        api,
        f"/customers/{DEMO}/accounts/1/freeze",
        csrf=token,
        **{"reason-1": "police request 4471", "evidence-1": "letter 4471"},
    )
    assert r.status_code == 303, r.text
    assert acct.frozen and acct.manual_freeze == "police request 4471"
    html = page(api, f"/customers/{DEMO}")
    assert "Account 1 is frozen" in html  # the notice
    assert "by staff, by hand: police request 4471" in html
    assert "/accounts/1/unfreeze" in html and "/accounts/1/freeze" not in html
    r = post(api, f"/customers/{DEMO}/accounts/1/unfreeze", csrf=token, **{"reason-1": "lifted"})
    assert r.status_code == 303 and not acct.frozen


def test_a_blank_reason_is_refused_next_to_the_field_and_nothing_changes(api: Api) -> None:
    token = sign_in(api, "cora")
    seq = api.service.view.last_seq
    r = api.client.post(
        f"/console/customers/{DEMO}/accounts/1/freeze",
        data={"csrf": token, "reason-1": "   ", "evidence-1": "kept"},
    )
    assert r.status_code == 400
    assert 'id="e-reason-1"' in r.text and "say why" in r.text
    assert 'value="kept"' in r.text  # what was typed stays
    assert not api.service.view.accounts[1].frozen
    assert api.service.view.last_seq == seq  # nothing was sent
    # an account of someone else, through this customer's page: not theirs
    other = api.client.post(
        f"/console/customers/{DEMO}/accounts/3/freeze", data={"csrf": token, "reason-3": "x"}
    )
    assert other.status_code == 404 and not api.service.view.accounts[3].frozen
    stale = api.client.post(
        f"/console/customers/{DEMO}/accounts/1/freeze", data={"csrf": "old", "reason-1": "x"}
    )
    assert stale.status_code == 403 and not api.service.view.accounts[1].frozen


def test_under_four_eyes_a_freeze_is_proposed_and_waits(api: Api) -> None:
    r = api.client.put(
        "/admin/v1/four-eyes",
        json={"commands": sorted(DEFAULT_FOUR_EYES), "reason": "policy"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text
    token = sign_in(api, "cora")
    assert "A second person must approve it first." in page(api, f"/customers/{DEMO}")
    r = post(api, f"/customers/{DEMO}/accounts/1/freeze", csrf=token, **{"reason-1": "alert 9"})
    assert r.status_code == 303
    assert not api.service.view.accounts[1].frozen
    [proposal] = api.service.view.proposals.values()
    assert type(proposal.command).__name__ == "FreezeAccount"
    assert proposal.proposer == "staff:cora" and proposal.reason == "alert 9"
    html = page(api, f"/customers/{DEMO}")
    assert f"Proposed as #{proposal.id}" in html and "approves it in Approvals" in html
    assert (
        f'href="/console/approvals/{proposal.id}">Proposal {proposal.id}</a>' in html
        and "FreezeAccount of account 1" in html
    )


def test_unknown_and_malformed_ids_are_404_pages(api: Api) -> None:
    sign_in(api, "cora")
    assert "there is no customer 999" in page(api, "/customers/999", 404)
    for bad in ("abc", "-1", "1e3", "99999999999999999999", "%C2%B2"):
        assert "whole numbers" in page(api, f"/customers/{bad}", 404)


def test_support_reads_but_has_no_forms_and_cannot_post(api: Api) -> None:
    token = sign_in(api, "sam", Role.SUPPORT)
    html = page(api, f"/customers/{DEMO}")
    assert "Demo Trader" in html and "1000000.00000000" in html
    assert "/freeze" not in html and '<form method="post" action="/console/customers' not in html
    assert "Screening alerts" not in html  # a compliance read
    r = post(api, f"/customers/{DEMO}/accounts/1/freeze", csrf=token, **{"reason-1": "why not"})
    assert r.status_code == 403 and not api.service.view.accounts[1].frozen


def test_a_regional_manager_reads_only_their_countries(api: Api) -> None:
    token = sign_in(api, "rita", Role.REGIONAL_MANAGER, countries=["KZ"])
    assert "KZ only" in page(api, f"/customers/{DEMO}", 403)
    assert "Demo Kazakhstan Trader" in page(api, f"/customers/{KZ}")
    assert found_ids(page(api, "/customers?q=demo")) == [KZ]
    assert found_ids(page(api, f"/customers?q={DEMO}")) == []
    r = post(api, f"/customers/{DEMO}/accounts/1/freeze", csrf=token, **{"reason-1": "mine?"})
    assert r.status_code == 403 and not api.service.view.accounts[1].frozen


@pytest.fixture
def alerted(api: Api) -> int:
    """An alert on the demo customer, confirmed by cora: account 1 frozen on its evidence."""
    raised = api.execute(
        RaiseScreeningAlert(
            customer_id=DEMO, evidence=EVIDENCE, actor="system:screening", ts_ms=api.service.clock()
        )
    )
    assert not raised.refused, raised
    alert = max(api.service.view.alerts)
    sign_in(api, "cora")
    confirmed = api.execute(
        ConfirmScreeningAlert(
            alert_id=alert, actor="staff:cora", ts_ms=api.service.clock(), reason="same person"
        )
    )
    assert not confirmed.refused, confirmed
    return alert


def test_alerts_and_their_decisions_and_a_sanctions_freeze_lifted_only_by_naming_it(
    api: Api, alerted: int
) -> None:
    token = sign_in(api, "cora")
    html = page(api, f"/customers/{DEMO}")
    assert f'href="/console/alerts/{alerted}">Alert {alerted}</a>' in html
    assert "BADEGE, Eric" in html and "staff:cora" in html and "same person" in html
    assert "a confirmed screening alert" in html and "confirmed by staff:cora" in html
    acct = api.service.view.accounts[1]
    assert acct.frozen
    # without naming the listing, the engine refuses: shown next to the form, nothing changes
    r = api.client.post(
        f"/console/customers/{DEMO}/accounts/1/unfreeze",
        data={"csrf": token, "reason-1": "licence 12"},
    )
    assert r.status_code == 400 and 'class="error form-error"' in r.text, r.text
    assert "Refused:" in r.text and acct.frozen
    r2 = post(
        api,
        f"/customers/{DEMO}/accounts/1/unfreeze",
        csrf=token,
        **{"reason-1": "licence 12", f"override-1-{alerted}": "on"},
    )
    assert r2.status_code == 303 and not acct.frozen


def test_a_dismissed_alert_shows_who_dismissed_it_and_why(api: Api) -> None:
    api.execute(
        RaiseScreeningAlert(
            customer_id=KZ, evidence=EVIDENCE, actor="system:screening", ts_ms=api.service.clock()
        )
    )
    alert = max(api.service.view.alerts)
    sign_in(api, "cora")
    assert "waiting for a decision" in page(api, f"/customers/{KZ}")
    outcome = api.execute(
        DismissScreeningAlert(
            alert_id=alert, actor="staff:cora", ts_ms=api.service.clock(), reason="born 1950"
        )
    )
    assert not outcome.refused, outcome
    html = page(api, f"/customers/{KZ}")
    assert "dismissed" in html and "staff:cora" in html and "born 1950" in html
    assert not api.service.view.accounts[3].frozen


def test_the_kyc_record_shows_every_version_with_who_changed_it_and_why(api: Api) -> None:
    r = api.client.patch(
        f"/admin/v1/customers/{DEMO}",
        json={"kyc_level": 3, "reason": "passport and proof of address verified"},
        headers=OPERATOR,
    )
    assert r.status_code == 200, r.text
    sign_in(api, "cora")
    wait_until(lambda: "passport and proof of address verified" in page(api, f"/customers/{DEMO}"))
    html = page(api, f"/customers/{DEMO}")
    history = html.split("Every version of the record")[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", history, re.S)[1:]  # after the header
    assert len(rows) == 2  # onboarded, then the KYC level raised
    assert "operator" in rows[0] and "KYC level: 3" in rows[0]
    assert "legal name: Demo Trader" in rows[1]  # the first version sets every field


def test_finished_withdrawals_are_listed_with_their_outcome(api: Api) -> None:
    body = {"account_id": 1, "asset": "BTC", "amount": "0.5", "reason": "customer's request"}
    body["destination"] = BTC_ADDRESS
    r = api.client.post("/admin/v1/withdrawals", json=body, headers=OPERATOR)
    assert r.status_code == 200, r.text
    withdrawal = r.json()["withdrawalId"]
    settled = CompleteWithdrawal(
        withdrawal_id=withdrawal, tx_ref="chain-tx-77", actor="operator", ts_ms=api.service.clock()
    )
    assert not api.execute(settled).refused
    sign_in(api, "cora")
    wait_until(lambda: "chain-tx-77" in page(api, f"/customers/{DEMO}"))
    html = page(api, f"/customers/{DEMO}")
    finished = html.split("Finished withdrawals")[1].split("</table>")[0]
    assert "0.50000000 BTC" in finished and "completed" in finished
