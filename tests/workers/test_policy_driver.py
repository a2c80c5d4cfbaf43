"""The policy driver's due-time checks outlive a check that fails: a scheduled change must not
wait for a restart because one check raised."""

import contextlib
from pathlib import Path

from tests.api.conftest import serve, wait_until


def test_a_failing_due_check_does_not_end_the_checks(tmp_path: Path) -> None:
    with contextlib.closing(serve(tmp_path)) as served:
        api = next(served)
        driver = api.client.app.state.policy_driver  # type: ignore[attr-defined]
        checks: list[int] = []

        def flaky() -> bool:
            checks.append(1)
            if len(checks) == 1:
                raise RuntimeError("one check fails")
            return False

        driver.run_due_now = flaky
        wait_until(lambda: len(checks) >= 2, timeout=30)
