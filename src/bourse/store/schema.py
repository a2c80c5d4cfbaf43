"""Tables of the SQL store. The Alembic migrations in `migrations/versions` must match this file.

Amounts are the engine's raw scaled integers. With 18-decimal assets they exceed 2**63, so they are
stored exactly: NUMERIC(40,0) on PostgreSQL, TEXT on SQLite (whose NUMERIC affinity would turn big
values into REAL and lose digits). So SQL never adds up, compares or sorts amounts; the projector
computes them in Python.
"""

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from bourse.domain.limits import AMOUNT_DIGITS


class RawAmount(sa.TypeDecorator[int]):
    """An exact integer of up to 40 digits; always read back as a Python int."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.Numeric(AMOUNT_DIGITS, 0))
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            # Decimal, not int: psycopg sends an int as int2/4/8 or numeric depending on its size,
            # which would vary the parameter types within one executemany.
            return Decimal(value)
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


def _autoinc_id() -> sa.Column[int]:
    # SQLite only autoincrements an INTEGER PRIMARY KEY (a rowid alias), never a BIGINT one.
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)


metadata = sa.MetaData()

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("order_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account_id", sa.BigInteger, nullable=False),
    sa.Column("symbol", sa.String(20), nullable=False),
    sa.Column("client_order_id", sa.Text, nullable=False),
    sa.Column("side", sa.String(8), nullable=False),
    sa.Column("order_type", sa.String(24), nullable=False),
    sa.Column("time_in_force", sa.String(8), nullable=False),
    sa.Column("price_raw", RawAmount, nullable=False),
    sa.Column("qty_raw", RawAmount, nullable=False),
    sa.Column("quote_qty_raw", RawAmount, nullable=False),
    sa.Column("stop_price_raw", RawAmount, nullable=False),
    sa.Column("stp", sa.String(16), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("executed_qty_raw", RawAmount, nullable=False),
    sa.Column("cum_quote_raw", RawAmount, nullable=False),
    sa.Column("working", sa.Boolean, nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
    sa.Column("created_seq", sa.BigInteger, nullable=False),
    sa.Index("ix_orders_account_symbol_order", "account_id", "symbol", "order_id"),
    sa.Index("ix_orders_account_client_order", "account_id", "client_order_id"),
)

trades = sa.Table(
    "trades",
    metadata,
    sa.Column("symbol", sa.String(20), primary_key=True),
    sa.Column("trade_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("price_raw", RawAmount, nullable=False),
    sa.Column("qty_raw", RawAmount, nullable=False),
    sa.Column("quote_qty_raw", RawAmount, nullable=False),
    sa.Column("taker_side", sa.String(8), nullable=False),
    sa.Column("maker_order_id", sa.BigInteger, nullable=False),
    sa.Column("taker_order_id", sa.BigInteger, nullable=False),
    sa.Column("maker_account_id", sa.BigInteger, nullable=False),
    sa.Column("taker_account_id", sa.BigInteger, nullable=False),
    sa.Column("maker_fee_raw", RawAmount, nullable=False),
    sa.Column("taker_fee_raw", RawAmount, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Index("ix_trades_symbol_ts", "symbol", "ts_ms"),
    # trade_id last so "an account's trades from id N" is one index range scan
    sa.Index("ix_trades_maker_account", "maker_account_id", "symbol", "trade_id"),
    sa.Index("ix_trades_taker_account", "taker_account_id", "symbol", "trade_id"),
)

balances = sa.Table(
    "balances",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("asset", sa.String(12), primary_key=True),
    sa.Column("free_raw", RawAmount, nullable=False),
    sa.Column("locked_raw", RawAmount, nullable=False),
    sa.Column("updated_seq", sa.BigInteger, nullable=False),
)

balance_history = sa.Table(
    "balance_history",
    metadata,
    _autoinc_id(),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("account_id", sa.BigInteger, nullable=False),
    sa.Column("asset", sa.String(12), nullable=False),
    sa.Column("free_raw", RawAmount, nullable=False),
    sa.Column("locked_raw", RawAmount, nullable=False),
    sa.Column("command", sa.Text, nullable=False),
    sa.Index("ix_balance_history_account_asset_seq", "account_id", "asset", "seq"),
)

klines_1m = sa.Table(
    "klines_1m",
    metadata,
    sa.Column("symbol", sa.String(20), primary_key=True),
    sa.Column("open_time_ms", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("open_raw", RawAmount, nullable=False),
    sa.Column("high_raw", RawAmount, nullable=False),
    sa.Column("low_raw", RawAmount, nullable=False),
    sa.Column("close_raw", RawAmount, nullable=False),
    sa.Column("volume_raw", RawAmount, nullable=False),
    sa.Column("quote_volume_raw", RawAmount, nullable=False),
    sa.Column("trade_count", sa.BigInteger, nullable=False),
    sa.Column("taker_buy_volume_raw", RawAmount, nullable=False),
    sa.Column("taker_buy_quote_volume_raw", RawAmount, nullable=False),
    sa.Column("first_trade_id", sa.BigInteger, nullable=False),
    sa.Column("last_trade_id", sa.BigInteger, nullable=False),
)

rejections = sa.Table(
    "rejections",
    metadata,
    _autoinc_id(),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("command", sa.Text, nullable=False),
    sa.Column("account_id", sa.BigInteger, nullable=False),
    sa.Column("symbol", sa.Text, nullable=False),  # as sent: may be unknown, any length
    sa.Column("client_order_id", sa.Text, nullable=False),
    sa.Column("code", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Index("ix_rejections_seq", "seq"),
    sa.Index("ix_rejections_account_seq", "account_id", "seq"),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("fee_tier", sa.Integer, nullable=False),
    sa.Column("can_trade", sa.Boolean, nullable=False),
    sa.Column("can_deposit", sa.Boolean, nullable=False),
    sa.Column("can_withdraw", sa.Boolean, nullable=False),
    sa.Column("frozen", sa.Boolean, nullable=False),
    sa.Column("updated_seq", sa.BigInteger, nullable=False),
    # 0: a house account; the server default gives rows from before customers existed that 0
    sa.Column("customer_id", sa.BigInteger, nullable=False, default=0, server_default=sa.text("0")),
    sa.Index("ix_accounts_customer", "customer_id"),
)

assets = sa.Table(
    "assets",
    metadata,
    sa.Column("asset", sa.String(12), primary_key=True),
    sa.Column("precision", sa.Integer, nullable=False),
)

symbols = sa.Table(
    "symbols",
    metadata,
    sa.Column("name", sa.String(20), primary_key=True),
    sa.Column("base", sa.String(12), nullable=False),
    sa.Column("quote", sa.String(12), nullable=False),
    sa.Column("base_precision", sa.Integer, nullable=False),
    sa.Column("quote_precision", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
)

# --- compliance: customers, venues, jurisdiction policy changes, exit-window closures ----------

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("customer_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("legal_name", sa.Text, nullable=False),
    sa.Column("date_of_birth", sa.String(10), nullable=False),
    sa.Column("nationality", sa.String(2), nullable=False),
    sa.Column("residence", sa.String(2), nullable=False),
    sa.Column("kyc_level", sa.Integer, nullable=False),
    sa.Column("risk_tier", sa.String(8), nullable=False),
    sa.Column("venue", sa.String(12), nullable=False),  # "" while no venue is defined
    sa.Column("updated_seq", sa.BigInteger, nullable=False),
    # customer_id last: "a country's customers after id N" is one index range scan
    sa.Index("ix_customers_residence", "residence", "customer_id"),
    sa.Index("ix_customers_nationality", "nationality", "customer_id"),
)

# Every version of every customer's KYC record, with who recorded it and why: the customers table
# holds the latest; this is the history a compliance officer reads before a decision.
customer_history = sa.Table(
    "customer_history",
    metadata,
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
    sa.Column("actor", sa.Text, nullable=False),  # "" for a record from before the history
    sa.Column("reason", sa.Text, nullable=False),
)

# Every withdrawal, from its request to its settlement: the read model keeps the pending ones
# only; this is each customer's history of them.
withdrawals = sa.Table(
    "withdrawals",
    metadata,
    sa.Column("withdrawal_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account_id", sa.BigInteger, nullable=False),
    sa.Column("asset", sa.String(12), nullable=False),
    sa.Column("amount_raw", RawAmount, nullable=False),
    sa.Column("destination", sa.Text, nullable=False),
    sa.Column("beneficiary", sa.Text, nullable=False),
    sa.Column("on_request_ref", sa.Text, nullable=False),  # paid out at the customer's request
    sa.Column("held", sa.Boolean, nullable=False),  # held by screening alerts when requested
    sa.Column("requested_seq", sa.BigInteger, nullable=False),
    sa.Column("requested_ms", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # PENDING, COMPLETED, FAILED
    sa.Column("tx_ref", sa.Text, nullable=True),
    sa.Column("failure", sa.Text, nullable=True),
    sa.Column("settled_seq", sa.BigInteger, nullable=True),
    sa.Column("settled_ms", sa.BigInteger, nullable=True),
    sa.Index("ix_withdrawals_account", "account_id", "withdrawal_id"),
)

venues = sa.Table(
    "venues",
    metadata,
    sa.Column("venue", sa.String(12), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("jurisdictions", sa.Text, nullable=False),  # comma-joined country codes
    sa.Column("symbols", sa.Text, nullable=False),  # comma-joined symbol names
    sa.Column("fee_tier", sa.Integer, nullable=False),
)

policy_changes = sa.Table(
    "policy_changes",
    metadata,
    sa.Column("change_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("basis", sa.String(16), nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("previous_json", sa.Text, nullable=True),  # NULL: no policy was in force
    sa.Column("preview_id", sa.String(64), nullable=False),  # "": closed by its deadline
    sa.Column("previewed_customers", sa.BigInteger, nullable=False),
    sa.Column("previewed_accounts", sa.BigInteger, nullable=False),
    sa.Column("affected_customers", sa.BigInteger, nullable=False),
    sa.Column("affected_accounts", sa.BigInteger, nullable=False),
    sa.Column("schedule_id", sa.BigInteger, nullable=False),  # 0: applied directly
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Index("ix_policy_changes_country", "country", "change_id"),
)

scheduled_policy_changes = sa.Table(
    "scheduled_policy_changes",
    metadata,
    sa.Column("schedule_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("basis", sa.String(16), nullable=False),
    sa.Column("spec_json", sa.Text, nullable=False),
    sa.Column("effective_ms", sa.BigInteger, nullable=False),
    sa.Column("preview_id", sa.String(64), nullable=False),
    sa.Column("previewed_customers", sa.BigInteger, nullable=False),
    sa.Column("previewed_accounts", sa.BigInteger, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),  # scheduled, canceled or applied
    sa.Column("change_id", sa.BigInteger, nullable=True),  # the change it became once applied
    sa.Column("canceled_by", sa.Text, nullable=True),
    sa.Column("cancel_reason", sa.Text, nullable=True),
    sa.Column("updated_seq", sa.BigInteger, nullable=False),
)

exit_closures = sa.Table(
    "exit_closures",
    metadata,
    sa.Column("change_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("basis", sa.String(16), nullable=False),
    sa.Column("customers", sa.BigInteger, nullable=False),
    sa.Column("accounts", sa.BigInteger, nullable=False),
    # customers the closure report has covered so far: it comes in batches, done at `customers`
    sa.Column("reported", sa.BigInteger, nullable=False),
)

closure_balances = sa.Table(
    "closure_balances",
    metadata,
    sa.Column("change_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("account_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("asset", sa.String(12), primary_key=True),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("free_raw", RawAmount, nullable=False),
    sa.Column("locked_raw", RawAmount, nullable=False),
)

# --- sanctions screening: alerts and decisions, rescreens, list versions given to the engine --
# Sources, versions and entry ids are Text: the engine checks only that they are there, and a
# projection must never refuse what the journal accepted.

screening_alerts = sa.Table(
    "screening_alerts",
    metadata,
    sa.Column("alert_id", sa.BigInteger, primary_key=True, autoincrement=False),  # raise order
    sa.Column("raised_seq", sa.BigInteger, nullable=False),
    sa.Column("raised_ms", sa.BigInteger, nullable=False),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(12), nullable=False),  # hit, delisting or beneficiary
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("list_sha256", sa.Text, nullable=False),
    sa.Column("entry_id", sa.Text, nullable=False),
    sa.Column("listed_name", sa.Text, nullable=False),
    sa.Column("score_bp", sa.Integer, nullable=False),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column("entry_fingerprint", sa.Text, nullable=False),
    sa.Column("reviews", sa.BigInteger, nullable=False),  # a delisting review's hit, else 0
    sa.Column("withdrawal_id", sa.BigInteger, nullable=False),  # a payee review's, else 0
    sa.Column("beneficiary", sa.Text, nullable=False),  # that withdrawal's payee, else ""
    sa.Column("decision", sa.String(12), nullable=True),  # NULL while open
    sa.Column("decided_by", sa.Text, nullable=True),
    sa.Column("decision_reason", sa.Text, nullable=True),
    sa.Column("decided_seq", sa.BigInteger, nullable=True),
    sa.Column("decided_ms", sa.BigInteger, nullable=True),
    # a decision under four eyes: the second person who approved it, and why (decided_by proposed)
    sa.Column("approved_by", sa.Text, nullable=True),
    sa.Column("approval_reason", sa.Text, nullable=True),
    # alert_id last: "open alerts from id N", "a customer's alerts" are one index range scan
    sa.Index("ix_screening_alerts_decision", "decision", "alert_id"),
    sa.Index("ix_screening_alerts_customer", "customer_id", "alert_id"),
    sa.Index("ix_screening_alerts_entry", "source", "entry_id", "alert_id"),
)

rescreens = sa.Table(  # one per RecordRescreen command: everyone was screened
    "rescreens",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("matcher", sa.Text, nullable=False),  # hash of the matcher's code and threshold
    sa.Column("customers", sa.BigInteger, nullable=False),
    sa.Column("mode", sa.String(12), nullable=False),  # full or incremental
)

rescreen_lists = sa.Table(  # the list versions a rescreen screened against, in its order
    "rescreen_lists",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("list_sha256", sa.Text, nullable=False),
    sa.Index("ix_rescreen_lists_version", "source", "list_sha256"),
)

sanctions_list_versions = sa.Table(  # each SanctionedAddressesSet: a version the engine holds
    "sanctions_list_versions",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("ts_ms", sa.BigInteger, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("list_sha256", sa.Text, nullable=False),
    sa.Column("addresses", sa.BigInteger, nullable=False),  # crypto addresses it lists
    sa.Index("ix_sanctions_list_versions_source", "source", "seq"),
)

projection_state = sa.Table(
    "projection_state",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
)
