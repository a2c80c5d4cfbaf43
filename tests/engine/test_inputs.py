"""Stage 0: malformed numbers are refused before any rule is consulted, and no command may leave
an amount or an id the journal's readers and the store cannot hold."""

from collections.abc import Sequence

import pytest

from bourse.commands import (
    CancelReplaceOrder,
    CreateAsset,
    Deposit,
    FreezeAccount,
    PlaceOrder,
    RequestWithdrawal,
)
from bourse.compliance.policy import Capability
from bourse.domain.enums import OrderType, Side, TimeInForce
from bourse.domain.limits import INT64_MAX, RAW_MAX
from bourse.domain.rejections import RejectCode
from bourse.events import AnyEvent, BalanceChanged, CommandRejected
from tests.builders import Runner, apply_policy, assert_sound, of, onboard, one, suspension, world

CRYPTO = (Capability.CRYPTO_DEPOSIT, Capability.CRYPTO_WITHDRAWAL, Capability.TRADING)


def _restricted() -> tuple[Runner, int]:
    """A world with a KZ customer whose deposits, withdrawals and trading are suspended."""
    r = world()
    _, acct = onboard(r, "KZ")
    r.deposit(acct, "USDT", "100")
    assert not of(apply_policy(r, suspension("KZ", *CRYPTO)), CommandRejected)
    return r, acct


def _refused(events: Sequence[AnyEvent], code: RejectCode) -> str:
    rejected = one(events, CommandRejected)
    assert rejected.code is code, rejected
    assert not of(events, BalanceChanged)
    return rejected.reason


@pytest.mark.parametrize("amount", [-10, 0])
def test_a_malformed_amount_is_refused_before_the_policy(amount: int) -> None:
    r, acct = _restricted()
    for cls, extra in ((Deposit, {}), (RequestWithdrawal, {"destination": "addr-1"})):
        events = r.do(cls, account_id=acct, asset="USDT", amount_raw=amount, **extra)
        assert _refused(events, RejectCode.INVALID_PARAMETER) == "the amount must be positive"
    assert_sound(r)


def test_a_negative_order_is_refused_before_the_policy() -> None:
    r, acct = _restricted()
    events = r.do(
        PlaceOrder,
        account_id=acct,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        qty_raw=-100_000,
        price_raw=5_000_000_000_000,
    )
    reason = _refused(events, RejectCode.INVALID_PARAMETER)
    assert reason == "quantity -0.001 must not be negative"


def test_ids_beyond_64_bits_and_amounts_beyond_40_digits_are_refused() -> None:
    r = world()
    reason = _refused(
        r.do(FreezeAccount, account_id=INT64_MAX + 1, reason="x"), RejectCode.INVALID_PARAMETER
    )
    assert "account_id 9223372036854775808 is out of range" in reason
    reason = _refused(
        r.do(Deposit, account_id=1, asset="USDT", amount_raw=RAW_MAX + 1),
        RejectCode.INVALID_PARAMETER,
    )
    assert "amount_raw" in reason and "at most 40 digits" in reason
    assert_sound(r)


def test_amounts_beyond_64_bits_are_exact_and_a_balance_stays_within_40_digits() -> None:
    r = world()
    r.do(CreateAsset, asset="KZT", precision=8)
    big = 10**19  # 100,000,000,000 KZT: past 2**63 raw units, twice past 2**64
    for _ in range(2):
        assert not of(r.do(Deposit, account_id=1, asset="KZT", amount_raw=big), CommandRejected)
    assert r.balance(1, "KZT") == (2 * big, 0)
    r.do(CreateAsset, asset="WEI", precision=18)
    held = RAW_MAX - 5
    assert not of(r.do(Deposit, account_id=2, asset="WEI", amount_raw=held), CommandRejected)
    reason = _refused(
        r.do(Deposit, account_id=1, asset="WEI", amount_raw=6), RejectCode.INVALID_PARAMETER
    )
    assert reason.startswith("a deposit of 0.000000000000000006 WEI would take the WEI held")
    assert not of(r.do(Deposit, account_id=1, asset="WEI", amount_raw=5), CommandRejected)
    assert_sound(r)  # snapshots and the replay check hold integers beyond 64 bits


def test_a_nested_amount_out_of_range_is_named_by_its_path() -> None:
    r = world()
    new = r.stamp(
        PlaceOrder,
        account_id=1,
        symbol="BTCUSDT",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        qty_raw=RAW_MAX + 1,
        price_raw=1,
    )
    events = r.do(
        CancelReplaceOrder, account_id=1, symbol="BTCUSDT", cancel_order_id=1, new_order=new
    )
    reason = _refused(events, RejectCode.INVALID_PARAMETER)
    assert reason.startswith(f"new_order.qty_raw {RAW_MAX + 1} is out of range")
