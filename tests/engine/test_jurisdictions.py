"""Jurisdiction policies at the engine: suspend and restore, the exit window and its closure, the
holdings condition, nationality against residence, venues, scheduling, and a large country's sweep.

Every scenario ends with the same check (`assert_sound`): the invariants hold, a snapshot
round-trips, and replaying the scenario's commands into a fresh engine gives the same events and
the same state digest.
"""

from collections.abc import Sequence

import msgspec

from bourse.commands import (
    CancelScheduledChange,
    ContinuePolicySweep,
    CreateAsset,
    DefineFeeTier,
    DefineVenue,
    Deposit,
    ListSymbol,
    OnboardCustomer,
    OpenAccount,
    PlaceOrder,
    RunDuePolicies,
    SchedulePolicyChange,
    SetReferencePrice,
    UpdateCustomer,
    WithdrawOnRequest,
)
from bourse.compliance.policy import (
    Access,
    Basis,
    Capability,
    Exclusion,
    HoldingsAbove,
    PolicySpec,
    Rule,
    next_due_ms,
)
from bourse.demo import spec
from bourse.domain.enums import OrderType, SelfTradePrevention, Side, TimeInForce
from bourse.domain.filters import LotSize, Notional, PriceFilter
from bourse.domain.money import to_raw
from bourse.domain.rejections import RejectCode
from bourse.domain.symbols import SymbolSpec
from bourse.engine import snapshot
from bourse.engine.impact import members, tally
from bourse.engine.invariants import violations
from bourse.engine.valuation import convert
from bourse.events import (
    AccountOpened,
    AnyEvent,
    ClosureBalancesReported,
    CommandRejected,
    DepositCredited,
    ExitWindowClosed,
    OrderCanceled,
    OrderExpired,
    OrderTriggered,
    PolicyApplied,
    PolicyScheduled,
    PolicySweepProgressed,
    ReferencePriceSet,
    ScheduledChangeCanceled,
    TradeExecuted,
    WithdrawalCompleted,
    WithdrawalRequested,
)
from tests.builders import (
    BTC_ADDRESS,
    Runner,
    accepted_id,
    apply_policy,
    assert_sound,
    finish_sweeps,
    of,
    onboard,
    one,
    policy_command,
    raw,
    restoration,
    suspension,
    world,
)

BUY, SELL = Side.BUY, Side.SELL
DAY_MS = 86_400_000
TRADING = Capability.TRADING
POLICY = RejectCode.JURISDICTION_POLICY


def refused(events: Sequence[AnyEvent], code: RejectCode = POLICY) -> str:
    rejected = one(events, CommandRejected)
    assert rejected.code is code, rejected.reason
    return rejected.reason


def ok(events: list[AnyEvent]) -> list[AnyEvent]:
    assert not of(events, CommandRejected), events
    return events


def open_ids(r: Runner, account_id: int) -> set[int]:
    return set(r.state.accounts[account_id].open_orders)


# --- (a) a trading suspension, then its restoration -------------------------------------------


def test_a_trading_suspension_stops_exactly_the_residents_and_a_restore_undoes_it() -> None:
    r = world(accounts=1)  # account 1: the house, the other side of every trade
    kz = [onboard(r, "KZ")[1] for _ in range(3)]
    _, de = onboard(r, "DE")
    for acct in [*kz, de]:
        r.deposit(acct, "USDT", "10000")
        r.deposit(acct, "BTC", "1")
        ok(r.limit(acct, BUY, "40000", "0.01"))
        ok(r.limit(acct, SELL, "60000", "0.01"))
    de_orders = open_ids(r, de)
    kz_orders = {acct: open_ids(r, acct) for acct in kz}

    first = ok(apply_policy(r, suspension("KZ"), batch=1))
    applied = one(first, PolicyApplied)
    assert (applied.affected.customers, applied.affected.accounts) == (3, 3)
    batches = [first, *finish_sweeps(r)]
    assert len(batches) == 3  # one customer per command
    for events, acct in zip(batches, kz, strict=True):
        canceled = of(events, OrderCanceled)
        assert {c.order_id for c in canceled} == kz_orders[acct]
        assert all("KZ suspension" in c.reason for c in canceled)
        progress = one(events, PolicySweepProgressed)
        assert (progress.done, progress.total) == (kz.index(acct) + 1, 3)
    assert not r.state.sweeps
    for acct in kz:
        assert open_ids(r, acct) == set()
        assert r.balance(acct, "USDT") == (raw("10000"), 0)  # holds released, nothing spent
    assert open_ids(r, de) == de_orders

    reason = refused(r.limit(kz[0], BUY, "40000", "0.01"))
    assert "trading is suspended for residents of KZ" in reason
    assert f"'KZ suspension' (change {applied.change_id})" in reason
    ok(r.deposit(kz[0], "BTC", "0.5"))  # money still moves both ways
    wid = one(ok(r.withdraw(kz[0], "BTC", "0.2")), WithdrawalRequested).withdrawal_id
    one(ok(r.complete_withdrawal(wid)), WithdrawalCompleted)
    assert r.balance(kz[0], "BTC") == (raw("1.3"), 0)

    # others trade on: a DE customer's order matches the house
    ok(r.limit(1, SELL, "50000", "0.01"))
    assert one(ok(r.limit(de, BUY, "50000", "0.01")), TradeExecuted).taker_account_id == de

    restore = one(ok(apply_policy(r, restoration("KZ"))), PolicyApplied)
    assert restore.previous == suspension("KZ")
    assert "KZ" not in r.state.residence_policies
    assert not r.state.sweeps  # a restore cancels nothing
    ok(r.limit(1, SELL, "50000", "0.01"))
    assert one(ok(r.limit(kz[0], BUY, "50000", "0.01")), TradeExecuted).taker_account_id == kz[0]
    assert_sound(r)


def test_a_suspension_takes_effect_at_once_even_before_its_sweep_reaches_an_order() -> None:
    """Until the sweep reaches them, a named account's resting order a taker meets is canceled,
    not filled; its stop orders do not fire; a FOK does not count on them."""
    r = world(accounts=1)
    kz = [onboard(r, "KZ")[1] for _ in range(2)]
    _, de = onboard(r, "DE")
    for acct in [*kz, de]:
        r.deposit(acct, "USDT", "10000")
        r.deposit(acct, "BTC", "1")
    ok(r.limit(kz[0], SELL, "50000", "0.01"))  # swept by the apply's first batch
    late_ask = accepted_id(ok(r.limit(kz[1], SELL, "50000", "0.01")))  # swept by the second
    late_stop = accepted_id(ok(r.stop(kz[1], SELL, OrderType.STOP_LOSS, "45000", "0.01")))
    ok(r.limit(1, SELL, "50100", "0.01"))  # the house, behind them in the book

    ok(apply_policy(r, suspension("KZ"), batch=1))
    assert late_ask in open_ids(r, kz[1]) and r.state.sweeps  # the sweep has not reached it
    # a FOK at 50000 cannot count on the KZ ask: it expires untouched, before any matching
    fok = ok(r.limit(de, BUY, "50000", "0.01", tif=TimeInForce.FOK))
    assert not of(fok, TradeExecuted) and not of(fok, OrderCanceled)
    assert one(fok, OrderExpired).reason == "FOK order could not be filled in full"
    # a DE buy meets the KZ ask first: canceled with the policy's sentence, the house fills it
    events = ok(r.limit(de, BUY, "50100", "0.01"))
    canceled = one(events, OrderCanceled)
    assert canceled.order_id == late_ask and "trading is suspended" in canceled.reason
    assert one(events, TradeExecuted).maker_account_id == 1
    # the price falls through the KZ stop: it is canceled, it does not sell
    ok(r.limit(1, BUY, "44000", "0.01"))
    events = ok(r.limit(1, SELL, "44000", "0.01", stp=SelfTradePrevention.NONE))
    assert late_stop in {c.order_id for c in of(events, OrderCanceled)}
    assert not of(events, OrderTriggered)
    assert r.balance(kz[1], "BTC") == (raw("1"), 0)  # nothing of theirs traded
    finish_sweeps(r)
    assert_sound(r)


# --- (b) the 30-day exit window -----------------------------------------------------------------

EXIT_CAPS = (Capability.TRADING, Capability.CRYPTO_DEPOSIT, Capability.CRYPTO_WITHDRAWAL)


def exit_window(country: str, deadline_ms: int) -> PolicySpec:
    rules = tuple(Rule(capability=c, access=Access.WITHDRAW_ONLY) for c in EXIT_CAPS)
    return PolicySpec(name=f"{country} exit", country=country, rules=rules, deadline_ms=deadline_ms)


def test_an_exit_window_lets_money_out_then_closes_and_reports_what_remains() -> None:
    r = world(accounts=1)
    (c1, kz1), (c2, kz2) = onboard(r, "KZ"), onboard(r, "KZ")
    _, de = onboard(r, "DE")
    for acct in (kz1, kz2, de):
        r.deposit(acct, "BTC", "2")
        r.deposit(acct, "USDT", "5000")
    ok(r.limit(kz1, BUY, "40000", "0.01"))
    ok(r.limit(de, BUY, "40000", "0.01"))
    kz1_order = open_ids(r, kz1)
    stuck = one(ok(r.withdraw(kz2, "BTC", "0.3")), WithdrawalRequested).withdrawal_id
    deadline = r.ts_ms + 30 * DAY_MS

    events = ok(apply_policy(r, exit_window("KZ", deadline)))
    assert {c.order_id for c in of(events, OrderCanceled)} == kz1_order
    assert "exit window" in refused(r.deposit(kz1, "BTC", "1"))
    assert "exit window" in refused(r.limit(kz2, SELL, "60000", "0.01"))
    paid = one(ok(r.withdraw(kz1, "BTC", "0.5")), WithdrawalRequested).withdrawal_id
    ok(r.complete_withdrawal(paid))
    ok(r.limit(de, BUY, "40000", "0.01"))  # the DE customer is untouched

    assert next_due_ms(r.state) == deadline
    r.ts_ms = deadline - 3
    refused(r.do(RunDuePolicies), RejectCode.NO_CHANGE)  # at deadline - 2: not yet
    ok(r.withdraw(kz1, "BTC", "0.1"))  # the last millisecond of the window
    assert r.commands[-1].ts_ms == deadline - 1
    closing = ok(r.do(RunDuePolicies))  # at the deadline
    assert r.commands[-1].ts_ms == deadline
    closed = one(closing, ExitWindowClosed)
    assert (closed.country, closed.customers, closed.accounts) == ("KZ", 2, 2)
    spec = r.state.residence_policies["KZ"].spec
    assert all(spec.access(c) is Access.CLOSED for c in EXIT_CAPS)
    events = closing + [e for batch in finish_sweeps(r) for e in batch]
    rows = [row for report in of(events, ClosureBalancesReported) for row in report.balances]
    assert all(
        report.change_id == closed.change_id for report in of(events, ClosureBalancesReported)
    )
    reported = {
        (row.customer_id, row.account_id, row.asset): (row.free_raw, row.locked_raw) for row in rows
    }
    expected = {
        (cid, acct, asset): (bal.free, bal.locked)
        for cid, acct in ((c1, kz1), (c2, kz2))
        for asset, bal in r.state.accounts[acct].balances.items()
        if bal.free or bal.locked
    }
    assert reported == expected and len(rows) == len(expected)
    assert reported[(c2, kz2, "BTC")] == (raw("1.7"), raw("0.3"))  # the stuck withdrawal's hold
    for asset in ("BTC", "USDT"):
        total = sum(r.balance(a, asset)[0] + r.balance(a, asset)[1] for a in (kz1, kz2))
        assert sum(f + lk for (_, _, a), (f, lk) in reported.items() if a == asset) == total

    # closed: the customer cannot withdraw, but a withdrawal accepted before still completes
    assert "closed" in refused(r.withdraw(kz2, "BTC", "0.1"))
    one(ok(r.complete_withdrawal(stuck)), WithdrawalCompleted)

    # staff pay out the rest on request, and that completes
    def payout(to: str) -> list[AnyEvent]:
        return r.do(
            WithdrawOnRequest,
            account_id=kz2,
            asset="BTC",
            amount_raw=raw("1.7"),
            destination=to,
            request_ref="SUPPORT-7781",
            reason="customer asked for their balance after the KZ closure",
        )

    # ... to a destination valid on the asset's network only, as any withdrawal
    iban = refused(payout("KZ86125KZT5004100100"), RejectCode.INVALID_PARAMETER)
    assert "BTC cannot be withdrawn to an IBAN" in iban
    requested = one(ok(payout(BTC_ADDRESS)), WithdrawalRequested)
    assert requested.on_request_ref == "SUPPORT-7781"
    one(ok(r.complete_withdrawal(requested.withdrawal_id)), WithdrawalCompleted)
    assert r.balance(kz2, "BTC") == (0, 0)
    # kz1's 0.5 in the window, kz2's 0.3 asked for in time and 1.7 on request
    assert r.state.withdrawn["BTC"] == raw("2.5")
    ok(r.limit(de, BUY, "40000", "0.01"))
    assert_sound(r)


# --- (c) the holdings condition ----------------------------------------------------------------

EUR_LIMIT = 1_000_000  # 10,000.00 EUR (2 decimals)
BTCEUR = SymbolSpec(
    name="BTCEUR",
    base="BTC",
    quote="EUR",
    base_precision=8,
    quote_precision=2,
    price_filter=PriceFilter(min_price_raw=100, max_price_raw=100_000_000, tick_size_raw=100),
    lot_size=LotSize(min_qty_raw=1_000_000, max_qty_raw=10**12, step_size_raw=1_000_000),
    market_lot_size=LotSize(min_qty_raw=1_000_000, max_qty_raw=10**12, step_size_raw=1_000_000),
    notional=Notional(min_notional_raw=100, max_notional_raw=10**12),
    maker_fee_ppm=0,
    taker_fee_ppm=0,
)


def eur_limit(r: Runner, acct: int, side: Side, price: str, qty: str) -> list[AnyEvent]:
    """A BTCEUR limit order: EUR has 2 decimals, so its prices are scaled by 100."""
    order = r.stamp(
        PlaceOrder,
        account_id=acct,
        symbol="BTCEUR",
        side=side,
        order_type=OrderType.LIMIT,
        qty_raw=raw(qty),
        price_raw=to_raw(price, 2),
    )
    return r.execute(order)


def deposit_eur(r: Runner, acct: int, amount: str) -> list[AnyEvent]:
    return r.do(Deposit, account_id=acct, asset="EUR", amount_raw=to_raw(amount, 2))


def test_a_holdings_condition_restricts_exactly_the_accounts_strictly_above_the_line() -> None:
    r = world(accounts=2, fees=False)
    ok(r.do(CreateAsset, asset="EUR", precision=2, fiat=True))
    ok(r.do(ListSymbol, spec=BTCEUR))
    # last prices: 1 BTC = 40,000 EUR = 50,000 USDT, so 12,500 USDT is worth 10,000 EUR via BTC
    ok(deposit_eur(r, 1, "1000"))
    ok(eur_limit(r, 1, BUY, "40000", "0.01"))
    one(ok(eur_limit(r, 2, SELL, "40000", "0.01")), TradeExecuted)
    ok(r.limit(1, BUY, "50000", "0.01"))
    one(ok(r.limit(2, SELL, "50000", "0.01")), TradeExecuted)
    assert r.state.symbols["BTCEUR"].last_price == 4_000_000

    holdings = {  # customer → (funds, whether strictly above 10,000 EUR)
        "eur below": ({"EUR": "9999.99"}, False),
        "eur at": ({"EUR": "10000"}, False),
        "eur above": ({"EUR": "10000.01"}, True),
        "btc at": ({"BTC": "0.25"}, False),
        "btc a hair above, floored to the line": ({"BTC": "0.2500001"}, False),
        "btc above": ({"BTC": "0.2500003"}, True),  # 10,000.012 EUR
        "mixed above": ({"BTC": "0.2", "EUR": "2000.01"}, True),
        "usdt via btc below": ({"USDT": "12499"}, False),
        "usdt via btc at": ({"USDT": "12500"}, False),
        "usdt via btc above": ({"USDT": "12501"}, True),
        "eth, which no market prices in EUR (excluded)": ({"ETH": "1000"}, False),
        "eur above, part locked in an order": ({"EUR": "10000.01"}, True),
    }
    accounts: dict[str, int] = {}
    for name, (funds, _) in holdings.items():
        _, acct = onboard(r, "BY", name=name)
        for asset, amount in funds.items():
            ok(deposit_eur(r, acct, amount) if asset == "EUR" else r.deposit(acct, asset, amount))
        accounts[name] = acct
    locked = accounts["eur above, part locked in an order"]
    ok(eur_limit(r, locked, BUY, "30000", "0.16"))
    assert r.balance(locked, "EUR") == (520_001, 480_000)
    _, elsewhere = onboard(r, "DE", name="rich elsewhere")
    ok(deposit_eur(r, elsewhere, "50000"))

    condition = HoldingsAbove(asset="EUR", limit_raw=EUR_LIMIT)
    rule = Rule(capability=Capability.CRYPTO_DEPOSIT, access=Access.SUSPENDED, condition=condition)
    spec = PolicySpec(name="BY large holders", country="BY", rules=(rule,))
    above = {name for name, (_, is_above) in holdings.items() if is_above}
    preview = tally(r.state, spec, members(r.state, Basis.RESIDENCE, "BY"))
    assert preview.above_condition == len(above)
    assert preview.unpriced == {"ETH": 1}  # never counted as worth 0 without saying so
    assert "ETH (held by 1 named account)" in refused(
        apply_policy(r, spec), RejectCode.UNPRICED_HOLDINGS
    )
    # the operator leaves ETH out of this condition, on the record
    no_eth = (Exclusion(asset="ETH", reason="no EUR market for ETH; counsel's opinion 7"),)
    condition = msgspec.structs.replace(condition, excluded=no_eth)
    rule = msgspec.structs.replace(rule, condition=condition)
    spec = msgspec.structs.replace(spec, rules=(rule,))
    preview = tally(r.state, spec, members(r.state, Basis.RESIDENCE, "BY"))
    assert (preview.above_condition, preview.unpriced) == (len(above), {})
    assert one(ok(apply_policy(r, spec)), PolicyApplied).spec.rules[0].condition == condition
    assert not r.state.sweeps  # a conditional rule cancels no orders

    for name, acct in accounts.items():
        events = r.deposit(acct, "BTC", "0.001")
        if name in above:
            reason = refused(events)
            assert "accounts of residents of BY holding more than 10000 EUR" in reason
            assert "'BY large holders'" in reason
        else:
            one(ok(events), DepositCredited)
        ok(deposit_eur(r, acct, "1"))  # fiat deposits are not named
    one(ok(r.deposit(elsewhere, "BTC", "0.001")), DepositCredited)
    # the line moves with the price: at 40,100 EUR per BTC the 0.25 BTC holder is above it
    ok(eur_limit(r, 1, BUY, "40100", "0.01"))
    one(ok(eur_limit(r, 2, SELL, "40100", "0.01")), TradeExecuted)
    refused(r.deposit(accounts["btc at"], "BTC", "0.001"))
    assert_sound(r)


def eur_condition(limit: str = "10000") -> PolicySpec:
    condition = HoldingsAbove(asset="EUR", limit_raw=to_raw(limit, 2))
    rule = Rule(capability=Capability.CRYPTO_DEPOSIT, access=Access.SUSPENDED, condition=condition)
    return PolicySpec(name="BY large holders", country="BY", rules=(rule,))


def eur_world() -> Runner:
    """BTC, ETH, USDT and EUR; BTCEUR and BTCUSDT listed, nothing traded yet."""
    r = world(accounts=2, fees=False)
    ok(r.do(CreateAsset, asset="EUR", precision=2, fiat=True))
    ok(r.do(ListSymbol, spec=BTCEUR))
    return r


def test_a_reference_price_values_what_no_market_does_and_a_trade_price_wins() -> None:
    r = eur_world()
    _, rich = onboard(r, "BY")
    ok(r.deposit(rich, "BTC", "1"))
    _, poor = onboard(r, "BY")
    ok(r.deposit(poor, "USDT", "100"))
    spec = eur_condition()
    preview = tally(r.state, spec, members(r.state, Basis.RESIDENCE, "BY"))
    assert (preview.above_condition, preview.unpriced) == (0, {"BTC": 1, "USDT": 1})
    reason = refused(apply_policy(r, spec), RejectCode.UNPRICED_HOLDINGS)
    assert "BTC (held by 1 named account), USDT (held by 1 named account)" in reason

    set_btc = r.do(SetReferencePrice, asset="BTC", quote="EUR", price_raw=to_raw("40000", 2))
    assert one(ok(set_btc), ReferencePriceSet).previous_raw == 0
    # USDT reaches EUR through BTCUSDT's (untraded) market only with a price for it as well
    assert "USDT (held by 1" in refused(apply_policy(r, spec), RejectCode.UNPRICED_HOLDINGS)
    ok(r.do(SetReferencePrice, asset="USDT", quote="BTC", price_raw=raw("0.00002")))
    preview = tally(r.state, spec, members(r.state, Basis.RESIDENCE, "BY"))
    assert (preview.above_condition, preview.unpriced) == (1, {})  # 1 BTC = 40,000 EUR
    assert convert(r.state, raw("100"), "USDT", "EUR") == to_raw("80", 2)  # via BTC
    ok(apply_policy(r, spec))
    assert "holding more than 10000 EUR" in refused(r.deposit(rich, "BTC", "0.1"))
    one(ok(r.deposit(poor, "BTC", "0.1")), DepositCredited)  # 0.1 BTC + 100 USDT: 4,080 EUR

    # a trade makes the market's price the one that counts: 1 BTC = 9,000 EUR now
    ok(deposit_eur(r, 1, "90"))
    ok(eur_limit(r, 1, BUY, "9000", "0.01"))
    one(ok(eur_limit(r, 2, SELL, "9000", "0.01")), TradeExecuted)
    assert convert(r.state, raw("1"), "BTC", "EUR") == to_raw("9000", 2)
    one(ok(r.deposit(rich, "BTC", "0.1")), DepositCredited)  # 1.1 BTC = 9,900 EUR
    assert_sound(r)  # the reference prices survive a snapshot and a replay


def test_a_condition_in_force_never_counts_an_unpriced_holding_as_worth_nothing() -> None:
    r = eur_world()
    ok(r.do(SetReferencePrice, asset="BTC", quote="EUR", price_raw=to_raw("40000", 2)))
    _, acct = onboard(r, "BY")
    ok(deposit_eur(r, acct, "100"))
    ok(apply_policy(r, eur_condition()))
    one(ok(r.deposit(acct, "BTC", "0.01")), DepositCredited)  # 500 EUR
    ok(r.deposit(acct, "ETH", "5"))  # ETH was not held when the change applied
    reason = refused(r.deposit(acct, "BTC", "0.01"))
    assert f"account {acct} holds ETH, which no market or reference price values in EUR" in reason
    ok(r.do(SetReferencePrice, asset="ETH", quote="EUR", price_raw=to_raw("100", 2)))
    one(ok(r.deposit(acct, "BTC", "0.01")), DepositCredited)  # 500 + 800 + 500 EUR
    assert_sound(r)


def test_a_scheduled_change_meeting_an_unpriced_asset_when_due_is_canceled_not_applied() -> None:
    r = eur_world()
    _, acct = onboard(r, "BY")
    ok(deposit_eur(r, acct, "20000"))
    effective = r.ts_ms + 3_600_000
    cmd = policy_command(r, SchedulePolicyChange, eur_condition(), effective_ms=effective)
    schedule_id = one(ok(r.execute(cmd)), PolicyScheduled).schedule_id  # EUR needs no price
    ok(r.deposit(acct, "BTC", "1"))  # and now the account holds BTC, which nothing prices
    r.ts_ms = effective
    events = ok(r.do(RunDuePolicies))
    assert not of(events, PolicyApplied) and not r.state.residence_policies
    canceled = one(events, ScheduledChangeCanceled)
    assert canceled.schedule_id == schedule_id and not r.state.scheduled
    assert canceled.reason.startswith("not applied at its effective time: policy 'BY large")
    assert "BTC (held by 1 named account)" in canceled.reason
    assert next_due_ms(r.state) is None  # nothing left to retry every second
    one(ok(r.deposit(acct, "BTC", "1")), DepositCredited)
    assert_sound(r)


# --- (d) nationality and residence ----------------------------------------------------------


def test_a_nationality_policy_names_nationals_and_a_residence_policy_residents() -> None:
    r = world(accounts=1)
    people = {  # (nationality, residence) → account
        ("RU", "DE"): onboard(r, "DE", "RU")[1],
        ("DE", "RU"): onboard(r, "RU", "DE")[1],
        ("RU", "RU"): onboard(r, "RU")[1],
        ("DE", "DE"): onboard(r, "DE")[1],
    }
    for acct in people.values():
        r.deposit(acct, "USDT", "10000")
        ok(r.limit(acct, BUY, "40000", "0.01"))

    for basis, named in (
        (Basis.NATIONALITY, {("RU", "DE"), ("RU", "RU")}),
        (Basis.RESIDENCE, {("DE", "RU"), ("RU", "RU")}),
    ):
        spec = suspension("RU", basis=basis)
        events = ok(apply_policy(r, spec))
        canceled = {c.account_id for c in of(events, OrderCanceled)}
        assert canceled == {people[p] for p in named}
        who = "nationals" if basis is Basis.NATIONALITY else "residents"
        for person, acct in people.items():
            events = r.limit(acct, BUY, "40000", "0.01")
            if person in named:
                assert f"{who} of RU" in refused(events)
            else:
                ok(events)
        ok(apply_policy(r, restoration("RU", basis)))
        for person in named:
            ok(r.limit(people[person], BUY, "40000", "0.01"))

    # moving out of a suspended country lifts the residence policy for that customer
    ok(apply_policy(r, suspension("RU")))
    customer = r.state.accounts[people[("DE", "RU")]].customer_id
    refused(r.limit(people[("DE", "RU")], BUY, "40000", "0.01"))
    ok(r.do(UpdateCustomer, customer_id=customer, residence="DE"))
    ok(r.limit(people[("DE", "RU")], BUY, "40000", "0.01"))
    assert_sound(r)


# --- (e) venues -------------------------------------------------------------------------------


def test_a_venue_lists_its_symbols_for_its_customers_and_sets_their_fees() -> None:
    r = world(accounts=1)
    ok(r.do(DefineFeeTier, tier=1, maker_multiplier_ppm=500_000, taker_multiplier_ppm=800_000))
    kzx = {"venue": "KZX", "name": "Bourse Kazakhstan", "jurisdictions": ("KZ",), "fee_tier": 1}
    ok(r.do(DefineVenue, symbols=("BTCUSDT",), **kzx))
    ok(r.do(DefineVenue, venue="INTL", name="Bourse International", symbols=("BTCUSDT", "ETHUSDT")))
    kz_customer, kz = onboard(r, "KZ")
    _, de = onboard(r, "DE")
    assert r.state.customers[kz_customer].venue == "KZX"
    assert r.state.accounts[kz].fee_tier == 1 and r.state.accounts[de].fee_tier == 0
    second = one(ok(r.do(OpenAccount, customer_id=kz_customer)), AccountOpened)
    assert second.fee_tier == 1 and second.customer_id == kz_customer
    for acct in (kz, de, second.account_id):
        r.deposit(acct, "USDT", "10000")

    reason = refused(
        r.limit(kz, BUY, "3000", "0.1", symbol="ETHUSDT"), RejectCode.NOT_LISTED_ON_VENUE
    )
    assert "ETHUSDT is not listed on Bourse Kazakhstan (KZX)" in reason
    refused(
        r.limit(second.account_id, BUY, "3000", "0.1", symbol="ETHUSDT"),
        RejectCode.NOT_LISTED_ON_VENUE,
    )
    ok(r.limit(kz, BUY, "40000", "0.01"))
    ok(r.limit(de, BUY, "3000", "0.1", symbol="ETHUSDT"))
    ok(r.limit(1, SELL, "3000", "0.1", symbol="ETHUSDT"))  # the house trades every symbol
    # a venue's listing widens for its customers when it is redefined
    ok(r.do(DefineVenue, symbols=("BTCUSDT", "ETHUSDT"), **kzx))
    ok(r.limit(kz, BUY, "3000", "0.1", symbol="ETHUSDT"))
    trade = one(ok(r.limit(1, SELL, "40000", "0.01")), TradeExecuted)
    assert trade.maker_account_id == kz
    assert trade.maker_fee_raw == raw("0.01") * 500 // 1_000_000  # tier 1: half the 0.1 %
    assert_sound(r)


# --- (f) scheduling ---------------------------------------------------------------------------


def test_a_scheduled_change_applies_when_due_and_a_canceled_one_never_does() -> None:
    r = world(accounts=1)
    _, kz = onboard(r, "KZ")
    r.deposit(kz, "USDT", "10000")
    ok(r.limit(kz, BUY, "40000", "0.01"))
    effective = r.ts_ms + 3_600_000
    scheduled = ok(
        r.execute(policy_command(r, SchedulePolicyChange, suspension("KZ"), effective_ms=effective))
    )
    assert next_due_ms(r.state) == effective
    ok(r.limit(kz, BUY, "40000", "0.01"))  # not yet in force
    r.ts_ms = effective - 2
    refused(r.do(RunDuePolicies), RejectCode.NO_CHANGE)
    events = ok(r.do(RunDuePolicies))
    applied = one(events, PolicyApplied)
    assert applied.schedule_id == one(scheduled, PolicyScheduled).schedule_id
    assert len(of(events, OrderCanceled)) == 2 and open_ids(r, kz) == set()
    refused(r.limit(kz, BUY, "40000", "0.01"))
    assert next_due_ms(r.state) is None

    restore_at = r.ts_ms + DAY_MS
    cmd = policy_command(r, SchedulePolicyChange, restoration("KZ"), effective_ms=restore_at)
    ok(r.execute(cmd))
    schedule_id = next(iter(r.state.scheduled))
    canceled = one(
        ok(r.do(CancelScheduledChange, schedule_id=schedule_id)), ScheduledChangeCanceled
    )
    assert canceled.schedule_id == schedule_id and not r.state.scheduled
    r.ts_ms = restore_at + 1
    refused(r.do(RunDuePolicies), RejectCode.NO_CHANGE)
    refused(r.limit(kz, BUY, "40000", "0.01"))  # still suspended
    assert_sound(r)


# --- a country of 2,500 among 20,000 customers, in 13 batches -----------------------------------

CUSTOMERS = 20_000
BATCH = 200  # customers per sweep command: 13 commands for the country
OTHERS = ("DE", "FR", "PL", "IT")


def test_a_large_country_is_swept_in_bounded_batches_while_others_trade() -> None:
    r = world(accounts=1)
    for i in range(CUSTOMERS):  # every 8th customer lives in KZ: 2,500 of them
        residence = "KZ" if i % 8 == 0 else OTHERS[i % 4]
        r.do(
            OnboardCustomer,
            legal_name=f"Customer {i}",
            date_of_birth="1980-01-01",
            nationality=residence,
            residence=residence,
        )
    kz_customers = members(r.state, Basis.RESIDENCE, "KZ")
    assert len(kz_customers) == CUSTOMERS // 8 and len(r.state.customers) == CUSTOMERS
    account_of = {c: r.state.customers[c].accounts[0] for c in r.state.customers}
    for n, cid in enumerate(kz_customers):
        r.deposit(account_of[cid], "USDT", "100")
        ok(r.limit(account_of[cid], BUY, str(30_000 + n % 5000), "0.001"))
    others = [c for c in list(r.state.customers)[:400] if c not in set(kz_customers)]
    for cid in others:
        r.deposit(account_of[cid], "USDT", "1000")
    resting = {account_of[c]: open_ids(r, account_of[c]) for c in others[:50]}
    for acct in resting:
        ok(r.limit(acct, BUY, "20000", "0.001"))
        resting[acct] = open_ids(r, acct)

    def check_batch(events: list[AnyEvent], batch: list[int]) -> None:
        """The command canceled the open orders of exactly this batch's customers."""
        allowed = {account_of[c] for c in batch}
        canceled = of(events, OrderCanceled)
        assert {c.account_id for c in canceled} == allowed
        assert len(canceled) == len(batch)  # one order each: bounded work per command

    spec = suspension("KZ")
    first = ok(apply_policy(r, spec, batch=BATCH))
    check_batch(first, kz_customers[:BATCH])
    commands = 0
    ok(r.limit(1, SELL, "50000", "10"))  # the house's ask, for others to take between sweeps
    traders = iter(others[50:])
    while r.state.sweeps:
        sweep = next(iter(r.state.sweeps.values()))
        batch = sweep.customer_ids[sweep.done : sweep.done + sweep.batch]
        # someone elsewhere trades between two sweep commands, and is filled at once
        trader = account_of[next(traders)]
        trade = one(ok(r.limit(trader, BUY, "50000", "0.001")), TradeExecuted)
        assert trade.taker_account_id == trader
        refused(r.limit(account_of[batch[-1]], BUY, "30000", "0.001"))  # swept or not yet
        events = ok(r.do(ContinuePolicySweep, sweep_id=sweep.id))
        check_batch(events, batch)
        commands += 1
    assert commands == -(-len(kz_customers) // BATCH) - 1 == 12  # the apply ran the first batch
    assert all(not r.state.accounts[account_of[c]].open_orders for c in kz_customers)
    assert all(open_ids(r, acct) == ids for acct, ids in resting.items())
    assert violations(r.state) == []


def test_valuation_takes_the_same_path_after_a_snapshot_as_after_a_replay() -> None:
    """Two one-step paths value USDT in EUR differently (via KZT, via BTC); a snapshot restores
    symbols by name, a replay in listing order: the value must not depend on which."""
    r = world(accounts=1, symbols=(), fees=False)
    for asset in ("EUR", "KZT"):
        ok(r.do(CreateAsset, asset=asset, precision=8, fiat=True))
    for name in ("USDTKZT", "KZTEUR", "BTCUSDT", "BTCEUR"):  # not in name order
        base, quote = (name[:4], name[4:]) if name.startswith("USDT") else (name[:3], name[3:])
        ok(r.do(ListSymbol, spec=demo_spec(name, base, quote)))
    prices = {"BTCUSDT": "60000", "BTCEUR": "55000", "USDTKZT": "500", "KZTEUR": "0.0018"}
    for name, price in prices.items():
        r.state.symbols[name].last_price = raw(price)
    restored = snapshot.load(snapshot.dump(r.state))
    for name, price in prices.items():
        assert restored.symbols[name].last_price == raw(price)
    value = convert(r.state, raw("1000"), "USDT", "EUR")
    assert (
        value == convert(restored, raw("1000"), "USDT", "EUR") == raw("916.6663")
    )  # via BTC, floored at each step


def demo_spec(name: str, base: str, quote: str) -> SymbolSpec:
    return spec(name, base, quote, tick="0.0001", step="0.0001", min_notional="0", max_qty="1")
