"""ORM tables of the operational store. ``migrations/versions`` must build exactly these.

Rows are plain storage; the repositories turn them into the frozen domain types, so nothing
outside ``quantdesk.store`` ever holds a live ORM object.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from quantdesk.store.utc_datetime import UTCDateTime

# Deterministic constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

ORDER_STATUSES: tuple[str, ...] = (
    "new",
    "submitted",
    "partially_filled",
    "filled",
    "cancelled",
    "rejected",
)


def _in_list(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[Mapping[Any, TypeEngine[Any]]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class SignalRow(Base):
    """One model signal. The natural key stops a re-run from storing the same view twice."""

    __tablename__ = "signals"
    __table_args__ = (
        UniqueConstraint("symbol", "as_of", "model_name", "model_version", "horizon_bars"),
        Index("ix_signals_as_of", "as_of"),
        CheckConstraint("horizon_bars >= 1", name="horizon_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    symbol: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[datetime]
    model_name: Mapped[str] = mapped_column(String(128))
    model_version: Mapped[str] = mapped_column(String(64))
    horizon_bars: Mapped[int] = mapped_column(Integer)
    prob_down: Mapped[float] = mapped_column(Double)
    prob_flat: Mapped[float] = mapped_column(Double)
    prob_up: Mapped[float] = mapped_column(Double)
    expected_return: Mapped[float] = mapped_column(Double)
    uncertainty: Mapped[float] = mapped_column(Double)
    created_at: Mapped[datetime]


class DecisionRow(Base):
    """A target position with its explanation; ``decision_id`` is the caller's idempotency key."""

    __tablename__ = "decisions"
    __table_args__ = (Index("ix_decisions_symbol_as_of", "symbol", "as_of"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(String(128), unique=True)
    symbol: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[datetime]
    target_weight: Mapped[float] = mapped_column(Double)
    reasons: Mapped[list[str]]
    contributions: Mapped[dict[str, Any]]
    model_versions: Mapped[dict[str, Any]]
    feature_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class OrderRow(Base):
    """An order request and its lifecycle status; ``client_order_id`` makes submission safe."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_symbol_created_at", "symbol", "created_at"),
        Index("ix_orders_decision_id", "decision_id"),
        Index("ix_orders_status", "status"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(_in_list("side", ("buy", "sell")), name="side_known"),
        CheckConstraint(_in_list("status", ORDER_STATUSES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[float] = mapped_column(Double)
    order_type: Mapped[str] = mapped_column(String(16))
    limit_price: Mapped[float | None] = mapped_column(Double)
    time_in_force: Mapped[str] = mapped_column(String(8))
    decision_id: Mapped[str | None] = mapped_column(
        String(128), ForeignKey("decisions.decision_id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime]


class AuditEventRow(Base):
    """One link of the append-only audit hash chain; ``sequence`` is gap-free from 1."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred_at", "occurred_at"),
        Index("ix_audit_events_subject", "subject"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
    )

    sequence: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(256))
    payload: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ApiUsageRow(Base):
    """One API request, for quotas, latency dashboards and the compliance record."""

    __tablename__ = "api_usage"
    __table_args__ = (
        Index("ix_api_usage_occurred_at", "occurred_at"),
        Index("ix_api_usage_principal_occurred_at", "principal", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime]
    principal: Mapped[str] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(512))
    status_code: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Double)
