"""Timestamps come back as aware UTC on every backend, whatever zone they went in with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from quantdesk.store import OperationalStore
from quantdesk.store.tables import ApiUsageRow


def test_utc_datetime_offset_input_returns_same_instant_in_utc(store: OperationalStore) -> None:
    # Arrange: 09:15:30.654321 at UTC-05:00 is 14:15:30.654321 UTC.
    new_york = timezone(timedelta(hours=-5))
    local = datetime(2024, 1, 2, 9, 15, 30, 654321, tzinfo=new_york)

    # Act
    store.record_api_usage("alice", "GET", "/x", 200, 1.0, occurred_at=local)
    with store.read_session() as session:
        stored = session.scalars(select(ApiUsageRow.occurred_at)).one()

    # Assert
    assert stored == local
    assert stored.tzinfo is UTC
    assert stored == datetime(2024, 1, 2, 14, 15, 30, 654321, tzinfo=UTC)


def test_utc_datetime_naive_value_is_refused(store: OperationalStore) -> None:
    row = ApiUsageRow(
        occurred_at=datetime(2024, 1, 2, 9, 15),  # naive: which zone? refuse, never guess
        principal="alice",
        method="GET",
        path="/x",
        status_code=200,
        latency_ms=1.0,
    )

    with pytest.raises(StatementError, match="time-zone aware"), store.write_transaction() as s:
        s.add(row)
        s.flush()

    assert store.usage_summary() == []
