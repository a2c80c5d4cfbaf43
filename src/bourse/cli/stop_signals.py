"""How `bourse run` stops: on SIGTERM or SIGINT (cleanly, exit 0), or when its journal stops
for good (another engine writes it now)."""

import logging
import signal
from typing import Any

log = logging.getLogger(__name__)


class StopSignals:
    """SIGTERM and SIGINT stop the server cleanly and the process exits 0, whenever they come
    after recovery.

    uvicorn catches both while it serves, shuts down gracefully, then restores the previous
    handlers and raises the signal again so that the process dies of it (exit 143, no snapshot,
    server.json left behind). Installed underneath, these handlers only note that re-raise and
    any signal during the closing snapshot; one that comes before uvicorn serves makes it stop
    as soon as it has started."""

    def __init__(self) -> None:
        self.requested = False
        self.server: Any = None
        self.journal_failure: Exception | None = None
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def journal_stopped(self, failure: Exception) -> None:
        """The journal stopped for good (another engine writes it now): serve no more; the
        requests in flight have been answered that their commands were not recorded."""
        self.journal_failure = failure
        if self.server is not None:
            self.server.should_exit = True

    def serving(self, server: Any) -> None:
        """`server` is the one to stop (uvicorn.Server, whose startup checks should_exit)."""
        self.server = server
        server.should_exit = self.requested

    def _on_signal(self, sig: int, _frame: object) -> None:
        if self.requested:
            log.info("%s: finishing the clean stop under way first", signal.Signals(sig).name)
        self.requested = True
        if self.server is not None:
            self.server.should_exit = True
