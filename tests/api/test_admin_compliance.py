"""The compliance admin API end to end: onboarding, previews that must match their apply,
schedules, reversals, an exit window that closes, its closure report and the payouts after it."""

import time
from typing import Any

import httpx2 as httpx
import pytest

from bourse.compliance.policy import Access, Capability, HoldingsAbove, PolicySpec, Rule
from bourse.workers.policy_driver import PolicyDriver
from tests.api.conftest import Api

OPERATOR = {"Authorization": "Bearer operator-token"}
HOUR_MS = 3_600_000


def call(api: Api, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
    return api.client.request(method, f"/admin/v1{path}", json=body, headers=OPERATOR, **kw)


def onboard(api: Api, residence: str = "RU", **fields: Any) -> dict[str, Any]:
    body = {
        "legal_name": f"Customer of {residence}",
        "date_of_birth": "1985-06-30",
        "nationality": residence,
        "residence": residence,
        "reason": "KYC approved",
        **fields,
    }
    r = call(api, "POST", "/customers", body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def deposit(api: Api, account_id: int, asset: str, amount: str) -> None:
    body = {"account_id": account_id, "asset": asset, "amount": amount, "reason": "wire in"}
    r = call(api, "POST", "/deposits", body)
    assert r.status_code == 200, r.text


def rule(capability: str, access: str, **extra: Any) -> dict[str, Any]:
    return {"capability": capability, "access": access, **extra}


def preview(api: Api, country: str = "RU", *rules: dict[str, Any], **extra: Any) -> Any:
    body = {"name": f"{country} pause", "country": country, "rules": list(rules), **extra}
    r = call(api, "POST", "/policies/preview", body)
    assert r.status_code == 200, r.text
    return r.json()


def apply(api: Api, shown: Any, reason: str = "regulator's instruction") -> httpx.Response:
    return call(api, "POST", "/policies/apply", {**shown["apply"], "reason": reason})


def in_force(api: Api) -> list[dict[str, Any]]:
    r = call(api, "GET", "/policies")
    assert r.status_code == 200, r.text
    return list(r.json()["inForce"])


def refused(r: httpx.Response, reject: str) -> str:
    """The engine's sentence for a refusal: 400 (bad input) or 409, naming its reject code."""
    assert r.status_code in (400, 409), r.text
    assert r.json()["error"] == reject, r.text
    return str(r.json()["message"])


def test_onboarding_routes_to_a_venue_and_lists_the_customer(api: Api) -> None:
    made = onboard(api, "KZ", legal_name="Aigerim Bekova")
    assert made["venue"] == "KZ" and made["residence"] == "KZ"
    assert onboard(api, "DE")["venue"] == "GLOBAL"
    deposit(api, made["accountId"], "USDT", "125.5")
    r = call(api, "GET", f"/customers/{made['customerId']}")
    assert r.status_code == 200, r.text
    record = r.json()
    assert record["legalName"] == "Aigerim Bekova"
    [account] = record["accounts"]
    assert account["accountId"] == made["accountId"]
    assert {"asset": "USDT", "free": "125.50000000", "locked": "0.00000000"} in account["balances"]
    listed = call(api, "GET", "/customers", params={"residence": "KZ"}).json()["customers"]
    assert made["customerId"] in [c["customerId"] for c in listed]
    assert all(c["residence"] == "KZ" for c in listed)
    assert call(api, "GET", "/customers/999999").status_code == 404


def test_second_account_and_kyc_change(api: Api) -> None:
    made = onboard(api, "DE")
    r = call(api, "POST", f"/customers/{made['customerId']}/accounts", {"reason": "savings"})
    assert r.status_code == 200, r.text
    second = r.json()["accountId"]
    r = call(api, "PATCH", f"/customers/{made['customerId']}", {"residence": "KZ", "reason": "m"})
    assert r.status_code == 200, r.text
    assert r.json()["venue"] == "KZ"
    record = call(api, "GET", f"/customers/{made['customerId']}").json()
    assert [a["accountId"] for a in record["accounts"]] == [made["accountId"], second]
    same = call(
        api, "PATCH", f"/customers/{made['customerId']}", {"residence": "KZ", "reason": "m"}
    )
    refused(same, "NO_CHANGE")


BAD_INPUT = [
    ("POST", "/customers", {"legal_name": "X", "date_of_birth": "1990-01-01"}, "nationality"),
    (
        "POST",
        "/customers",
        {"legal_name": "X", "date_of_birth": "1990-01-01", "nationality": "RU", "residence": "RU"},
        "reason",
    ),
    ("POST", "/policies/preview", {"name": "x", "country": "XX", "rules": []}, "'XX'"),
    ("POST", "/policies/preview", {"name": "x", "country": "RU", "basis": "CITY"}, "basis"),
    (
        "POST",
        "/policies/preview",
        {"name": "x", "country": "RU", "rules": [rule("SWIMMING", "OPEN")]},
        "rules[0].capability",
    ),
    (
        "POST",
        "/policies/preview",
        {"name": "x", "country": "RU", "rules": [rule("TRADING", "MAYBE")]},
        "rules[0].access",
    ),
    (
        "POST",
        "/policies/preview",
        {
            "name": "x",
            "country": "RU",
            "rules": [
                rule("TRADING", "SUSPENDED", condition={"asset": "USDT", "limit": "1.123456789"})
            ],
        },
        "rules[0].condition.limit",
    ),
    (
        "POST",
        "/policies/preview",
        {
            "name": "x",
            "country": "RU",
            "rules": [rule("TRADING", "SUSPENDED", condition={"asset": "DOGE", "limit": "1"})],
        },
        "DOGE",
    ),
    (
        "POST",
        "/policies/preview",
        {
            "name": "x",
            "country": "RU",
            "rules": [rule("CRYPTO_WITHDRAWAL", "WITHDRAW_ONLY")],
            "deadline": "2001-01-01",
        },
        "deadline in the future",
    ),
    (
        "POST",
        "/policies/preview",
        {"name": "x", "country": "RU", "deadline": "next tuesday"},
        "ISO 8601",
    ),
    ("POST", "/policies/apply", {"spec": {"name": "x", "country": "RU"}}, "preview_id"),
]


@pytest.mark.parametrize(("method", "path", "body", "named"), BAD_INPUT)
def test_bad_input_is_a_400_naming_what_is_wrong(
    api: Api, method: str, path: str, body: Any, named: str
) -> None:
    r = call(api, method, path, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == ("REASON_REQUIRED" if named == "reason" else "BAD_REQUEST")
    assert named in r.json()["message"], r.text


def test_a_blank_reason_is_refused_before_the_engine(api: Api) -> None:
    body = {
        "legal_name": "X",
        "date_of_birth": "1990-01-01",
        "nationality": "RU",
        "residence": "RU",
        "reason": " ",
    }
    refused(call(api, "POST", "/customers", body), "REASON_REQUIRED")
    r = call(api, "DELETE", "/policies/schedule/1")  # no reason given at all
    assert r.status_code == 400 and r.json()["error"] == "REASON_REQUIRED", r.text


def test_onboarding_refusals_name_the_reason(api: Api) -> None:
    msg = refused(
        call(
            api,
            "POST",
            "/customers",
            {
                "legal_name": "X",
                "date_of_birth": "1990-01-01",
                "nationality": "RU",
                "residence": "XX",
                "reason": "r",
            },
        ),
        "INVALID_PARAMETER",
    )
    assert "'XX'" in msg
    shown = preview(api, "IR", rule("ONBOARDING", "SUSPENDED"))
    assert apply(api, shown).status_code == 200
    msg = refused(
        call(
            api,
            "POST",
            "/customers",
            {
                "legal_name": "X",
                "date_of_birth": "1990-01-01",
                "nationality": "DE",
                "residence": "IR",
                "reason": "r",
            },
        ),
        "JURISDICTION_POLICY",
    )
    assert "IR pause" in msg


def test_preview_then_apply_then_list(api: Api) -> None:
    first, second = onboard(api), onboard(api)
    deposit(api, first["accountId"], "USDT", "1000")
    deposit(api, second["accountId"], "BTC", "0.5")
    onboard(api, "DE")  # not named
    rules = (
        rule("TRADING", "SUSPENDED"),
        rule("CRYPTO_DEPOSIT", "SUSPENDED", condition={"asset": "USDT", "limit": "500"}),
    )
    shown = preview(api, "RU", *rules)  # the demo's first trades price BTC in USDT
    impact = shown["impact"]
    assert (impact["customers"], impact["accounts"]) == (2, 2)
    assert impact["balances"] == {"BTC": "0.50000000", "USDT": "1000.00000000"}
    assert impact["aboveCondition"] == 2  # 1000 USDT, and 0.5 BTC at the last BTCUSDT price
    assert (impact["unpricedAssets"], impact["unpricedAccounts"]) == ([], {})
    assert (shown["applicable"], shown["warnings"]) == (True, [])
    assert [s["customerId"] for s in impact["sample"]] == [
        first["customerId"],
        second["customerId"],
    ]
    assert shown["current"] is None
    assert shown["apply"]["spec"]["rules"][1]["condition"] == {
        "asset": "USDT",
        "limit_raw": 500 * 10**8,
    }
    r = apply(api, shown)
    assert r.status_code == 200, r.text
    assert r.json()["affected"]["customers"] == 2
    [policy] = in_force(api)
    assert policy["changeId"] == r.json()["changeId"]
    assert (policy["country"], policy["basis"], policy["actor"]) == ("RU", "RESIDENCE", "operator")
    assert policy["reason"] == "regulator's instruction" and policy["hasPrevious"] is False
    again = preview(api, "RU", rule("TRADING", "SUSPENDED"))
    assert again["current"] == policy["spec"]


def command(api: Api, body: dict[str, Any]) -> None:
    r = call(api, "POST", "/commands", body)
    assert r.status_code == 200, r.text


EUR_CONDITION = {"asset": "EUR", "limit": "10000"}


def test_an_asset_nothing_prices_is_reported_and_blocks_the_apply_until_priced(api: Api) -> None:
    command(api, {"type": "CreateAsset", "asset": "SOL", "precision": 8, "reason": "listing"})
    holder, other = onboard(api), onboard(api)
    deposit(api, holder["accountId"], "SOL", "100")
    deposit(api, other["accountId"], "USDT", "20000")  # priced: BTCUSDT and BTCEUR traded
    rules = (rule("CRYPTO_DEPOSIT", "SUSPENDED", condition=EUR_CONDITION),)
    shown = preview(api, "RU", *rules)
    impact = shown["impact"]
    assert impact["unpricedAssets"] == ["SOL"] and impact["unpricedAccounts"] == {"SOL": 1}
    assert impact["aboveCondition"] == 1  # 20,000 USDT is above 10,000 EUR
    assert shown["applicable"] is False
    [warning] = shown["warnings"]
    assert "no trade or reference price values SOL in EUR, held by 1 named account" in warning
    msg = refused(apply(api, shown), "UNPRICED_HOLDINGS")
    assert "SOL (held by 1 named account)" in msg and "reference price" in msg
    at = "2030-01-31T00:00:00Z"
    r = call(api, "POST", "/policies/schedule", {**shown["apply"], "reason": "r", "effective": at})
    refused(r, "UNPRICED_HOLDINGS")
    assert in_force(api) == []

    bad = call(api, "PUT", "/reference-prices/SOL/EUR", {"price": "1.123456789", "reason": "r"})
    assert bad.status_code == 400 and "price" in bad.json()["message"]
    refused(
        call(api, "PUT", "/reference-prices/SOL/EUR", {"price": "0", "reason": "r"}),
        "INVALID_PARAMETER",
    )
    r = call(api, "PUT", "/reference-prices/SOL/EUR", {"price": "150", "reason": "desk quote"})
    assert r.status_code == 200, r.text
    assert r.json()["price"] == "150.00000000" and r.json()["previous"] is None
    assert r.json()["tradedPrice"] is False
    listed = call(api, "GET", "/reference-prices").json()
    [shown_price] = listed
    assert shown_price == {
        "asset": "SOL",
        "quote": "EUR",
        "price": "150.00000000",
        "tradedPrice": False,
        "setMs": shown_price["setMs"],
        "actor": "operator",
        "reason": "desk quote",
    }
    assert shown_price["setMs"] > 0
    again = preview(api, "RU", *rules)
    assert again["impact"]["unpricedAssets"] == [] and again["applicable"] is True
    assert again["impact"]["aboveCondition"] == 2  # 100 SOL at 150 EUR: 15,000 EUR
    assert apply(api, shown).status_code == 200  # the people it names are the same
    sol = {"account_id": holder["accountId"], "asset": "SOL", "amount": "1", "reason": "wire"}
    r = call(api, "POST", "/deposits", sol)
    assert r.status_code == 409 and r.json()["error"] == "JURISDICTION_POLICY", r.text
    assert "holding more than 10000 EUR" in r.json()["message"]


def test_an_asset_excluded_with_a_reason_lets_the_change_apply(api: Api) -> None:
    command(api, {"type": "CreateAsset", "asset": "SOL", "precision": 8, "reason": "listing"})
    deposit(api, onboard(api)["accountId"], "SOL", "100")
    excluded = [{"asset": "SOL", "reason": "no market yet; counsel's memo 12"}]
    condition = {**EUR_CONDITION, "excluded": excluded}
    shown = preview(api, "RU", rule("CRYPTO_DEPOSIT", "SUSPENDED", condition=condition))
    assert shown["applicable"] is True and shown["impact"]["unpricedAssets"] == []
    sent = shown["apply"]["spec"]["rules"][0]["condition"]
    assert sent["excluded"] == excluded
    r = apply(api, shown)
    assert r.status_code == 200, r.text
    assert r.json()["spec"]["rules"][0]["condition"]["excluded"] == excluded
    [policy] = in_force(api)
    assert policy["spec"]["rules"][0]["condition"]["excluded"] == excluded
    unknown = {**EUR_CONDITION, "excluded": [{"asset": "DOGE", "reason": "r"}]}
    body = {
        "name": "x",
        "country": "RU",
        "rules": [rule("CRYPTO_DEPOSIT", "SUSPENDED", condition=unknown)],
    }
    r = call(api, "POST", "/policies/preview", body)
    assert r.status_code == 400 and "excluded[0].asset 'DOGE'" in r.json()["message"], r.text


def test_a_tampered_spec_does_not_match_its_preview(api: Api) -> None:
    onboard(api)
    shown = preview(api, "RU", rule("TRADING", "SUSPENDED"))
    shown["apply"]["spec"]["rules"][0]["access"] = "CLOSED"
    refused(apply(api, shown), "PREVIEW_MISMATCH")
    assert in_force(api) == []


def test_a_preview_goes_stale_when_the_people_it_names_change(api: Api) -> None:
    onboard(api)
    shown = preview(api, "RU", rule("TRADING", "SUSPENDED"))
    onboard(api)
    msg = refused(apply(api, shown), "PREVIEW_STALE")
    assert "1 customers" in msg and "2 with" in msg
    assert apply(api, preview(api, "RU", rule("TRADING", "SUSPENDED"))).status_code == 200


def test_schedule_and_cancel(api: Api) -> None:
    onboard(api)
    shown = preview(api, "RU", rule("TRADING", "SUSPENDED"))
    effective = api.service.clock() + HOUR_MS
    body = {**shown["apply"], "effective_ms": effective, "reason": "announced change"}
    r = call(api, "POST", "/policies/schedule", body)
    assert r.status_code == 200, r.text
    schedule_id = r.json()["scheduleId"]
    [scheduled] = call(api, "GET", "/policies").json()["scheduled"]
    assert (scheduled["scheduleId"], scheduled["effectiveMs"]) == (schedule_id, effective)
    past = {**body, "effective_ms": None, "effective": "2001-01-01T00:00:00Z"}
    refused(call(api, "POST", "/policies/schedule", past), "INVALID_PARAMETER")
    r = call(api, "DELETE", f"/policies/schedule/{schedule_id}", params={"reason": "withdrawn"})
    assert r.status_code == 200, r.text
    assert call(api, "GET", "/policies").json()["scheduled"] == []
    r = call(api, "DELETE", f"/policies/schedule/{schedule_id}", params={"reason": "again"})
    assert r.status_code == 404 and r.json()["error"] == "SCHEDULED_CHANGE_NOT_FOUND", r.text


def test_a_scheduled_change_meeting_an_unpriced_asset_when_due_does_not_apply(api: Api) -> None:
    command(api, {"type": "CreateAsset", "asset": "SOL", "precision": 8, "reason": "listing"})
    made = onboard(api)
    deposit(api, made["accountId"], "EUR", "20000")
    shown = preview(api, "RU", rule("CRYPTO_DEPOSIT", "SUSPENDED", condition=EUR_CONDITION))
    effective = api.service.clock() + HOUR_MS
    body = {**shown["apply"], "effective_ms": effective, "reason": "announced change"}
    r = call(api, "POST", "/policies/schedule", body)
    assert r.status_code == 200, r.text
    deposit(api, made["accountId"], "SOL", "5")  # held now, and nothing prices it

    real_clock = api.service.clock
    api.service.clock = lambda: real_clock() + 2 * HOUR_MS
    driver: PolicyDriver = api.client.app.state.policy_driver  # type: ignore[attr-defined]
    api.client.portal.call(driver.run_due_now)  # type: ignore[union-attr]
    waited = time.monotonic() + 10  # (the driver's own tick may have been first)
    while call(api, "GET", "/policies").json()["scheduled"]:
        assert time.monotonic() < waited, "the due change was not run"
        time.sleep(0.01)
    assert in_force(api) == []  # not applied valuing SOL at 0
    deposit(api, made["accountId"], "SOL", "1")


def test_reversal_goes_back_one_change_at_a_time(api: Api) -> None:
    onboard(api)
    suspended = preview(api, "RU", rule("TRADING", "SUSPENDED"))
    assert apply(api, suspended).status_code == 200
    closed = preview(api, "RU", rule("TRADING", "CLOSED"), rule("ONBOARDING", "CLOSED"))
    assert apply(api, closed).status_code == 200
    assert in_force(api)[0]["hasPrevious"] is True
    back = call(api, "POST", "/policies/RESIDENCE/RU/reversal/preview")
    assert back.status_code == 200, back.text
    assert back.json()["apply"]["spec"] == suspended["apply"]["spec"]
    assert back.json()["current"] == closed["apply"]["spec"]
    assert apply(api, back.json(), "reverse the closure").status_code == 200
    [policy] = in_force(api)
    assert policy["spec"] == suspended["apply"]["spec"]
    # a reversal is itself a change: reversing it goes back to the closure
    undo = call(api, "POST", "/policies/residence/RU/reversal/preview").json()
    assert undo["apply"]["spec"] == closed["apply"]["spec"]


def test_reversing_a_first_policy_restores_the_country(api: Api) -> None:
    onboard(api, "BY")
    assert apply(api, preview(api, "BY", rule("TRADING", "SUSPENDED"))).status_code == 200
    restore = call(api, "POST", "/policies/RESIDENCE/BY/reversal/preview").json()
    assert restore["apply"]["spec"]["name"] == "BY pause (restored)"
    assert restore["impact"]["customers"] == 1
    r = apply(api, restore, "lifted")
    assert r.status_code == 200 and r.json()["restored"] is True, r.text
    assert in_force(api) == []
    r = call(api, "POST", "/policies/RESIDENCE/BY/reversal/preview")
    assert r.status_code == 404 and r.json()["error"] == "POLICY_NOT_FOUND", r.text
    r = call(api, "POST", "/policies/CITY/BY/reversal/preview")
    assert r.status_code == 400 and "CITY" in r.json()["message"], r.text


def test_exit_window_closes_then_staff_pay_out_on_request(api: Api) -> None:
    made = onboard(api)
    deposit(api, made["accountId"], "USDT", "1000")
    deadline = api.service.clock() + HOUR_MS
    shown = preview(
        api,
        "RU",
        rule("TRADING", "CLOSED"),
        rule("CRYPTO_DEPOSIT", "CLOSED"),
        rule("CRYPTO_WITHDRAWAL", "WITHDRAW_ONLY"),
        deadline_ms=deadline,
    )
    assert apply(api, shown).status_code == 200
    payout = {
        "account_id": made["accountId"],
        "asset": "USDT",
        "amount": "400",
        "destination": "0x52908400098527886E0F7030069857D2E4169EE7",
        "request_ref": "ticket 1",
        "reason": "customer's letter",
    }
    msg = refused(call(api, "POST", "/withdrawals/on-request", payout), "INVALID_PARAMETER")
    assert "may withdraw USDT itself" in msg  # the window is still open to the customer

    real_clock = api.service.clock
    api.service.clock = lambda: real_clock() + 2 * HOUR_MS
    driver: PolicyDriver = api.client.app.state.policy_driver  # type: ignore[attr-defined]
    api.client.portal.call(driver.run_due_now)  # type: ignore[union-attr]
    waited = time.monotonic() + 10  # (the driver's own tick may have been first)
    while in_force(api)[0]["spec"]["deadline_ms"] != 0:
        assert time.monotonic() < waited, "the exit window did not close"
        time.sleep(0.01)

    [policy] = in_force(api)
    assert {r["access"] for r in policy["spec"]["rules"]} == {"CLOSED"}
    report = call(api, "GET", f"/closures/{policy['changeId']}").json()
    assert report["source"] == "journal" and report["namedCustomers"] == 1
    assert report["complete"] is True
    assert report["totals"] == {"USDT": "1000.00000000"}
    [row] = report["customers"]
    assert row["customerId"] == made["customerId"]
    assert row["accounts"] == [
        {
            "accountId": made["accountId"],
            "balances": [{"asset": "USDT", "free": "1000.00000000", "locked": "0.00000000"}],
        }
    ]
    assert call(api, "GET", "/closures/987654").json()["error"] == "CHANGE_NOT_FOUND"
    not_closing = call(api, "GET", "/closures/1")  # a change that closed no exit window
    assert not_closing.status_code == 404, not_closing.text
    assert not_closing.json()["error"] == "CLOSURE_NOT_FOUND"

    refused(
        call(api, "POST", "/withdrawals/on-request", {**payout, "request_ref": " "}),
        "INVALID_PARAMETER",
    )
    r = call(api, "POST", "/withdrawals/on-request", payout)
    assert r.status_code == 200, r.text
    assert (r.json()["amount"], r.json()["requestRef"]) == ("400.00000000", "ticket 1")
    record = call(api, "GET", f"/customers/{made['customerId']}").json()
    [usdt] = [b for b in record["accounts"][0]["balances"] if b["asset"] == "USDT"]
    assert (usdt["free"], usdt["locked"]) == ("600.00000000", "400.00000000")


def test_venues_can_be_defined_and_listed(api: Api) -> None:
    body = {
        "name": "Bourse Georgia",
        "jurisdictions": ["GE"],
        "symbols": ["BTCUSDT"],
        "reason": "r",
    }
    r = call(api, "PUT", "/venues/GE", body)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "code": "GE",
        "name": "Bourse Georgia",
        "jurisdictions": ["GE"],
        "symbols": ["BTCUSDT"],
        "feeTier": 0,
    }
    assert "GE" in [v["code"] for v in call(api, "GET", "/venues").json()]
    assert onboard(api, "GE")["venue"] == "GE"
    moved = {**body, "jurisdictions": ["AM"]}
    assert "fixed once defined" in refused(
        call(api, "PUT", "/venues/GE", moved), "INVALID_PARAMETER"
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "said"),
    [
        ("PUT", "/venues/ÜV", {"name": "x"}, "venue code 'ÜV' must be 1 to 12 letters A-Z"),
        ("PUT", "/venues/12", {"name": "x"}, "venue code '12' must be 1 to 12 letters A-Z"),
        ("PUT", "/venues/V2", {"name": "x\ty"}, "name holds a control character ('\\t')"),
        (
            "POST",
            "/customers",
            {
                "legal_name": "line1\nline2",
                "date_of_birth": "1985-06-30",
                "nationality": "DE",
                "residence": "DE",
            },
            "legal_name holds a control character ('\\n')",
        ),
        ("PATCH", "/customers/1", {"legal_name": "a\u0085b"}, "legal_name holds a control"),
    ],
)
def test_a_name_or_code_a_person_reads_is_one_line_of_plain_text(
    api: Api, method: str, path: str, body: dict[str, Any], said: str
) -> None:
    """Once taken: a name over two lines in every table, a venue code with an umlaut."""
    seq = api.exchange.engine.state.last_seq
    r = call(api, method, path, {**body, "reason": "r"})
    assert (r.status_code, r.json()["error"]) == (400, "BAD_REQUEST"), r.text
    assert said in r.json()["message"], r.json()
    assert api.exchange.engine.state.last_seq == seq


def test_a_preview_counted_in_slices_adds_up_to_one_count(api: Api) -> None:
    made = [onboard(api, "UA") for _ in range(5)]
    for i, m in enumerate(made):
        deposit(api, m["accountId"], "USDT", f"{i + 1}00")
    spec = PolicySpec(
        name="UA",
        country="UA",
        rules=(
            Rule(
                capability=Capability.CRYPTO_DEPOSIT,
                access=Access.SUSPENDED,
                condition=HoldingsAbove(asset="USDT", limit_raw=250 * 10**8),
            ),
        ),
    )
    portal = api.client.portal  # the engine's thread: the engine counts where it runs
    whole = portal.call(api.service.preview, spec, 2000)  # type: ignore[union-attr]
    sliced = portal.call(api.service.preview, spec, 2)  # type: ignore[union-attr]
    assert sliced == whole
    assert whole.tally.balances == {"USDT": 1500 * 10**8}
    assert whole.tally.above_condition == 3
    assert [s["customer_id"] for s in sliced.tally.sample] == [m["customerId"] for m in made]


def test_a_condition_is_shown_as_a_decimal_and_applied_as_previewed(api: Api) -> None:
    onboard(api, "RU")
    condition = {"asset": "EUR", "limit": "10000.5"}
    shown = preview(api, "RU", rule("FIAT_DEPOSIT", "SUSPENDED", condition=condition))
    sent = shown["apply"]["spec"]["rules"][0]["condition"]
    assert sent == {"asset": "EUR", "limit_raw": 1_000_050_000_000}  # what apply must cite
    applied = apply(api, shown)
    assert applied.status_code == 200, applied.text
    for spec in (applied.json()["spec"], in_force(api)[0]["spec"]):
        assert spec["rules"][0]["condition"] == {**sent, "limit": "10000.5"}
