"""Issue 5's compliance events in the store, from a real engine, on SQLite and PostgreSQL:
customers and venues, the audit trail of policy changes, scheduling, and exit-window closures
with their closure reports, and the queries compliance officers read them through."""

from collections.abc import Sequence
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa

from bourse.commands import (
    CancelScheduledChange,
    ContinuePolicySweep,
    DefineVenue,
    OnboardCustomer,
    OpenAccount,
    RunDuePolicies,
    SchedulePolicyChange,
    SetJurisdictionPolicy,
    SetReferencePrice,
    UpdateCustomer,
)
from bourse.compliance.policy import (
    Access,
    Basis,
    Capability,
    HoldingsAbove,
    PolicySpec,
    Rule,
    preview_id,
)
from bourse.domain.enums import Side
from bourse.domain.money import to_str
from bourse.engine.impact import fingerprint
from bourse.events import (
    AnyEvent,
    CommandRejected,
    OrderCanceled,
    PolicySweepProgressed,
    WithdrawalRequested,
)
from bourse.store import compliance_queries as cq
from bourse.store import migrate, schema
from bourse.store.db import create_store_engine
from bourse.store.projector import Projector
from tests.builders import ACTOR, REASON, T0, Runner, of, one, raw, world

from .builders import dump, outcomes_of, split

HOUR = 3_600_000
EFFECTIVE = T0 + HOUR  # the scheduled exit window opens
DEADLINE = T0 + 2 * HOUR  # and closes

SUSPEND = PolicySpec(
    name="RU trading suspension",
    country="RU",
    rules=(
        Rule(capability=Capability.TRADING, access=Access.SUSPENDED),
        Rule(
            capability=Capability.CRYPTO_DEPOSIT,
            access=Access.SUSPENDED,
            condition=HoldingsAbove(asset="USDT", limit_raw=raw("10000")),
        ),
    ),
)
EXIT = PolicySpec(
    name="RU exit",
    country="RU",
    rules=(
        Rule(capability=Capability.TRADING, access=Access.CLOSED),
        Rule(capability=Capability.CRYPTO_DEPOSIT, access=Access.CLOSED),
        Rule(capability=Capability.CRYPTO_WITHDRAWAL, access=Access.WITHDRAW_ONLY),
    ),
    deadline_ms=DEADLINE,
)
NO_RU_ONBOARDING = PolicySpec(
    name="no onboarding of RU nationals",
    country="RU",
    basis=Basis.NATIONALITY,
    rules=(Rule(capability=Capability.ONBOARDING, access=Access.CLOSED),),
)


def cited(r: Runner, spec: PolicySpec) -> dict[str, Any]:
    """The preview fields of an apply: the preview made of `spec` right now."""
    seen = fingerprint(r.state, spec.basis, spec.country)
    return {"spec": spec, "preview_id": preview_id(spec, seen), "previewed": seen}


def finish_sweeps(r: Runner, events: Sequence[AnyEvent]) -> None:
    """Submit ContinuePolicySweep until each sweep `events` started is done (the runtime's job)."""
    for progress in of(events, PolicySweepProgressed):
        while progress.done < progress.total:
            (progress,) = of(r.do(ContinuePolicySweep, sweep_id=progress.sweep_id), type(progress))


def onboard(r: Runner, name: str, nationality: str, residence: str) -> None:
    r.do(
        OnboardCustomer,
        legal_name=name,
        date_of_birth="1990-05-17",
        nationality=nationality,
        residence=residence,
    )


def scenario() -> Runner:
    """House account 1; Alice (RU/RU, accounts 2 and 5), Bob (KZ/RU, 3), Carol (RU/DE, 4).
    RU residents are suspended from trading (orders swept one customer at a time), an exit window
    is scheduled and opens, another change is scheduled and canceled, the window closes."""
    r = world(accounts=1)
    r.do(
        DefineVenue, venue="EU", name="Bourse EU", jurisdictions=("DE", "FR"), symbols=("BTCUSDT",)
    )
    r.do(DefineVenue, venue="GLOBAL", name="Bourse Global", symbols=("BTCUSDT", "ETHUSDT"))
    onboard(r, "Alice Ivanova", "RU", "RU")
    onboard(r, "Bob Akhmetov", "KZ", "RU")
    onboard(r, "Carol Petrova", "RU", "DE")
    r.do(OpenAccount, customer_id=1)
    r.do(UpdateCustomer, customer_id=3, kyc_level=2)
    for acct, asset, amount in [
        (2, "BTC", "1.5"),
        (2, "USDT", "20000"),
        (5, "ETH", "3"),
        (3, "USDT", "250.25"),
        (4, "BTC", "2"),
    ]:
        r.deposit(acct, asset, amount)
    r.limit(2, Side.SELL, "30000", "0.5")  # Alice's open order: the suspension's sweep cancels it
    r.limit(3, Side.BUY, "100", "1")
    for asset, price in (("BTC", "50000"), ("ETH", "3000")):  # nothing trades in this world
        r.do(SetReferencePrice, asset=asset, quote="USDT", price_raw=raw(price))
    finish_sweeps(r, r.do(SetJurisdictionPolicy, **cited(r, SUSPEND), sweep_batch=1))
    r.do(SchedulePolicyChange, **cited(r, NO_RU_ONBOARDING), effective_ms=EFFECTIVE)
    r.do(CancelScheduledChange, schedule_id=1)
    r.do(SchedulePolicyChange, **cited(r, EXIT), effective_ms=EFFECTIVE)
    r.ts_ms = EFFECTIVE - 1
    finish_sweeps(r, r.do(RunDuePolicies))
    r.ts_ms = DEADLINE - 1
    finish_sweeps(r, r.do(RunDuePolicies))
    for events in r.events:
        assert not of(events, CommandRejected), events
    assert len([e for events in r.events for e in of(events, OrderCanceled)]) == 2
    return r


def rows(p: Projector, table: sa.Table) -> list[sa.Row[Any]]:
    with p.engine.connect() as conn:
        return list(conn.execute(sa.select(table).order_by(*table.primary_key.columns)))


def seq_of(r: Runner, command: type) -> list[int]:
    return [n for n, cmd in enumerate(r.commands, start=1) if type(cmd) is command]


def test_customers_venues_and_accounts(projector: Projector) -> None:
    r = scenario()
    projector.apply(outcomes_of(r))
    customers = [tuple(row) for row in rows(projector, schema.customers)]
    onboarded = seq_of(r, OnboardCustomer)
    (updated,) = seq_of(r, UpdateCustomer)
    assert customers == [
        (1, "Alice Ivanova", "1990-05-17", "RU", "RU", 1, "LOW", "GLOBAL", onboarded[0]),
        (2, "Bob Akhmetov", "1990-05-17", "KZ", "RU", 1, "LOW", "GLOBAL", onboarded[1]),
        (3, "Carol Petrova", "1990-05-17", "RU", "DE", 2, "LOW", "EU", updated),
    ]
    owners = [(a.account_id, a.customer_id) for a in rows(projector, schema.accounts)]
    assert (
        owners
        == [(a.id, a.customer_id) for a in r.state.accounts.values() if a.id]
        == [
            (1, 0),
            (2, 1),
            (3, 2),
            (4, 3),
            (5, 1),
        ]
    )
    assert [tuple(v) for v in rows(projector, schema.venues)] == [
        ("EU", "Bourse EU", "DE,FR", "BTCUSDT", 0),
        ("GLOBAL", "Bourse Global", "", "BTCUSDT,ETHUSDT", 0),
    ]


def test_policy_changes_are_an_audit_trail(projector: Projector) -> None:
    r = scenario()
    projector.apply(outcomes_of(r))
    suspend, opened, closed = rows(projector, schema.policy_changes)
    direct = r.commands[seq_of(r, SetJurisdictionPolicy)[0] - 1]
    assert isinstance(direct, SetJurisdictionPolicy)
    assert (suspend.change_id, suspend.seq, suspend.ts_ms) == (
        1,
        seq_of(r, SetJurisdictionPolicy)[0],
        direct.ts_ms,
    )
    assert (suspend.name, suspend.country, suspend.basis) == (SUSPEND.name, "RU", "RESIDENCE")
    assert msgspec.json.decode(suspend.spec_json, type=PolicySpec) == SUSPEND
    assert suspend.previous_json is None
    assert suspend.preview_id == direct.preview_id != ""
    assert (suspend.previewed_customers, suspend.previewed_accounts) == (2, 3)
    assert (suspend.affected_customers, suspend.affected_accounts) == (2, 3)
    assert (suspend.schedule_id, suspend.actor, suspend.reason) == (0, ACTOR, REASON)

    assert (opened.change_id, opened.schedule_id, opened.ts_ms) == (2, 2, EFFECTIVE)
    assert msgspec.json.decode(opened.spec_json, type=PolicySpec) == EXIT
    assert msgspec.json.decode(opened.previous_json or "", type=PolicySpec) == SUSPEND

    assert (closed.change_id, closed.ts_ms, closed.preview_id, closed.schedule_id) == (
        3,
        DEADLINE,
        "",
        0,
    )
    assert "exit window of 'RU exit' ended" in closed.reason
    closed_spec = msgspec.json.decode(closed.spec_json, type=PolicySpec)
    assert closed_spec.access(Capability.CRYPTO_WITHDRAWAL) is Access.CLOSED
    assert closed_spec.deadline_ms == 0
    assert msgspec.json.decode(closed.previous_json or "", type=PolicySpec) == EXIT

    canceled, applied = rows(projector, schema.scheduled_policy_changes)
    assert (canceled.schedule_id, canceled.name, canceled.basis, canceled.state) == (
        1,
        NO_RU_ONBOARDING.name,
        "NATIONALITY",
        "canceled",
    )
    assert (canceled.change_id, canceled.canceled_by, canceled.cancel_reason) == (
        None,
        ACTOR,
        REASON,
    )
    assert canceled.updated_seq == seq_of(r, CancelScheduledChange)[0]
    assert (applied.schedule_id, applied.state, applied.change_id) == (2, "applied", 2)
    assert (applied.effective_ms, applied.previewed_customers, applied.previewed_accounts) == (
        EFFECTIVE,
        2,
        3,
    )
    assert applied.canceled_by is None and applied.seq == seq_of(r, SchedulePolicyChange)[1]


def test_exit_window_closure_and_its_report(projector: Projector) -> None:
    r = scenario()
    projector.apply(outcomes_of(r))
    (closure,) = rows(projector, schema.exit_closures)
    assert tuple(closure)[3:] == ("RU exit", "RU", "RESIDENCE", 2, 3, 2)
    assert (closure.change_id, closure.ts_ms) == (3, DEADLINE)
    # what the engine holds for RU residents: nothing changed after the closure
    expected = [
        (3, acct.id, asset, cust.id, bal.free, bal.locked)
        for cust in r.state.customers.values()
        if cust.residence == "RU"
        for acct in (r.state.accounts[a] for a in cust.accounts)
        for asset, bal in sorted(acct.balances.items())
        if bal.free or bal.locked
    ]
    stored = [tuple(b) for b in rows(projector, schema.closure_balances)]
    assert sorted(stored) == sorted(expected) and len(stored) == 4  # Carol (DE) is not there

    with projector.engine.connect() as conn:
        report = cq.closure_report(conn, 3)
        assert cq.closure_report(conn, 1) is None  # a suspension closes no exit window
    assert report is not None
    assert {k: report[k] for k in ("changeId", "name", "country", "basis", "closedMs")} == {
        "changeId": 3,
        "name": "RU exit",
        "country": "RU",
        "basis": "RESIDENCE",
        "closedMs": DEADLINE,
    }
    assert (report["namedCustomers"], report["namedAccounts"], report["complete"]) == (2, 3, True)
    usdt_after_bid = to_str(r.balance(3, "USDT")[0], 8)
    assert report["customers"] == [
        {
            "customerId": 1,
            "legalName": "Alice Ivanova",
            "accounts": [
                {
                    "accountId": 2,
                    "balances": [
                        {"asset": "BTC", "free": "1.50000000", "locked": "0.00000000"},
                        {"asset": "USDT", "free": "20000.00000000", "locked": "0.00000000"},
                    ],
                },
                {
                    "accountId": 5,
                    "balances": [{"asset": "ETH", "free": "3.00000000", "locked": "0.00000000"}],
                },
            ],
        },
        {
            "customerId": 2,
            "legalName": "Bob Akhmetov",
            "accounts": [
                {
                    "accountId": 3,
                    "balances": [{"asset": "USDT", "free": usdt_after_bid, "locked": "0.00000000"}],
                }
            ],
        },
    ]
    assert usdt_after_bid == "250.25000000"  # the swept bid's hold came back
    assert report["totals"] == {"BTC": "1.50000000", "ETH": "3.00000000", "USDT": "20250.25000000"}


def test_policy_history_reads_newest_first(projector: Projector) -> None:
    r = scenario()
    projector.apply(outcomes_of(r))
    with projector.engine.connect() as conn:
        history = cq.policy_history(conn)
        assert [h["changeId"] for h in cq.policy_history(conn, "RU", limit=2)] == [3, 2]
        assert cq.policy_history(conn, "DE") == []
        with pytest.raises(ValueError, match="'XX' is not an ISO 3166-1"):
            cq.policy_history(conn, "XX")
        with pytest.raises(ValueError, match="limit 0 is not between 1 and 1000"):
            cq.policy_history(conn, limit=0)
    assert [(h["changeId"], h["name"], h["exitWindowClosed"]) for h in history] == [
        (3, "RU exit", True),
        (2, "RU exit", False),
        (1, "RU trading suspension", False),
    ]
    suspend = history[2]
    direct = r.commands[seq_of(r, SetJurisdictionPolicy)[0] - 1]
    assert isinstance(direct, SetJurisdictionPolicy)
    assert suspend["previewId"] == direct.preview_id
    assert suspend["previewed"] == suspend["affected"] == {"customers": 2, "accounts": 3}
    assert (suspend["previous"], suspend["scheduleId"], suspend["actor"]) == (None, 0, ACTOR)
    assert suspend["spec"]["rules"] == [
        {"capability": "TRADING", "access": "SUSPENDED", "condition": None},
        {
            "capability": "CRYPTO_DEPOSIT",
            "access": "SUSPENDED",
            "condition": {"asset": "USDT", "limit": "10000.00000000"},
        },
    ]
    assert history[1]["scheduleId"] == 2 and history[1]["spec"]["deadlineMs"] == DEADLINE
    assert history[1]["previous"]["name"] == SUSPEND.name
    assert history[0]["previewId"] == "" and history[0]["appliedMs"] == DEADLINE


def test_customers_by_country(projector: Projector) -> None:
    projector.apply(outcomes_of(scenario()))
    with projector.engine.connect() as conn:
        residents = cq.customers_by_country(conn, residence="RU")
        nationals = cq.customers_by_country(conn, nationality="RU")
        both = cq.customers_by_country(conn, residence="RU", nationality="RU")
        pages = [cq.customers_by_country(conn, limit=2), cq.customers_by_country(conn, after=2)]
        assert cq.customers_by_country(conn, residence="FR") == []
        with pytest.raises(ValueError, match="nationality 'ru' is not"):
            cq.customers_by_country(conn, nationality="ru")
    assert [(c["customerId"], c["accounts"]) for c in residents] == [(1, [2, 5]), (2, [3])]
    assert [c["customerId"] for c in nationals] == [1, 3]
    assert both == residents[:1]
    assert both[0] == {
        "customerId": 1,
        "legalName": "Alice Ivanova",
        "dateOfBirth": "1990-05-17",
        "nationality": "RU",
        "residence": "RU",
        "kycLevel": 1,
        "riskTier": "LOW",
        "venue": "GLOBAL",
        "accounts": [2, 5],
    }
    assert [[c["customerId"] for c in page] for page in pages] == [[1, 2], [3]]
    assert pages[1][0]["kycLevel"] == 2 and pages[1][0]["venue"] == "EU"


def test_any_batching_gives_the_same_compliance_rows(projector: Projector) -> None:
    """Schedules applied or canceled, and reports, in batches after the rows they change."""
    outcomes = outcomes_of(scenario())
    projector.apply(outcomes)
    expected = dump(projector.engine)
    assert len(expected["closure_balances"]) == 4 and len(expected["policy_changes"]) == 3
    for sizes in ([1], [3, 7], [len(outcomes) - 2]):
        projector.reset()
        for batch in split(outcomes, sizes):
            projector.apply(batch)
        assert dump(projector.engine) == expected, f"batches of {sizes}"


def test_a_closure_report_in_many_batches_is_complete_at_its_last(projector: Projector) -> None:
    """The engine reports 1000 customers per command: 1001 residents take two."""
    r = world(accounts=0)
    for n in range(1001):
        onboard(r, f"Customer {n}", "KZ", "RU")
    r.deposit(1, "BTC", "0.1")
    r.deposit(1001, "USDT", "7")
    r.do(SetJurisdictionPolicy, **cited(r, EXIT))
    r.ts_ms = DEADLINE - 1
    first = r.do(RunDuePolicies)
    (progress,) = [p for p in of(first, PolicySweepProgressed) if p.kind == "closure_report"]
    assert (progress.done, progress.total) == (1000, 1001)
    projector.apply(outcomes_of(r))
    with projector.engine.connect() as conn:
        partial = cq.closure_report(conn, progress.change_id)
        first_page = cq.customers_by_country(conn, residence="RU", limit=1000)
        rest = cq.customers_by_country(conn, residence="RU", after=first_page[-1]["customerId"])
    assert partial is not None and partial["complete"] is False
    assert [c["customerId"] for c in partial["customers"]] == [1]
    assert (len(first_page), [c["customerId"] for c in rest]) == (1000, [1001])

    finish_sweeps(r, first)
    projector.apply(outcomes_of(r))
    with projector.engine.connect() as conn:
        report = cq.closure_report(conn, progress.change_id)
    assert report is not None and report["complete"] is True
    assert [c["customerId"] for c in report["customers"]] == [1, 1001]
    assert report["totals"] == {"BTC": "0.10000000", "USDT": "7.00000000"}
    assert (report["namedCustomers"], report["namedAccounts"]) == (1001, 1001)


def test_accounts_of_a_store_from_before_customers_are_house_accounts(store_url: str) -> None:
    migrate.upgrade(store_url, "0001")
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO accounts (account_id, fee_tier, can_trade, can_deposit,"
                    " can_withdraw, frozen, updated_seq) VALUES (7, 0, true, true, true, false, 1)"
                )
            )
        migrate.upgrade(store_url)
        with engine.connect() as conn:
            owner = conn.execute(sa.select(schema.accounts.c.customer_id)).scalar_one()
    finally:
        engine.dispose()
    assert owner == 0


def test_every_version_of_a_kyc_record_is_kept_with_who_and_why(projector: Projector) -> None:
    r = scenario()
    projector.apply(outcomes_of(r))
    onboarded = seq_of(r, OnboardCustomer)
    (updated,) = seq_of(r, UpdateCustomer)
    with projector.engine.connect() as conn:
        carol = cq.customer_history(conn, 3)
        alice = cq.customer_history(conn, 1)
        newest = cq.customer_history(conn, 3, limit=1)
    assert [v["seq"] for v in carol] == [updated, onboarded[2]]  # newest first
    assert all((v["actor"], v["reason"]) == (ACTOR, REASON) for v in carol)
    assert carol[0]["record"]["kycLevel"] == 2 and carol[1]["record"]["kycLevel"] == 1
    assert carol[0]["changed"] == ["kycLevel"]
    assert len(carol[1]["changed"]) == 7  # the first version: every field
    assert newest[0]["changed"] == carol[0]["changed"]  # told from the version before it
    assert [v["seq"] for v in alice] == [onboarded[0]]


def test_a_store_from_before_the_history_starts_it_with_each_latest_record(
    store_url: str,
) -> None:
    migrate.upgrade(store_url, "0003")
    engine = create_store_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO customers (customer_id, legal_name, date_of_birth, nationality,"
                    " residence, kyc_level, risk_tier, venue, updated_seq)"
                    " VALUES (4, 'Dana Li', '1980-01-01', 'KZ', 'KZ', 1, 'LOW', 'KZ', 9)"
                )
            )
        migrate.upgrade(store_url)
        with engine.connect() as conn:
            history = cq.customer_history(conn, 4)
    finally:
        engine.dispose()
    assert [(v["seq"], v["actor"], v["record"]["legalName"]) for v in history] == [
        (9, "", "Dana Li")
    ]


def test_every_withdrawal_is_kept_from_its_request_to_its_settlement(projector: Projector) -> None:
    r = world(accounts=2, funds={"BTC": "1", "USDT": "1000"})
    paid = one(r.withdraw(1, "BTC", "0.25"), WithdrawalRequested).withdrawal_id
    bounced = one(r.withdraw(1, "USDT", "100"), WithdrawalRequested).withdrawal_id
    waiting = one(r.withdraw(1, "USDT", "5"), WithdrawalRequested).withdrawal_id
    other = one(r.withdraw(2, "BTC", "0.5"), WithdrawalRequested).withdrawal_id
    r.complete_withdrawal(paid)
    r.fail_withdrawal(bounced, "the beneficiary's bank returned it")
    outcomes = outcomes_of(r)
    for part in split(outcomes, [3]):  # settled in a later batch than requested, and the same
        projector.apply(part)
    with projector.engine.connect() as conn:
        mine = cq.withdrawals_of(conn, [1])
        both = cq.withdrawals_of(conn, [1, 2], limit=2)
    assert [(w["withdrawalId"], w["status"]) for w in mine] == [
        (waiting, "PENDING"),
        (bounced, "FAILED"),
        (paid, "COMPLETED"),
    ]
    done = mine[2]
    assert (done["amount"], done["asset"], done["txRef"]) == ("0.25000000", "BTC", "chain-tx")
    assert done["settledMs"] and done["requestedMs"]
    assert mine[1]["failure"] == "the beneficiary's bank returned it" and mine[1]["txRef"] is None
    assert mine[0]["settledMs"] is None
    assert [w["withdrawalId"] for w in both] == [other, waiting]
