"""Builders for tests that run a real `bourse` process on loopback."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.net import free_port, http

BOURSE = [sys.executable, "-m", "bourse"]


class Server:
    """A `bourse run` child process on a free port; `kill()` is a real SIGKILL.

    Its output goes to a log file beside the data directory (`log`), never to a pipe nobody
    reads: a full pipe blocks the server's next log line, and with it every request.
    """

    def __init__(
        self,
        data_dir: Path,
        *args: str,
        umask: int = -1,
        database_url: str = "",
        four_eyes: bool = False,
        wait: bool = True,
    ) -> None:
        """`args` go to `bourse run` after the data directory and port; `umask` is the
        process's (-1: this one's); the store is SQLite in the data directory unless
        `database_url` names another. Without `four_eyes` a new data directory starts with
        none (the tests of other rules act alone; four eyes have tests of their own). Without
        `wait` it returns at once (a standby serves only once it takes over): `wait_ready`."""
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"bourse-{self.port}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "BOURSE_DATABASE_URL": database_url}
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    *BOURSE,
                    "run",
                    "--data-dir",
                    str(data_dir),
                    "--port",
                    str(self.port),
                    *args,
                    *(() if four_eyes else ("--no-four-eyes",)),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                umask=umask,
            )
        self.args = args
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the server answers /health with 200 (RuntimeError if it exits or times out)."""
        args = self.args
        urls = [self.url]
        if "--stream-port" in args:  # the streams' own process must be up too
            urls.append(f"http://127.0.0.1:{args[list(args).index('--stream-port') + 1]}")
        deadline = time.monotonic() + timeout
        for url in urls:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"bourse exited: {self.output()}")
                try:
                    if http.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)  # polling a starting process, not synchronising test logic
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"bourse did not answer {url}/health within {timeout} s")
        self.token = (self.data_dir / "operator.token").read_text().strip()
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def output(self) -> str:
        """Everything the server printed so far (banner, logs)."""
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def wait_for(condition: object, what: str, timeout: float = 30.0) -> None:
    """Until `condition()` holds (AssertionError naming `what` after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.05)  # polling other processes, not synchronising test logic


def run_cli(*args: str, database_url: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOURSE_DATABASE_URL": database_url}
    return subprocess.run([*BOURSE, *args], capture_output=True, text=True, timeout=300, env=env)


def cli(server: Server, *args: str) -> str:
    """`bourse ARGS` against `server`'s data directory: its stdout; the test fails on an error."""
    done = run_cli(*args, "--data-dir", str(server.data_dir))
    assert done.returncode == 0, done.stderr
    return done.stdout


def module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for a test module (wrap it in a module-scoped fixture)."""
    s = Server(tmp_path_factory.mktemp("cli") / "data")
    try:
        yield s
    finally:
        s.stop()
