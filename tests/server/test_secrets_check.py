"""An engine that could not open its API keys' secrets says so at start, naming what to copy;
one started with the right master key serves as before."""

from pathlib import Path

import pytest

from bourse.keys.sealing import SecretBox
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange, RecoveryError
from tests.api.conftest import new_account


def _with_a_key(data: Path) -> bytes:
    """A data directory whose journal holds an account with an HMAC key; its master key."""
    dd = DataDir(data)
    exchange = Exchange(dd)
    try:
        new_account(exchange, SecretBox.at(dd.master_key_file), USDT="10")
    finally:
        exchange.close()
    return dd.master_key_file.read_bytes()


def test_an_engine_without_the_master_key_that_sealed_its_keys_refuses_to_start(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    _with_a_key(data)
    dd = DataDir(data)
    dd.master_key_file.unlink()  # as on a new machine: a master key of its own is made
    with pytest.raises(RecoveryError, match=r"copy master\.key from the data directory"):
        Exchange(dd, check_secrets=True)


def test_an_engine_with_its_master_key_starts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = _with_a_key(data)
    dd = DataDir(data)
    exchange = Exchange(dd, check_secrets=True)
    exchange.close()
    assert dd.master_key_file.read_bytes() == key
