"""The README's commands run as written, in order, against a fresh `bourse run` with the demo.

Every ```sh block is executed, top to bottom, in one bash session whose working directory is a
fresh checkout-like folder: `./data` is the running server's data directory, `.venv` is the
virtualenv running the tests, `tests/` the checkout's (its sample files), and `../shared` is the
shared data beside the checkout (as CI lays it out). The server's port replaces 8000 in URLs. A
command ending in a comment `#=> TEXT` must print TEXT, so the ids a walk-through names stay
true. A block is left out only when the line before it says why: `<!-- not run: REASON -->` (a
download from the internet, `make` itself).
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.server.server import Server

CHECKOUT = Path(__file__).resolve().parents[1]
README = CHECKOUT / "README.md"
SHARED = CHECKOUT.parent / "shared"
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
NOT_RUN = re.compile(r"<!-- not run: .+ -->\s*$")
EXPECT = re.compile(r"^(?P<command>.*\S)\s+#=> (?P<text>.+?)\s*$", re.M)

pytestmark = pytest.mark.slow


def runnable_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, body) of every sh block the README does not mark as not run."""
    blocks = []
    for match in BLOCK.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if not NOT_RUN.search(before):
            blocks.append((text.count("\n", 0, match.start()) + 1, match.group(1)))
    return blocks


def checked(body: str) -> str:
    """`body` with each `command  #=> TEXT` made to fail unless the command prints TEXT (its
    output still shown, on stderr)."""
    return EXPECT.sub(
        lambda m: (
            f"{m['command']} | tee /dev/stderr | grep -F -- {shlex.quote(m['text'])} >/dev/null"
        ),
        body,
    )


def test_an_expected_output_is_checked() -> None:
    ok = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", checked("echo account 4  #=> account 4")]
    )
    assert ok.returncode == 0
    bad = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", checked("echo account 5  #=> account 4")]
    )
    assert bad.returncode != 0


def test_blocks_are_found_and_can_be_left_out_with_a_reason() -> None:
    text = "a\n```sh\nx\n```\n<!-- not run: downloads -->\n```sh\ny\n```\n```python\nz\n```\n"
    assert runnable_blocks(text) == [(2, "x\n")]


def test_every_readme_command_runs_as_written(tmp_path: Path) -> None:
    if not SHARED.is_dir():
        pytest.fail(f"the README's commands read ../shared, which is not at {SHARED}")
    blocks = runnable_blocks(README.read_text())
    assert blocks, "the README has no command blocks"
    if sys.prefix == sys.base_prefix:
        pytest.fail("the README's commands use .venv/bin: run the tests in the virtualenv")
    checkout = tmp_path / "bourse"
    checkout.mkdir()
    (checkout / ".venv").symlink_to(sys.prefix)  # the virtualenv `make` made, with its bourse
    (checkout / "tests").symlink_to(CHECKOUT / "tests")  # its sample files (bank statements)
    (tmp_path / "shared").symlink_to(SHARED)
    server = Server(checkout / "data", four_eyes=True)  # as `make run` starts it
    try:
        port = str(server.port)
        script = ["set -euo pipefail"]
        for line, body in blocks:
            script.append(f"echo '>>> README.md line {line}' >&2")
            script.append(checked(re.sub(r"(localhost|127\.0\.0\.1):8000", rf"\g<1>:{port}", body)))
        done = subprocess.run(
            ["bash", "-x", "-c", "\n".join(script)],
            cwd=checkout,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "BOURSE_DATABASE_URL": ""},
        )
    finally:
        server.stop()
    assert done.returncode == 0, (
        f"a README command failed (exit {done.returncode}):\n{done.stderr[-4000:]}\n"
        f"stdout:\n{done.stdout[-2000:]}"
    )
