"""Reading one UTC day of compliance records: the operational store and the MLflow registry.

Rows come back as plain dicts in a stable order (time, then a unique key), so the same day
always exports the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, func, inspect, or_, select

from quantdesk.domain.errors import StorageError
from quantdesk.store.operational_store import OperationalStore
from quantdesk.store.tables import AuditEventRow, DecisionRow, OrderRow

Row = dict[str, Any]
_BATCH = 1000


@dataclass(frozen=True, slots=True)
class DayWindow:
    """The half-open UTC window ``[start, end)`` of one calendar day."""

    day: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.day, time(0), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=1)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: one spelling per value, so exports are stable."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def read_store_records(
    store: OperationalStore, window: DayWindow, breach_keywords: Sequence[str]
) -> dict[str, list[Row]]:
    """Decisions (by ``as_of``), orders (by ``created_at``) and breach/denial audit events."""
    _require_migrated(store)
    with store.read_session() as session:

        def rows(query: Select[Any]) -> Iterator[Any]:
            with session.execute(query.execution_options(yield_per=_BATCH)) as result:
                yield from result.scalars()

        decisions = [
            _decision(r)
            for r in rows(
                select(DecisionRow)
                .where(DecisionRow.as_of >= window.start, DecisionRow.as_of < window.end)
                .order_by(DecisionRow.as_of, DecisionRow.decision_id)
            )
        ]
        orders = [
            _order(r)
            for r in rows(
                select(OrderRow)
                .where(OrderRow.created_at >= window.start, OrderRow.created_at < window.end)
                .order_by(OrderRow.created_at, OrderRow.client_order_id)
            )
        ]
        breaches = [
            _audit(r)
            for r in rows(
                select(AuditEventRow)
                .where(
                    AuditEventRow.occurred_at >= window.start,
                    AuditEventRow.occurred_at < window.end,
                    _action_matches(breach_keywords),
                )
                .order_by(AuditEventRow.sequence)
            )
        ]
    return {"decisions": decisions, "orders": orders, "limit_breaches": breaches}


def _action_matches(keywords: Sequence[str]) -> ColumnElement[bool]:
    action = func.lower(AuditEventRow.action)
    return or_(*(action.contains(k.lower(), autoescape=True) for k in keywords))


def _require_migrated(store: OperationalStore) -> None:
    with store.engine.connect() as connection:
        present = inspect(connection).has_table("audit_events", schema=store.schema)
    if not present:
        raise StorageError(
            "the operational database has no tables yet: run `quantdesk db upgrade` first"
        )


def _decision(row: DecisionRow) -> Row:
    return {
        "decision_id": row.decision_id,
        "symbol": row.symbol,
        "as_of": row.as_of,
        "target_weight": row.target_weight,
        "reasons": canonical_json(list(row.reasons)),
        "contributions": canonical_json(row.contributions),
        "model_versions": canonical_json(row.model_versions),
        "feature_hash": row.feature_hash,
        "created_at": row.created_at,
    }


def _order(row: OrderRow) -> Row:
    return {
        "client_order_id": row.client_order_id,
        "symbol": row.symbol,
        "side": row.side,
        "quantity": row.quantity,
        "order_type": row.order_type,
        "limit_price": row.limit_price,
        "time_in_force": row.time_in_force,
        "decision_id": row.decision_id,
        "status": row.status,
        "created_at": row.created_at,
    }


def _audit(row: AuditEventRow) -> Row:
    return {
        "sequence": row.sequence,
        "occurred_at": row.occurred_at,
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "payload": canonical_json(row.payload),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def mlflow_registry_exists(uri: str) -> bool:
    """A SQLite registry exists when its file does; any other URI is a server we must ask."""
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///")).is_file()
    if uri.startswith(("file:", "/", ".")):
        return Path(uri.removeprefix("file://").removeprefix("file:")).exists()
    return True


def read_model_versions(uri: str, window: DayWindow) -> list[Row]:
    """Registered model versions created within ``window`` (MLflow imported only here)."""
    import os

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    start_ms = int(window.start.timestamp() * 1000)
    end_ms = int(window.end.timestamp() * 1000)
    found: list[Row] = []
    token: str | None = None
    try:
        while True:
            page = client.search_model_versions(max_results=1000, page_token=token)
            found.extend(
                _model_version(v) for v in page if start_ms <= v.creation_timestamp < end_ms
            )
            token = page.token
            if not token:
                break
    except Exception as exc:  # MLflow raises its own types; the export must say why it failed
        raise StorageError(f"could not read model versions from MLflow at {uri}: {exc}") from exc
    return sorted(found, key=lambda r: (r["created_at"], r["name"], int(r["version"])))


def _model_version(version: Any) -> Row:
    return {
        "name": str(version.name),
        "version": str(version.version),
        "created_at": _from_ms(version.creation_timestamp),
        "last_updated_at": _from_ms(version.last_updated_timestamp),
        "stage": version.current_stage,
        "status": version.status,
        "source": version.source,
        "run_id": version.run_id,
        "user_id": version.user_id,
        "description": version.description,
        "aliases": canonical_json(sorted(version.aliases or [])),
        "tags": canonical_json(dict(version.tags or {})),
    }


def _from_ms(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, tz=UTC)
