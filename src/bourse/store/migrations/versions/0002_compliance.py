"""Compliance: customers, venues, jurisdiction policy changes, exit-window closures.

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-30

Written by hand and frozen, like 0001. Accounts gain `customer_id`; the server default gives the
accounts of a store migrated from 0001 (all opened before customers existed) 0, a house account.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric(40, 0).with_variant(sa.Text(), "sqlite")


def _big(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text, nullable=nullable)


def _code(name: str, length: int) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=False)


def upgrade() -> None:
    op.add_column(
        "accounts",
        sa.Column("customer_id", sa.BigInteger, nullable=False, server_default=sa.text("0")),
    )
    op.create_index("ix_accounts_customer", "accounts", ["customer_id"])

    op.create_table(
        "customers",
        sa.Column("customer_id", sa.BigInteger, primary_key=True, autoincrement=False),
        _text("legal_name"),
        _code("date_of_birth", 10),
        _code("nationality", 2),
        _code("residence", 2),
        sa.Column("kyc_level", sa.Integer, nullable=False),
        _code("risk_tier", 8),
        _code("venue", 12),
        _big("updated_seq"),
    )
    op.create_index("ix_customers_residence", "customers", ["residence", "customer_id"])
    op.create_index("ix_customers_nationality", "customers", ["nationality", "customer_id"])

    op.create_table(
        "venues",
        sa.Column("venue", sa.String(12), primary_key=True),
        _text("name"),
        _text("jurisdictions"),
        _text("symbols"),
        sa.Column("fee_tier", sa.Integer, nullable=False),
    )

    op.create_table(
        "policy_changes",
        sa.Column("change_id", sa.BigInteger, primary_key=True, autoincrement=False),
        _big("seq"),
        _big("ts_ms"),
        _text("name"),
        _code("country", 2),
        _code("basis", 16),
        _text("spec_json"),
        _text("previous_json", nullable=True),
        _code("preview_id", 64),
        _big("previewed_customers"),
        _big("previewed_accounts"),
        _big("affected_customers"),
        _big("affected_accounts"),
        _big("schedule_id"),
        _text("actor"),
        _text("reason"),
    )
    op.create_index("ix_policy_changes_country", "policy_changes", ["country", "change_id"])

    op.create_table(
        "scheduled_policy_changes",
        sa.Column("schedule_id", sa.BigInteger, primary_key=True, autoincrement=False),
        _big("seq"),
        _big("ts_ms"),
        _text("name"),
        _code("country", 2),
        _code("basis", 16),
        _text("spec_json"),
        _big("effective_ms"),
        _code("preview_id", 64),
        _big("previewed_customers"),
        _big("previewed_accounts"),
        _text("actor"),
        _text("reason"),
        _code("state", 12),
        _big("change_id", nullable=True),
        _text("canceled_by", nullable=True),
        _text("cancel_reason", nullable=True),
        _big("updated_seq"),
    )

    op.create_table(
        "exit_closures",
        sa.Column("change_id", sa.BigInteger, primary_key=True, autoincrement=False),
        _big("seq"),
        _big("ts_ms"),
        _text("name"),
        _code("country", 2),
        _code("basis", 16),
        _big("customers"),
        _big("accounts"),
        _big("reported"),
    )

    op.create_table(
        "closure_balances",
        sa.Column("change_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("asset", sa.String(12), primary_key=True),
        _big("customer_id"),
        sa.Column("free_raw", AMOUNT, nullable=False),
        sa.Column("locked_raw", AMOUNT, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "closure_balances",
        "exit_closures",
        "scheduled_policy_changes",
        "policy_changes",
        "venues",
        "customers",
    ):
        op.drop_table(table)
    op.drop_index("ix_accounts_customer", table_name="accounts")
    with op.batch_alter_table("accounts") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("customer_id")
