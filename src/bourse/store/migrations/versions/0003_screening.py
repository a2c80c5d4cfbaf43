"""Sanctions screening: alerts and their decisions, rescreens, list versions given to the engine.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Written by hand and frozen, like 0001 and 0002. Only new tables: a store at 0002 has seen none of
these events' rows, and a replay from seq 1 (the journal is never pruned) fills them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _big(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text, nullable=nullable)


def _code(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(12), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "screening_alerts",
        sa.Column("alert_id", sa.BigInteger, primary_key=True, autoincrement=False),
        _big("raised_seq"),
        _big("raised_ms"),
        _big("customer_id"),
        _code("kind"),
        _text("source"),
        _text("list_sha256"),
        _text("entry_id"),
        _text("listed_name"),
        sa.Column("score_bp", sa.Integer, nullable=False),
        _text("explanation"),
        _text("entry_fingerprint"),
        _big("reviews"),
        _big("withdrawal_id"),
        _text("beneficiary"),
        _code("decision", nullable=True),
        _text("decided_by", nullable=True),
        _text("decision_reason", nullable=True),
        _big("decided_seq", nullable=True),
        _big("decided_ms", nullable=True),
    )
    alerts = "screening_alerts"
    op.create_index("ix_screening_alerts_decision", alerts, ["decision", "alert_id"])
    op.create_index("ix_screening_alerts_customer", alerts, ["customer_id", "alert_id"])
    op.create_index("ix_screening_alerts_entry", alerts, ["source", "entry_id", "alert_id"])

    op.create_table(
        "rescreens",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        _big("ts_ms"),
        _text("matcher"),
        _big("customers"),
        _code("mode"),
    )

    op.create_table(
        "rescreen_lists",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        _text("source"),
        _text("list_sha256"),
    )
    op.create_index("ix_rescreen_lists_version", "rescreen_lists", ["source", "list_sha256"])

    op.create_table(
        "sanctions_list_versions",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        _big("ts_ms"),
        _text("source"),
        _text("list_sha256"),
        _big("addresses"),
    )
    op.create_index(
        "ix_sanctions_list_versions_source", "sanctions_list_versions", ["source", "seq"]
    )


def downgrade() -> None:
    for table in ("sanctions_list_versions", "rescreen_lists", "rescreens", "screening_alerts"):
        op.drop_table(table)  # their indexes go with them
