"""Four eyes as a new `bourse run` has them, through the CLI: the demo's two officers, a deposit
and a forced list version that wait for the second one, and the operator token that proposes
but never approves."""

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bourse.bench.screening_bench import DATA
from bourse.compliance.sanctions.versions import ListStore
from tests.net import http
from tests.server.server import Server, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("four-eyes") / "data", four_eyes=True)
    try:
        yield s
    finally:
        s.stop()


def bourse(server: Server, *args: str) -> Any:
    done = run_cli(*args, "--data-dir", str(server.data_dir))
    assert done.returncode == 0, done.stderr
    return done


def tokens(server: Server) -> dict[str, str]:
    staff: dict[str, str] = json.loads((server.data_dir / "demo-staff.json").read_text())
    return staff


def test_a_new_server_has_four_eyes_and_two_demo_officers(server: Server) -> None:
    assert "four eyes       set now: 21 command types" in server.output()
    assert "demo.officer" in server.output() and "demo.senior" in server.output()
    shown = json.loads(bourse(server, "four-eyes", "show", "--json").stdout)
    assert {"Deposit", "FreezeAccount", "SetFourEyes", "ForceListVersion"} <= set(shown)


def test_a_deposit_proposed_by_the_operator_runs_once_the_senior_officer_approves(
    server: Server,
) -> None:
    before = _free(server, "USDT")
    done = bourse(server, "accounts", "deposit", "--account", "1", "--deposit", "USDT=250",
                  "--reason", "wire 9001", "--json")  # fmt: skip
    [proposal] = json.loads(done.stdout)["proposed"]
    assert json.loads(done.stdout)["credited"] == []
    assert "proposed: Deposit needs a second person's approval" in " ".join(done.stderr.split())
    assert _free(server, "USDT") == before
    refused = run_cli("proposals", "approve", str(proposal["proposalId"]), "--reason", "me",
                      "--data-dir", str(server.data_dir))  # fmt: skip
    assert refused.returncode == 1 and "a second person" in " ".join(refused.stderr.split())
    senior = tokens(server)["demo.senior"]
    bourse(server, "proposals", "approve", str(proposal["proposalId"]), "--reason", "wire seen",
           "--token", senior)  # fmt: skip
    assert _free(server, "USDT") == before + 250


def test_a_list_version_is_forced_only_once_a_second_person_approved_it(
    server: Server, tmp_path: Path
) -> None:
    bourse(server, "lists", "load", "ofac_sdn", str(DATA / "ofac_sdn_2021-08-18.csv"))
    full = ListStore(server.data_dir).in_force("ofac_sdn")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    why = "OFAC ended the program (test)"
    done = bourse(server, "lists", "load", "ofac_sdn", str(empty), "--force", "--reason", why)
    proposal = json.loads(done.stdout)["proposal"]
    assert proposal["type"] == "ForceListVersion" and proposal["proposer"] == "operator"
    assert "run this same `bourse lists load ... --force` again" in " ".join(done.stderr.split())
    assert ListStore(server.data_dir).in_force("ofac_sdn") == full  # nothing changed yet
    senior = tokens(server)["demo.senior"]
    approved = bourse(server, "proposals", "approve", str(proposal["proposalId"]), "--reason",
                      "notice checked", "--token", senior, "--json")  # fmt: skip
    seq = json.loads(approved.stdout)["seq"]
    again = bourse(server, "lists", "load", "ofac_sdn", str(empty), "--force", "--reason", why,
                   "--json")  # fmt: skip
    forced = json.loads(again.stdout)["forced"]
    assert forced["seq"] == seq and forced["by"] == "operator"
    in_force = ListStore(server.data_dir).in_force("ofac_sdn")
    assert in_force is not None and in_force.entries == 0
    # the decision was used: forcing the same version again later is a new proposal
    bourse(server, "lists", "load", "ofac_sdn", str(DATA / "ofac_sdn_2021-08-18.csv"))
    later = bourse(server, "lists", "load", "ofac_sdn", str(empty), "--force", "--reason", why)
    assert json.loads(later.stdout)["proposal"]["proposalId"] > proposal["proposalId"]


def _free(server: Server, asset: str) -> Decimal:
    account = http.get(f"{server.url}/admin/v1/accounts/1", headers=server.headers).json()
    return Decimal(next(b["free"] for b in account["balances"] if b["asset"] == asset))


def test_work_is_assigned_only_to_someone_who_can_decide_it(server: Server) -> None:
    done = bourse(server, "accounts", "deposit", "--account", "1", "--deposit", "ETH=1",
                  "--reason", "wire 9002", "--json")  # fmt: skip
    [proposal] = json.loads(done.stdout)["proposed"]
    item = f"proposal:{proposal['proposalId']}"
    refused = run_cli("staff", "assign", item, "--to", "staff:demo.officer", "--reason", "x",
                      "--data-dir", str(server.data_dir))  # fmt: skip
    assert refused.returncode == 1 and "no one entitled" in " ".join(refused.stderr.split())
    bourse(server, "staff", "assign", item, "--to", "staff:demo.senior", "--reason", "deposits")
    listed = json.loads(bourse(server, "proposals", "list", "--json").stdout)
    owner = [p["owner"] for p in listed if p["proposalId"] == proposal["proposalId"]]
    assert owner == ["staff:demo.senior"]


def test_people_leave_together_as_previewed(server: Server) -> None:
    senior = tokens(server)["demo.senior"]
    for name in ("tmp.one", "tmp.two"):
        added = bourse(server, "staff", "add", name, "--role", "support", "--reason", "temp")
        pid = json.loads(added.stdout)["proposal"]["proposalId"]
        bourse(server, "proposals", "approve", str(pid), "--reason", "ok", "--token", senior)
    preview = json.loads(
        bourse(server, "staff", "offboard-many", "tmp.one", "tmp.two", "--json").stdout
    )
    assert preview["refused"] is False and preview["moves"] == []
    shown = bourse(server, "staff", "offboard-many", "tmp.one", "tmp.two").stdout
    assert f"--preview-id {preview['previewId']}" in " ".join(shown.split())
    bourse(server, "staff", "offboard-many", "tmp.one", "tmp.two", "--preview-id",
           preview["previewId"], "--reason", "temporary contract ended")  # fmt: skip
    listed = {
        m["name"]: m["active"] for m in json.loads(bourse(server, "staff", "list", "--json").stdout)
    }
    assert listed["tmp.one"] is False and listed["tmp.two"] is False
