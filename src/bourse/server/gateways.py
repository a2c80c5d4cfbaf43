"""The gateway processes of `bourse run --gateways N`, kept by the engine process.

Every gateway inherits the one listening socket and accepts from it (the kernel hands each new
connection to one of them), and links to the engine process over its Unix socket
(`server.engine_link`). A gateway that dies takes only its own connections and in-flight
requests with it; the engine process starts another in its place (not for one that stopped
cleanly, exit 0, on a signal of its own). A gateway whose engine
process is gone exits: its link can no longer be answered.
"""

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

RESTART_PAUSE_S = 1.0  # between a gateway's death and its replacement, if it died young
YOUNG_S = 5.0
STOP_WAIT_S = 15.0  # uvicorn lets requests finish for 10 s, then the process exits


class Gateways:
    def __init__(
        self,
        n: int,
        listener: socket.socket,
        argv: Callable[[int, int], list[str]],
        role: str = "gateway",
    ):
        """`argv(index, fd)`: the command line of process `index` (1..n), serving socket `fd`;
        `role` names them in logs (gateway-1, streams-1)."""
        self.role = role
        self.n = n
        self.listener = listener
        self.argv = argv
        self.procs: dict[int, asyncio.subprocess.Process] = {}
        self.started = 0  # processes started, replacements included
        self._watchers: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def start(self) -> None:
        for index in range(1, self.n + 1):
            await self._spawn(index)

    async def _spawn(self, index: int) -> None:
        fd = self.listener.fileno()
        proc = await asyncio.create_subprocess_exec(*self.argv(index, fd), pass_fds=(fd,))
        self.procs[index] = proc
        self.started += 1
        task = asyncio.create_task(self._watch(index, proc, time.monotonic()))
        self._watchers.add(task)
        task.add_done_callback(self._watchers.discard)

    async def _watch(self, index: int, proc: asyncio.subprocess.Process, born: float) -> None:
        code = await proc.wait()
        if self._stopping or code == 0:  # 0: it was told to stop (SIGTERM, or Ctrl-C)
            return
        log.error(
            "%s-%d (pid %d) exited with %s; starting another", self.role, index, proc.pid, code
        )
        if time.monotonic() - born < YOUNG_S:
            await asyncio.sleep(RESTART_PAUSE_S)  # do not spin on a gateway that cannot start
        if not self._stopping:
            await self._spawn(index)

    async def stop(self) -> None:
        """SIGTERM each gateway (it stops accepting and lets its requests finish), then wait;
        one still running after STOP_WAIT_S is killed."""
        self._stopping = True
        for proc in self.procs.values():
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                await asyncio.wait_for(proc.wait(), STOP_WAIT_S)
            except TimeoutError:
                log.error(
                    "gateway pid %d did not stop within %.0f s: killed", proc.pid, STOP_WAIT_S
                )
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for task in list(self._watchers):
            task.cancel()
