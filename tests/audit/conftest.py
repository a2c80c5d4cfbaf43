"""An exchange keeping its audit log, with some trading and staff decisions in it."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from bourse.commands import Deposit, FreezeAccount, PlaceOrder, UnfreezeAccount
from bourse.domain.enums import OrderType, Side
from bourse.server.datadir import DataDir
from bourse.server.exchange import Exchange


def trade(exchange: Exchange, n: int, start_ms: int = 1_000) -> None:
    for i in range(n):
        exchange.submit(
            PlaceOrder(
                actor="test",
                ts_ms=start_ms + i,
                account_id=1,
                symbol="BTCUSDT",
                side=Side.BUY if i % 2 else Side.SELL,
                order_type=OrderType.MARKET,
                qty_raw=100_000,
            )
        )
    exchange.sequencer.flush()


def decisions(exchange: Exchange, ts_ms: int = 2_000_000) -> None:
    exchange.execute(
        Deposit(
            actor="operator",
            ts_ms=ts_ms,
            account_id=2,
            asset="USDT",
            amount_raw=10**8,
            reason="wire received",
        )
    )
    exchange.execute(
        FreezeAccount(actor="operator", ts_ms=ts_ms + 1, account_id=2, reason="court order 17/2026")
    )
    exchange.execute(
        UnfreezeAccount(actor="operator", ts_ms=ts_ms + 2, account_id=2, reason="order lifted")
    )


@pytest.fixture(params=["thread", "process"])
def audited(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Exchange]:
    """An open exchange keeping its log (in a thread, or in a process as the server does), with
    trades and decisions in it and a signed head."""
    exchange = Exchange(
        DataDir(tmp_path / "data"), audit=True, audit_process=request.param == "process"
    )
    trade(exchange, 30)
    decisions(exchange)
    assert exchange.audit is not None
    exchange.audit.sign_head()
    try:
        yield exchange
    finally:
        exchange.close()
