from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantdesk.domain import (
    Decision,
    Direction,
    InvalidInputError,
    LimitKind,
    Order,
    OrderType,
    Position,
    RiskLimit,
    Side,
    Signal,
)

NOW = datetime(2024, 5, 6, 20, tzinfo=UTC)


def make_signal(**changes: object) -> Signal:
    fields: dict[str, object] = {
        "symbol": "AAPL",
        "as_of": NOW,
        "model_name": "hybrid",
        "model_version": "3",
        "horizon_bars": 1,
        "prob_down": 0.2,
        "prob_flat": 0.3,
        "prob_up": 0.5,
        "expected_return": 0.004,
        "uncertainty": 0.01,
    }
    fields.update(changes)
    return Signal(**fields)  # type: ignore[arg-type]


def test_signal_direction_and_confidence_follow_probabilities() -> None:
    signal = make_signal()

    assert signal.direction is Direction.UP
    assert signal.confidence == 0.5


@pytest.mark.parametrize(
    "changes",
    [
        {"prob_up": 0.6},
        {"prob_down": -0.1, "prob_up": 0.8},
        {"uncertainty": -1.0},
        {"expected_return": float("inf")},
        {"horizon_bars": 0},
    ],
)
def test_invalid_signal_is_rejected(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        make_signal(**changes)


@given(st.lists(st.floats(0.01, 10), min_size=3, max_size=3))
def test_normalized_probabilities_are_always_accepted(weights: list[float]) -> None:
    total = sum(weights)
    down, flat, up = (w / total for w in weights)

    signal = make_signal(prob_down=down, prob_flat=flat, prob_up=up)

    assert signal.confidence == max(down, flat, up)


def test_decision_maps_are_read_only_and_hashable() -> None:
    contributions = {"hybrid": 0.1}
    decision = Decision(
        decision_id="d-1", symbol="AAPL", as_of=NOW, target_weight=0.1,
        reasons=("ml_signal",), contributions=contributions, model_versions={"hybrid": "3"},
        feature_hash="abc",
    )  # fmt: skip

    contributions["hybrid"] = 9.0  # the caller's dict must not reach into the decision

    assert decision.contributions["hybrid"] == 0.1
    with pytest.raises(TypeError):
        decision.contributions["rl"] = 0.2  # type: ignore[index]
    assert hash(decision) == hash(decision)


def test_decision_needs_a_reason() -> None:
    with pytest.raises(InvalidInputError, match="reason"):
        Decision(decision_id="d", symbol="AAPL", as_of=NOW, target_weight=0.0, reasons=())


def test_order_signed_quantity_and_validation() -> None:
    sell = Order(client_order_id="qd-1", symbol="AAPL", side="sell", quantity=5, created_at=NOW)

    assert sell.side is Side.SELL
    assert sell.signed_quantity == -5
    with pytest.raises(InvalidInputError, match="limit_price"):
        Order("qd-2", "AAPL", Side.BUY, 1, NOW, order_type=OrderType.LIMIT)
    with pytest.raises(InvalidInputError, match="must not carry"):
        Order("qd-3", "AAPL", Side.BUY, 1, NOW, limit_price=10.0)
    with pytest.raises(InvalidInputError, match="client_order_id"):
        Order("bad id with spaces", "AAPL", Side.BUY, 1, NOW)
    with pytest.raises(InvalidInputError, match="quantity"):
        Order("qd-4", "AAPL", Side.BUY, 0, NOW)


def test_position_pnl_is_signed() -> None:
    short = Position(symbol="BTC-USD", quantity=-2, average_price=100.0)

    assert short.unrealized_pnl(90.0) == 20.0
    assert short.market_value(90.0) == -180.0


def test_risk_limit_rejects_non_positive_values() -> None:
    limit = RiskLimit(kind="max_gross_exposure", value=2.0)

    assert limit.kind is LimitKind.MAX_GROSS_EXPOSURE
    with pytest.raises(InvalidInputError, match="max_drawdown"):
        RiskLimit(kind=LimitKind.MAX_DRAWDOWN, value=0.0)
