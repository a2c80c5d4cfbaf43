"""`bourse consume` and `bourse gateway` refuse bad options in one line, before connecting to
anything: each once ended in a traceback (SQLAlchemy's, an OverflowError, a bad descriptor)."""

import pytest

from tests.server.server import run_cli

NOWHERE = ("--journal", "nats://127.0.0.1:1/NOWHERE")  # never reached: the options fail first


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["sql", *NOWHERE, "--database-url", "garbage"], "--database-url garbage: Could not parse"),
        (
            ["sql", *NOWHERE, "--database-url", "sqlite:////nonexistent/dir/x.db"],
            "No such file or directory",
        ),
        (
            ["sql", *NOWHERE, "--database-url", "postgresql+psycopg://postgres@127.0.0.1:1/x"],
            "Connection refused",
        ),
        (["sql", *NOWHERE, "--database-url", "sqlite://", "--port", "-1"], "'--port'"),
        (["streams", *NOWHERE, "--database-url", "garbage"], "--database-url garbage"),
        (["streams", *NOWHERE, "--database-url", "sqlite://", "--port", "99999"], "'--port'"),
    ],
)
def test_consume_refuses_a_bad_option_in_one_line(args: list[str], said: str) -> None:
    result = run_cli("consume", *args)
    assert result.returncode == 2, result.stderr
    assert said in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--fd", "999"], "--fd 999: not a listening socket this process inherited"),
        (["--fd", "-1"], "'--fd'"),
        (["--fd", "0", "--log-format", "bogus"], "--log-format bogus: text or json"),
    ],
)
def test_a_gateway_refuses_a_bad_option_in_one_line(args: list[str], said: str) -> None:
    result = run_cli("gateway", "--engine-socket", "/nonexistent/engine.sock", *args)
    assert result.returncode == 2, result.stderr
    assert said in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
