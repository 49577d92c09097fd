"""Rule signals feed the engine like a model; decisions persist once, with an audit link."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.config import DecisionSettings
from quantdesk.decisions.engine import DecisionEngine, DecisionInputs
from quantdesk.decisions.recorder import AUDIT_ACTION, record_decisions
from quantdesk.decisions.rules import DecisionContext
from quantdesk.decisions.simple_signals import SMA_MODEL_NAME, sma_crossover_signal
from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.trading import Direction
from quantdesk.store import OperationalStore

AT = datetime(2026, 4, 1, 20, 0, tzinfo=UTC)


def trending(step: float, n: int = 80) -> pd.Series:
    return pd.Series(100 * np.exp(step * np.arange(n)))


def test_sma_crossover_rising_prices_signal_up_with_positive_drift() -> None:
    signal = sma_crossover_signal("AAPL", trending(0.002), AT, fast=5, slow=20)

    assert signal.direction is Direction.UP
    assert signal.expected_return == pytest.approx(0.002)
    assert signal.model_name == SMA_MODEL_NAME


def test_sma_crossover_falling_prices_drive_a_short_decision() -> None:
    signal = sma_crossover_signal("AAPL", trending(-0.002), AT, fast=5, slow=20)
    engine = DecisionEngine(DecisionSettings())

    decision = engine.decide(
        DecisionInputs("AAPL", AT, bar_volatility=0.01, signal=signal), DecisionContext()
    )

    assert signal.direction is Direction.DOWN
    assert decision.target_weight < 0
    assert decision.model_versions == {SMA_MODEL_NAME: "fast5-slow20"}


def test_sma_crossover_too_few_closes_raises() -> None:
    with pytest.raises(InvalidInputError, match="need 21 closes"):
        sma_crossover_signal("AAPL", trending(0.001, n=20), AT, fast=5, slow=20)


def test_record_decisions_writes_once_and_audits_each_new_decision(tmp_path: Path) -> None:
    engine = DecisionEngine(DecisionSettings())
    decisions = [
        engine.decide(DecisionInputs(symbol, AT, 0.01, rl_target_weight=0.1), DecisionContext())
        for symbol in ("AAPL", "MSFT")
    ]
    with OperationalStore(f"sqlite:///{tmp_path / 'q.db'}") as store:
        store.upgrade()

        first = record_decisions(store, decisions)
        rerun = record_decisions(store, decisions)

        assert (first.written, first.already_stored) == (2, 0)
        assert (rerun.written, rerun.already_stored) == (0, 2)
        assert store.get_decision(decisions[0].decision_id) == decisions[0]
        events = store.list_audit_events()
        assert [e.action for e in events] == [AUDIT_ACTION, AUDIT_ACTION]
        assert events[1].subject == f"decision:{decisions[1].decision_id}"
        assert store.verify_audit_chain().ok
