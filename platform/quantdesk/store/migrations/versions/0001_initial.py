"""Initial operational store: signals, decisions, orders, audit_events, api_usage.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00

Written by hand to match ``quantdesk.store.tables``; a test compares the migrated database
with the models on SQLite and PostgreSQL. Types are spelled out here rather than imported, so
this revision keeps building the same tables when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)
ORDER_STATUSES = "'new', 'submitted', 'partially_filled', 'filled', 'cancelled', 'rejected'"


def upgrade() -> None:
    op.create_table(
        "signals",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("as_of", TIMESTAMP, nullable=False),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("horizon_bars", sa.Integer(), nullable=False),
        sa.Column("prob_down", sa.Double(), nullable=False),
        sa.Column("prob_flat", sa.Double(), nullable=False),
        sa.Column("prob_up", sa.Double(), nullable=False),
        sa.Column("expected_return", sa.Double(), nullable=False),
        sa.Column("uncertainty", sa.Double(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_signals"),
        sa.UniqueConstraint(
            "symbol",
            "as_of",
            "model_name",
            "model_version",
            "horizon_bars",
            name="uq_signals_symbol_as_of_model_name_model_version_horizon_bars",
        ),
        sa.CheckConstraint("horizon_bars >= 1", name="ck_signals_horizon_positive"),
    )
    op.create_index("ix_signals_as_of", "signals", ["as_of"])

    op.create_table(
        "decisions",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.String(128), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("as_of", TIMESTAMP, nullable=False),
        sa.Column("target_weight", sa.Double(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("contributions", sa.JSON(), nullable=False),
        sa.Column("model_versions", sa.JSON(), nullable=False),
        sa.Column("feature_hash", sa.String(128), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.UniqueConstraint("decision_id", name="uq_decisions_decision_id"),
    )
    op.create_index("ix_decisions_symbol_as_of", "decisions", ["symbol", "as_of"])

    op.create_table(
        "orders",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(8), nullable=False),
        sa.Column("quantity", sa.Double(), nullable=False),
        sa.Column("order_type", sa.String(16), nullable=False),
        sa.Column("limit_price", sa.Double(), nullable=True),
        sa.Column("time_in_force", sa.String(8), nullable=False),
        sa.Column("decision_id", sa.String(128), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("client_order_id", name="uq_orders_client_order_id"),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.decision_id"],
            name="fk_orders_decision_id_decisions",
            ondelete="RESTRICT",
        ),
        sa.CheckConstraint("quantity > 0", name="ck_orders_quantity_positive"),
        sa.CheckConstraint("side IN ('buy', 'sell')", name="ck_orders_side_known"),
        sa.CheckConstraint(f"status IN ({ORDER_STATUSES})", name="ck_orders_status_known"),
    )
    op.create_index("ix_orders_symbol_created_at", "orders", ["symbol", "created_at"])
    op.create_index("ix_orders_decision_id", "orders", ["decision_id"])
    op.create_index("ix_orders_status", "orders", ["status"])

    op.create_table(
        "audit_events",
        sa.Column("sequence", BIG_ID, primary_key=True, autoincrement=False),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name="pk_audit_events"),
        sa.UniqueConstraint("hash", name="uq_audit_events_hash"),
        sa.CheckConstraint("sequence >= 1", name="ck_audit_events_sequence_positive"),
    )
    op.create_index("ix_audit_events_occurred_at", "audit_events", ["occurred_at"])
    op.create_index("ix_audit_events_subject", "audit_events", ["subject"])

    op.create_table(
        "api_usage",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_usage"),
    )
    op.create_index("ix_api_usage_occurred_at", "api_usage", ["occurred_at"])
    op.create_index("ix_api_usage_principal_occurred_at", "api_usage", ["principal", "occurred_at"])


def downgrade() -> None:
    op.drop_table("api_usage")
    op.drop_table("audit_events")
    op.drop_table("orders")
    op.drop_table("decisions")
    op.drop_table("signals")
