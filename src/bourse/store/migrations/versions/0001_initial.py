"""Initial store schema.

Revision ID: 0001
Revises:
Create Date: 2025-11-23

Written by hand and frozen: it does not import bourse.store.schema, which describes only the
latest state. Amounts are NUMERIC(40,0) on PostgreSQL and exact TEXT on SQLite.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric(40, 0).with_variant(sa.Text(), "sqlite")
# SQLite autoincrements only an INTEGER PRIMARY KEY
AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _amount(name: str) -> sa.Column[object]:
    return sa.Column(name, AMOUNT, nullable=False)


def _big(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, nullable=False)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.BigInteger, primary_key=True, autoincrement=False),
        _big("account_id"),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("client_order_id", sa.Text, nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("order_type", sa.String(24), nullable=False),
        sa.Column("time_in_force", sa.String(8), nullable=False),
        _amount("price_raw"),
        _amount("qty_raw"),
        _amount("quote_qty_raw"),
        _amount("stop_price_raw"),
        sa.Column("stp", sa.String(16), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _amount("executed_qty_raw"),
        _amount("cum_quote_raw"),
        sa.Column("working", sa.Boolean, nullable=False),
        _big("created_ms"),
        _big("updated_ms"),
        _big("created_seq"),
    )
    op.create_index(
        "ix_orders_account_symbol_order", "orders", ["account_id", "symbol", "order_id"]
    )
    op.create_index("ix_orders_account_client_order", "orders", ["account_id", "client_order_id"])

    op.create_table(
        "trades",
        sa.Column("symbol", sa.String(20), primary_key=True),
        sa.Column("trade_id", sa.BigInteger, primary_key=True, autoincrement=False),
        _amount("price_raw"),
        _amount("qty_raw"),
        _amount("quote_qty_raw"),
        sa.Column("taker_side", sa.String(8), nullable=False),
        _big("maker_order_id"),
        _big("taker_order_id"),
        _big("maker_account_id"),
        _big("taker_account_id"),
        _amount("maker_fee_raw"),
        _amount("taker_fee_raw"),
        _big("ts_ms"),
        _big("seq"),
    )
    op.create_index("ix_trades_symbol_ts", "trades", ["symbol", "ts_ms"])
    op.create_index("ix_trades_maker_account", "trades", ["maker_account_id", "symbol", "trade_id"])
    op.create_index("ix_trades_taker_account", "trades", ["taker_account_id", "symbol", "trade_id"])

    op.create_table(
        "balances",
        sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("asset", sa.String(12), primary_key=True),
        _amount("free_raw"),
        _amount("locked_raw"),
        _big("updated_seq"),
    )

    op.create_table(
        "balance_history",
        sa.Column("id", AUTO_ID, primary_key=True),
        _big("seq"),
        _big("ts_ms"),
        _big("account_id"),
        sa.Column("asset", sa.String(12), nullable=False),
        _amount("free_raw"),
        _amount("locked_raw"),
        sa.Column("command", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_balance_history_account_asset_seq",
        "balance_history",
        ["account_id", "asset", "seq"],
    )

    op.create_table(
        "klines_1m",
        sa.Column("symbol", sa.String(20), primary_key=True),
        sa.Column("open_time_ms", sa.BigInteger, primary_key=True, autoincrement=False),
        _amount("open_raw"),
        _amount("high_raw"),
        _amount("low_raw"),
        _amount("close_raw"),
        _amount("volume_raw"),
        _amount("quote_volume_raw"),
        _big("trade_count"),
        _amount("taker_buy_volume_raw"),
        _amount("taker_buy_quote_volume_raw"),
        _big("first_trade_id"),
        _big("last_trade_id"),
    )

    op.create_table(
        "rejections",
        sa.Column("id", AUTO_ID, primary_key=True),
        _big("seq"),
        _big("ts_ms"),
        sa.Column("command", sa.Text, nullable=False),
        _big("account_id"),
        sa.Column("symbol", sa.Text, nullable=False),
        sa.Column("client_order_id", sa.Text, nullable=False),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_index("ix_rejections_seq", "rejections", ["seq"])
    op.create_index("ix_rejections_account_seq", "rejections", ["account_id", "seq"])

    op.create_table(
        "accounts",
        sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("fee_tier", sa.Integer, nullable=False),
        sa.Column("can_trade", sa.Boolean, nullable=False),
        sa.Column("can_deposit", sa.Boolean, nullable=False),
        sa.Column("can_withdraw", sa.Boolean, nullable=False),
        sa.Column("frozen", sa.Boolean, nullable=False),
        _big("updated_seq"),
    )

    op.create_table(
        "assets",
        sa.Column("asset", sa.String(12), primary_key=True),
        sa.Column("precision", sa.Integer, nullable=False),
    )

    op.create_table(
        "symbols",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("base", sa.String(12), nullable=False),
        sa.Column("quote", sa.String(12), nullable=False),
        sa.Column("base_precision", sa.Integer, nullable=False),
        sa.Column("quote_precision", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
    )

    op.create_table(
        "projection_state",
        sa.Column("name", sa.String(64), primary_key=True),
        _big("last_seq"),
    )


def downgrade() -> None:
    for table in (
        "projection_state",
        "symbols",
        "assets",
        "accounts",
        "rejections",
        "klines_1m",
        "balance_history",
        "balances",
        "trades",
        "orders",
    ):
        op.drop_table(table)
