"""`bourse` loads a command's module only when that command runs (`bourse.cli._COMMANDS`): every
name there must still resolve, be listed by `--help` (unless hidden), and behave as a command
registered on the app would."""

import ast
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from bourse.cli import _COMMANDS, app

SINGLE = [name for name, spec in _COMMANDS.items() if not spec.attr.endswith("_app")]


@pytest.mark.parametrize("name", list(_COMMANDS))
def test_every_command_loads_and_answers_help(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"], prog_name="bourse")
    assert result.exit_code == 0, result.output
    assert f"Usage: bourse {name}" in " ".join(result.output.split())


def test_help_lists_every_command_that_is_not_hidden() -> None:
    listed = CliRunner().invoke(app, ["--help"]).output
    for name, spec in _COMMANDS.items():
        assert (f"│ {name} " in listed) is not spec.hidden, name


@pytest.mark.parametrize("name", SINGLE)
def test_a_single_command_has_no_shell_completion_options(name: str) -> None:
    """Completion is installed for `bourse` itself, not for each command."""
    assert "completion" not in CliRunner().invoke(app, [name, "--help"]).output


def test_commands_added_by_another_module_are_there() -> None:
    """`banks cut-off` is registered by bourse.cli.cutoffs when it is imported."""
    result = CliRunner().invoke(app, ["banks", "cut-off", "--help"])
    assert result.exit_code == 0, result.output


def test_a_mistyped_command_gets_a_suggestion() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bourse", "stafff"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "Did you mean 'staff'?" in result.stderr


def test_running_one_command_imports_no_other_commands_module() -> None:
    """The point of loading lazily: `bourse staff --help` imports bourse.cli.staff only."""
    probe = (
        "import sys\n"
        "from bourse.cli import app\n"
        "from typer.testing import CliRunner\n"
        "CliRunner().invoke(app, ['staff', '--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('bourse.cli.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(ast.literal_eval(out))
    assert "bourse.cli.staff" in loaded
    assert not loaded & {"bourse.cli.run", "bourse.cli.bench", "bourse.cli.lists"}
