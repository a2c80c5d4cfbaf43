"""The record codec: msgpack as before, JSON for a record with an integer beyond 64 bits."""

import msgspec
import pytest

from bourse import codec
from bourse.commands import Deposit, decode_command, encode_command
from bourse.events import BalanceChanged, Outcome

CASES = [
    pytest.param(2**64 - 1, "msgpack", id="uint64 max"),
    pytest.param(-(2**63), "msgpack", id="int64 min"),
    pytest.param(2**64, "json", id="past uint64"),
    pytest.param(-(2**63) - 1, "json", id="past int64 min"),
    pytest.param(10**40 - 1, "json", id="40 digits"),
]


@pytest.mark.parametrize(("amount", "kind"), CASES)
def test_a_command_round_trips_exactly(amount: int, kind: str) -> None:
    cmd = Deposit(actor="ops", ts_ms=1, account_id=7, asset="KZT", amount_raw=amount)
    data = encode_command(cmd)
    if kind == "msgpack":  # what every existing journal holds, byte for byte
        assert data == msgspec.msgpack.encode(cmd)
    else:
        assert data == msgspec.json.encode(cmd)
    assert decode_command(data) == cmd
    assert decode_command(memoryview(data)) == cmd


def test_outcomes_for_the_projector_process_round_trip() -> None:
    change = BalanceChanged(account_id=1, asset="KZT", free_raw=2 * 10**19, locked_raw=0)
    outcomes = [Outcome(seq=1, ts_ms=1, command="Deposit", events=[change])]
    decoder = codec.Decoder[list[Outcome]](list[Outcome])
    assert decoder.decode(codec.encode(outcomes)) == outcomes
