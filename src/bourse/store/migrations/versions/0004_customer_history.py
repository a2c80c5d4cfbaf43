"""Every version of a customer's KYC record, with who recorded it and why; every withdrawal;
who approved an alert decision made under four eyes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

Written by hand and frozen, like the others. A store at 0003 has seen the earlier records but
kept only the latest of each customer: that one is copied in as the first version known, with
no actor or reason (the journal still has them: `bourse replay --rebuild-store` fills the whole
history); versions recorded from now on carry theirs. Withdrawals requested before are in the
journal only (the read model keeps the pending ones): the rebuild fills their history too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNT = sa.Numeric(40, 0).with_variant(sa.Text(), "sqlite")  # as 0002's


def upgrade() -> None:
    op.create_table(
        "customer_history",
        sa.Column("customer_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("legal_name", sa.Text, nullable=False),
        sa.Column("date_of_birth", sa.String(10), nullable=False),
        sa.Column("nationality", sa.String(2), nullable=False),
        sa.Column("residence", sa.String(2), nullable=False),
        sa.Column("kyc_level", sa.Integer, nullable=False),
        sa.Column("risk_tier", sa.String(8), nullable=False),
        sa.Column("venue", sa.String(12), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.execute(
        "INSERT INTO customer_history (customer_id, seq, ts_ms, legal_name, date_of_birth, "
        "nationality, residence, kyc_level, risk_tier, venue, actor, reason) "
        "SELECT customer_id, updated_seq, 0, legal_name, date_of_birth, nationality, residence, "
        "kyc_level, risk_tier, venue, '', '' FROM customers"
    )

    op.create_table(
        "withdrawals",
        sa.Column("withdrawal_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.BigInteger, nullable=False),
        sa.Column("asset", sa.String(12), nullable=False),
        sa.Column("amount_raw", AMOUNT, nullable=False),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("beneficiary", sa.Text, nullable=False),
        sa.Column("on_request_ref", sa.Text, nullable=False),
        sa.Column("held", sa.Boolean, nullable=False),
        sa.Column("requested_seq", sa.BigInteger, nullable=False),
        sa.Column("requested_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("tx_ref", sa.Text, nullable=True),
        sa.Column("failure", sa.Text, nullable=True),
        sa.Column("settled_seq", sa.BigInteger, nullable=True),
        sa.Column("settled_ms", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_withdrawals_account", "withdrawals", ["account_id", "withdrawal_id"])
    with op.batch_alter_table("screening_alerts") as alerts:
        alerts.add_column(sa.Column("approved_by", sa.Text, nullable=True))
        alerts.add_column(sa.Column("approval_reason", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screening_alerts") as alerts:
        alerts.drop_column("approval_reason")
        alerts.drop_column("approved_by")
    op.drop_index("ix_withdrawals_account", "withdrawals")
    op.drop_table("withdrawals")
    op.drop_table("customer_history")
