"""Signals history: domain ``Signal`` in, domain ``Signal`` out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from quantdesk.domain.errors import InvalidInputError, StorageError
from quantdesk.domain.timeutil import utc_now
from quantdesk.domain.trading import Signal
from quantdesk.store.errors import DuplicateRecordError
from quantdesk.store.integrity_errors import Violation, classify_integrity_error
from quantdesk.store.tables import SignalRow
from quantdesk.store.time_window import check_limit, within_window


def insert_signals(session: Session, signals: Sequence[Signal]) -> int:
    """Add every signal or, on any clash with a stored one, raise before anything commits."""
    if not all(isinstance(signal, Signal) for signal in signals):
        raise InvalidInputError("add_signals expects quantdesk.domain.Signal values")
    created_at = utc_now()
    session.add_all([_to_row(signal, created_at) for signal in signals])
    try:
        session.flush()
    except IntegrityError as exc:
        if classify_integrity_error(exc) is Violation.UNIQUE:
            raise DuplicateRecordError(
                "a signal with the same symbol, as_of, model, version and horizon is already "
                "stored (or repeated in the batch); nothing was written"
            ) from exc
        raise StorageError(f"signals were refused by the database: {exc.orig}") from exc
    return len(signals)


def select_signals(
    session: Session,
    *,
    symbol: str | None,
    model_name: str | None,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[Signal]:
    query = within_window(select(SignalRow), SignalRow.as_of, start, end)
    if symbol is not None:
        query = query.where(SignalRow.symbol == symbol)
    if model_name is not None:
        query = query.where(SignalRow.model_name == model_name)
    query = query.order_by(SignalRow.as_of, SignalRow.symbol, SignalRow.id).limit(
        check_limit(limit)
    )
    return [_to_signal(row) for row in session.scalars(query)]


def _to_row(signal: Signal, created_at: datetime) -> SignalRow:
    return SignalRow(
        symbol=signal.symbol,
        as_of=signal.as_of,
        model_name=signal.model_name,
        model_version=signal.model_version,
        horizon_bars=signal.horizon_bars,
        prob_down=signal.prob_down,
        prob_flat=signal.prob_flat,
        prob_up=signal.prob_up,
        expected_return=signal.expected_return,
        uncertainty=signal.uncertainty,
        created_at=created_at,
    )


def _to_signal(row: SignalRow) -> Signal:
    return Signal(
        symbol=row.symbol,
        as_of=row.as_of,
        model_name=row.model_name,
        model_version=row.model_version,
        horizon_bars=row.horizon_bars,
        prob_down=row.prob_down,
        prob_flat=row.prob_flat,
        prob_up=row.prob_up,
        expected_return=row.expected_return,
        uncertainty=row.uncertainty,
    )
