"""Screening decisions through the admin API, on the lists as published: Erik Badege is listed by
OFAC (SDN 15718) and the UN (6907993). Onboarding him holds him until his alerts are decided;
OFAC's delisting keeps him frozen while the UN listing stands, and says so; a manual unfreeze is
refused naming that listing; OFAC listing him again raises a fresh alert. A dismissed false
positive is remembered until its entry is delisted and listed again."""

from pathlib import Path
from typing import Any

from bourse.bench.screening_bench import DATA
from bourse.cli.alerts import confirmed_text
from bourse.compliance.sanctions.versions import ListStore
from tests.api.conftest import Api, Signer
from tests.api.test_screening_flow import (
    LISTED,
    NEW_ROW,
    OTHER,
    SDN,
    accounts,
    alerts,
    answered,
    call,
    load,
    onboard,
    rescreen,
    sdn_with,
)

UN = DATA / "un_consolidated_2026-02-27.xml"


def _onboard_badege(api: Api) -> dict[str, Any]:
    body = {
        "legal_name": "Erik Badege",
        "date_of_birth": "1971-05-02",
        "nationality": "CD",
        "residence": "CD",
        "reason": "KYC file 4410",
    }
    return dict(answered(call(api, "POST", "/customers", body)))


def _both_lists(api: Api) -> None:
    load(api, SDN, "2021-08-18")
    assert not ListStore(api.exchange.data_dir.path).load("un_sc", UN).already_current


def _alert_on(api: Api, customer_id: int, source: str) -> int:
    return next(
        a["alertId"]
        for a in alerts(api)
        if a["customerId"] == customer_id and a["evidence"]["source"] == source
    )


def _deposit(api: Api, account: int) -> Any:
    deposit = {"account_id": account, "asset": "USDT", "amount": "10", "reason": "test deposit"}
    return call(api, "POST", "/deposits", deposit)


def _sdn_without(tmp_path: Path, entry_id: str) -> Path:
    lines = SDN.read_bytes().split(b"\r\n")
    kept = [line for line in lines if not line.startswith(f"{entry_id},".encode())]
    assert len(kept) == len(lines) - 1
    path = tmp_path / f"sdn-without-{entry_id}.csv"
    path.write_bytes(b"\r\n".join(kept))
    return path


def test_an_onboarding_hit_holds_the_new_customer_until_dismissed(api: Api) -> None:
    _both_lists(api)
    made = _onboard_badege(api)
    held = made["screening"]["alerts"]
    assert len(held) == 2 and made["screening"]["held"] is True
    refused = _deposit(api, made["accountId"])
    assert refused.status_code == 409 and refused.json()["error"] == "CUSTOMER_HELD"
    assert f"alert {held[0]} (" in refused.json()["message"]
    record = answered(call(api, "GET", f"/customers/{made['customerId']}"))
    assert record["heldBy"] == held and record["accounts"][0]["held"] is True
    assert answered(call(api, "GET", f"/accounts/{made['accountId']}"))["heldBy"] == held

    ask = {"accountId": made["accountId"], "reason": "customer's trading bot"}
    key = answered(call(api, "POST", "/keys", ask))
    signer = Signer(api.client, made["accountId"], key["apiKey"], key["secretKey"])
    flags = ("canTrade", "canDeposit", "canWithdraw")

    def binance_flags() -> list[bool]:
        body = signer.signed("GET", "/api/v3/account").json()
        return [body[flag] for flag in flags]

    assert binance_flags() == [False, False, False]

    other = onboard(api, OTHER)  # no hit: no hold, nothing slowed
    assert other["screening"]["held"] is False
    answered(_deposit(api, other["accountId"]))

    for alert_id in held:
        reason = {"reason": "different person: passport and DOB differ"}
        answered(call(api, "POST", f"/alerts/{alert_id}/dismiss", reason))
    assert answered(call(api, "GET", f"/customers/{made['customerId']}"))["heldBy"] == []
    answered(_deposit(api, made["accountId"]))
    assert binance_flags() == [True, True, True]


def test_a_delisting_keeps_the_freeze_while_the_un_listing_stands_and_relisting_alerts(
    api: Api, tmp_path: Path
) -> None:
    _both_lists(api)
    made = _onboard_badege(api)
    customer, account = made["customerId"], made["accountId"]
    ofac, un = _alert_on(api, customer, "ofac_sdn"), _alert_on(api, customer, "un_sc")
    for alert_id in (ofac, un):
        done = answered(call(api, "POST", f"/alerts/{alert_id}/confirm", {"reason": "same man"}))
        assert done["kind"] == "hit"
    assert accounts(api, customer)[0]["frozen"] is True
    assert answered(call(api, "GET", f"/customers/{customer}"))["heldBy"] == []
    assert rescreen(api)["mode"] == "full"  # what the next rescreens compare against

    # OFAC delists him; the UN does not.
    load(api, _sdn_without(tmp_path, "15718"), "2021-08-19")
    report = rescreen(api)
    assert report["mode"] == "unchanged"  # nothing added: only the delisting to review
    [review] = report["delistingReviews"]
    done = answered(call(api, "POST", f"/alerts/{review}/confirm", {"reason": "OFAC delisted"}))
    assert (done["kind"], done["unfrozen"], done["keptFrozen"]) == ("delisting", [], [account])
    [standing] = done["standing"]
    assert (standing["alertId"], standing["source"], standing["entryId"]) == (
        un,
        "un_sc",
        "6907993",
    )
    text = confirmed_text(review, done)
    assert f"accounts {account} stay frozen" in text and "un_sc entry 6907993" in text
    assert accounts(api, customer)[0]["frozen"] is True

    unfreeze = {"type": "UnfreezeAccount", "account_id": account, "reason": "customer called"}
    refused = call(api, "POST", "/commands", unfreeze)
    assert refused.status_code == 409 and refused.json()["error"] == "LISTING_STANDS"
    assert "un_sc entry 6907993" in refused.json()["message"]
    assert accounts(api, customer)[0]["frozen"] is True

    # OFAC lists him again, the entry as it was: new evidence, a fresh alert.
    load(api, sdn_with(tmp_path, "relisted.csv", NEW_ROW), "2021-08-20")
    raised = rescreen(api)["alertsRaised"]
    fresh = [a for a in alerts(api, "open") if a["alertId"] in raised]
    assert [(a["customerId"], a["evidence"]["entryId"]) for a in fresh] == [(customer, "15718")]
    assert rescreen(api)["alertsRaised"] == []  # raised once


def test_a_false_positive_is_remembered_until_its_entry_is_delisted_and_listed_again(
    api: Api, tmp_path: Path
) -> None:
    listed = sdn_with(tmp_path, "v2.csv", NEW_ROW)
    load(api, listed, "2021-08-19")
    made = onboard(api, LISTED)
    [alert_id] = made["screening"]["alerts"]
    reason = {"reason": "different person: passport differs"}
    answered(call(api, "POST", f"/alerts/{alert_id}/dismiss", reason))
    assert rescreen(api)["alertsRaised"] == []  # remembered

    load(api, SDN, "2021-08-20")  # OFAC drops entry 99001
    assert rescreen(api)["alertsRaised"] == []
    load(api, sdn_with(tmp_path, "v4.csv", NEW_ROW), "2021-08-21")  # and lists it again
    [fresh] = rescreen(api)["alertsRaised"]
    [again] = alerts(api, "open")
    assert again["alertId"] == fresh != alert_id
    assert (again["customerId"], again["evidence"]["entryId"]) == (made["customerId"], "99001")


def test_onboarding_through_the_raw_command_route_is_screened_and_held(api: Api) -> None:
    _both_lists(api)
    body = {
        "type": "OnboardCustomer",
        "legal_name": "Erik Badege",
        "date_of_birth": "1971-05-02",
        "nationality": "CD",
        "residence": "CD",
        "reason": "KYC file 4411",
    }
    outcome = answered(call(api, "POST", "/commands", body))
    [opened] = [e for e in outcome["events"] if e["type"] == "AccountOpened"]
    refused = _deposit(api, opened["account_id"])
    assert refused.status_code == 409 and refused.json()["error"] == "CUSTOMER_HELD"
    assert len(alerts(api, "open")) == 2
