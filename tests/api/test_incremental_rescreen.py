"""A rescreen of everyone after a new list version screens only the entries it adds or changes,
when the last rescreen used the same matcher and the previous version: the same alerts as a full
rescreen, at a fraction of the work. A matcher change or `full` screens the whole index."""

import os
from pathlib import Path

import pytest

from bourse.commands import RecordRescreen
from bourse.compliance.evidence import ListRef
from bourse.compliance.sanctions.matching import bulk
from bourse.compliance.sanctions.versions import ListSourceError, ListStore
from bourse.server.exchange import now_ms
from bourse.workers import rescreen as rescreen_module
from tests.api.conftest import Api
from tests.api.test_screening_flow import (
    NEW_ROW,
    SDN,
    answered,
    call,
    load,
    onboard,
    rescreen,
)

CHANGED_ID = "6334"  # NASSER ARANA, Claudia Patricia: renamed in the new version
OLD_ROW = b'6334,"NASSER ARANA, Claudia Patricia","individual"'
NEW_NAME = b'6334,"ACHTERBERG, Jonas Pieter","individual"'
OLD_DOB, NEW_DOB = (
    b'"DOB 23 Jan 1966; alt. DOB 23 Jan 1963;',
    b'"DOB 14 Mar 1980;',
)  # the DOB onboard gives


def second_version(tmp_path: Path) -> Path:
    """The 2021-08-18 file with one entry renamed and one added (NEW_ROW: BAUMANN)."""
    data = SDN.read_bytes()
    assert data.count(OLD_ROW) == data.count(OLD_DOB) == 1
    data = data.replace(OLD_ROW, NEW_NAME).replace(OLD_DOB, NEW_DOB)
    path = tmp_path / "sdn-next.csv"
    path.write_bytes(data[:-1] + NEW_ROW.encode() + b"\r\n\x1a")
    return path


def open_alerts(api: Api) -> list[tuple[str, str]]:
    alerts = answered(call(api, "GET", "/alerts", params={"status": "open"}))["alerts"]
    return sorted((a["customerName"], a["evidence"]["entryId"]) for a in alerts)


def test_a_new_version_is_screened_incrementally_with_the_alerts_a_full_rescreen_gives(
    api: Api, tmp_path: Path
) -> None:
    for name in ("Wolfgang Reinholt Baumann", "Jonas Pieter Achterberg", "Marta Kowalska"):
        onboard(api, name)
    load(api, SDN, "2021-08-18")
    first = rescreen(api)
    assert first["mode"] == "full" and first["alertsRaised"] == []
    assert first["entriesScreened"] > 5000

    sha = load(api, second_version(tmp_path), "2021-09-01")
    second = rescreen(api)
    assert (second["mode"], second["entriesScreened"]) == ("incremental", 2)
    assert second["screened"] == first["screened"] and len(second["alertsRaised"]) == 2
    assert open_alerts(api) == [
        ("Jonas Pieter Achterberg", CHANGED_ID),
        ("Wolfgang Reinholt Baumann", "99001"),
    ]
    alerts = answered(call(api, "GET", "/alerts"))["alerts"]
    assert {a["evidence"]["listSha256"] for a in alerts} == {sha}

    full = answered(call(api, "POST", "/screening/rescreen", params={"full": "true"}))
    assert full["mode"] == "full" and full["alertsRaised"] == []  # nothing the increment missed

    again = rescreen(api)
    assert (again["mode"], again["screened"], again["alertsRaised"]) == ("unchanged", 0, [])


def test_a_customer_renamed_to_a_listed_name_is_screened_at_once(api: Api) -> None:
    customer = onboard(api, "Marta Kowalska")
    load(api, SDN, "2021-08-18")
    rescreen(api)
    body = {"legal_name": "Vicente de Jesus Lopera Londono", "reason": "name corrected"}
    updated = answered(call(api, "PATCH", f"/customers/{customer['customerId']}", body))
    assert len(updated["screening"]["alerts"]) == 1
    assert open_alerts(api) == [("Vicente de Jesus Lopera Londono", "4384")]  # listed, no DOB


def test_another_matcher_rescreens_in_full(api: Api, tmp_path: Path) -> None:
    onboard(api, "Wolfgang Reinholt Baumann")
    load(api, SDN, "2021-08-18")
    rescreen(api)
    record = RecordRescreen(  # the system's own record (not an admin command: no /commands)
        actor="system:screening",
        ts_ms=now_ms(),
        lists=(ListRef(source="ofac_sdn", list_sha256="00" * 32),),
        matcher="an earlier matcher",
        customers=1,
        mode="full",
    )
    outcome = api.client.portal.call(api.service.execute, record)  # type: ignore[union-attr]
    assert not outcome.refused
    load(api, second_version(tmp_path), "2021-09-01")
    report = rescreen(api)
    assert report["mode"] == "full" and len(report["alertsRaised"]) == 1


def test_the_review_threshold_is_configuration_and_a_new_one_rescreens_in_full(
    api: Api, tmp_path: Path
) -> None:
    store = ListStore(api.exchange.data_dir.path)
    assert store.review_threshold() == 0.70  # the default
    onboard(api, "Wolfgang Reinhold Baumann")  # 0.93 against BAUMANN, +0.05 for the same DOB
    load(api, second_version(tmp_path), "2021-09-01")
    store.set_review_threshold(0.99)
    strict = rescreen(api)
    assert strict["mode"] == "full" and strict["alertsRaised"] == []
    store.set_review_threshold(0.90)
    loose = rescreen(api)  # same list version, new threshold: everyone again, in full
    assert loose["mode"] == "full" and len(loose["alertsRaised"]) == 1
    records = [e for e in api.exchange.engine.state.screened_matcher.split(";") if "threshold" in e]
    assert records == ["review threshold 0.9000"]
    answer = answered(call(api, "POST", "/screen", {"queries": [{"name": "Wolfgang Baumann"}]}))
    assert answer["threshold"] == "0.90" and answer["results"][0]["hits"]
    for bad in (0.4, 1.5):
        with pytest.raises(ListSourceError, match=r"not between 0\.5 and 1"):
            store.set_review_threshold(bad)
    assert store.review_threshold() == 0.90


def test_a_full_rescreen_in_worker_processes_raises_the_same_alerts(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("Wolfgang Reinholt Baumann", "Jonas Pieter Achterberg", "Marta Kowalska"):
        onboard(api, name)
    load(api, second_version(tmp_path), "2021-09-01")
    monkeypatch.setattr(rescreen_module, "MIN_PER_WORKER", 1)  # workers even for 5 customers
    assert bulk.workers_for(5, None, 1) == min(2, os.cpu_count() or 1)
    report = rescreen(api)
    assert report["mode"] == "full" and report["screened"] == 5
    assert open_alerts(api) == [
        ("Jonas Pieter Achterberg", CHANGED_ID),
        ("Wolfgang Reinholt Baumann", "99001"),
    ]
