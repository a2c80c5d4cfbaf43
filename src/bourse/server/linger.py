"""When a consumer of released outcomes (the SQL projection, the audit log) writes its next batch.

Each of them pays per transaction far more than per row: an SQLite commit writes every page the
batch touched, and each bulk statement is prepared once for however many rows it carries. Under
load it therefore waits a little for more outcomes before it writes. Measured on the 2-core
machine with `bench api` (2026-12-07): lingering 50 ms instead of writing what had arrived (the
audit log) or 5 ms (the store) took the two processes from 310 to 116 µs of CPU per order.

Nobody should wait for that: a reader who needs the consumer to catch up (a store query reading
its own writes, a signed audit head, a stop) hurries it, and it writes at once.
"""

import threading
import time

LINGER_S = 0.05
# under load: the previous batch was written less than this long ago
BUSY_S = 0.05


class Linger:
    def __init__(self, linger_s: float = LINGER_S, busy_s: float = BUSY_S) -> None:
        self.linger_s = linger_s
        self.busy_s = busy_s
        self._hurry = threading.Event()
        self._last_written = float("-inf")  # monotonic

    def wait(self) -> None:
        """Before a batch is taken whole: under load, until `linger_s` has passed or someone
        hurries; otherwise not at all (an idle consumer writes a lone outcome at once)."""
        if time.monotonic() - self._last_written < self.busy_s:
            self._hurry.wait(self.linger_s)
        self._hurry.clear()

    def written(self) -> None:
        """A batch was written (its transaction ended)."""
        self._last_written = time.monotonic()

    def hurry(self) -> None:
        """Somebody waits for the consumer: write what is there now (any thread)."""
        self._hurry.set()
