"""The CLI for a newcomer: fast commands that do not import the sanctions matcher, alerts that
read at 80 columns, and policy previews saved in the data directory rather than where one stands.
"""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

import bourse
from bourse.cli import app
from bourse.cli import policy as policy_cli
from bourse.cli.alerts import alerts_table

# Modules a command that neither screens nor serves must not import (the matcher and its
# text-normalization stack, the HTTP client, the server).
HEAVY = (
    "bourse.compliance.sanctions.matching",
    "bourse.workers.screening",
    "rigour",
    "normality",
    "rapidfuzz",
    "httpx",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
)
PROBE = """
import json, sys
from bourse.cli import app
try:
    app(sys.argv[1:], prog_name="bourse")
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize(
    "argv", [["--help"], ["accounts", "--help"], ["policy", "--help"], ["alerts", "list", "--help"]]
)
def test_commands_that_need_no_matcher_do_not_import_it(argv: list[str]) -> None:
    src = str(Path(bourse.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, env=env, check=True
    )
    modules = json.loads(done.stdout.splitlines()[-1])
    assert "bourse.cli" in modules
    loaded = [m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]
    assert loaded == [], f"bourse {' '.join(argv)} imported {loaded}"


def _alert(alert_id: int, name: str, listed: str, why: str, withdrawal: int = 0) -> Any:
    return {
        "alertId": alert_id,
        "kind": "beneficiary" if withdrawal else "hit",
        "withdrawalId": withdrawal,
        "status": "confirmed",
        "customerId": 1234,
        "customerName": name,
        "score": "0.93",
        "raised": "2026-12-06 10:28:09 UTC",
        "evidence": {
            "source": "ofac_sdn",
            "entryId": "6907993",
            "listedName": listed,
            "listSha256": "3f1c2a9b8e7d6c5b4a39281706f5e4d3" * 2,
            "explanation": why,
        },
    }


ALERTS = [
    _alert(
        7,
        "Aliaksandr Kavalenka",
        "KAVALENKA, Aliaksandr Uladzimiravich (a.k.a. KOVALENKO, Alexander)",
        "name tokens 3/3 matched (jaro-winkler 0.97); date of birth 1979-11-03 equal; "
        "nationality BY equal",
    ),
    _alert(
        12345,
        "Muster Handels GmbH International Trading Holdings",
        "HAVIN BANK LTD",
        "beneficiary name matched; BIC HAVIGB2L equal",
        withdrawal=77,
    ),
]


def test_alerts_list_reads_at_80_columns() -> None:
    buffer = StringIO()
    console = Console(file=buffer, width=80, soft_wrap=True, highlight=False)  # as the CLI's
    console.print(alerts_table("open alerts", ALERTS))
    lines = buffer.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80, buffer.getvalue()
    cells = [line.split() for line in lines]
    # key columns intact on each alert's first line: id, score, status, customer id
    assert ["7", "0.93", "confirmed", "1234"] in [c[:4] for c in cells]
    assert ["12345", "0.93", "confirmed", "1234"] in [c[:4] for c in cells]
    text = buffer.getvalue()
    for word in ("6907993", "3f1c2a9b8e7d", "beneficiary", "w77", "HAVIGB2L", "1979-11-03"):
        assert word in text, word


class _Server:
    """Stands in for the admin API: answers a policy preview."""

    def __init__(self, *args: Any) -> None:
        pass

    def call(self, method: str, path: str, **kw: Any) -> Any:
        spec = {"name": "RU pause", "country": "RU", "basis": "RESIDENCE", "rules": []}
        return {
            "previewId": "ab12cd34ef56aa77",
            "asOfSeq": 9,
            "current": None,
            "impact": {"customers": 0, "accounts": 0},
            "apply": {"spec": spec, "preview_id": "ab12cd34ef56aa77", "previewed": {}},
        }


def test_a_preview_is_saved_in_the_data_directory_and_its_path_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(policy_cli, "AdminClient", _Server)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    result = CliRunner().invoke(
        app, ["policy", "preview", "RU", "--trading", "suspended", "--data-dir", str(data)]
    )
    assert result.exit_code == 0, result.output
    saved = data.absolute() / "previews" / "policy-preview-RU-ab12cd34ef56.json"
    assert json.loads(saved.read_text())["preview_id"] == "ab12cd34ef56aa77"
    assert str(saved) in result.output.replace("\n", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # nothing in the cwd
    named = tmp_path / "mine.json"
    again = CliRunner().invoke(
        app,
        ["policy", "preview", "RU", "--trading", "suspended", "--save", str(named), "--json"],
    )
    assert again.exit_code == 0, again.output
    assert json.loads(named.read_text())["preview_id"] == "ab12cd34ef56aa77"


def test_policy_show_refuses_a_country_that_does_not_exist() -> None:
    result = CliRunner().invoke(app, ["policy", "show", "ZZ", "--data-dir", "nowhere"])
    assert result.exit_code == 2  # could not run: no server was asked
    assert "country 'ZZ' is not an ISO 3166-1 alpha-2 country code" in result.output
