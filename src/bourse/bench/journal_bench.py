"""`bourse bench journal`: the same flow through sequencer + file journal with group commit.

Each command's acknowledgement time is when the sequencer releases it (its record fsynced), as a
server would answer; latency is measured from submit to that release. The producer sequences up
to `batch` commands, then waits for them to be durable, as a server loop draining its inbound
queue does. `writer` picks the journal's commit mode: "inline" (the producer's flush writes and
syncs the batch itself) or "thread" (a writer thread syncs while the engine runs on). On CPython
the thread costs more in GIL hand-offs than the overlap gains: inline measured ~1.7x the
throughput here, the thread a lower p99.
"""

import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bourse.bench.engine_bench import summary
from bourse.bench.flow import prepared
from bourse.engine import Engine
from bourse.events import Outcome, TradeExecuted
from bourse.journal.base import Journal
from bourse.journal.file_journal import FileJournal
from bourse.journal.sequencer import Sequencer


def run(
    commands: int,
    directory: str | None = None,
    batch: int = 128,
    writer: str = "inline",
    progress: Any = None,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(dir=directory, prefix="bourse-bench-") as tmp:
        journal = FileJournal(Path(tmp) / "journal", writer_thread=writer == "thread")
        return {**measure(journal, commands, batch, progress), "writer": writer}


def run_nats(url: str, commands: int, batch: int = 128, progress: Any = None) -> dict[str, Any]:
    """The same on a stream of NATS JetStream: `url` names the servers and options; the stream
    is a new one (its name ends in a random suffix), deleted afterwards."""
    from bourse.journal.nats_address import parse_nats_url
    from bourse.journal.nats_journal import NatsJournal
    from bourse.journal.nats_stream import delete_journal

    address = parse_nats_url(url)
    stream = f"{address.stream}_{uuid.uuid4().hex[:8]}"
    hosts = ",".join(s.removeprefix("nats://") for s in address.servers)
    journal = NatsJournal(f"nats://{hosts}/{stream}?replicas={address.replicas}")
    try:
        result = measure(journal, commands, batch, progress)
    finally:
        journal.close()
        delete_journal(journal.address)
    return {**result, "journal": f"{url} (R{address.replicas})"}


def measure(journal: Journal, commands: int, batch: int, progress: Any) -> dict[str, Any]:
    """Sequence the flow through `journal`; closes it."""
    clock = time.perf_counter_ns
    submitted: list[int] = []
    acked: list[int] = []
    trades = 0

    def release(batch: list[Outcome]) -> None:
        now = clock()
        acked.extend([now] * len(batch))

    sys.setswitchinterval(journal.switch_interval_s)  # as `bourse run` does on this journal
    sequencer = Sequencer(Engine(), journal, release)
    before, flow = prepared(commands)
    for cmd in before:
        sequencer.submit(cmd)
    sequencer.flush()
    base = len(acked)
    fsyncs_before = getattr(journal, "fsyncs", 0)
    submit = sequencer.submit
    started = clock()
    for start in range(0, len(flow), batch):
        for cmd in flow[start : start + batch]:
            submitted.append(clock())
            for e in submit(cmd).events:
                if type(e) is TradeExecuted:
                    trades += 1
        sequencer.flush()
        if progress is not None:
            progress(min(batch, len(flow) - start))
    seconds = (clock() - started) / 1e9
    latencies = [a - s for a, s in zip(acked[base:], submitted, strict=True)]
    fsyncs = getattr(journal, "fsyncs", 0) - fsyncs_before
    journal.close()
    result = {**summary(len(flow), seconds, trades, latencies), "batch": batch}
    if fsyncs:
        result.update(fsyncs=fsyncs, commands_per_fsync=round(len(flow) / fsyncs, 1))
    return result
