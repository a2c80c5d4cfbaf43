"""Failover on a journal on NATS JetStream: `kill -9` the writing engine under a load of signed
orders, again and again; the standby takes over, and every order ever acknowledged is there.

Two engines (each its own data directory, the same master.key) share one stream: one writes,
the other runs `--standby`. Clients place orders with unique client ids against the writer; when
it dies they go to the other, as through a load balancer. After each takeover the killed one
comes back as the standby. At the end: every acknowledged order is found with the id it was
given, no order id was given twice, and the last writer's state digest is that of a replay of
the stream from empty (`bourse replay --journal`).
"""

import contextlib
import json
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from bourse.bench.failover_bench import Trader, Traders, open_orders, share_secrets
from tests.natsd import NatsCluster, machine_nats
from tests.net import http
from tests.server.server import Server, run_cli

pytestmark = pytest.mark.slow
TAKEOVERS = 2
ENGINE = ("--no-rate-limits", "--journal")  # then the stream


@pytest.fixture(params=["R1 on the machine's server", "R3 on a three-node cluster"])
def journal(request: pytest.FixtureRequest) -> str:
    stream = f"FAILOVER{uuid.uuid4().hex[:8]}"
    if request.param.startswith("R1"):
        return f"{machine_nats()}/{stream}"
    cluster = NatsCluster(3)
    request.addfinalizer(cluster.stop)
    return f"nats://{cluster.servers}/{stream}?replicas=3"


def test_kill_9_the_writer_repeatedly_loses_no_acknowledged_order(
    tmp_path: Path, journal: str
) -> None:
    homes = [tmp_path / "a", tmp_path / "b"]
    writer = Server(homes[0], *ENGINE, journal)
    share_secrets(homes[0], homes[1])
    standby = Server(homes[1], *ENGINE, journal, "--standby", wait=False)
    key = json.loads((homes[0] / "demo-api-key.json").read_text())
    traders = Traders(key, [writer.url, standby.url])
    try:
        for _ in range(TAKEOVERS):
            traders.wait_for(200, 60)
            writer.kill()  # under load: four traders with orders in flight
            killed_at = time.monotonic()
            standby.wait_ready(timeout=30)
            took = time.monotonic() - killed_at
            assert took < 15, f"the standby took {took:.1f} s to serve"
            traders.wait_for(50, 30)  # on the new writer
            # the killed engine comes back as the standby of the new writer
            killed = writer
            writer = standby
            standby = Server(killed.data_dir, *ENGINE, journal, "--standby", wait=False)
            traders.point_at([writer.url, standby.url])
    except BaseException:
        writer.kill()
        standby.kill()
        raise
    finally:
        traders.stop()
    assert not traders.errors()

    acked = traders.acked()
    assert len(set(acked.values())) == len(acked), "an order id was given twice"
    opened = open_orders(writer.url, key)
    state = http.get(f"{writer.url}/admin/v1/state", headers=writer.headers).json()
    found = {o["clientOrderId"]: o["orderId"] for o in opened}
    lost = {cid for cid in acked if found.get(cid) != acked[cid]}
    assert not lost, f"{len(lost)} acknowledged orders are gone after takeover: {sorted(lost)[:5]}"
    unknown = traders.unknown()
    assert set(found) <= set(acked) | unknown  # nothing placed that nobody sent
    writer.stop()
    standby.kill()
    replayed = run_cli("replay", "--journal", journal.split("?")[0])
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["digest"] == state["digest"]


def test_a_second_writer_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    journal = f"{machine_nats()}/FENCE{uuid.uuid4().hex[:8]}"
    writer = Server(tmp_path / "a", *ENGINE, journal)
    try:
        before = http.get(f"{writer.url}/admin/v1/state", headers=writer.headers).json()
        share_secrets(tmp_path / "a", tmp_path / "b")
        second = run_cli(
            "run", "--data-dir", str(tmp_path / "b"), "--port", "1", *ENGINE, journal
        )  # fmt: skip
        assert second.returncode == 2
        assert "writes this journal" in second.stderr and "--standby" in second.stderr
        after = http.get(f"{writer.url}/admin/v1/state", headers=writer.headers).json()
        assert after == before
        key = json.loads((tmp_path / "a" / "demo-api-key.json").read_text())
        with httpx.Client() as client:
            r = Trader(key, [writer.url]).place(client, writer.url, "after-refusal")
        assert r.status_code == 200, r.text  # the writer goes on
    finally:
        writer.stop()
    replayed = run_cli("replay", "--journal", journal)
    assert json.loads(replayed.stdout)["commands"] == before["last_seq"] + 1


def test_a_writer_cut_off_cannot_write_when_it_returns(tmp_path: Path) -> None:
    """The writer is frozen (SIGSTOP: alive, silent, as behind a partition) with an order on its
    way to it; the standby takes over and trades. Let go again, the old writer records nothing:
    the order it had is answered as not recorded (or, if it stopped before taking the request
    in, the connection is closed unanswered), and it stops, saying who writes now."""
    journal = f"{machine_nats()}/PARTITION{uuid.uuid4().hex[:8]}"
    old = Server(tmp_path / "a", *ENGINE, journal)
    share_secrets(tmp_path / "a", tmp_path / "b")
    new = Server(tmp_path / "b", *ENGINE, journal, "--standby", wait=False)
    key = json.loads((tmp_path / "a" / "demo-api-key.json").read_text())
    try:
        trader = Trader(key, [old.url])
        with httpx.Client(timeout=30) as client:
            assert trader.place(client, old.url, "before").status_code == 200
        old.proc.send_signal(signal.SIGSTOP)
        answer: list[httpx.Response] = []
        reset: list[httpx.HTTPError] = []

        def send_late() -> None:
            with httpx.Client(timeout=60) as client:
                try:
                    # valid for a minute: the engine, not the clock, must refuse it
                    response = trader.place(client, old.url, "sent-to-the-old-writer", 60_000)
                    answer.append(response)
                except httpx.HTTPError as exc:  # it stopped before it took the request in
                    reset.append(exc)

        late = threading.Thread(target=send_late)
        late.start()
        new.wait_ready(timeout=30)
        with httpx.Client(timeout=30) as client:
            for i in range(20):
                assert trader.place(client, new.url, f"new-{i}").status_code == 200
        old.proc.send_signal(signal.SIGCONT)
        late.join(timeout=60)
        assert old.proc.wait(timeout=60) == 3
        assert answer or reset, "the order sent to the old writer was never answered"
        if answer:  # it took the request in: refused, as never recorded
            assert answer[0].status_code == 503, answer[0].text
            assert "not recorded" in answer[0].json()["msg"]
        assert "start it again with --standby" in old.output()
        ids = {o["clientOrderId"] for o in open_orders(new.url, key)}
        assert ids == {"before", *(f"new-{i}" for i in range(20))}
    finally:
        with contextlib.suppress(Exception):
            old.proc.send_signal(signal.SIGCONT)
        old.kill()
        new.stop()


def test_a_standby_without_the_writers_secrets_refuses_to_start(tmp_path: Path) -> None:
    """Found out at start, not at a takeover: the API keys' master key, the audit log's keys."""
    journal = f"{machine_nats()}/SECRETS{uuid.uuid4().hex[:8]}"
    writer = Server(tmp_path / "a", *ENGINE, journal)
    try:
        bare = run_cli("run", "--data-dir", str(tmp_path / "b"), *ENGINE, journal, "--standby")
        assert bare.returncode == 2
        assert "copy master.key" in bare.stderr
        (tmp_path / "c").mkdir(mode=0o700)
        for name in ("master.key", "operator.token"):  # but not audit/keys/
            shutil.copy(tmp_path / "a" / name, tmp_path / "c" / name)
        keyless = run_cli("run", "--data-dir", str(tmp_path / "c"), *ENGINE, journal, "--standby")
        assert keyless.returncode == 2
        assert "copy audit/keys/" in keyless.stderr
    finally:
        writer.stop()
