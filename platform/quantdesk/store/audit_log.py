"""The append-only audit hash chain: serialised appends and a full re-hash to verify.

Appends must not interleave: two writers reading the same last link would fork the chain.
PostgreSQL takes a transaction-scoped advisory lock (per schema); SQLite write transactions
already hold the database write lock from ``BEGIN IMMEDIATE``; other backends lock the last
row. The primary key on ``sequence`` is the last line of defence.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.timeutil import require_utc, utc_now
from quantdesk.store.audit_hashing import GENESIS_HASH, audit_event_hash, normalize_payload
from quantdesk.store.records import AuditChainReport, AuditEvent
from quantdesk.store.tables import AuditEventRow

_PG_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.audit_events'))")
_VERIFY_BATCH = 1000


def append_event(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any],
    occurred_at: datetime | None = None,
) -> AuditEvent:
    """Link one event after the current last one, inside the caller's write transaction."""
    for name, value in (("actor", actor), ("action", action), ("subject", subject)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError(f"audit {name} must be a non-empty string")
    when = utc_now() if occurred_at is None else require_utc(occurred_at, "occurred_at")
    clean_payload = normalize_payload(payload)
    last = _lock_and_read_last(session)
    sequence = 1 if last is None else last.sequence + 1
    prev_hash = GENESIS_HASH if last is None else last.hash
    digest = audit_event_hash(
        prev_hash=prev_hash,
        sequence=sequence,
        occurred_at=when,
        actor=actor,
        action=action,
        subject=subject,
        payload=clean_payload,
    )
    row = AuditEventRow(
        sequence=sequence,
        occurred_at=when,
        actor=actor,
        action=action,
        subject=subject,
        payload=clean_payload,
        prev_hash=prev_hash,
        hash=digest,
    )
    session.add(row)
    session.flush()
    return _to_event(row)


def verify_chain(session: Session) -> AuditChainReport:
    """Re-hash every event in order; report the first link that does not check out."""
    expected_prev = GENESIS_HASH
    checked = 0
    query = select(AuditEventRow).order_by(AuditEventRow.sequence)
    # Streamed in batches (a server-side cursor on PostgreSQL), closed even on early return.
    with session.execute(query.execution_options(yield_per=_VERIFY_BATCH)) as result:
        for row in result.scalars():
            problem = _problem_with(row, expected_sequence=checked + 1, expected_prev=expected_prev)
            if problem:
                return AuditChainReport(False, checked, row.sequence, problem)
            expected_prev = row.hash
            checked += 1
    return AuditChainReport(True, checked)


def select_events(
    session: Session, *, subject: str | None, after_sequence: int, limit: int
) -> list[AuditEvent]:
    query = select(AuditEventRow).where(AuditEventRow.sequence > after_sequence)
    if subject is not None:
        query = query.where(AuditEventRow.subject == subject)
    query = query.order_by(AuditEventRow.sequence).limit(limit)
    return [_to_event(row) for row in session.scalars(query)]


def _lock_and_read_last(session: Session) -> AuditEventRow | None:
    dialect = session.get_bind().dialect.name
    last_query = select(AuditEventRow).order_by(AuditEventRow.sequence.desc()).limit(1)
    if dialect == "postgresql":
        session.execute(_PG_LOCK)
    elif dialect != "sqlite":
        last_query = last_query.with_for_update()
    return session.scalars(last_query).one_or_none()


def _problem_with(row: AuditEventRow, *, expected_sequence: int, expected_prev: str) -> str:
    if row.sequence != expected_sequence:
        return f"expected sequence {expected_sequence}, found {row.sequence} (an event is missing)"
    if row.prev_hash != expected_prev:
        return f"event {row.sequence} does not link to the hash of the event before it"
    recomputed = audit_event_hash(
        prev_hash=row.prev_hash,
        sequence=row.sequence,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        payload=row.payload,
    )
    if recomputed != row.hash:
        return f"event {row.sequence} was changed after it was written (hash mismatch)"
    return ""


def _to_event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        sequence=row.sequence,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        payload=dict(row.payload),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
