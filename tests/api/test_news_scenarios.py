"""The three scenarios from the news, end to end through the admin API and the Binance API:
a trading suspension for residents of one country and its reversal; a 30-day exit window that
closes with a closure report and payouts on request; the EU's 10,000 EUR deposit rule for
Russian residents. And the regional venue that lists only its own symbols.

Every customer is onboarded, funded and keyed through /admin/v1; their "bots" trade through the
signed Binance API. Engine state and journaled events are read only where no API shows them.
"""

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx2 as httpx

from bourse.demo import GLOBAL_SYMBOLS, KZ_SYMBOLS, SYMBOLS
from bourse.domain.calendar import utc_text
from bourse.domain.money import to_raw
from bourse.engine.invariants import violations
from bourse.engine.state import EngineState
from bourse.events import ClosureBalancesReported, Event, ExitWindowClosed, Outcome
from bourse.workers.policy_driver import PolicyDriver
from tests.api.conftest import Api, Signer
from tests.api.test_admin_compliance import (
    apply,
    call,
    deposit,
    in_force,
    onboard,
    preview,
    refused,
    rule,
)
from tests.api.test_orders import LIMIT, ORDER, error
from tests.builders import DESTINATIONS

DAY_MS = 86_400_000
CAPABILITIES = (
    "ONBOARDING",
    "TRADING",
    "CRYPTO_DEPOSIT",
    "CRYPTO_WITHDRAWAL",
    "FIAT_DEPOSIT",
    "FIAT_WITHDRAWAL",
)


@dataclass
class Bot:
    """A customer's account trading through the Binance API with its own key."""

    api: Api
    customer_id: int
    signer: Signer

    @property
    def account_id(self) -> int:
        return self.signer.account_id

    def signed(self, method: str, path: str, **params: Any) -> httpx.Response:
        # the request's timestamp follows the service's clock, which a test may move
        return self.signer.signed(method, path, timestamp=self.api.service.clock(), **params)

    def order(self, **params: Any) -> httpx.Response:
        return self.signed("POST", ORDER, **params)

    def placed(self, **params: Any) -> dict[str, Any]:
        r = self.order(**params)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def open_orders(self) -> list[int]:
        r = self.signed("GET", "/api/v3/openOrders")
        assert r.status_code == 200, r.text
        return [o["orderId"] for o in r.json()]

    def holdings(self) -> dict[str, Decimal]:
        """free + locked per asset, as GET /api/v3/account shows them (nonzero only)."""
        r = self.signed("GET", "/api/v3/account")
        assert r.status_code == 200, r.text
        held = {b["asset"]: Decimal(b["free"]) + Decimal(b["locked"]) for b in r.json()["balances"]}
        return {asset: amount for asset, amount in held.items() if amount}

    def balance(self, asset: str) -> tuple[str, str]:
        r = self.signed("GET", "/api/v3/account")
        assert r.status_code == 200, r.text
        [b] = [b for b in r.json()["balances"] if b["asset"] == asset]
        return b["free"], b["locked"]


def bot(api: Api, residence: str, **funds: str) -> Bot:
    """Onboard a customer of `residence`, fund their account (asset=amount) and key it."""
    made = onboard(api, residence)
    for asset, amount in funds.items():
        deposit(api, made["accountId"], asset, amount)
    r = call(api, "POST", "/keys", {"accountId": made["accountId"], "reason": "bot"})
    assert r.status_code == 200, r.text
    key = r.json()
    signer = Signer(api.client, made["accountId"], key["apiKey"], key["secretKey"])
    return Bot(api, made["customerId"], signer)


def sweeps_finished(api: Api, timeout: float = 10.0) -> None:
    """Wait (bounded) until the policy driver has run every batch of every policy sweep, and
    their outcomes are released (durable): GET /policies reads the engine, which runs ahead of
    the journal, while openOrders reads the store, which follows what was released."""
    deadline = time.monotonic() + timeout
    while True:
        r = call(api, "GET", "/policies")
        assert r.status_code == 200, r.text
        if not r.json()["sweeps"] and on_engine(api, _all_released, api):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"policy sweeps still running: {r.json()['sweeps']}")
        time.sleep(0.01)


def _all_released(api: Api) -> bool:
    return api.service.released_seq >= api.exchange.engine.state.last_seq


WIRE = {"reason": "wire in"}  # every admin action names why


def command(api: Api, body: dict[str, Any]) -> httpx.Response:
    return call(api, "POST", "/commands", {"reason": "customer's request", **body})


def withdrawal(api: Api, account_id: int, asset: str, amount: str) -> httpx.Response:
    body = {
        "type": "RequestWithdrawal",
        "account_id": account_id,
        "asset": asset,
        "amount_raw": to_raw(amount, 8),
        "destination": DESTINATIONS[asset],
    }
    return command(api, body)


def requested_id(r: httpx.Response) -> int:
    assert r.status_code == 200, r.text
    [event] = [e for e in r.json()["events"] if e["type"] == "WithdrawalRequested"]
    return int(event["withdrawal_id"])


def complete(api: Api, withdrawal_id: int) -> httpx.Response:
    return command(api, {"type": "CompleteWithdrawal", "withdrawal_id": withdrawal_id})


def on_engine(api: Api, fn: Any, *args: Any) -> Any:
    """`fn(*args)` on the engine's thread, where its state is written."""
    return api.client.portal.call(fn, *args)  # type: ignore[union-attr]


def ledger_totals(state: EngineState) -> dict[str, tuple[int, int, int]]:
    """Per asset: (sum of every account's free + locked, deposited, withdrawn), raw."""
    held: dict[str, int] = {}
    for acct in state.accounts.values():
        for bal in acct.balances.values():
            held[bal.asset] = held.get(bal.asset, 0) + bal.free + bal.locked
    return {
        asset: (held.get(asset, 0), state.deposited.get(asset, 0), state.withdrawn.get(asset, 0))
        for asset in sorted(set(held) | set(state.deposited))
    }


def collect_events(api: Api) -> list[Event]:
    """Every event released from now on (the journal's view, where no API shows it)."""
    seen: list[Event] = []

    def on_release(batch: list[Outcome]) -> None:
        for outcome in batch:
            seen.extend(outcome.events)

    on_engine(api, api.service.on_release.append, on_release)
    return seen


def test_trading_suspended_for_one_country_then_restored(api: Api) -> None:
    ru1 = bot(api, "RU", USDT="20000", BTC="1")
    ru2 = bot(api, "RU", USDT="5000")
    de = bot(api, "DE", USDT="20000")
    ru1.placed(**LIMIT, quantity="0.01", price="50000")
    ru1.placed(**LIMIT | {"side": "SELL"}, quantity="0.1", price="70000")
    ru2.placed(**LIMIT, quantity="0.02", price="51000")
    de_resting = de.placed(**LIMIT, quantity="0.01", price="52000")["orderId"]

    name = "RU trading suspension"
    shown = preview(api, "RU", rule("TRADING", "SUSPENDED"), name=name)
    impact = shown["impact"]
    assert (impact["customers"], impact["accounts"]) == (2, 2)
    assert (impact["accountsWithOrders"], impact["openOrders"]) == (2, 3)
    assert impact["pendingWithdrawals"] == 0
    assert impact["balances"] == {"BTC": "1.00000000", "USDT": "25000.00000000"}
    assert [s["customerId"] for s in impact["sample"]] == [ru1.customer_id, ru2.customer_id]

    # one customer per batch: the second is swept by the policy driver, after the apply answered
    body = {**shown["apply"], "reason": "sanctions package 14", "sweep_batch": 1}
    r = call(api, "POST", "/policies/apply", body)
    assert r.status_code == 200, r.text
    assert r.json()["affected"]["customers"] == 2
    [first] = r.json()["sweeps"]
    assert (first["kind"], first["done"], first["total"]) == ("cancel_orders", 1, 2)
    sweeps_finished(api)

    assert ru1.open_orders() == [] and ru2.open_orders() == []
    assert ru1.balance("USDT") == ("20000.00000000", "0.00000000")  # nothing left held
    assert ru1.balance("BTC") == ("1.00000000", "0.00000000")
    assert de.open_orders() == [de_resting]
    status, code, msg = error(ru2.order(**LIMIT, quantity="0.01", price="50000"))
    assert (status, code) == (400, -2010)
    assert msg.startswith("This action is disabled on this account. Trading is suspended")
    assert f"for residents of RU by policy '{name}'" in msg
    assert error(ru1.order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.1"))[1] == (
        -2010
    )

    # money still moves in and out for them
    deposit(api, ru2.account_id, "USDT", "100")
    wid = requested_id(withdrawal(api, ru1.account_id, "BTC", "0.4"))
    assert complete(api, wid).status_code == 200
    assert ru1.balance("BTC") == ("0.60000000", "0.00000000")
    assert ru2.balance("USDT") == ("5100.00000000", "0.00000000")

    # everyone else trades on, against the house market maker's quotes
    bought = de.placed(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    assert bought["status"] == "FILLED" and bought["fills"][0]["price"] == "60010.00000000"

    back = call(api, "POST", "/policies/RESIDENCE/RU/reversal/preview")
    assert back.status_code == 200, back.text
    assert back.json()["current"] == shown["apply"]["spec"]
    assert back.json()["impact"]["customers"] == 2
    r = apply(api, back.json(), "sanctions package 14 lifted")
    assert r.status_code == 200 and r.json()["restored"] is True, r.text
    assert in_force(api) == []

    again = ru2.placed(**LIMIT, quantity="0.01", price="50000")
    assert again["status"] == "NEW" and ru2.open_orders() == [again["orderId"]]
    sold = ru1.placed(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.1")
    assert sold["status"] == "FILLED"
    assert de.placed(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")["fills"]
    assert de_resting in de.open_orders()
    assert on_engine(api, violations, api.exchange.engine.state) == []


def test_an_exit_window_closes_with_a_report_and_payouts_on_request(api: Api) -> None:
    events = collect_events(api)
    before = on_engine(api, ledger_totals, api.exchange.engine.state)
    leaving = bot(api, "BY", USDT="3000", BTC="0.5")
    second = bot(api, "BY", ETH="2", USDT="100")
    staying = bot(api, "DE", USDT="1000")
    leaving.placed(**LIMIT, quantity="0.01", price="50000")
    leaving.placed(**LIMIT | {"side": "SELL"}, quantity="0.1", price="70000")
    second.placed(symbol="ETHUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                  quantity="1", price="4000")  # fmt: skip
    staying_order = staying.placed(**LIMIT, quantity="0.01", price="50000")["orderId"]

    deadline = api.service.clock() + 30 * DAY_MS
    name = "BY exit"
    shown = preview(
        api,
        "BY",
        *(rule(c, "WITHDRAW_ONLY") for c in CAPABILITIES),
        name=name,
        deadline_ms=deadline,
    )
    assert (shown["impact"]["customers"], shown["impact"]["openOrders"]) == (2, 3)
    r = apply(api, shown, "licence withdrawn: 30 days to leave")
    assert r.status_code == 200, r.text
    sweeps_finished(api)
    assert leaving.open_orders() == [] and second.open_orders() == []
    assert staying.open_orders() == [staying_order]

    status, code, msg = error(leaving.order(**LIMIT, quantity="0.01", price="50000"))
    assert (status, code) == (400, -2010)
    assert "exit window" in msg and f"'{name}'" in msg and utc_text(deadline) in msg
    for asset in ("BTC", "EUR"):  # crypto and fiat deposits
        r = call(api, "POST", "/deposits", {"account_id": second.account_id, "asset": asset,
                                            "amount": "1", **WIRE})  # fmt: skip
        msg = refused(r, "JURISDICTION_POLICY")
        assert msg.startswith(f"{'crypto' if asset == 'BTC' else 'fiat'} deposits are"), msg
        assert "exit window" in msg and f"'{name}'" in msg and utc_text(deadline) in msg
    deposit(api, staying.account_id, "USDT", "10")  # others are untouched
    later = staying.placed(**LIMIT, quantity="0.01", price="49000")
    assert later["status"] == "NEW"

    # within the window, withdrawals work: one completes now, one stays pending past the deadline
    early = requested_id(withdrawal(api, leaving.account_id, "BTC", "0.2"))
    assert complete(api, early).status_code == 200
    pending = requested_id(withdrawal(api, second.account_id, "USDT", "50"))

    api.service.clock = lambda: deadline + 60_000
    driver: PolicyDriver = api.client.app.state.policy_driver  # type: ignore[attr-defined]
    on_engine(api, driver.run_due_now)  # (the driver's own tick may have been first)
    deadline_s = time.monotonic() + 10
    while in_force(api)[0]["spec"]["deadline_ms"] != 0:
        assert time.monotonic() < deadline_s, "the exit window did not close"
        time.sleep(0.01)
    sweeps_finished(api)

    [policy] = in_force(api)
    assert {r["access"] for r in policy["spec"]["rules"]} == {"CLOSED"}
    assert policy["actor"] == "system:policy-driver" and policy["hasPrevious"] is True
    [closed] = [e for e in events if isinstance(e, ExitWindowClosed)]
    assert (closed.change_id, closed.customers, closed.accounts) == (policy["changeId"], 2, 2)

    report = call(api, "GET", f"/closures/{policy['changeId']}").json()
    assert report["namedCustomers"] == 2 and report["complete"] is True
    held = {b.customer_id: b.holdings() for b in (leaving, second)}
    totals: dict[str, Decimal] = {}
    for amounts in held.values():
        for asset, amount in amounts.items():
            totals[asset] = totals.get(asset, Decimal(0)) + amount
    assert {a: Decimal(v) for a, v in report["totals"].items()} == totals
    assert totals == {
        "BTC": Decimal("0.3"),
        "USDT": Decimal("3100"),  # 3000 + 100, of which 50 held by the pending withdrawal
        "ETH": Decimal("2"),
    }
    for row in report["customers"]:
        [acct] = row["accounts"]
        shown_held = {
            b["asset"]: Decimal(b["free"]) + Decimal(b["locked"]) for b in acct["balances"]
        }
        assert shown_held == held[row["customerId"]]
    # the engine's journaled report says the same, customer by customer
    reported: dict[tuple[int, str], int] = {}
    for e in events:
        if isinstance(e, ClosureBalancesReported) and e.change_id == policy["changeId"]:
            for b in e.balances:
                reported[(b.customer_id, b.asset)] = b.free_raw + b.locked_raw
    assert reported == {
        (cid, asset): to_raw(str(amount), 8)
        for cid, amounts in held.items()
        for asset, amount in amounts.items()
    }

    # accepted inside the window, a withdrawal still completes after it; new ones are refused
    assert complete(api, pending).status_code == 200
    msg = refused(withdrawal(api, leaving.account_id, "USDT", "10"), "JURISDICTION_POLICY")
    assert "crypto withdrawals are closed" in msg and "paid out on request" in msg
    assert error(leaving.order(**LIMIT, quantity="0.01", price="50000"))[1] == -2010

    free_usdt, _ = leaving.balance("USDT")
    payout = {
        "account_id": leaving.account_id,
        "asset": "USDT",
        "amount": free_usdt,
        "destination": "0x52908400098527886E0F7030069857D2E4169EE7",
        "request_ref": "ticket 44120",
        "reason": "customer asked by signed letter",
    }
    r = call(api, "POST", "/withdrawals/on-request", payout)
    assert r.status_code == 200, r.text
    assert (r.json()["amount"], r.json()["requestRef"]) == ("3000.00000000", "ticket 44120")
    assert leaving.balance("USDT") == ("0.00000000", "3000.00000000")
    assert complete(api, r.json()["withdrawalId"]).status_code == 200
    assert leaving.balance("USDT") == ("0.00000000", "0.00000000")
    assert sorted(staying.open_orders()) == [staying_order, later["orderId"]]  # untouched

    # no money was lost: what every account holds plus what left equals what came in
    state = api.exchange.engine.state
    after = on_engine(api, ledger_totals, state)
    for asset, (total, deposited, withdrawn) in after.items():
        assert total + withdrawn == deposited, asset
    paid = {"BTC": "0.2", "USDT": "3050"}  # 0.2 BTC early, 50 USDT pending, 3000 on request
    for asset, left in paid.items():
        assert after[asset][2] - before.get(asset, (0, 0, 0))[2] == to_raw(left, 8), asset
    assert on_engine(api, violations, state) == []


def test_the_10000_eur_deposit_rule_blocks_exactly_the_accounts_above_the_line(
    api: Api,
) -> None:
    # price BTC in EUR: an account of no customer offers 0.01 BTC at 55000, a customer takes it
    offer = api.other.signed("POST", ORDER, symbol="BTCEUR", side="SELL", type="LIMIT",
                             timeInForce="GTC", quantity="0.01", price="55000")  # fmt: skip
    assert offer.status_code == 200 and offer.json()["status"] == "NEW", offer.text
    took = api.signed("POST", ORDER, symbol="BTCEUR", side="BUY", type="MARKET", quantity="0.01")
    assert took.status_code == 200 and took.json()["fills"][0]["price"] == "55000.00000000"
    price = api.public("GET", "/api/v3/ticker/price", symbol="BTCEUR").json()["price"]
    assert Decimal(price) == 55000

    # (funds, whether they are worth strictly more than 10,000 EUR at 55,000 EUR per BTC)
    people: list[tuple[dict[str, str], bool]] = [
        ({}, False),
        ({"EUR": "9999.99999999"}, False),
        ({"EUR": "10000"}, False),  # at the line is not above it
        ({"EUR": "10000.00000001"}, True),
        ({"BTC": "0.18"}, False),  # 9,900 EUR
        ({"BTC": "0.2"}, True),  # 11,000 EUR
        ({"BTC": "0.1", "EUR": "4500"}, False),  # 5,500 + 4,500: exactly the line
        ({"BTC": "0.10000001", "EUR": "4500"}, True),  # a satoshi's worth above it
        ({"BTC": "0.1", "EUR": "5000"}, True),
    ]
    russians = [(bot(api, "RU", **funds), above) for funds, above in people]
    german = bot(api, "DE", EUR="20000", BTC="1")

    name = "EU deposit limit for RU residents"
    condition = {"asset": "EUR", "limit": "10000"}
    shown = preview(
        api,
        "RU",
        rule("CRYPTO_DEPOSIT", "SUSPENDED", condition=condition),
        rule("FIAT_DEPOSIT", "SUSPENDED", condition=condition),
        name=name,
    )
    above_line = sum(above for _, above in russians)
    assert above_line == 4
    assert shown["impact"]["aboveCondition"] == above_line
    assert shown["impact"]["customers"] == len(people)
    r = apply(api, shown, "Council Regulation (EU) 2022/328")
    assert r.status_code == 200, r.text
    assert r.json()["sweeps"] == []  # a conditional rule on deposits cancels no orders

    line = f"accounts of residents of RU holding more than 10000 EUR by policy '{name}'"
    for (person, above), (funds, _) in zip(russians, people, strict=True):
        r = call(api, "POST", "/deposits", {"account_id": person.account_id, "asset": "BTC",
                                            "amount": "0.00000001", **WIRE})  # fmt: skip
        if not above:
            assert r.status_code == 200, (funds, r.text)
            continue
        msg = refused(r, "JURISDICTION_POLICY")
        assert msg.startswith("crypto deposits are suspended") and line in msg, msg
        r = call(api, "POST", "/deposits", {"account_id": person.account_id, "asset": "EUR",
                                            "amount": "0.01", **WIRE})  # fmt: skip
        msg = refused(r, "JURISDICTION_POLICY")
        assert msg.startswith("fiat deposits are suspended") and line in msg, msg
    for asset, amount in (("BTC", "0.5"), ("EUR", "100")):  # not named: above it, yet accepted
        deposit(api, german.account_id, asset, amount)

    # the line is drawn at each deposit: a satoshi (0.00055 EUR) took 10,000 EUR across it
    on_line = next(p for p, _ in russians if p.holdings() == {"EUR": Decimal(10000),
                                                              "BTC": Decimal("1e-8")})  # fmt: skip
    r = call(api, "POST", "/deposits", {"account_id": on_line.account_id, "asset": "EUR",
                                        "amount": "1", **WIRE})  # fmt: skip
    assert line in refused(r, "JURISDICTION_POLICY")

    # deposits only: those above the line still trade, and withdraw (here back below the line)
    rich = russians[5][0]  # 0.2 BTC
    sell = rich.placed(symbol="BTCEUR", side="SELL", type="LIMIT", timeInForce="GTC",
                       quantity="0.001", price="60000")  # fmt: skip
    assert sell["status"] == "NEW"
    assert complete(api, requested_id(withdrawal(api, rich.account_id, "BTC", "0.05"))).json()
    deposit(api, rich.account_id, "BTC", "0.01")  # 0.16 BTC: 8,800 EUR
    again = preview(
        api,
        "RU",
        rule("CRYPTO_DEPOSIT", "SUSPENDED", condition=condition),
        rule("FIAT_DEPOSIT", "SUSPENDED", condition=condition),
        name=name,
    )
    # three crossed the line with their accepted satoshi (9,999.99999999 EUR, 10,000 EUR, and
    # 5,500 + 4,500 EUR); the one that withdrew fell below it
    assert again["impact"]["aboveCondition"] == above_line + 3 - 1
    assert on_engine(api, violations, api.exchange.engine.state) == []


def test_a_venue_lists_only_its_symbols(api: Api) -> None:
    kz = bot(api, "KZ", USDT="1000", KZT="5000000")
    de = bot(api, "DE", USDT="1000")
    for signer, symbol in ((kz, "ETHBTC"), (kz, "BTCEUR"), (de, "BTCKZT")):
        status, code, msg = error(signer.order(symbol=symbol, side="BUY", type="MARKET",
                                               quantity="0.001"))  # fmt: skip
        assert (status, code) == (400, -2010)
        assert msg.startswith("This symbol is not permitted for this account. "), msg
        assert f"{symbol} is not listed on" in msg
    refusal = error(kz.order(symbol="ETHBTC", side="BUY", type="MARKET", quantity="0.001"))
    assert "on bourse Kazakhstan (AIFC) (KZ), the venue that serves residents of KZ" in refusal[2]
    assert kz.placed(symbol="USDTKZT", side="SELL", type="MARKET", quantity="10")["fills"]
    assert kz.placed(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")["fills"]

    def listed(key: str | None, **params: Any) -> httpx.Response:
        headers = {"X-MBX-APIKEY": key} if key else {}
        return api.client.get("/api/v3/exchangeInfo", params=params, headers=headers)

    def names(key: str | None) -> list[str]:
        r = listed(key)
        assert r.status_code == 200, r.text
        return [s["symbol"] for s in r.json()["symbols"]]

    assert sorted(names(kz.signer.key)) == sorted(KZ_SYMBOLS)
    assert sorted(names(de.signer.key)) == sorted(GLOBAL_SYMBOLS)
    everything = sorted(s.name for s in SYMBOLS)
    assert sorted(names(None)) == everything
    assert sorted(names(api.other.key)) == everything  # an account of no customer sees all
    r = listed(kz.signer.key, symbol="ETHBTC")
    assert r.status_code == 400 and r.json()["code"] == -1121, r.text
    assert listed(kz.signer.key, symbol="BTCKZT").json()["symbols"][0]["symbol"] == "BTCKZT"
