"""Issue 6 end to end: a new OFAC list version names an existing customer; a rescreen raises one
alert; its confirmation freezes exactly that customer (their bot is refused) while another of
the same nationality trades on. Also dismissals, onboarding a listed name, and bad input."""

from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from bourse.bench.screening_bench import DATA
from bourse.compliance.sanctions.versions import ListStore
from tests.api.conftest import Api, Signer

OPERATOR = {"Authorization": "Bearer operator-token"}
SDN = DATA / "ofac_sdn_2021-08-18.csv"
ORDER = "/api/v3/order"
DISABLED = "This action is disabled on this account."
LISTED = "Wolfgang Reinholt Baumann"  # not on the 2021-08-18 list: added by a new version
OTHER = "Jonas Achterberg"
NEW_ROW = (
    '99001,"BAUMANN, Wolfgang Reinholt","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    '"DOB 14 Mar 1980; nationality Germany."'
)
DOB = "1980-03-14"


def call(api: Api, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
    return api.client.request(method, f"/admin/v1{path}", json=body, headers=OPERATOR, **kw)


def answered(r: httpx.Response) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def sdn_with(tmp_path: Path, name: str, *rows: str) -> Path:
    """A copy of the OFAC file with `rows` added before its 0x1A end-of-file line."""
    data = SDN.read_bytes()
    assert data.endswith(b"\r\n\x1a")
    added = b"".join(row.encode() + b"\r\n" for row in rows)
    path = tmp_path / name
    path.write_bytes(data[:-1] + added + b"\x1a")
    return path


def load(api: Api, path: Path, published: str) -> str:
    result = ListStore(api.exchange.data_dir.path).load("ofac_sdn", path, published)
    assert not result.already_current
    return result.version.content_sha256


def onboard(api: Api, name: str, nationality: str = "DE") -> dict[str, Any]:
    body = {
        "legal_name": name,
        "date_of_birth": DOB,
        "nationality": nationality,
        "residence": nationality,
        "reason": "KYC approved",
    }
    return dict(answered(call(api, "POST", "/customers", body)))


def bot(api: Api, account_id: int) -> Signer:
    """A funded trading key for the account, with one resting buy order."""
    key = answered(call(api, "POST", "/keys", {"accountId": account_id, "reason": "bot"}))
    body = {"account_id": account_id, "asset": "USDT", "amount": "5000", "reason": "wire in"}
    answered(call(api, "POST", "/deposits", body))
    signer = Signer(api.client, account_id, key["apiKey"], key["secretKey"])
    order(signer)
    return signer


def order(signer: Signer) -> httpx.Response:
    return signer.signed(
        "POST",
        ORDER,
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.01",
        price="20000",
    )


def alerts(api: Api, status: str | None = None) -> list[dict[str, Any]]:
    params = {"status": status} if status else {}
    return list(answered(call(api, "GET", "/alerts", params=params))["alerts"])


def rescreen(api: Api) -> dict[str, Any]:
    return dict(answered(call(api, "POST", "/screening/rescreen")))


def accounts(api: Api, customer_id: int) -> list[dict[str, Any]]:
    return list(answered(call(api, "GET", f"/customers/{customer_id}"))["accounts"])


def test_new_list_version_freezes_exactly_the_listed_customer(api: Api, tmp_path: Path) -> None:
    first_sha = load(api, SDN, "2021-08-18")
    listed, other = onboard(api, LISTED), onboard(api, OTHER)
    for made in (listed, other):
        assert made["screening"]["alerts"] == []
        assert [v["sha256"] for v in made["screening"]["lists"]] == [first_sha]
    listed_bot, other_bot = bot(api, listed["accountId"]), bot(api, other["accountId"])
    assert rescreen(api)["alertsRaised"] == []  # the old list names neither

    new_sha = load(api, sdn_with(tmp_path, "sdn.csv", NEW_ROW), "2021-08-19")
    report = rescreen(api)
    assert report["screened"] == len(api.exchange.engine.state.customers) >= 2
    assert [v["sha256"] for v in report["lists"]] == [new_sha]
    [alert_id] = report["alertsRaised"]
    [alert] = alerts(api, "open")
    assert alert["alertId"] == alert_id and alert["customerId"] == listed["customerId"]
    assert alert["customerName"] == LISTED
    ev = alert["evidence"]
    assert (ev["source"], ev["entryId"], ev["listSha256"]) == ("ofac_sdn", "99001", new_sha)
    assert ev["listedName"] == "BAUMANN, Wolfgang Reinholt"
    assert "99001" in ev["text"] and float(alert["score"]) >= 0.7
    assert rescreen(api)["alertsRaised"] == []  # still open: not raised twice

    confirmed = answered(call(api, "POST", f"/alerts/{alert_id}/confirm", {"reason": "same man"}))
    assert confirmed["frozen"] == [listed["accountId"]]
    [frozen] = accounts(api, listed["customerId"])
    assert frozen["frozen"] is True and frozen["openOrders"] == 0  # resting order canceled
    r = order(listed_bot)
    assert r.status_code == 400 and r.json()["msg"] == DISABLED, r.text

    [free] = accounts(api, other["customerId"])
    assert free["frozen"] is False and free["openOrders"] == 1
    r = order(other_bot)
    assert r.status_code == 200, r.text
    assert accounts(api, other["customerId"])[0]["openOrders"] == 2
    assert [a["alertId"] for a in alerts(api, "confirmed")] == [alert_id]
    assert alerts(api, "open") == []
    assert rescreen(api)["alertsRaised"] == []  # already frozen on that entry
    # Decided once: neither decision can be taken again.
    r = call(api, "POST", f"/alerts/{alert_id}/dismiss", {"reason": "second thoughts"})
    assert r.status_code == 409 and r.json()["error"] == "NO_CHANGE", r.text

    # Delisted: a version without the entry raises a review of the freeze; confirming unfreezes.
    delisted_sha = load(api, sdn_with(tmp_path, "sdn-delisted.csv"), "2021-08-20")
    report = rescreen(api)
    [review_id] = report["delistingReviews"]
    assert report["alertsRaised"] == []
    [review] = alerts(api, "open")
    assert (review["alertId"], review["kind"], review["reviewsAlert"]) == (
        review_id,
        "delisting",
        alert_id,
    )
    assert review["evidence"]["listSha256"] == delisted_sha
    assert rescreen(api)["delistingReviews"] == []  # one review per freeze
    answered(call(api, "POST", f"/alerts/{review_id}/confirm", {"reason": "delisted by OFAC"}))
    assert accounts(api, listed["customerId"])[0]["frozen"] is False
    r = order(listed_bot)
    assert r.status_code == 200, r.text


def test_dismissed_alert_returns_only_when_the_entry_changes(api: Api, tmp_path: Path) -> None:
    load(api, SDN, "2021-08-18")
    made = onboard(api, LISTED)
    assert made["screening"]["alerts"] == []
    load(api, sdn_with(tmp_path, "v2.csv", NEW_ROW), "2021-08-19")
    [alert_id] = rescreen(api)["alertsRaised"]
    r = call(api, "POST", f"/alerts/{alert_id}/dismiss", {"reason": "different person: DOB"})
    assert answered(r)["status"] == "dismissed"
    assert [a["alertId"] for a in alerts(api, "dismissed")] == [alert_id]
    assert accounts(api, made["customerId"])[0]["frozen"] is False
    assert rescreen(api)["alertsRaised"] == []  # dismissed and unchanged

    changed = NEW_ROW.replace("nationality Germany.", "nationality Germany; Gender Male.")
    assert changed != NEW_ROW
    load(api, sdn_with(tmp_path, "v3.csv", changed), "2021-08-20")
    [again] = rescreen(api)["alertsRaised"]
    assert again != alert_id
    [reopened] = alerts(api, "open")
    [old] = alerts(api, "dismissed")
    assert reopened["evidence"]["entryId"] == old["evidence"]["entryId"] == "99001"
    assert reopened["evidence"]["entryFingerprint"] != old["evidence"]["entryFingerprint"]


def test_onboarding_a_listed_name_raises_an_alert_at_once(api: Api, tmp_path: Path) -> None:
    sha = load(api, sdn_with(tmp_path, "v2.csv", NEW_ROW), "2021-08-19")
    made = onboard(api, LISTED)
    [alert_id] = made["screening"]["alerts"]
    assert [v["sha256"] for v in made["screening"]["lists"]] == [sha]
    [alert] = alerts(api, "open")
    assert alert["alertId"] == alert_id and alert["customerId"] == made["customerId"]
    # Onboarding is not blocked: the account exists and is not frozen until a decision.
    assert accounts(api, made["customerId"])[0]["frozen"] is False
    assert onboard(api, OTHER)["screening"]["alerts"] == []


def test_onboarding_without_lists_and_rescreen_without_lists(api: Api) -> None:
    made = onboard(api, OTHER)
    assert made["screening"] == {"alerts": [], "held": False, "lists": []}
    r = call(api, "POST", "/screening/rescreen")
    assert r.status_code == 409, r.text


@pytest.mark.parametrize(
    ("path", "body", "status", "error", "words"),
    [
        ("/alerts/1/confirm", {}, 400, "REASON_REQUIRED", "reason"),
        ("/alerts/1/dismiss", {}, 400, "REASON_REQUIRED", "reason"),
        ("/alerts/1/confirm", {"reason": ""}, 400, "REASON_REQUIRED", "reason"),
        ("/alerts/999/confirm", {"reason": "x"}, 404, "ALERT_NOT_FOUND", "alert 999"),
        ("/alerts/999/dismiss", {"reason": "x"}, 404, "ALERT_NOT_FOUND", "alert 999"),
    ],
)
def test_bad_decisions(
    api: Api, tmp_path: Path, path: str, body: dict[str, Any], status: int, error: str, words: str
) -> None:
    load(api, sdn_with(tmp_path, "v2.csv", NEW_ROW), "2021-08-19")
    assert onboard(api, LISTED)["screening"]["alerts"] == [1]
    r = call(api, "POST", path, body)
    assert (r.status_code, r.json()["error"]) == (status, error), r.text
    assert words in r.json()["message"]
    assert [a["alertId"] for a in alerts(api, "open")] == [1]  # nothing decided


def test_bad_status_filter(api: Api) -> None:
    r = call(api, "GET", "/alerts", params={"status": "pending"})
    assert r.status_code == 400 and "pending" in r.json()["message"], r.text


def test_a_withdrawal_to_a_listed_address_is_blocked_once_the_list_is_in_force(
    api: Api, tmp_path: Path
) -> None:
    listed = "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"  # an XBT address in the SDN remarks
    assert f"XBT {listed}".encode() in SDN.read_bytes()
    customer = onboard(api, "Anna Schmidt")
    account = customer["accountId"]
    deposit = {"account_id": account, "asset": "BTC", "amount": "1", "reason": "wire in"}
    answered(call(api, "POST", "/deposits", deposit))

    def withdraw(to: str) -> httpx.Response:
        body = {"type": "RequestWithdrawal", "account_id": account, "asset": "BTC", "reason": "r"}
        return call(api, "POST", "/commands", {**body, "amount_raw": 1000, "destination": to})

    answered(withdraw(listed))  # no list in force yet: nothing to block on
    sha = load(api, sdn_with(tmp_path, "sdn.csv"), "2021-08-18")
    rescreen(api)  # gives the engine the version's addresses
    refused = withdraw(listed)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "SANCTIONED_DESTINATION"
    assert "ofac_sdn entry" in refused.json()["message"] and sha[:12] in refused.json()["message"]
    answered(withdraw("1BoatSLRHtKNngkdXEeobR76b53LETtpyT"))  # any other address still leaves
