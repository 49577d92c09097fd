"""Decisions, idempotent by ``decision_id``: the same decision twice is one row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quantdesk.domain.errors import InvalidInputError, StorageError
from quantdesk.domain.timeutil import utc_now
from quantdesk.domain.trading import Decision
from quantdesk.store.errors import DuplicateRecordError
from quantdesk.store.integrity_errors import Violation, classify_integrity_error
from quantdesk.store.tables import DecisionRow
from quantdesk.store.time_window import check_limit, within_window


def insert_decision_if_new(session: Session, decision: Decision) -> bool:
    """Insert and return True; return False if this exact decision is already stored.

    Raises :class:`DuplicateRecordError` when the id is taken by a different decision.
    """
    if not isinstance(decision, Decision):
        raise InvalidInputError("record_decision expects a quantdesk.domain.Decision")
    existing = find_decision(session, decision.decision_id)
    if existing is not None:
        ensure_same_decision(existing, decision)
        return False
    session.add(_to_row(decision, utc_now()))
    try:
        session.flush()
    except IntegrityError as exc:
        if classify_integrity_error(exc) is Violation.UNIQUE:
            raise DuplicateRecordError(
                f"decision {decision.decision_id!r} was stored concurrently"
            ) from exc
        raise StorageError(f"decision refused by the database: {exc.orig}") from exc
    return True


def ensure_same_decision(stored: Decision, incoming: Decision) -> None:
    if stored != incoming:
        raise DuplicateRecordError(
            f"decision {incoming.decision_id!r} is already stored with a different payload; "
            "decision ids must not be reused"
        )


def find_decision(session: Session, decision_id: str) -> Decision | None:
    row = session.scalars(
        select(DecisionRow).where(DecisionRow.decision_id == decision_id)
    ).one_or_none()
    return None if row is None else _to_decision(row)


def select_decisions(
    session: Session,
    *,
    symbol: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[Decision]:
    query = within_window(select(DecisionRow), DecisionRow.as_of, start, end)
    if symbol is not None:
        query = query.where(DecisionRow.symbol == symbol)
    query = query.order_by(DecisionRow.as_of, DecisionRow.id).limit(check_limit(limit))
    return [_to_decision(row) for row in session.scalars(query)]


def _to_row(decision: Decision, created_at: datetime) -> DecisionRow:
    return DecisionRow(
        decision_id=decision.decision_id,
        symbol=decision.symbol,
        as_of=decision.as_of,
        target_weight=decision.target_weight,
        reasons=list(decision.reasons),
        contributions=dict(decision.contributions),
        model_versions=dict(decision.model_versions),
        feature_hash=decision.feature_hash,
        created_at=created_at,
    )


def _to_decision(row: DecisionRow) -> Decision:
    return Decision(
        decision_id=row.decision_id,
        symbol=row.symbol,
        as_of=row.as_of,
        target_weight=row.target_weight,
        reasons=tuple(row.reasons),
        contributions=dict(row.contributions),
        model_versions=dict(row.model_versions),
        feature_hash=row.feature_hash,
    )
