"""Each signed tree head is published on NATS (the machine's server at 127.0.0.1:4222) as it is
written to heads.jsonl, from the audit process as the server keeps it; a NATS that is not there
leaves the file as the record and changes nothing else."""

import asyncio
import json
import os
import socket
from pathlib import Path

import pytest
from tests.audit.conftest import trade

from bourse.audit.publish import SUBJECT
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange

NATS = "nats://127.0.0.1:4222"


def _reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 4222), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def nats_url() -> str:
    if not _reachable():
        if os.environ.get("CI"):
            pytest.fail("NATS is not running at 127.0.0.1:4222 (CI runs it)")
        pytest.skip("no NATS server at 127.0.0.1:4222: the heads are in heads.jsonl only")
    return NATS


def test_every_signed_head_is_published_on_the_subject(tmp_path: Path, nats_url: str) -> None:
    import nats

    async def scenario() -> list[dict]:
        nc = await nats.connect(nats_url)
        received: asyncio.Queue[dict] = asyncio.Queue()

        async def keep(msg) -> None:  # type: ignore[no-untyped-def]
            await received.put(json.loads(msg.data))

        await nc.subscribe(SUBJECT, cb=keep)
        await nc.flush()
        heads = await asyncio.to_thread(run_exchange)
        got = [await asyncio.wait_for(received.get(), 10) for _ in heads]
        await nc.close()
        assert got == heads
        return got

    def run_exchange() -> list[dict]:
        exchange = Exchange(
            DataDir(tmp_path / "data"), audit=True, audit_process=True, audit_heads_to=nats_url
        )
        assert exchange.audit is not None
        first = exchange.audit.sign_head()
        trade(exchange, 10)
        second = exchange.audit.sign_head()
        exchange.close()  # nothing new since: no third head
        assert first is not None and second is not None
        return [first, second]

    heads = asyncio.run(scenario())
    kept = [
        json.loads(line) for line in (tmp_path / "data/audit/heads.jsonl").read_text().splitlines()
    ]
    assert kept == heads


def test_no_nats_leaves_the_file_as_the_record(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exchange = Exchange(
        DataDir(tmp_path / "data"), audit=True, audit_heads_to=f"nats://127.0.0.1:{port}"
    )
    assert exchange.audit is not None
    head = exchange.audit.sign_head()
    exchange.close()
    assert head is not None
    kept = (tmp_path / "data/audit/heads.jsonl").read_text().splitlines()
    assert json.loads(kept[0]) == head
