"""Sanctions screening in the store, from a real engine, on SQLite and PostgreSQL: alerts with
their evidence and decisions (hits, delisting reviews, reviews holding a payment), rescreens and
the list versions given to the engine, and the queries a compliance officer reads them through."""

from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bourse.commands import (
    Command,
    ConfirmScreeningAlert,
    CreateAsset,
    DismissScreeningAlert,
    ListedAddress,
    RaiseDelistingReview,
    RaiseScreeningAlert,
    RecordRescreen,
    RequestWithdrawal,
    SetSanctionedAddresses,
)
from bourse.compliance.evidence import BeneficiaryScreening, Evidence, ListRef
from bourse.events import (
    AccountFrozen,
    AnyEvent,
    CommandRejected,
    ScreeningAlertDecided,
    ScreeningAlertRaised,
    WithdrawalFailed,
    WithdrawalRequested,
)
from bourse.store import migrate, schema
from bourse.store import screening_queries as sq
from bourse.store.db import create_store_engine
from bourse.store.projector import ProjectionError, Projector
from tests.builders import ACTOR, REASON, Runner, of, onboard, one, raw, world

from .builders import Tape, dump, outcomes_of, split

SDN1, SDN2, UN1 = "a1" * 32, "a2" * 32, "b1" * 32
SDN1_LISTS = (
    ListRef(source="ofac_sdn", list_sha256=SDN1),
    ListRef(source="un_sc", list_sha256=UN1),
)
SDN2_LISTS = (
    ListRef(source="ofac_sdn", list_sha256=SDN2),
    ListRef(source="un_sc", list_sha256=UN1),
)
PAYEE = "Banco Nacional de Cuba"
SCREENING_TABLES = {"screening_alerts", "rescreens", "rescreen_lists", "sanctions_list_versions"}


def evidence(entry_id: str, name: str, source: str = "ofac_sdn", sha: str = SDN1) -> Evidence:
    return Evidence(
        source=source,
        list_sha256=sha,
        entry_id=entry_id,
        listed_name=name,
        score_bp=9_400 + len(name),  # a different score per entry
        explanation=f"{name.casefold()} ~ query",
        entry_fingerprint=f"fp-{entry_id}",
    )


BADEGE = evidence("15718", "BADEGE, Eric")
BANK = evidence("9647", "BANCO NACIONAL DE CUBA")
BANK_ALIAS = evidence("9648", "NATIONAL BANK OF CUBA")
UN_ENTRY = evidence("QDi.001", "SCHMIDT, Anna", source="un_sc", sha=UN1)


class Story:
    """What `scenario` did, for the expected rows: customer ids, alert ids, seqs."""

    def __init__(self, r: Runner) -> None:
        self.r = r
        self.seq: dict[str, int] = {}
        self.cust: dict[str, int] = {}
        self.withdrawal = 0

    def do(self, label: str, cls: type[Command], **fields: Any) -> list[AnyEvent]:
        events = self.r.do(cls, **fields)
        assert not of(events, CommandRejected), events
        self.seq[label] = len(self.r.commands)
        return events

    def ts(self, label: str) -> int:
        return self.r.commands[self.seq[label] - 1].ts_ms


def scenario() -> Story:
    """Two list versions of ofac_sdn and one of un_sc given to the engine; Erik's hit confirmed
    (frozen) and, once the entry left the list, a delisting review left open; Eric's dismissed;
    Anna's payment to a listed bank held by two reviews, one dismissed, one confirmed (it fails);
    a UN hit on Anna left open; a full rescreen, then an incremental one."""
    st = Story(world(accounts=1))
    r = st.r
    r.do(CreateAsset, asset="EUR", precision=8, fiat=True)
    listed = tuple(ListedAddress(address=f"bc1qlisted{n}", entry_id="15718") for n in range(2))
    st.do("sdn1", SetSanctionedAddresses, source="ofac_sdn", list_sha256=SDN1, addresses=listed)
    st.do("un1", SetSanctionedAddresses, source="un_sc", list_sha256=UN1, addresses=())
    for key, name, country in [
        ("erik", "Erik Badege", "CD"),
        ("eric", "Eric Badeg", "CD"),
        ("anna", "Anna Schmidt", "DE"),
    ]:
        st.cust[key], _ = onboard(r, country, name=name)
    st.do("raise1", RaiseScreeningAlert, customer_id=st.cust["erik"], evidence=BADEGE)
    st.do("raise2", RaiseScreeningAlert, customer_id=st.cust["eric"], evidence=BADEGE)
    st.do("full", RecordRescreen, lists=SDN1_LISTS, matcher="m1", customers=3, mode="full")
    frozen = st.do("confirm1", ConfirmScreeningAlert, alert_id=1, reason="same person: DOB")
    assert of(frozen, AccountFrozen)
    st.do("dismiss2", DismissScreeningAlert, alert_id=2, reason="different person: born 1985")

    anna_account = r.state.customers[st.cust["anna"]].accounts[0]
    r.deposit(anna_account, "EUR", "1000")
    screening = BeneficiaryScreening(lists=SDN1_LISTS, hits=(BANK, BANK_ALIAS))
    held = st.do(
        "pay",
        RequestWithdrawal,
        account_id=anna_account,
        asset="EUR",
        amount_raw=raw("100"),
        destination="DE89370400440532013000",
        beneficiary=PAYEE,
        screening=screening,
    )
    requested = one(held, WithdrawalRequested)
    assert requested.held_by == (3, 4)
    st.withdrawal = requested.withdrawal_id

    st.do("sdn2", SetSanctionedAddresses, source="ofac_sdn", list_sha256=SDN2, addresses=())
    st.do("delist", RaiseDelistingReview, alert_id=1, list_sha256=SDN2)
    st.do("dismiss4", DismissScreeningAlert, alert_id=4, reason="another bank of that name")
    failed = st.do("confirm3", ConfirmScreeningAlert, alert_id=3, reason="the listed bank")
    assert one(failed, WithdrawalFailed).withdrawal_id == st.withdrawal
    st.do("raise6", RaiseScreeningAlert, customer_id=st.cust["anna"], evidence=UN_ENTRY)
    st.do("incr", RecordRescreen, lists=SDN2_LISTS, matcher="m1", customers=3, mode="incremental")
    raised = [e for events in r.events for e in of(events, ScreeningAlertRaised)]
    assert [a.alert_id for a in raised] == [1, 2, 3, 4, 5, 6]
    assert len([e for events in r.events for e in of(events, ScreeningAlertDecided)]) == 4
    return st


def rows(p: Projector, table: sa.Table) -> list[tuple[Any, ...]]:
    with p.engine.connect() as conn:
        stmt = sa.select(table).order_by(*table.primary_key.columns)
        return [tuple(row) for row in conn.execute(stmt)]


def alert_row(
    st: Story, alert_id: int, raised: str, customer: str, kind: str, ev: Evidence, **more: Any
) -> tuple[Any, ...]:
    """A screening_alerts row as `scenario` should leave it."""
    decided = more.get("decided")
    decision = (None,) * 5
    if decided is not None:
        label, verdict, reason = decided
        decision = (verdict, ACTOR, reason, st.seq[label], st.ts(label))
    return (
        alert_id,
        st.seq[raised],
        st.ts(raised),
        st.cust[customer],
        kind,
        ev.source,
        ev.list_sha256,
        ev.entry_id,
        ev.listed_name,
        ev.score_bp,
        ev.explanation,
        ev.entry_fingerprint,
        more.get("reviews", 0),
        more.get("withdrawal", 0),
        more.get("payee", ""),
        *decision,
        *more.get("approval", (None, None)),  # approved by, and why: decided under four eyes
    )


def test_alerts_carry_their_evidence_decision_and_payee(projector: Projector) -> None:
    st = scenario()
    projector.apply(outcomes_of(st.r))
    w = st.withdrawal
    assert rows(projector, schema.screening_alerts) == [
        alert_row(
            st,
            1,
            "raise1",
            "erik",
            "hit",
            BADEGE,
            decided=("confirm1", "confirmed", "same person: DOB"),
        ),
        alert_row(
            st,
            2,
            "raise2",
            "eric",
            "hit",
            BADEGE,
            decided=("dismiss2", "dismissed", "different person: born 1985"),
        ),
        alert_row(
            st,
            3,
            "pay",
            "anna",
            "beneficiary",
            BANK,
            withdrawal=w,
            payee=PAYEE,
            decided=("confirm3", "confirmed", "the listed bank"),
        ),
        alert_row(
            st,
            4,
            "pay",
            "anna",
            "beneficiary",
            BANK_ALIAS,
            withdrawal=w,
            payee=PAYEE,
            decided=("dismiss4", "dismissed", "another bank of that name"),
        ),
        # the review cites the version the entry is absent from
        alert_row(
            st,
            5,
            "delist",
            "erik",
            "delisting",
            msgspec.structs.replace(BADEGE, list_sha256=SDN2),
            reviews=1,
        ),
        alert_row(st, 6, "raise6", "anna", "hit", UN_ENTRY),
    ]


def test_rescreens_and_the_list_versions_given_to_the_engine(projector: Projector) -> None:
    st = scenario()
    projector.apply(outcomes_of(st.r))
    full, incr = st.seq["full"], st.seq["incr"]
    assert rows(projector, schema.rescreens) == [
        (full, st.ts("full"), "m1", 3, "full"),
        (incr, st.ts("incr"), "m1", 3, "incremental"),
    ]
    assert rows(projector, schema.rescreen_lists) == [
        (full, 0, "ofac_sdn", SDN1),
        (full, 1, "un_sc", UN1),
        (incr, 0, "ofac_sdn", SDN2),
        (incr, 1, "un_sc", UN1),
    ]
    assert rows(projector, schema.sanctions_list_versions) == [
        (st.seq["sdn1"], st.ts("sdn1"), "ofac_sdn", SDN1, 2),
        (st.seq["un1"], st.ts("un1"), "un_sc", UN1, 0),
        (st.seq["sdn2"], st.ts("sdn2"), "ofac_sdn", SDN2, 0),
    ]


def test_any_batching_gives_the_same_screening_rows(projector: Projector) -> None:
    """Decisions on alerts of earlier batches (patches) or of the same batch (folded in)."""
    outcomes = outcomes_of(scenario().r)
    projector.apply(outcomes)
    expected = dump(projector.engine)
    assert len(expected["screening_alerts"]) == 6 and len(expected["rescreen_lists"]) == 4
    for sizes in ([1], [2, 5], [len(outcomes) - 3]):
        projector.reset()
        for batch in split(outcomes, sizes):
            projector.apply(batch)
        assert dump(projector.engine) == expected, f"batches of {sizes}"
    projector.apply(outcomes)  # a replay of what it already has changes nothing
    assert dump(projector.engine) == expected


def test_a_decision_on_an_alert_the_store_never_saw_writes_nothing(projector: Projector) -> None:
    tape = Tape()
    projector.apply([tape("Deposit")])
    before = dump(projector.engine)
    decided = ScreeningAlertDecided(
        alert_id=404, customer_id=1, decision="dismissed", actor=ACTOR, reason=REASON
    )
    with pytest.raises(ProjectionError, match="screening_alerts row 404"):
        projector.apply([tape("DismissScreeningAlert", decided)])
    assert dump(projector.engine) == before and projector.last_seq() == 1


def test_the_alerts_page_filters_by_status_and_kind_and_pages_by_id(
    projector: Projector,
) -> None:
    st = scenario()
    projector.apply(outcomes_of(st.r))
    with projector.engine.connect() as conn:

        def ids(**query: Any) -> tuple[list[int], int]:
            page = sq.alerts_page(conn, **query)
            return [a["alertId"] for a in page["alerts"]], page["nextFromId"]

        assert ids() == ([1, 2, 3, 4, 5, 6], 0)
        assert ids(status="open") == ([5, 6], 0)
        assert ids(status="confirmed") == ([1, 3], 0)
        assert ids(status="dismissed", kind="beneficiary") == ([4], 0)
        assert ids(kind="delisting") == ([5], 0)
        assert ids(kind="hit", limit=2) == ([1, 2], 6)
        assert ids(kind="hit", from_id=6) == ([6], 0)
        assert ids(limit=3, from_id=2) == ([2, 3, 4], 5)
        assert ids(from_id=7) == ([], 0)
        for bad, message in [
            ({"status": "closed"}, "status 'closed' is not one of open, confirmed, dismissed"),
            ({"kind": "pep"}, "kind 'pep' is not one of hit, delisting, beneficiary"),
            ({"limit": 5001}, "limit 5001 is not between 1 and 5000"),
            ({"from_id": 0}, "fromId 0 is not an alert id"),
        ]:
            with pytest.raises(ValueError, match=message):
                sq.alerts_page(conn, **bad)
        payee, review = sq.alerts_page(conn, from_id=3, limit=3)["alerts"][::2]
    assert payee == {
        "alertId": 3,
        "kind": "beneficiary",
        "reviewsAlert": 0,
        "withdrawalId": st.withdrawal,
        "beneficiary": PAYEE,
        "status": "confirmed",
        "customerId": st.cust["anna"],
        "customerName": "Anna Schmidt",
        "score": "0.94",
        "raisedSeq": st.seq["pay"],
        "raisedMs": st.ts("pay"),
        "raised": "2023-11-14 22:13:20 UTC",  # T0 plus some milliseconds
        "evidence": {
            "source": "ofac_sdn",
            "listSha256": SDN1,
            "entryId": "9647",
            "listedName": "BANCO NACIONAL DE CUBA",
            "scoreBp": BANK.score_bp,
            "explanation": BANK.explanation,
            "entryFingerprint": "fp-9647",
            "text": BANK.text(),
        },
        "decision": {
            "decision": "confirmed",
            "actor": ACTOR,
            "reason": "the listed bank",
            "seq": st.seq["confirm3"],
            "decidedMs": st.ts("confirm3"),
            "decided": "2023-11-14 22:13:20 UTC",
            "approvedBy": None,  # decided by one person: four eyes were off
            "approvalReason": None,
        },
    }
    assert (review["alertId"], review["kind"], review["reviewsAlert"]) == (5, "delisting", 1)
    assert (review["status"], review["decision"], review["beneficiary"]) == ("open", None, "")
    assert review["evidence"]["listSha256"] == SDN2


def test_a_customers_alerts_and_an_entrys_alerts(projector: Projector) -> None:
    st = scenario()
    projector.apply(outcomes_of(st.r))
    with projector.engine.connect() as conn:
        erik = sq.customer_alerts(conn, st.cust["erik"])
        anna = sq.customer_alerts(conn, st.cust["anna"], limit=2)
        badege = sq.entry_alerts(conn, "ofac_sdn", "15718")
        assert sq.customer_alerts(conn, 999) == []
        assert sq.entry_alerts(conn, "un_sc", "15718") == []  # an entry id is per list
    assert [(a["alertId"], a["kind"], a["status"]) for a in erik] == [
        (1, "hit", "confirmed"),
        (5, "delisting", "open"),
    ]
    assert [a["alertId"] for a in anna] == [3, 4]
    assert [(a["alertId"], a["customerName"], a["status"]) for a in badege] == [
        (1, "Erik Badege", "confirmed"),
        (2, "Eric Badeg", "dismissed"),
        (5, "Erik Badege", "open"),
    ]
    dismissed = badege[1]["decision"]
    assert (dismissed["actor"], dismissed["reason"]) == (ACTOR, "different person: born 1985")


def test_the_rescreen_history_and_the_list_versions(projector: Projector) -> None:
    st = scenario()
    projector.apply(outcomes_of(st.r))
    with projector.engine.connect() as conn:
        history = sq.rescreen_history(conn)
        older = sq.rescreen_history(conn, before_seq=st.seq["incr"])
        assert sq.rescreen_history(conn, before_seq=st.seq["full"]) == []
        versions = sq.list_versions(conn)
        sdn = sq.list_versions(conn, "ofac_sdn", limit=1)
        with pytest.raises(ValueError, match="limit 0 is not between 1 and 1000"):
            sq.rescreen_history(conn, limit=0)
    assert [(h["seq"], h["mode"], h["matcher"], h["customers"]) for h in history] == [
        (st.seq["incr"], "incremental", "m1", 3),
        (st.seq["full"], "full", "m1", 3),
    ]
    assert history[0]["lists"] == [
        {"source": "ofac_sdn", "listSha256": SDN2},
        {"source": "un_sc", "listSha256": UN1},
    ]
    assert history[0]["rescreenedMs"] == st.ts("incr") and older == history[1:]
    assert [(v["source"], v["listSha256"], v["addresses"]) for v in versions] == [
        ("ofac_sdn", SDN2, 0),
        ("un_sc", UN1, 0),
        ("ofac_sdn", SDN1, 2),
    ]
    assert sdn == versions[:1] and sdn[0]["setMs"] == st.ts("sdn2")


def test_the_screening_migration_downgrades_and_upgrades_again(store_url: str) -> None:
    migrate.upgrade(store_url)
    engine = create_store_engine(store_url)
    cfg = migrate._config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
        later = SCREENING_TABLES | {"customer_history", "withdrawals"}  # 0003's, and 0004's
        assert tables == set(schema.metadata.tables) - later | {"alembic_version"}
        assert migrate.current_revision(store_url) == "0002"
        migrate.upgrade(store_url)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
    finally:
        engine.dispose()
    assert migrate.current_revision(store_url) == migrate.head_revision() == "0004"
