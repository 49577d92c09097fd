"""A small operational store around one UTC day, with records just inside and outside it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from quantdesk.domain import Decision, Order, OrderType, Side
from quantdesk.store import OperationalStore

DAY = date(2026, 3, 2)
START = datetime(2026, 3, 2, tzinfo=UTC)
END = START + timedelta(days=1)
JUST_BEFORE = START - timedelta(microseconds=1)


def decision(decision_id: str, as_of: datetime, weight: float = 0.25) -> Decision:
    return Decision(
        decision_id=decision_id,
        symbol="BTC-USD",
        as_of=as_of,
        target_weight=weight,
        reasons=("ml_signal_up", "rl_agrees"),
        contributions={"rl": 0.05, "ml": 0.2},
        model_versions={"hybrid": "3"},
        feature_hash="f" * 64,
    )


def order(client_order_id: str, created_at: datetime, decision_id: str | None = None) -> Order:
    return Order(
        client_order_id=client_order_id,
        symbol="BTC-USD",
        side=Side.BUY,
        quantity=0.5,
        created_at=created_at,
        order_type=OrderType.LIMIT,
        limit_price=64000.125,
        decision_id=decision_id,
    )


def seed_day(store: OperationalStore) -> None:
    """Two decisions, two orders and two breach-like audit events on DAY; noise around it."""
    store.record_decision(decision("dec-before", JUST_BEFORE))
    store.record_decision(decision("dec-open", START))
    store.record_decision(decision("dec-noon", START + timedelta(hours=12), weight=-0.1))
    store.record_decision(decision("dec-after", END))
    store.add_order(order("ord-before", JUST_BEFORE))
    store.add_order(order("ord-1", START + timedelta(hours=12, seconds=1), "dec-noon"))
    store.add_order(order("ord-2", END - timedelta(microseconds=1)), status="rejected")
    store.append_audit_event("risk", "risk.breach", "VaR", {"limit": 0.025, "value": 0.031},
                             occurred_at=START + timedelta(hours=9))  # fmt: skip
    store.append_audit_event("risk", "model.promoted", "hybrid", {"version": "3"},
                             occurred_at=START + timedelta(hours=10))  # fmt: skip
    store.append_audit_event("risk", "order.denial", "ord-x", {"reason": "max_position"},
                             occurred_at=START + timedelta(hours=11))  # fmt: skip
    store.append_audit_event("risk", "risk.breach", "VaR", {"limit": 0.025},
                             occurred_at=END)  # fmt: skip
