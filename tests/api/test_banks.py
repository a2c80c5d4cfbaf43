"""Fiat in through the admin API: a partner bank, a customer's verified bank account, bank
statements in camt.053 and MT940 matched to customers, the reconciliation queue, and every bad
input refused with what is wrong and nothing credited."""

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from bourse.banking.references import deposit_reference
from tests.api.conftest import Api
from tests.api.test_screening_flow import OPERATOR, answered, call, onboard

SAMPLES = Path(__file__).parents[1] / "banking" / "samples"
BANK, OURS = "COBADEFFXXX", "DE38500400000123456700"  # the samples' bank and account
SENDER = "DE67100700000012345678"  # the customer's own account (Deutsche Bank, Berlin)
WHY = {"reason": "partner agreement"}


def _bank(api: Api) -> dict[str, Any]:
    body = {"name": "Commerzbank", "country": "DE", "currencies": ["EUR"],
            "serves": ["DE", "AT"], "accounts": {"EUR": OURS}, **WHY}  # fmt: skip
    return dict(answered(call(api, "PUT", f"/banks/{BANK}", body)))


def _import(api: Api, data: bytes, **params: str) -> httpx.Response:
    return api.client.post(
        "/admin/v1/statements",
        content=data,
        params={"reason": "daily statement", **params},
        headers={**OPERATOR, "Content-Type": "text/plain"},
    )


def _mt940(ref: str, remittance: str, amount: str = "100,00", name: str = "Anna Schmidt") -> bytes:
    """One credit on the exchange's account, balances adding up as a bank's would."""
    return (
        ":20:STMT-T1\r\n"
        f":25:{BANK}/{OURS}\r\n"
        ":28C:00001/001\r\n"
        ":60F:C261207EUR0,00\r\n"
        f":61:2612071207CR{amount}NTRFNONREF//{ref}\r\n"
        f":86:/EREF/NOTPROVIDED/ORDP//NAME/{name}/IBAN/{SENDER}/REMI/USTD//{remittance}/\r\n"
        f":62F:C261207EUR{amount}\r\n"
        "-\r\n"
    ).encode()


def _eur(api: Api, account: int) -> Decimal:
    balances = answered(call(api, "GET", f"/accounts/{account}"))["balances"]
    return sum((Decimal(b["free"]) for b in balances if b["asset"] == "EUR"), Decimal(0))


@pytest.fixture
def customer(api: Api) -> tuple[int, int]:
    _bank(api)
    made = onboard(api, "Anna Schmidt")
    customer_id, account = int(made["customerId"]), int(made["accountId"])
    added = answered(call(api, "POST", f"/customers/{customer_id}/bank-accounts",
                          {"iban": "DE67 1007 0000 0012 3456 78", "holder": "Anna Schmidt",
                           "reason": "KYC call"}))  # fmt: skip
    assert (added["status"], added["iban"], added["bic"]) == ("VERIFIED", SENDER, "DEUTDEBBXXX")
    return customer_id, account


def test_a_statement_line_with_the_customers_reference_is_credited_once(
    api: Api, customer: tuple[int, int]
) -> None:
    customer_id, account = customer
    statement = _mt940("CB261207000001", f"DEPOSIT {deposit_reference(customer_id)}")
    done = answered(_import(api, statement))
    assert (done["bank"], done["format"], done["credited"], done["queued"]) == (
        BANK, "mt940", 1, 0
    )  # fmt: skip
    assert _eur(api, account) == Decimal("100")
    again = answered(_import(api, statement))
    assert (again["credited"], again["queued"], again["alreadyBooked"]) == (0, 0, 1)
    assert _eur(api, account) == Decimal("100")


def test_the_same_movements_as_camt053_and_mt940_are_booked_once(
    api: Api, customer: tuple[int, int]
) -> None:
    camt = answered(_import(api, (SAMPLES / "camt053_v08.xml").read_bytes()))
    assert (camt["format"], camt["lines"], camt["credited"]) == ("camt.053", 7, 0)
    assert camt["queued"] == 7  # nobody's reference: every line waits for a person
    queue = answered(call(api, "GET", "/statements/queue"))
    assert len(queue) == 7 and all(item["reason"] for item in queue)
    mt940 = answered(_import(api, (SAMPLES / "statement.mt940").read_bytes()))
    assert (mt940["lines"], mt940["alreadyBooked"], mt940["queued"]) == (7, 7, 0)
    v02 = answered(_import(api, (SAMPLES / "camt053_v02.xml").read_bytes()))
    assert v02["alreadyBooked"] == 7


def test_a_person_credits_a_queued_line_to_the_account_they_found(
    api: Api, customer: tuple[int, int]
) -> None:
    _, account = customer
    done = answered(_import(api, _mt940("CB261207000009", "for my trading account")))
    [item] = done["queue"]
    assert item["reason"].startswith("it carries no deposit reference; the sending IBAN is")
    [queued] = answered(call(api, "GET", "/statements/queue"))
    assert (queued["amount"], queued["sender"], queued["senderIban"]) == (
        "100.00000000", "Anna Schmidt", SENDER
    )  # fmt: skip
    answered(call(api, "POST", f"/statements/queue/{item['id']}/resolve",
                  {"account_id": account, "reason": "customer's letter, ticket 8812"}))  # fmt: skip
    assert _eur(api, account) == Decimal("100")
    assert answered(call(api, "GET", "/statements/queue")) == []
    gone = call(api, "POST", f"/statements/queue/{item['id']}/resolve", {"reason": "again"})
    assert gone.status_code == 404 and "open statement line" in gone.json()["message"]


def test_bad_files_and_codes_are_refused_naming_what_is_wrong(
    api: Api, customer: tuple[int, int]
) -> None:
    customer_id, account = customer
    full = _mt940("CB261207000002", deposit_reference(customer_id))

    def refused(response: httpx.Response, text: str) -> None:
        assert response.status_code == 400, response.text
        assert text in response.json()["message"], response.json()

    refused(_import(api, b""), "empty")
    refused(_import(api, full[: full.index(b":62F:") - 20]), "truncated")
    refused(_import(api, (SAMPLES / "camt053_v08.xml").read_bytes()[:900]), "camt.053")
    refused(_import(api, full.replace(OURS.encode(), b"DE89370400440532013000")),
            "no account of the exchange at a partner bank")  # fmt: skip
    refused(_import(api, full, bank="NOTABIC"), "BIC 'NOTABIC' is not valid")
    refused(_import(api, _mt940("CB261207000003", "x", amount="1,123456789")), "decimals")
    refused(call(api, "PUT", "/banks/COBADEFFXX1X", {"name": "x", "country": "DE",
            "currencies": ["EUR"], "serves": ["DE"], **WHY}), "is not valid")  # fmt: skip
    bad_iban = {"iban": "DE44100700000012345679", "holder": "A", **WHY}
    refused(call(api, "POST", f"/customers/{customer_id}/bank-accounts", bad_iban),
            "IBAN 'DE44100700000012345679' is not valid")  # fmt: skip
    gbp = {"name": "x", "country": "DE", "currencies": ["GBP"], "serves": ["DE"], **WHY}
    refused(call(api, "PUT", f"/banks/{BANK}", gbp), "GBP is not a fiat asset")
    eur = {"country": "DE", "currencies": ["EUR"], "serves": ["DE"], **WHY}
    refused(call(api, "PUT", f"/banks/{BANK}", {**eur, "name": " "}), "a bank needs a name")
    refused(call(api, "PUT", f"/banks/{BANK}", {**eur, "name": "a\nb"}), "control character")
    refused(call(api, "PUT", f"/banks/{BANK}", {**eur, "name": "x", "currencies": ["EUR", "eur"]}),
            "currencies names one more than once")  # fmt: skip
    refused(call(api, "PUT", f"/banks/{BANK}", {**eur, "name": "x", "serves": ["DE", "DE"]}),
            "serves names one more than once")  # fmt: skip
    assert _eur(api, account) == Decimal("0")  # nothing of any of them was credited
    assert answered(call(api, "GET", "/statements/queue")) == []


def _mt940_debit(ref: str, e2e: str, amount: str) -> bytes:
    """The bank's statement of one payout leaving the exchange's account."""
    return (
        ":20:STMT-T2\r\n"
        f":25:{BANK}/{OURS}\r\n"
        ":28C:00002/001\r\n"
        f":60F:C261208EUR{amount}\r\n"
        f":61:2612081208DR{amount}NTRF{e2e}//{ref}\r\n"
        f":86:/EREF/{e2e}/BENM//NAME/Anna Schmidt/IBAN/{SENDER}/REMI/USTD//payout/\r\n"
        ":62F:C261208EUR0,00\r\n"
        "-\r\n"
    ).encode()


def test_a_payout_goes_out_as_pain001_and_the_statement_settles_it(
    api: Api, customer: tuple[int, int]
) -> None:
    from lxml import etree

    customer_id, account = customer
    answered(_import(api, _mt940("CB261207000010", deposit_reference(customer_id), "300,00")))
    body = {"account_id": account, "asset": "EUR", "amount": "120.5", "destination": SENDER,
            "beneficiary": "Anna Schmidt", "reason": "customer's request"}  # fmt: skip
    wid = answered(call(api, "POST", "/withdrawals", body))["withdrawalId"]
    run = {"bank": BANK, "currency": "EUR", "execution_date": "2026-12-08", "reason": "payouts"}
    made = answered(call(api, "POST", "/payment-files", run))
    [payout] = made["payouts"]
    assert (payout["withdrawalId"], payout["amount"], payout["status"]) == (
        wid, "120.50000000", "SENT"
    )  # fmt: skip
    assert made["withheld"] == [] and made["total"] == "120.50000000"
    xml = api.client.get(f"/admin/v1/payment-files/{made['id']}/pain.001", headers=OPERATOR)
    assert xml.status_code == 200 and xml.headers["content-type"] == "application/xml"
    doc = etree.fromstring(xml.content)
    text = {etree.QName(e).localname: e.text for e in doc.iter() if isinstance(e.tag, str)}
    assert (text["EndToEndId"], text["InstdAmt"], text["NbOfTxs"]) == (
        f"BRS-W-{wid}",
        "120.50",
        "1",
    )
    again = api.client.get(f"/admin/v1/payment-files/{made['id']}/pain.001", headers=OPERATOR)
    assert again.content == xml.content  # the same file, byte for byte
    assert _eur(api, account) == Decimal("179.5")
    settled = answered(_import(api, _mt940_debit("CB261208000001", f"BRS-W-{wid}", "120,50")))
    assert (settled["payouts"], settled["queued"]) == (1, 0)
    [listed] = answered(call(api, "GET", "/payment-files"))
    assert listed["payouts"][0]["status"] == "SETTLED"
    missing = api.client.get("/admin/v1/payment-files/99/pain.001", headers=OPERATOR)
    assert missing.status_code == 404


def test_a_bank_cut_off_is_previewed_applied_and_reported(
    api: Api, customer: tuple[int, int]
) -> None:
    customer_id, account = customer
    answered(_import(api, _mt940("CB261207000020", deposit_reference(customer_id), "300,00")))
    body = {"account_id": account, "asset": "EUR", "amount": "100", "destination": SENDER,
            "beneficiary": "Anna Schmidt", "reason": "customer's request"}  # fmt: skip
    wid = answered(call(api, "POST", "/withdrawals", body))["withdrawalId"]
    ask = {"cause": "RELATIONSHIP_ENDED", "outgoing": "REROUTE"}
    early = answered(call(api, "POST", f"/banks/{BANK}/cut-off/preview", ask))
    assert early["transfers"] == [] and early["customers"] == 0  # Anna banks elsewhere
    run = {"bank": BANK, "currency": "EUR", "execution_date": "2026-12-08", "reason": "payouts"}
    answered(call(api, "POST", "/payment-files", run))  # now a payout is in Commerzbank's hands
    stale = call(api, "POST", f"/banks/{BANK}/cut-off", {**early["apply"], **WHY})
    assert stale.status_code == 409 and stale.json()["error"] == "PREVIEW_STALE", stale.text
    preview = answered(call(api, "POST", f"/banks/{BANK}/cut-off/preview", ask))
    [transfer] = preview["transfers"]
    assert (transfer["kind"], transfer["id"], transfer["amount"], transfer["fate"]) == (
        "PAYOUT", wid, "100.00000000", "RETURNED"
    )  # fmt: skip
    assert "no other partner bank can pay it" in transfer["detail"]
    assert preview["byCurrency"] == {"EUR": {"RETURNED": "100.00000000"}}
    done = answered(call(api, "POST", f"/banks/{BANK}/cut-off", {**preview["apply"], **WHY}))
    assert (done["status"], done["cause"], done["report"][0]["fate"]) == (
        "APPLIED", "RELATIONSHIP_ENDED", "RETURNED"
    )  # fmt: skip
    assert _eur(api, account) == Decimal("300")  # the payout's amount is the customer's again
    [listed] = answered(call(api, "GET", "/cut-offs"))
    assert listed["report"] == done["report"]
    [bank] = answered(call(api, "GET", "/banks"))
    assert (bank["status"], bank["cutOffId"]) == ("CUT_OFF", done["id"])
    refused = call(api, "POST", "/payment-files", run)
    assert (refused.status_code, refused.json()["error"]) == (409, "BANK_CUT_OFF")
    assert "Commerzbank (COBADEFFXXX) is cut off" in refused.json()["message"]
    again = call(api, "POST", f"/banks/{BANK}/cut-off/preview", ask)
    assert again.status_code == 400 and "is cut off already" in again.json()["message"]


def test_bad_cut_off_requests_are_refused_naming_what_is_wrong(
    api: Api, customer: tuple[int, int]
) -> None:
    def refused(response: httpx.Response, text: str) -> None:
        assert response.status_code == 400, response.text
        assert text in response.json()["message"], response.json()

    ask = {"cause": "SANCTIONED"}
    refused(call(api, "POST", "/banks/DEUTDEFFXXX/cut-off/preview", ask), "not a partner bank")
    refused(call(api, "POST", "/banks/NOTABIC/cut-off/preview", ask), "BIC 'NOTABIC'")
    refused(call(api, "POST", f"/banks/{BANK}/cut-off/preview", {"cause": "BORED"}), "cause")
    refused(call(api, "POST", f"/banks/{BANK}/cut-off/preview", {**ask, "effective": "soon"}),
            "effective 'soon' is not an ISO 8601")  # fmt: skip
    refused(call(api, "POST", f"/banks/{BANK}/cut-off/preview",
                 {**ask, "effective": "2020-01-01"}), "has passed")  # fmt: skip
    preview = answered(call(api, "POST", f"/banks/{BANK}/cut-off/preview", ask))
    other = {**preview["apply"], "spec": {**preview["apply"]["spec"], "outgoing": "REROUTE"}}
    mismatch = call(api, "POST", f"/banks/{BANK}/cut-off", {**other, **WHY})
    assert mismatch.json()["error"] == "PREVIEW_MISMATCH", mismatch.text
    wrong_path = call(api, "POST", "/banks/DEUTDEFFXXX/cut-off", {**preview["apply"], **WHY})
    refused(wrong_path, "the path names")
    [bank] = answered(call(api, "GET", "/banks"))
    assert bank["status"] == "ACTIVE"


def test_a_regional_manager_reads_the_rails_of_their_scope_only(
    api: Api, customer: tuple[int, int]
) -> None:
    from bourse.compliance.staff import Role
    from tests.api.test_four_eyes import hire
    from tests.api.test_staff import bearer

    customer_id, account = customer  # resident in DE
    answered(_import(api, _mt940("CB261207000030", "no reference here", "10,00")))
    answered(_import(api, _mt940("CB261207000031", deposit_reference(customer_id), "300,00")))
    body = {"account_id": account, "asset": "EUR", "amount": "100", "destination": SENDER,
            "beneficiary": "Anna Schmidt", "reason": "customer's request"}  # fmt: skip
    answered(call(api, "POST", "/withdrawals", body))
    run = {"bank": BANK, "currency": "EUR", "execution_date": "2026-12-08", "reason": "payouts"}
    made = answered(call(api, "POST", "/payment-files", run))
    ask = {"cause": "SANCTIONED"}
    preview = answered(call(api, "POST", f"/banks/{BANK}/cut-off/preview", ask))
    answered(call(api, "POST", f"/banks/{BANK}/cut-off", {**preview["apply"], **WHY}))
    for countries, sees in ((["AT"], False), (["DE"], True)):
        name = f"rita{countries[0].lower()}"
        who = bearer(hire(api, name, Role.REGIONAL_MANAGER, countries=countries))

        def read(path: str) -> Any:
            r = api.client.get(f"/admin/v1{path}", headers=who)  # noqa: B023
            assert r.status_code == 200, r.text
            return r.json()

        assert bool(read("/bank-accounts")) is sees
        # the line without a reference came from Anna's IBAN: hers, so in DE's scope
        assert len(read("/statements/queue")) == (1 if sees else 0)
        assert bool(read("/payment-files")) is sees
        [cut] = read("/cut-offs")
        # her returned payout is in DE's scope; a queued line names no account: in no one's
        assert (len(cut["report"]), cut["outsideScope"]) == ((1, 1) if sees else (0, 2))
        xml = api.client.get(f"/admin/v1/payment-files/{made['id']}/pain.001", headers=who)
        assert xml.status_code == (200 if sees else 403), xml.text


def test_a_bank_is_suspended_for_now_and_resumed(api: Api, customer: tuple[int, int]) -> None:
    down = {"suspended": True, "reason": "the bank's system is down"}
    suspended = answered(call(api, "PUT", f"/banks/{BANK}/suspension", down))
    assert suspended["status"] == "SUSPENDED"
    run = {"bank": BANK, "currency": "EUR", "execution_date": "2026-12-08", "reason": "payouts"}
    refused = call(api, "POST", "/payment-files", run)
    assert (refused.status_code, refused.json()["error"]) == (409, "BANK_SUSPENDED")
    resumed = answered(call(api, "PUT", f"/banks/{BANK}/suspension",
                            {"suspended": False, "reason": "back up"}))  # fmt: skip
    assert resumed["status"] == "ACTIVE"
    bad = call(api, "PUT", f"/banks/{BANK}/suspension", {"suspended": "maybe", "reason": "x"})
    assert bad.status_code == 400, bad.text
