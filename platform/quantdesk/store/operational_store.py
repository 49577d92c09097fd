"""The operational store facade: one object that owns the engine and one transaction per call.

Every write method runs in its own transaction and is all-or-nothing: on any error the whole
call is rolled back before the error reaches the caller. Reads never see ORM objects, only
the frozen domain types and the records of :mod:`quantdesk.store.records`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from quantdesk.config import Settings
from quantdesk.domain.errors import NotFoundError
from quantdesk.domain.trading import Decision, Order, Signal
from quantdesk.store import (
    api_usage_log,
    audit_log,
    decision_repository,
    migrations_runner,
    order_repository,
    signal_repository,
)
from quantdesk.store.database_engine import create_store_engine, write_engine
from quantdesk.store.errors import DuplicateRecordError
from quantdesk.store.records import ApiUsageSummary, AuditChainReport, AuditEvent, StoredOrder

DEFAULT_LIMIT = 1000


class OperationalStore:
    """Signals, decisions, orders, the audit chain and API usage in one SQL database."""

    def __init__(self, url: str, *, schema: str | None = None, echo: bool = False) -> None:
        self.url = url
        self.schema = schema
        self.engine: Engine = create_store_engine(url, schema=schema, echo=echo)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions: sessionmaker[Session] = sessionmaker(
            write_engine(self.engine), expire_on_commit=False
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OperationalStore:
        return cls(settings.resolved_database_url)

    # -- lifecycle ---------------------------------------------------------------------------

    def upgrade(self, revision: str = "head") -> str:
        """Apply the migrations up to ``revision``; return the revision now current."""
        return migrations_runner.upgrade_engine(self.engine, revision, schema=self.schema)

    def dispose(self) -> None:
        """Close pooled connections (tests, shutdown)."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.dispose()

    @contextmanager
    def write_transaction(self) -> Iterator[Session]:
        """A session in one write transaction: committed on success, rolled back on any error."""
        with self._write_sessions.begin() as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    # -- signals -----------------------------------------------------------------------------

    def add_signals(self, signals: Sequence[Signal]) -> int:
        """Store a batch of signals, all or none; return how many were written."""
        with self.write_transaction() as session:
            return signal_repository.insert_signals(session, signals)

    def list_signals(
        self,
        symbol: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        model_name: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[Signal]:
        """Signals with ``start <= as_of < end``, oldest first."""
        with self.read_session() as session:
            return signal_repository.select_signals(
                session, symbol=symbol, model_name=model_name, start=start, end=end, limit=limit
            )

    # -- decisions ---------------------------------------------------------------------------

    def record_decision(self, decision: Decision) -> bool:
        """Store ``decision``; True if written now, False if this exact one was already stored.

        Raises :class:`DuplicateRecordError` if the id is stored with a different payload.
        """
        try:
            with self.write_transaction() as session:
                return decision_repository.insert_decision_if_new(session, decision)
        except DuplicateRecordError:
            # Lost a race with a concurrent writer: identical means the job is done.
            with self.read_session() as session:
                stored = decision_repository.find_decision(session, decision.decision_id)
            if stored is None:
                raise
            decision_repository.ensure_same_decision(stored, decision)
            return False

    def get_decision(self, decision_id: str) -> Decision:
        """The stored decision; :class:`NotFoundError` if there is none with this id."""
        with self.read_session() as session:
            decision = decision_repository.find_decision(session, decision_id)
        if decision is None:
            raise NotFoundError(f"no decision with id {decision_id!r}")
        return decision

    def list_decisions(
        self,
        symbol: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        limit: int = DEFAULT_LIMIT,
    ) -> list[Decision]:
        """Decisions with ``start <= as_of < end``, oldest first."""
        with self.read_session() as session:
            return decision_repository.select_decisions(
                session, symbol=symbol, start=start, end=end, limit=limit
            )

    # -- orders ------------------------------------------------------------------------------

    def add_order(self, order: Order, status: str = "new") -> StoredOrder:
        """Store ``order``; a reused ``client_order_id`` raises DuplicateRecordError."""
        with self.write_transaction() as session:
            return order_repository.insert_order(session, order, status)

    def list_orders(
        self,
        symbol: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        status: str | None = None,
        decision_id: str | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> list[StoredOrder]:
        """Orders with ``start <= created_at < end``, oldest first."""
        with self.read_session() as session:
            return order_repository.select_orders(
                session,
                symbol=symbol,
                status=status,
                decision_id=decision_id,
                start=start,
                end=end,
                limit=limit,
            )

    # -- audit -------------------------------------------------------------------------------

    def append_audit_event(
        self,
        actor: str,
        action: str,
        subject: str,
        payload: Mapping[str, Any] | None = None,
        *,
        occurred_at: datetime | None = None,
    ) -> AuditEvent:
        """Append one event to the hash chain (appends are serialised across processes)."""
        with self.write_transaction() as session:
            return audit_log.append_event(
                session,
                actor=actor,
                action=action,
                subject=subject,
                payload=payload or {},
                occurred_at=occurred_at,
            )

    def list_audit_events(
        self, subject: str | None = None, *, after_sequence: int = 0, limit: int = DEFAULT_LIMIT
    ) -> list[AuditEvent]:
        """Events after ``after_sequence`` in chain order (page with the last sequence seen)."""
        with self.read_session() as session:
            return audit_log.select_events(
                session, subject=subject, after_sequence=after_sequence, limit=limit
            )

    def verify_audit_chain(self) -> AuditChainReport:
        """Re-hash the whole chain; the report is falsy and names the first bad event if not."""
        with self.read_session() as session:
            return audit_log.verify_chain(session)

    # -- API usage ---------------------------------------------------------------------------

    def record_api_usage(
        self,
        principal: str,
        method: str,
        path: str,
        status_code: int,
        latency_ms: float,
        *,
        occurred_at: datetime | None = None,
    ) -> None:
        with self.write_transaction() as session:
            api_usage_log.insert_usage(
                session,
                principal=principal,
                method=method,
                path=path,
                status_code=status_code,
                latency_ms=latency_ms,
                occurred_at=occurred_at,
            )

    def usage_summary(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        principal: str | None = None,
    ) -> list[ApiUsageSummary]:
        """Per (principal, method, path) totals with ``start <= occurred_at < end``."""
        with self.read_session() as session:
            return api_usage_log.summarize_usage(session, principal=principal, start=start, end=end)
