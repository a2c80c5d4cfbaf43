"""The news, end to end through the admin API with four eyes on: three Russian banks are
disconnected from SWIFT while transfers are in flight through them. Each cut-off is previewed,
proposed citing the preview, approved by a second officer and applied: every pending transfer
ends returned or rerouted, the books balance in every currency, and customers of other banks
never notice. Then a card scheme leaves on a date: card deposits stop that day, and what was
pending settles: nothing is lost."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx2 as httpx
import pytest
from schwifty import IBAN

from bourse.commands import Deposit, RunDuePolicies
from bourse.compliance.staff import DEFAULT_FOUR_EYES, Role
from bourse.domain.money import to_raw
from bourse.engine.invariants import violations
from tests.api.conftest import Api
from tests.api.test_four_eyes import hire
from tests.api.test_staff import OPERATOR, bearer

DAY_MS = 86_400_000
VTB, OTKRITIE, SOVCOM = "VTBRRUMMXXX", "JSNMRUMMXXX", "SOMRRUMMXXX"
HALYK, COMMERZ = "HSBKKZKXXXX", "COBADEFFXXX"


def _ru(bank_code: str, account: str) -> str:
    return str(IBAN.generate("RU", bank_code=bank_code, branch_code="40817",
                             account_code=account).compact)  # fmt: skip


def _kz(account: str) -> str:
    return str(IBAN.generate("KZ", bank_code="601", account_code=account).compact)


def _de(account: str) -> str:
    return str(IBAN.generate("DE", bank_code="37040044", account_code=account).compact)


BANKS = {  # BIC: (name, country, served, the exchange's EUR account there)
    VTB: ("VTB Bank", "RU", ["RU", "KZ"], _ru("044525187", "978000000000001")),
    OTKRITIE: ("Bank Otkritie", "RU", ["RU"], _ru("044525297", "978000000000002")),
    SOVCOM: ("Sovcombank", "RU", ["RU"], _ru("043469743", "978000000000003")),
    HALYK: ("Halyk Bank", "KZ", ["RU", "KZ"], _kz("0000000978004")),
    COMMERZ: ("Commerzbank", "DE", ["DE"], _de("0532013000")),
}


def _call(api: Api, method: str, path: str, who: dict[str, str], body: Any = None) -> Any:
    r = api.client.request(method, f"/admin/v1{path}", json=body, headers=who)
    assert r.status_code in (200, 202), r.text
    return r.json()


def _four_eyed(api: Api, method: str, path: str, body: Any, approver: dict[str, str]) -> Any:
    """Proposed by the operator, approved by `approver`: the approval's events."""
    proposal = _call(api, method, path, OPERATOR, body)["proposal"]
    decided = _call(api, "POST", f"/proposals/{proposal['proposalId']}/approve", approver,
                    {"digest": proposal["digest"], "reason": "checked"})  # fmt: skip
    assert decided["decision"] == "approved", decided
    return decided["events"]


@pytest.fixture
def seniors(api: Api) -> tuple[dict[str, str], dict[str, str]]:
    body = {"commands": sorted(DEFAULT_FOUR_EYES), "reason": "the bank's policy"}
    _call(api, "PUT", "/four-eyes", OPERATOR, body)
    sid, sue = (bearer(hire(api, n, Role.SENIOR_COMPLIANCE_OFFICER)) for n in ("sid", "sue"))
    return sid, sue


def _customer(api: Api, name: str, country: str, *accounts: tuple[str, str]) -> int:
    """A customer with their bank accounts (IBAN, BIC), funded with 10,000 EUR: their account
    (their customer id is the account's owner, `_owner`)."""
    made = _call(api, "POST", "/customers", OPERATOR, {"legal_name": name,
                 "date_of_birth": "1980-03-14", "nationality": country, "residence": country,
                 "reason": "KYC approved"})  # fmt: skip
    for iban, bic in accounts:
        added = _call(api, "POST", f"/customers/{made['customerId']}/bank-accounts", OPERATOR,
                      {"iban": iban, "bic": bic, "holder": name, "reason": "KYC"})  # fmt: skip
        assert added["status"] == "VERIFIED"
    account = int(made["accountId"])
    seed = Deposit(actor="test", ts_ms=api.service.clock(), account_id=account, asset="EUR",
                   amount_raw=to_raw("10000", 8), tx_ref="seed")  # fmt: skip
    funded = api.execute(seed)
    assert not funded.refused
    return account


def _owner(api: Api, account: int) -> int:
    return api.service.view.accounts[account].customer_id


def _withdraw(api: Api, account: int, amount: str, iban: str, payee: str) -> int:
    body = {"account_id": account, "asset": "EUR", "amount": amount, "destination": iban,
            "beneficiary": payee, "reason": "customer's request"}  # fmt: skip
    return int(_call(api, "POST", "/withdrawals", OPERATOR, body)["withdrawalId"])


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pay_out(api: Api, bank: str) -> list[int]:
    body = {"bank": bank, "currency": "EUR", "execution_date": "2022-03-11", "reason": "payouts"}
    return [
        p["withdrawalId"] for p in _call(api, "POST", "/payment-files", OPERATOR, body)["payouts"]
    ]


def _eur(api: Api, account: int) -> tuple[Decimal, Decimal]:
    balances = _call(api, "GET", f"/accounts/{account}", OPERATOR)["balances"]
    eur = next((b for b in balances if b["asset"] == "EUR"), {"free": "0", "locked": "0"})
    return Decimal(eur["free"]), Decimal(eur["locked"])


def test_three_russian_banks_leave_swift_then_a_card_scheme_leaves(
    api: Api, seniors: tuple[dict[str, str], dict[str, str]]
) -> None:
    sid, sue = seniors
    for bic, (name, country, served, ours) in BANKS.items():
        _four_eyed(api, "PUT", f"/banks/{bic}", {"name": name, "country": country,
                   "currencies": ["EUR"], "serves": served, "accounts": {"EUR": ours},
                   "reason": "correspondent agreement"}, sid)  # fmt: skip
    ivan_iban, olga_iban = _ru("044525187", "810099910004312"), _ru("044525297", "810099910007777")
    pyotr_iban, masha_iban = _ru("043469743", "810099910005555"), _kz("0099910006666")
    anna_iban = str(IBAN.generate("DE", bank_code="10070000", account_code="0012345678").compact)
    ivan = _customer(api, "Ivan Petrov", "RU", (ivan_iban, VTB))
    olga = _customer(
        api, "Olga Smirnova", "RU", (olga_iban, OTKRITIE), (_kz("0099910008888"), HALYK)
    )
    pyotr = _customer(api, "Pyotr Ivanov", "RU", (pyotr_iban, SOVCOM))
    masha = _customer(api, "Maria Sokolova", "KZ", (masha_iban, HALYK))
    anna = _customer(api, "Anna Schmidt", "DE", (anna_iban, "DEUTDEBBXXX"))

    # transfers in flight through the three banks, and one through Commerzbank
    ivan_out = _withdraw(api, ivan, "500", ivan_iban, "Ivan Petrov")
    masha_out = _withdraw(api, masha, "400", masha_iban, "Maria Sokolova")
    assert _pay_out(api, VTB) == [ivan_out, masha_out]
    olga_out = _withdraw(api, olga, "700", olga_iban, "Olga Smirnova")
    assert _pay_out(api, OTKRITIE) == [olga_out]
    anna_out = _withdraw(api, anna, "100", anna_iban, "Anna Schmidt")
    assert _pay_out(api, COMMERZ) == [anna_out]
    pyotr_out = _withdraw(api, pyotr, "300", pyotr_iban, "Pyotr Ivanov")  # in no file yet
    anna_before = _eur(api, anna)

    # all three previewed, then each proposed citing its preview and approved by a second person
    ask = {"cause": "SWIFT_DISCONNECTED", "outgoing": "REROUTE"}
    previews = {b: _call(api, "POST", f"/banks/{b}/cut-off/preview", sid, ask)
                for b in (VTB, OTKRITIE, SOVCOM)}  # fmt: skip
    assert previews[VTB]["byCurrency"] == {"EUR": {"RETURNED": "500.00000000",
                                                   "REROUTED": "400.00000000"}}  # fmt: skip
    assert (previews[VTB]["customers"], previews[VTB]["onlyRail"]) == (1, 1)
    assert previews[OTKRITIE]["onlyRail"] == 0  # Olga banks at Halyk too
    for bic, preview in previews.items():
        body = {**preview["apply"], "reason": "EU Regulation 2022/345: disconnected from SWIFT"}
        _four_eyed(api, "POST", f"/banks/{bic}/cut-off", body, sue)
        # a trader of another bank keeps trading meanwhile
        placed = api.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                            timeInForce="GTC", quantity="0.001", price="20000")  # fmt: skip
        assert placed.status_code == 200, placed.text
    reports = {c["bank"]: {t["id"]: t["fate"] for t in c["report"]}
               for c in _call(api, "GET", "/cut-offs", sid)}  # fmt: skip
    assert reports == {
        VTB: {ivan_out: "RETURNED", masha_out: "REROUTED"},
        OTKRITIE: {olga_out: "RETURNED"},
        SOVCOM: {pyotr_out: "RETURNED"},
    }
    for account in (ivan, olga, pyotr):
        assert _eur(api, account) == (Decimal(10000), Decimal(0))  # every amount back
    assert _eur(api, masha) == (Decimal(9600), Decimal(400))  # still on its way, via Halyk
    assert _eur(api, anna) == anna_before  # a customer of another bank notices nothing
    assert _pay_out(api, HALYK) == [masha_out]
    files = {f["bank"]: f for f in _call(api, "GET", "/payment-files", sid)}
    assert [p["status"] for p in files[VTB]["payouts"]] == ["RETURNED", "REROUTED"]
    assert files[COMMERZ]["payouts"][0]["status"] == "SENT"
    assert violations(api.exchange.engine.state) == []  # conservation, in every currency
    refused = api.client.post("/admin/v1/payment-files", headers=OPERATOR, json={
        "bank": VTB, "currency": "EUR", "execution_date": "2022-03-14", "reason": "x"})  # fmt: skip
    assert (refused.status_code, refused.json()["error"]) == (409, "BANK_CUT_OFF")

    # a card scheme leaves on a date
    scheme = {"name": "Mastercard", "kind": "CARD_SCHEME", "currencies": ["EUR"],
              "serves": ["DE", "KZ"], "reason": "acquiring agreement"}  # fmt: skip
    _four_eyed(api, "PUT", "/partners/MASTERCARD", scheme, sid)
    cards = {}
    for account, name in ((anna, "Anna Schmidt"), (masha, "Maria Sokolova")):
        customer = _owner(api, account)
        saved = _call(api, "POST", f"/customers/{customer}/cards", OPERATOR, {
            "partner": "MASTERCARD", "token": f"tok_{account:08d}", "last4": "4444",
            "expiry": "12/39", "holder": name, "reason": "card added"})  # fmt: skip
        cards[account] = saved["id"]

    def pay(account: int, amount: str, ref: str) -> httpx.Response:
        body = {"card_id": cards[account], "currency": "EUR", "amount": amount,
                "partner_ref": ref, "reason": "acquirer notification"}  # fmt: skip
        return api.client.post("/admin/v1/partners/MASTERCARD/deposits", headers=OPERATOR,
                               json=body)  # fmt: skip

    pending = [pay(anna, "50", "p-1").json()["id"], pay(masha, "70", "p-2").json()["id"]]
    the_day = api.service.clock() + DAY_MS
    preview = _call(api, "POST", "/partners/MASTERCARD/end/preview", sid,
                    {"effective": _iso(the_day)})  # fmt: skip
    assert (preview["customers"], preview["byCurrency"]) == (2, {"EUR": "120.00000000"})
    _four_eyed(api, "POST", "/partners/MASTERCARD/end",
               {**preview["apply"], "reason": "the scheme ends its relationship"}, sue)  # fmt: skip
    late_day_before = pay(anna, "5", "p-3")  # still taken: the end is tomorrow
    assert late_day_before.status_code == 200, late_day_before.text
    pending.append(late_day_before.json()["id"])
    real_clock = api.service.clock
    api.service.clock = lambda: real_clock() + DAY_MS  # type: ignore[method-assign]
    stopped = pay(masha, "9", "p-4")  # the day has come: refused, even before the driver runs
    assert (stopped.status_code, stopped.json()["error"]) == (409, "PARTNER_ENDED"), stopped.text
    assert not api.execute(RunDuePolicies(actor="system:policy-driver",
                                          ts_ms=api.service.clock())).refused  # fmt: skip
    [end] = _call(api, "GET", "/partner-ends", sid)
    assert end["status"] == "APPLIED" and [d["id"] for d in end["pending"]] == pending
    for deposit_id in pending:  # the scheme's last settlement report; each credits: four eyes
        _four_eyed(api, "POST", f"/card-deposits/{deposit_id}/settlement",
                   {"settled": True, "reason": "settlement report"}, sid)  # fmt: skip
    assert _eur(api, anna)[0] == anna_before[0] + 55
    assert _call(api, "GET", "/card-deposits?status=PENDING", OPERATOR) == []
    assert violations(api.exchange.engine.state) == []
