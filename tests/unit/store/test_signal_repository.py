"""Signals history: exact round trip, filters, and all-or-nothing batches."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from quantdesk.domain.errors import InvalidDateRangeError, InvalidInputError
from quantdesk.store import DuplicateRecordError, OperationalStore
from tests.unit.store.store_test_data import T0, make_signal


def test_add_signals_round_trip_preserves_values_and_utc(store: OperationalStore) -> None:
    # Arrange
    signals = [make_signal("AAPL"), make_signal("BTC-USD", T0 + timedelta(hours=1), uncertainty=0)]

    # Act
    written = store.add_signals(signals)
    loaded = store.list_signals()

    # Assert
    assert written == 2
    assert loaded == signals
    assert all(signal.as_of.tzinfo is UTC for signal in loaded)
    assert loaded[0].as_of.microsecond == 123456


def test_list_signals_symbol_and_half_open_window_filter(store: OperationalStore) -> None:
    # Arrange: AAPL at T0, T0+1h, T0+2h and one MSFT at T0+1h.
    hours = [T0 + timedelta(hours=h) for h in range(3)]
    store.add_signals([make_signal("AAPL", at) for at in hours] + [make_signal("MSFT", hours[1])])

    # Act
    window = store.list_signals("AAPL", start=hours[1], end=hours[2])
    from_start = store.list_signals(start=hours[1])
    msft = store.list_signals("MSFT")

    # Assert: start is inclusive, end exclusive.
    assert [s.as_of for s in window] == [hours[1]]
    assert [(s.symbol, s.as_of) for s in from_start] == [
        ("AAPL", hours[1]),
        ("MSFT", hours[1]),
        ("AAPL", hours[2]),
    ]
    assert [s.symbol for s in msft] == ["MSFT"]


def test_list_signals_model_name_and_limit_filter(store: OperationalStore) -> None:
    store.add_signals(
        [make_signal(as_of=T0 + timedelta(minutes=m)) for m in range(5)]
        + [make_signal(model_name="lstm")]
    )

    first_two_hybrid = store.list_signals(model_name="hybrid", limit=2)

    assert [s.as_of for s in first_two_hybrid] == [T0, T0 + timedelta(minutes=1)]
    assert {s.model_name for s in store.list_signals(model_name="lstm")} == {"lstm"}


def test_add_signals_batch_with_duplicate_leaves_nothing_behind(store: OperationalStore) -> None:
    # Arrange: a stored signal, then a batch whose last item repeats its natural key.
    store.add_signals([make_signal("AAPL")])
    batch = [
        make_signal("MSFT"),
        make_signal("NDX"),
        make_signal("AAPL", expected_return=0.5),
    ]

    # Act
    with pytest.raises(DuplicateRecordError):
        store.add_signals(batch)

    # Assert: not even the valid first two rows were kept.
    assert [s.symbol for s in store.list_signals()] == ["AAPL"]
    assert store.list_signals()[0].expected_return == pytest.approx(0.0123456789)


def test_add_signals_empty_batch_writes_nothing(store: OperationalStore) -> None:
    assert store.add_signals([]) == 0
    assert store.list_signals() == []


def test_list_signals_naive_bound_is_rejected(store: OperationalStore) -> None:
    with pytest.raises(InvalidDateRangeError):
        store.list_signals(start=T0.replace(tzinfo=None))


def test_list_signals_reversed_window_is_rejected(store: OperationalStore) -> None:
    with pytest.raises(InvalidDateRangeError):
        store.list_signals(start=T0, end=T0 - timedelta(seconds=1))


def test_list_signals_non_positive_limit_is_rejected(store: OperationalStore) -> None:
    with pytest.raises(InvalidInputError):
        store.list_signals(limit=0)
