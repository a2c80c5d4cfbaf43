"""`bourse bench audit`: what keeping the audit log beside the engine costs, and how fast it
answers.

1. The mixed flow through engine, sequencer and file journal, as the server runs it (a batch of
   commands, then its group commit), without and then with the audit consumer in its own
   process as `bourse run` keeps it, alternating (A B C C B A …, `pairs` of each) so that a drift
   of the machine's speed falls on all: engine commands/s of each and their ratio. The consumer
   may lag; how long it took to catch up is printed beside. A third run in each round has,
   instead of the consumer, a process at the consumer's priority that only burns CPU: on a
   2-core machine the consumer takes the core the engine does not use, and that run shows what
   any busy neighbour costs the engine, beside what the consumer costs.
2. Inclusion proofs for random records of the log the runs built: p50 and p99.
3. The whole log exported as one bundle (consecutive records, one range proof) and verified as
   `bourse audit verify` does: seconds and records/s of each.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bourse.audit.keys import create_key
from bourse.audit.log import AuditLog, Query
from bourse.audit.worker import NICENESS, AuditWorker
from bourse.bench.engine_bench import percentile
from bourse.bench.flow import prepared
from bourse.commands import Command, RotateAuditKey
from bourse.engine import Engine
from bourse.journal.file_journal import FileJournal
from bourse.journal.sequencer import Sequencer

BATCH = 128  # commands sequenced between group commits, as a busy server loop drains them


def _burn() -> None:
    os.nice(NICENESS)
    while True:
        pass


def _pipeline(
    directory: Path, before: list[Command], flow: list[Command], arm: str
) -> dict[str, Any]:
    journal = FileJournal(directory / "journal")
    worker = AuditWorker(AuditLog(directory), process=True) if arm == "with" else None
    burner = None
    if arm == "busy_neighbour":
        burner = multiprocessing.get_context("spawn").Process(target=_burn, daemon=True)
        burner.start()
    sequencer = Sequencer(
        Engine(), journal, lambda batch: None, None if worker is None else worker.submit
    )
    for cmd in before:
        sequencer.submit(cmd)
    sequencer.flush()
    if worker is not None:
        worker.wait_for(len(before), timeout=600)
    submit = sequencer.submit
    started = time.perf_counter()
    for start in range(0, len(flow), BATCH):
        for cmd in flow[start : start + BATCH]:
            submit(cmd)
        sequencer.flush()
    engine_s = time.perf_counter() - started
    if burner is not None:
        burner.kill()
        burner.join()
    result: dict[str, Any] = {"engine_s": engine_s, "commands_per_s": len(flow) / engine_s}
    if worker is not None:
        last = len(before) + len(flow)
        if not worker.wait_for(last, timeout=3600):
            raise RuntimeError(f"the audit consumer did not catch up: {worker.error!r}")
        result["audit_caught_up_s"] = time.perf_counter() - started
        worker.sign_head()
        worker.close()
    journal.close()
    return result


ARMS = ("without", "with", "busy_neighbour")


def run(
    commands: int,
    directory: str | None = None,
    progress: Callable[[int], None] | None = None,
    pairs: int = 2,
) -> dict[str, Any]:
    """Progress: one step per flow run (`pairs` rounds of the three arms), then two more."""
    before, flow = prepared(commands)
    with tempfile.TemporaryDirectory(dir=directory, prefix="bourse-bench-audit-") as tmp:
        root = Path(tmp)
        key = RotateAuditKey(
            public_key=create_key(root / "keys"), actor="bench", reason="bench", ts_ms=0
        )
        runs: dict[str, list[dict[str, Any]]] = {arm: [] for arm in ARMS}
        for round_ in range(1, pairs + 1):
            # A B C, then C B A: a drift of the machine's speed, or what a run leaves the next
            # (dirty pages still being written back), falls on every arm alike
            for arm in ARMS if round_ % 2 else reversed(ARMS):
                place = root / f"{arm}-{round_}"
                (place / "audit").mkdir(parents=True)
                (place / "audit" / "keys").symlink_to(root / "keys" / "audit" / "keys")
                runs[arm].append(_pipeline(place, [key, *before], flow, arm))
                if progress is not None:
                    progress(1)
        rate = {arm: statistics.mean(r["commands_per_s"] for r in runs[arm]) for arm in ARMS}
        log_dir = root / f"with-{pairs}"
        proofs = _proofs(log_dir)
        if progress is not None:
            progress(1)
        verify = _export_and_verify(log_dir, root / "all.jsonl")
        if progress is not None:
            progress(1)
    return {
        "commands": len(flow),
        "engine_without_audit_per_s": round(rate["without"]),
        "engine_with_audit_per_s": round(rate["with"]),
        "ratio_with_to_without": round(rate["with"] / rate["without"], 3),
        "slower_percent": round(100 * (1 - rate["with"] / rate["without"]), 1),
        "ratio_per_round": [
            round(w["commands_per_s"] / wo["commands_per_s"], 3)
            for w, wo in zip(runs["with"], runs["without"], strict=True)
        ],
        "engine_beside_a_busy_neighbour_per_s": round(rate["busy_neighbour"]),
        "ratio_busy_neighbour_to_without": round(rate["busy_neighbour"] / rate["without"], 3),
        "audit_caught_up_s": [round(r["audit_caught_up_s"], 2) for r in runs["with"]],
        "engine_s": {k: [round(r["engine_s"], 2) for r in v] for k, v in runs.items()},
        **proofs,
        **verify,
    }


def _proofs(data_dir: Path, samples: int = 5000) -> dict[str, Any]:
    audit = AuditLog.reader(data_dir)
    try:
        size = audit.size
        rng = random.Random(7)
        took: list[int] = []
        for _ in range(samples):
            seq = rng.randint(1, size)
            t0 = time.perf_counter_ns()
            audit.inclusion_proof(seq, size)
            took.append(time.perf_counter_ns() - t0)
    finally:
        audit.close()
    took.sort()
    return {
        "log_records": size,
        "inclusion_proof_p50_ms": round(percentile(took, 0.5) / 1e6, 3),
        "inclusion_proof_p99_ms": round(percentile(took, 0.99) / 1e6, 3),
    }


def _export_and_verify(data_dir: Path, bundle: Path) -> dict[str, Any]:
    from bourse.audit.export import write_bundle
    from bourse.audit.verify_bundle import verify

    audit = AuditLog.reader(data_dir)
    try:
        started = time.perf_counter()
        with open(bundle, "w", encoding="utf-8") as f:
            manifest = write_bundle(audit, Query(), f, signer_dir=data_dir, now_ms=0, as_range=True)
        export_s = time.perf_counter() - started
    finally:
        audit.close()
    started = time.perf_counter()
    result = verify(str(bundle))
    verify_s = time.perf_counter() - started
    return {
        "bundle_records": manifest["count"],
        "bundle_mb": round(bundle.stat().st_size / 2**20, 1),
        "export_s": round(export_s, 2),
        "verify_s": round(verify_s, 2),
        "verify_records_per_s": round(result["records"] / verify_s),
    }
