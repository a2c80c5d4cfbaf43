"""A browser for the staff console's tests: Playwright driving the system Chromium.

Playwright never downloads a browser here: `browser` launches Debian's chromium (`make test`
installs it when missing). Without one the console tests skip, saying why, except in CI (CI=true)
where they fail. `page` is a fresh context per test at a laptop's viewport; `shot` saves a
full-page screenshot under artifacts/console/ and `assert_accessible` fails on axe-core's serious
and critical violations.
"""

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

ROOT = Path(__file__).resolve().parents[2]  # the repository: tests/console/conftest.py
ARTIFACTS = ROOT / "artifacts" / "console"
SYSTEM_CHROMIUM = "/usr/bin/chromium"  # Debian's package `chromium`
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}  # a laptop
BLOCKING = ("serious", "critical")  # axe impacts that fail a test; minor and moderate don't

_axe = Axe()  # axe-core as bundled in axe_playwright_python: nothing is fetched


def system_chromium() -> str | None:
    """The system Chromium's executable, or None when it isn't installed."""
    found = shutil.which("chromium")
    if found:
        return found
    return SYSTEM_CHROMIUM if os.access(SYSTEM_CHROMIUM, os.X_OK) else None


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# One browser per test module, not per session: while Playwright's sync API is connected, it
# marks its event loop as running in this thread, so asyncio.run() (and a client that runs a
# loop of its own) fails. Stopped at the end of each console module, it can't break the tests
# that an xdist worker runs after them; inside a console module, seed data without asyncio.
# Starting it again costs about a second.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless system Chromium."""
    executable = system_chromium()
    if executable is None:
        missing = (
            f"console browser tests need the system Chromium ({SYSTEM_CHROMIUM}, Debian's "
            "package chromium), which `make test` installs when run as root"
        )
        if in_ci():
            pytest.fail(f"{missing}: it is missing, and CI must not skip them", pytrace=False)
        pytest.skip(f"{missing}: it is missing")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            # Chromium's sandbox refuses to run as root (as here and in CI); the pages are ours.
            chromium_sandbox=False,
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a context of its own (fresh cookies and storage) at a laptop's viewport."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot of `page` as artifacts/console/`name`.png; returns its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9._-]+', '-', name)}.png"
    page.screenshot(path=path, full_page=True)
    return path


def assert_accessible(page: Page) -> None:
    """Fails when axe-core finds a serious or critical violation on `page` as it is now."""
    violations: list[dict[str, Any]] = _axe.run(page).response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    if blocking:
        lines = [f"{len(blocking)} serious or critical accessibility violation(s) on {page.url}:"]
        for v in blocking:
            targets = [" ".join(map(str, node["target"])) for node in v["nodes"][:3]]
            more = f" (+{len(v['nodes']) - 3} more)" if len(v["nodes"]) > 3 else ""
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} at {targets}{more}")
        raise AssertionError("\n".join(lines))
