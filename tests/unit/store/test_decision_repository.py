"""Decisions: exact round trip, idempotent by id, conflicting reuse of an id refused."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from quantdesk.domain.errors import InvalidInputError, NotFoundError
from quantdesk.store import DuplicateRecordError, OperationalStore
from tests.unit.store.store_test_data import T0, make_decision


def test_record_decision_round_trip_preserves_every_field(store: OperationalStore) -> None:
    decision = make_decision()

    created = store.record_decision(decision)
    loaded = store.get_decision("dec-1")

    assert created is True
    assert loaded == decision
    assert loaded.as_of.tzinfo is UTC
    assert loaded.reasons == ("ml_signal_up", "rl_agrees")
    assert dict(loaded.contributions) == {"ml": 0.1, "rl": 0.025}
    assert dict(loaded.model_versions) == {"hybrid": "3", "ppo": "7"}


def test_record_decision_same_decision_twice_keeps_one_row(store: OperationalStore) -> None:
    decision = make_decision()
    store.record_decision(decision)

    created_again = store.record_decision(make_decision())

    assert created_again is False
    assert store.list_decisions() == [decision]


def test_record_decision_different_payload_same_id_raises(store: OperationalStore) -> None:
    store.record_decision(make_decision(target_weight=0.125))

    with pytest.raises(DuplicateRecordError, match="different payload"):
        store.record_decision(make_decision(target_weight=-0.5))

    assert store.get_decision("dec-1").target_weight == 0.125


def test_duplicate_record_error_is_an_input_error() -> None:
    assert issubclass(DuplicateRecordError, InvalidInputError)


def test_get_decision_unknown_id_raises_not_found(store: OperationalStore) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        store.get_decision("nope")


def test_list_decisions_symbol_and_window_filter(store: OperationalStore) -> None:
    # Arrange
    store.record_decision(make_decision("d1", symbol="BTC-USD", as_of=T0))
    store.record_decision(make_decision("d2", symbol="BTC-USD", as_of=T0 + timedelta(hours=1)))
    store.record_decision(make_decision("d3", symbol="ETH-USD", as_of=T0 + timedelta(hours=1)))

    # Act
    btc_later = store.list_decisions("BTC-USD", start=T0 + timedelta(minutes=30))
    before = store.list_decisions(end=T0 + timedelta(hours=1))

    # Assert
    assert [d.decision_id for d in btc_later] == ["d2"]
    assert [d.decision_id for d in before] == ["d1"]
    assert [d.decision_id for d in store.list_decisions(limit=2)] == ["d1", "d2"]
