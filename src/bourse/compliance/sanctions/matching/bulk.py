"""Screen many queries at once (a rescreen of every customer) in worker processes.

`screen_many` returns exactly what `screen` returns for each query, in the queries' order.

Workers never start by "fork": the server that calls this runs threads (uvicorn's, the engine's),
and a forked child of a threaded process can inherit a lock another thread held, forever. They
start from a fork server (a clean single-threaded process, started once per process and kept,
that imported this module once) or, where there is none, by "spawn". Each gets the index either:
- as a `ListIndex`: pickled once here (11 MB; 0.4 to 1 s holding the GIL), loaded by each worker;
- from a factory (a picklable callable, e.g. `functools.partial(ListIndex.build, versions)`):
  each worker builds its own, which costs the caller nothing but each worker the whole build.
Two workers, from the call until both had screened a first batch, on this 2-core machine quiet
(and busy): fork server + pickled index 0.8-0.9 s (2.5 s), spawn + pickled index 1.4 s (3.6 s),
own build 2.1-2.9 s (5 to 9 s). A worker holds about 150 MB. The index builds deterministically,
so a worker's own build screens exactly as the caller's.
"""

import math
import multiprocessing
import os
import pickle
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed

from bourse.compliance.sanctions.matching.index import DEFAULT_CANDIDATES, ListIndex
from bourse.compliance.sanctions.matching.names import OPERATING_THRESHOLD
from bourse.compliance.sanctions.matching.screen import Hit, Query, screen

IndexSource = ListIndex | Callable[[], ListIndex]
Progress = Callable[[int], None]

START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
# Queries per task: small enough for a steady progress bar and an even finish across workers,
# large enough that sending a task and its hits back is noise (a screening is about a millisecond).
CHUNK = 250
# Starting two workers took the time of 1,000 (quiet) to 1,500 (busy machine) screenings: with
# fewer queries than this per worker, screening in this process finishes as soon.
MIN_PER_WORKER = 1500

_index: ListIndex | None = None  # a worker's own index


def _start_worker(source: bytes | Callable[[], ListIndex]) -> None:
    global _index
    _index = pickle.loads(source) if isinstance(source, bytes) else source()


def _screen_chunk(
    queries: Sequence[Query], threshold: float, limit: int, candidates: int
) -> list[list[Hit]]:
    if _index is None:
        raise RuntimeError("screening worker started without an index")
    return [screen(_index, query, threshold, limit, candidates) for query in queries]


def _no_progress(done: int) -> None:
    pass


def workers_for(
    queries: int, workers: int | None = None, min_per_worker: int = MIN_PER_WORKER
) -> int:
    """The processes `screen_many` uses for this many queries: `workers` (default one per CPU)
    or fewer, so that each has at least `min_per_worker` queries; 1 means in this process."""
    workers = (os.cpu_count() or 1) if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    return min(workers, max(1, queries // max(1, min_per_worker)))


def screen_many(
    source: IndexSource,
    queries: Sequence[Query],
    threshold: float = OPERATING_THRESHOLD,
    limit: int = 10,
    workers: int | None = None,
    progress: Progress = _no_progress,
    min_per_worker: int = MIN_PER_WORKER,
    candidates: int = DEFAULT_CANDIDATES,
) -> list[list[Hit]]:
    """`screen(index, query, threshold, limit, candidates)` for each query, in order, on up to
    `workers` processes (default: one per CPU). One worker, or too few queries to repay starting
    more (`min_per_worker` each), screens in this process with no pool. `progress(n)` is called
    in the caller's thread as each batch of n queries is done."""
    workers = workers_for(len(queries), workers, min_per_worker)
    if workers == 1:
        index = source if isinstance(source, ListIndex) else source()
        found = []
        for query in queries:
            found.append(screen(index, query, threshold, limit, candidates))
            progress(1)
        return found
    payload = (
        pickle.dumps(source, pickle.HIGHEST_PROTOCOL) if isinstance(source, ListIndex) else source
    )
    size = max(1, min(CHUNK, math.ceil(len(queries) / (workers * 4))))
    chunks = [queries[start : start + size] for start in range(0, len(queries), size)]
    results: list[list[list[Hit]]] = [[] for _ in chunks]
    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        # Imported once by the fork server, not again by each worker (only until it starts: it
        # is one per process and stays).
        context.set_forkserver_preload(["__main__", __name__])
    pool = ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(payload,),
    )
    try:
        pending: dict[Future[list[list[Hit]]], int] = {
            pool.submit(_screen_chunk, chunk, threshold, limit, candidates): n
            for n, chunk in enumerate(chunks)
        }
        for future in as_completed(pending):
            n = pending[future]
            results[n] = future.result()
            progress(len(chunks[n]))
    finally:
        # On an error, drop the queued batches rather than screen them for nothing.
        pool.shutdown(wait=True, cancel_futures=True)
    return [hits for chunk in results for hits in chunk]
