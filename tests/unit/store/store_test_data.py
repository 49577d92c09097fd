"""Test data for the store tests: valid domain values and the backend description."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from quantdesk.domain import Decision, Order, OrderType, Side, Signal

# Microseconds and a non-midnight time, so a lossy timestamp column would show.
T0 = datetime(2024, 3, 1, 14, 30, 15, 123456, tzinfo=UTC)


@dataclass(frozen=True)
class Backend:
    """Where one test's database lives: ``url`` already points into its private schema."""

    name: str
    url: str
    schema: str | None = None
    base_url: str | None = None


def make_signal(symbol: str = "AAPL", as_of: datetime = T0, **overrides: object) -> Signal:
    fields: dict[str, object] = {
        "symbol": symbol,
        "as_of": as_of,
        "model_name": "hybrid",
        "model_version": "3",
        "horizon_bars": 5,
        "prob_down": 0.2,
        "prob_flat": 0.3,
        "prob_up": 0.5,
        "expected_return": 0.0123456789,
        "uncertainty": 0.04,
    }
    fields.update(overrides)
    return Signal(**fields)  # type: ignore[arg-type]


def make_decision(decision_id: str = "dec-1", **overrides: object) -> Decision:
    fields: dict[str, object] = {
        "decision_id": decision_id,
        "symbol": "BTC-USD",
        "as_of": T0,
        "target_weight": 0.125,
        "reasons": ("ml_signal_up", "rl_agrees"),
        "contributions": {"ml": 0.1, "rl": 0.025},
        "model_versions": {"hybrid": "3", "ppo": "7"},
        "feature_hash": "f" * 64,
    }
    fields.update(overrides)
    return Decision(**fields)  # type: ignore[arg-type]


def make_order(client_order_id: str = "ord-1", **overrides: object) -> Order:
    fields: dict[str, object] = {
        "client_order_id": client_order_id,
        "symbol": "EUR-USD",
        "side": Side.BUY,
        "quantity": 1500.5,
        "created_at": T0 + timedelta(seconds=1),
        "order_type": OrderType.LIMIT,
        "limit_price": 1.08765,
    }
    fields.update(overrides)
    return Order(**fields)  # type: ignore[arg-type]
