"""API usage: per (principal, method, path) counts, errors and latency over a window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from quantdesk.domain.errors import InvalidInputError
from quantdesk.store import ApiUsageSummary, OperationalStore
from tests.unit.store.store_test_data import T0


def _seed(store: OperationalStore) -> None:
    calls = [
        ("alice", "GET", "/signals", 200, 10.0, 0),
        ("alice", "GET", "/signals", 500, 30.0, 1),
        ("alice", "get", "/signals", 404, 20.0, 2),
        ("alice", "POST", "/decisions", 201, 5.0, 3),
        ("bob", "GET", "/signals", 200, 8.0, 4),
        ("bob", "GET", "/signals", 200, 4.0, 60),  # an hour later
    ]
    for principal, method, path, status, latency, minutes in calls:
        store.record_api_usage(
            principal, method, path, status, latency, occurred_at=T0 + timedelta(minutes=minutes)
        )


def test_usage_summary_aggregates_per_principal_and_endpoint(store: OperationalStore) -> None:
    _seed(store)

    summary = store.usage_summary()

    assert summary == [
        ApiUsageSummary("alice", "GET", "/signals", 3, 2, 20.0, 30.0),
        ApiUsageSummary("bob", "GET", "/signals", 2, 0, 6.0, 8.0),
        ApiUsageSummary("alice", "POST", "/decisions", 1, 0, 5.0, 5.0),
    ]


def test_usage_summary_window_and_principal_filter(store: OperationalStore) -> None:
    _seed(store)

    first_half_hour = store.usage_summary(T0, T0 + timedelta(minutes=30), principal="bob")
    late = store.usage_summary(start=T0 + timedelta(minutes=5))

    assert first_half_hour == [ApiUsageSummary("bob", "GET", "/signals", 1, 0, 8.0, 8.0)]
    assert late == [ApiUsageSummary("bob", "GET", "/signals", 1, 0, 4.0, 4.0)]


def test_usage_summary_no_traffic_is_empty(store: OperationalStore) -> None:
    assert store.usage_summary() == []


@pytest.mark.parametrize(("status", "latency"), [(99, 1.0), (600, 1.0), (200, -1.0)])
def test_record_api_usage_invalid_values_are_rejected(
    store: OperationalStore, status: int, latency: float
) -> None:
    with pytest.raises(InvalidInputError):
        store.record_api_usage("alice", "GET", "/x", status, latency)

    assert store.usage_summary() == []
