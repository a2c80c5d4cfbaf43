"""`bourse staff|customers|venues|policy|withdraw-on-request` against a real `bourse run`."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bourse.bench.screening_bench import DATA
from tests.net import http
from tests.server.server import Server, cli, module_server, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from module_server(tmp_path_factory)


def cli_json(server: Server, *args: str) -> Any:
    return json.loads(cli(server, *args, "--json"))


def refused(server: Server, *args: str, code: int = 1) -> str:
    """The one-line error a refused command prints."""
    done = run_cli(*args, "--data-dir", str(server.data_dir))
    assert done.returncode == code, (done.stdout, done.stderr)
    assert done.stderr.startswith("error: ")
    return " ".join(done.stderr.split())  # Rich wraps long lines


def onboard(server: Server, name: str, country: str, *extra: str) -> Any:
    return cli_json(
        server, "customers", "onboard", "--name", name, "--born", "1985-03-02",
        "--nationality", country, "--residence", country, "--reason", "KYC file checked", *extra,
    )  # fmt: skip


def in_force(server: Server, country: str, *token: str) -> list[Any]:
    policies: list[Any] = cli_json(server, "policy", "show", country, *token)["inForce"]
    return policies


def test_staff_act_as_their_role_allows_until_offboarded(server: Server, tmp_path: Path) -> None:
    added = cli_json(
        server, "staff", "add", "alice", "--role", "compliance_officer", "--reason", "hired"
    )
    assert added["name"] == "alice" and len(added["token"]) >= 40
    [alice] = [m for m in cli_json(server, "staff", "list") if m["name"] == "alice"]
    assert (
        alice["role"] == "compliance_officer" and alice["tokens"][0]["tokenId"] == added["tokenId"]
    )
    assert "exists" in refused(
        server, "staff", "add", "alice", "--role", "support", "--reason", "again"
    )
    assert "must be 1 to 32" in refused(
        server, "staff", "add", "Alice Smith", "--role", "support", "--reason", "x"
    )
    assert "acts within a scope" in refused(
        server, "staff", "add", "rm", "--role", "regional_manager", "--reason", "x"
    )

    as_alice = ("--token", added["token"])
    saved = tmp_path / "pt.json"
    cli(server, "policy", "preview", "PT", "--trading", "suspended", "--save", str(saved))
    cli(server, "policy", "apply", str(saved), "--reason", "ticket 7", *as_alice)
    [policy] = in_force(server, "PT", *as_alice)
    assert (policy["actor"], policy["reason"]) == ("staff:alice", "ticket 7")
    # her role reads no staff and manages none
    assert "does not read staff" in refused(server, "staff", "list", *as_alice)

    cli(server, "staff", "offboard", "alice", "--reason", "left the company")
    [alice] = [m for m in cli_json(server, "staff", "list") if m["name"] == "alice"]
    assert alice["active"] is False and alice["tokens"] == []
    gone = refused(server, "policy", "show", *as_alice)
    assert "unexpired staff token" in gone
    assert "has left" in refused(server, "staff", "offboard", "alice", "--reason", "again")
    roles = run_cli("staff", "roles")  # the table itself: no server needed
    assert roles.returncode == 0 and "regional_manager" in roles.stdout


def test_onboard_show_update_and_list_customers(server: Server) -> None:
    made = onboard(server, "Aigerim Bekova", "KZ", "--kyc-level", "2", "--risk-tier", "medium")
    assert made["venue"] == "KZ" and made["kycLevel"] == 2 and made["riskTier"] == "MEDIUM"
    cid = made["customerId"]
    shown = cli_json(server, "customers", "show", str(cid))
    assert [a["accountId"] for a in shown["accounts"]] == [made["accountId"]]
    assert "Aigerim Bekova" in cli(server, "customers", "show", str(cid))

    opened = cli_json(server, "customers", "open-account", str(cid), "--reason", "savings")
    moved = cli_json(
        server, "customers", "update", str(cid), "--residence", "de", "--reason", "moved"
    )
    assert moved["residence"] == "DE" and moved["venue"] != "KZ"
    listed = cli_json(server, "customers", "list", "--residence", "DE")["customers"]
    mine = next(c for c in listed if c["customerId"] == cid)
    assert mine["accounts"] == [made["accountId"], opened["accountId"]]
    assert cid not in [
        c["customerId"]
        for c in cli_json(server, "customers", "list", "--residence", "KZ")["customers"]
    ]
    assert "nothing to change" in refused(
        server, "customers", "update", str(cid), "--reason", "x", code=2
    )
    assert "is not a date" in refused(
        server, "customers", "onboard", "--name", "X", "--born", "1990-02-30",
        "--nationality", "DE", "--residence", "DE", "--reason", "r",
    )  # fmt: skip


def test_venues_define_and_list(server: Server) -> None:
    cli(
        server, "venues", "define", "UZ", "--name", "bourse Uzbekistan", "--jurisdiction", "uz",
        "--symbol", "BTCUSDT", "--fee-tier", "0", "--reason", "licence granted",
    )  # fmt: skip
    venues = {v["code"]: v for v in cli_json(server, "venues", "list")}
    assert venues["UZ"]["jurisdictions"] == ["UZ"] and venues["UZ"]["symbols"] == ["BTCUSDT"]
    assert onboard(server, "Dilnoza Karimova", "UZ")["venue"] == "UZ"
    assert "bourse Uzbekistan" in cli(server, "venues", "list")


def test_preview_apply_show_reverse_apply(server: Server, tmp_path: Path) -> None:
    before = onboard(server, "Ivan Petrov", "RU")
    saved = tmp_path / "ru.json"
    shown = cli(server, "policy", "preview", "ru", "--trading", "suspended", "--save", str(saved))
    assert "RU residents: trading suspended" in shown and str(saved) in shown
    applyable = json.loads(saved.read_text())
    assert applyable["spec"]["rules"] == [
        {"capability": "TRADING", "access": "SUSPENDED", "condition": None}
    ]
    assert applyable["previewed"]["customers"] >= 1

    applied = cli_json(server, "policy", "apply", str(saved), "--reason", "regulator order 17")
    assert applied["affected"] == applyable["previewed"]
    [policy] = in_force(server, "RU")
    assert policy["changeId"] == applied["changeId"] and policy["spec"] == applyable["spec"]
    assert "TRADING SUSPENDED" in cli(server, "policy", "show", "RU")
    # a suspension closes no exit window: there is no closure report for it
    no_closure = refused(server, "policy", "closure", str(applied["changeId"]))
    assert "closed no exit window" in no_closure
    assert refused(server, "policy", "closure", "999").strip() == "error: change 999 does not exist"

    # the suspension stops trading, not onboarding: a new customer makes the old preview stale
    onboard(server, "Olga Petrova", "RU")
    assert before["customerId"] > 0
    assert "preview it again" in refused(server, "policy", "apply", str(saved), "--reason", "x")

    reversal = tmp_path / "ru-back.json"
    previewed = cli_json(server, "policy", "reverse", "RU", "--save", str(reversal))
    assert previewed["current"] == applyable["spec"]
    assert all(r["access"] == "OPEN" for r in json.loads(reversal.read_text())["spec"]["rules"])
    cli(server, "policy", "apply", str(reversal), "--reason", "order lifted")
    assert in_force(server, "RU") == []
    assert "no NATIONALITY policy is in force" in refused(
        server, "policy", "reverse", "RU", "--nationality"
    )


def test_bad_country_exits_1_with_the_servers_sentence(server: Server) -> None:
    msg = refused(server, "policy", "preview", "XX", "--trading", "suspended")
    assert msg == (
        "error: country 'XX' is not an ISO 3166-1 alpha-2 country code (such as KZ, RU or DE)"
    )
    assert "residence 'ZZ' is not an ISO 3166-1" in refused(
        server, "customers", "onboard", "--name", "N", "--born", "1980-01-01",
        "--nationality", "DE", "--residence", "ZZ", "--reason", "r",
    )  # fmt: skip


def test_a_hand_edited_preview_is_refused(server: Server, tmp_path: Path) -> None:
    saved = tmp_path / "fr.json"
    cli(server, "policy", "preview", "FR", "--crypto-deposit", "suspended", "--save", str(saved))
    edited = json.loads(saved.read_text())
    edited["spec"]["rules"][0]["access"] = "CLOSED"
    saved.write_text(json.dumps(edited))
    msg = refused(server, "policy", "apply", str(saved), "--reason", "sneaky")
    assert f"cites preview {edited['preview_id']}, which was not made for it" in msg
    assert in_force(server, "FR") == []

    saved.write_text('{"spec": {}}')
    assert "not a saved preview" in refused(
        server, "policy", "apply", str(saved), "--reason", "r", code=2
    )


def test_conditions_deadlines_and_schedules(server: Server, tmp_path: Path) -> None:
    onboard(server, "Hans Meier", "CH")
    saved = tmp_path / "ch.json"
    preview = cli_json(
        server, "policy", "preview", "CH", "--all", "withdraw_only", "--trading", "open",
        "--deadline", "2099-12-30", "--if-holdings-above", "10000 USDT", "--nationality",
        "--name", "CH exit", "--save", str(saved),
    )  # fmt: skip
    spec = preview["apply"]["spec"]
    assert (spec["name"], spec["basis"], spec["deadline_ms"]) == (
        "CH exit",
        "NATIONALITY",
        4_102_272_000_000,
    )
    rules = {r["capability"]: r for r in spec["rules"]}
    assert len(rules) == 6 and rules["TRADING"]["access"] == "OPEN"
    assert rules["TRADING"]["condition"] is None
    assert rules["FIAT_DEPOSIT"]["condition"] == {"asset": "USDT", "limit_raw": 10_000 * 10**8}

    human = cli(
        server, "policy", "preview", "CH", "--crypto-deposit", "closed",
        "--if-holdings-above", "10000 usdt", "--save", str(tmp_path / "ch2.json"),
    )  # fmt: skip
    assert "CRYPTO_DEPOSIT CLOSED if holdings above 10000 USDT" in human

    at = "2099-06-01T00:00Z"
    scheduled = cli_json(server, "policy", "schedule", str(saved), "--at", at, "--reason", "r")
    listed = cli_json(server, "policy", "show", "CH")["scheduled"]
    assert [s["scheduleId"] for s in listed] == [scheduled["scheduleId"]]
    assert "2099-06-01 00:00 UTC" in cli(server, "policy", "show", "CH")
    cli(server, "policy", "unschedule", str(scheduled["scheduleId"]), "--reason", "not yet")
    assert cli_json(server, "policy", "show", "CH")["scheduled"] == []

    assert "exit window (WITHDRAW_ONLY) needs a deadline" in refused(
        server, "policy", "preview", "CH", "--all", "withdraw_only", "--save", str(saved)
    )
    assert "AMOUNT ASSET" in refused(
        server,
        "policy",
        "preview",
        "CH",
        "--trading",
        "closed",
        "--if-holdings-above",
        "10000",
        code=2,
    )
    assert "name what changes" in refused(server, "policy", "preview", "CH", code=2)


def test_reference_prices_and_exclusions(server: Server, tmp_path: Path) -> None:
    listing = {"type": "CreateAsset", "asset": "XAU", "precision": 8, "reason": "new listing"}
    r = http.post(f"{server.url}/admin/v1/commands", json=listing, headers=server.headers)
    assert r.status_code == 200, r.text
    made = onboard(server, "Lina Berg", "NO")
    account = str(made["accountId"])
    cli(server, "accounts", "deposit", "--account", account, "--deposit", "XAU=2", "--reason", "t")
    saved = tmp_path / "no.json"
    args = ("policy", "preview", "NO", "--crypto-deposit", "suspended",
            "--if-holdings-above", "10000 EUR", "--save", str(saved))  # fmt: skip
    human = " ".join(cli(server, *args).split())
    assert "cannot apply yet: no trade or reference price values XAU in EUR" in human
    assert "XAU (1)" in human
    msg = refused(server, "policy", "apply", str(saved), "--reason", "r")
    assert "XAU (held by 1 named account)" in msg

    human = cli(server, "prices", "set", "xau", "eur", "2400", "--reason", "LBMA fixing")
    assert "reference price of XAU: 2400.00000000 EUR" in human
    [xau] = [p for p in cli_json(server, "prices", "list") if p["asset"] == "XAU"]
    assert (xau["quote"], xau["price"], xau["tradedPrice"]) == ("EUR", "2400.00000000", False)
    assert (xau["actor"], xau["reason"]) == ("operator", "LBMA fixing")
    assert "LBMA" in cli(server, "prices", "list")  # (Rich wraps the cells)
    assert "must be above zero" in refused(
        server, "prices", "set", "XAU", "EUR", "0", "--reason", "r"
    )
    cli(server, "policy", "apply", str(saved), "--reason", "Council Regulation")

    excluded = cli_json(
        server, "policy", "preview", "NO", "--crypto-deposit", "closed",
        "--if-holdings-above", "10000 EUR", "--exclude", "XAU: held in custody elsewhere",
        "--save", str(tmp_path / "no2.json"),
    )  # fmt: skip
    [rule] = excluded["apply"]["spec"]["rules"]
    assert rule["condition"]["excluded"] == [
        {"asset": "XAU", "reason": "held in custody elsewhere"}
    ]
    human = cli(server, "policy", "preview", "NO", "--crypto-deposit", "closed",
                "--if-holdings-above", "10000 EUR", "--exclude", "XAU: custody",
                "--save", str(tmp_path / "no3.json"))  # fmt: skip
    assert "not counting XAU (custody)" in " ".join(human.split())
    assert "ASSET: why" in refused(
        server, "policy", "preview", "NO", "--trading", "closed",
        "--if-holdings-above", "1 EUR", "--exclude", "XAU", code=2,
    )  # fmt: skip


def test_withdraw_on_request_outside_a_closure_is_refused(server: Server) -> None:
    made = onboard(server, "Anna Schmidt", "AT")
    msg = refused(
        server, "withdraw-on-request", "--account", str(made["accountId"]), "--asset", "USDT",
        "--amount", "1", "--destination", "0x52908400098527886E0F7030069857D2E4169EE7",
        "--request-ref", "ticket 1", "--reason", "r",
    )  # fmt: skip
    assert len(msg) > len("error: ")


def test_loading_a_list_while_the_server_runs_rescreens_everyone(server: Server) -> None:
    un = str(DATA / "un_consolidated_2026-02-27.xml")
    # a listed person (UN 6907993, "ERIC BADEGE") already a customer when the list arrives
    onboard(server, "Eric Badege", "CD")
    loaded = cli_json(server, "lists", "load", "un_sc", un)
    report = loaded["rescreen"]
    assert report["screened"] >= 1 and len(report["alertsRaised"]) >= 1
    alerts = cli_json(server, "alerts", "list")
    assert any(a["evidence"]["entryId"] == "6907993" for a in alerts), alerts


def test_fiat_withdrawals_screen_their_payee(server: Server) -> None:
    cli(server, "lists", "load", "un_sc", str(DATA / "un_consolidated_2026-02-27.xml"))
    account = str(onboard(server, "Lena Vogel", "DE")["accountId"])
    deposited = cli(
        server, "accounts", "deposit", "--account", account, "--deposit", "EUR=500",
        "--reason", "SEPA credit 4471",
    )  # fmt: skip
    assert "SEPA credit 4471" in deposited  # the reason is shown with the deposit
    pay = ("accounts", "withdraw", "--account", account, "--asset", "EUR", "--amount", "100")
    pay += ("--reason", "customer's signed request")
    iban = ("--to", "DE89 3704 0044 0532 0130 00")
    held = cli_json(server, *pay, *iban, "--beneficiary", "Eric Badege")
    assert held["status"] == "HELD_FOR_REVIEW" and held["heldBy"], held
    shown = cli(server, *pay, *iban, "--beneficiary", "Eric Badege")
    assert "HELD_FOR_REVIEW" in shown and "bourse alerts list" in shown
    clean = cli_json(server, *pay, *iban, "--beneficiary", "Lena Vogel")
    assert clean["status"] == "PENDING" and clean["destination"] == "DE89370400440532013000"
    msg = refused(server, *pay, "--to", "DE00 1234", "--beneficiary", "Lena Vogel")
    assert "is not a valid IBAN" in msg


def test_a_withdrawal_off_its_asset_network_is_refused_saying_why(server: Server) -> None:
    account = str(onboard(server, "Jonas Weber", "DE")["accountId"])
    deposits = ("--deposit", "USDT=50", "--deposit", "BTC=1")
    cli(server, "accounts", "deposit", "--account", account, *deposits, "--reason", "funding")
    why = ("--reason", "customer's signed request")
    pay = ("accounts", "withdraw", "--account", account, "--amount", "1", *why)
    msg = refused(server, *pay, "--asset", "USDT", "--to", "not an address at all!!")
    assert "USDT withdrawals go to an Ethereum address (ERC-20)" in msg
    assert "'not an address at all!!' is not a valid Ethereum address" in msg
    msg = refused(server, *pay, "--asset", "BTC", "--to", "DE89 3704 0044 0532 0130 00")
    assert "BTC cannot be withdrawn to an IBAN" in msg
    done = cli_json(
        server, *pay, "--asset", "BTC", "--to", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
    )
    assert done["status"] == "PENDING"


def test_open_account_refuses_customer_0_which_would_be_a_house_account(server: Server) -> None:
    for cid in ("0", "-1"):  # after `--`: the data directory goes before it
        done = run_cli("customers", "open-account", "--reason", "savings",
                       "--data-dir", str(server.data_dir), "--", cid)  # fmt: skip
        assert done.returncode == 1 and done.stdout == "", done.stdout
        said = " ".join(done.stderr.split())
        assert f"error: customer {cid} does not exist: customer ids start at 1" in said
    gone = http.post(
        f"{server.url}/admin/v1/customers/0/accounts", headers=server.headers,
        json={"reason": "savings"},
    )  # fmt: skip
    assert gone.status_code == 404 and gone.json()["error"] == "CUSTOMER_NOT_FOUND"


def test_a_typed_name_reaches_the_server_whole_as_one_path_segment(server: Server) -> None:
    # `?x=1` was the query string (stripped), `..` went up a level: both arrive as the name
    assert "venue code 'v1?x=1' must be" in refused(
        server, "venues", "define", "v1?x=1", "--name", "n", "--reason", "r"
    )
    assert "no staff member is named '..'" in refused(
        server, "staff", "token", "..", "--reason", "r"
    )
    assert "cannot contain '/'" in refused(
        server, "staff", "revoke-token", "bob", "../../../policies/schedule/1",
        "--reason", "x", code=2,
    )  # fmt: skip
