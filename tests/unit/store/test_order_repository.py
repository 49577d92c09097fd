"""Orders: exact round trip, unique client_order_id, known decisions, filters."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from quantdesk.domain import OrderType, Side, TimeInForce
from quantdesk.domain.errors import InvalidInputError
from quantdesk.store import (
    DuplicateRecordError,
    MissingReferenceError,
    OperationalStore,
    StoredOrder,
)
from tests.unit.store.store_test_data import T0, make_decision, make_order


def _ids(orders: list[StoredOrder]) -> list[str]:
    return [stored.order.client_order_id for stored in orders]


def test_add_order_round_trip_preserves_values_and_utc(store: OperationalStore) -> None:
    # Arrange: one limit order tied to a decision, one plain market order.
    store.record_decision(make_decision("dec-9"))
    limit_order = make_order("ord-1", decision_id="dec-9", time_in_force=TimeInForce.GTC)
    market_order = make_order(
        "ord-2",
        side=Side.SELL,
        order_type=OrderType.MARKET,
        limit_price=None,
        created_at=T0 + timedelta(seconds=2),
    )

    # Act
    stored = store.add_order(limit_order)
    store.add_order(market_order, status="submitted")
    loaded = store.list_orders()

    # Assert
    assert stored.status == "new"
    assert [o.order for o in loaded] == [limit_order, market_order]
    assert [o.status for o in loaded] == ["new", "submitted"]
    assert loaded[0].order.created_at.tzinfo is UTC
    assert loaded[0].order.side is Side.BUY
    assert loaded[1].order.limit_price is None


def test_add_order_duplicate_client_order_id_is_rejected_and_table_unchanged(
    store: OperationalStore,
) -> None:
    # Arrange
    original = make_order("ord-1")
    store.add_order(original)

    # Act
    with pytest.raises(DuplicateRecordError, match="ord-1"):
        store.add_order(make_order("ord-1", quantity=99.0, side=Side.SELL))

    # Assert
    assert [o.order for o in store.list_orders()] == [original]


def test_add_order_unknown_decision_is_rejected_and_nothing_written(
    store: OperationalStore,
) -> None:
    with pytest.raises(MissingReferenceError, match="dec-missing"):
        store.add_order(make_order(decision_id="dec-missing"))

    assert store.list_orders() == []


def test_add_order_unknown_status_is_rejected(store: OperationalStore) -> None:
    with pytest.raises(InvalidInputError, match="status"):
        store.add_order(make_order(), status="teleported")

    assert store.list_orders() == []


def test_list_orders_filters_by_symbol_status_decision_and_window(
    store: OperationalStore,
) -> None:
    # Arrange
    store.record_decision(make_decision("dec-1"))
    store.add_order(make_order("a", symbol="EUR-USD", decision_id="dec-1"))
    store.add_order(
        make_order("b", symbol="GBP-USD", created_at=T0 + timedelta(minutes=5)), status="filled"
    )
    store.add_order(make_order("c", symbol="EUR-USD", created_at=T0 + timedelta(minutes=10)))

    # Act / Assert: each filter alone, and the half-open window.
    assert _ids(store.list_orders("EUR-USD")) == ["a", "c"]
    assert _ids(store.list_orders(status="filled")) == ["b"]
    assert _ids(store.list_orders(decision_id="dec-1")) == ["a"]
    window = store.list_orders(start=T0 + timedelta(minutes=5), end=T0 + timedelta(minutes=10))
    assert _ids(window) == ["b"]
