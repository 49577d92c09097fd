"""The event-driven backtest running the live decision engine and pre-trade checks bar by bar."""

from __future__ import annotations

import numpy as np

from quantdesk.backtest.costs import CostModel
from quantdesk.backtest.decision_step import DecisionEngineStep, SmaSignals
from quantdesk.backtest.event_driven import EventDrivenEngine
from quantdesk.backtest.market_panel import MarketPanel
from quantdesk.backtest.pretrade_gate import PretradeRiskGate
from quantdesk.config import CostSettings, DecisionSettings
from quantdesk.decisions.engine import DecisionEngine
from quantdesk.decisions.rules import DecisionContext
from quantdesk.risk.limits import RiskLimits
from quantdesk.risk.trading_state import TradingState
from tests.unit.backtest.panels import random_panel

SETTINGS = DecisionSettings(max_abs_weight=0.3)


def run(panel: MarketPanel, context: DecisionContext) -> tuple[DecisionEngineStep, np.ndarray]:
    step = DecisionEngineStep(panel.symbols, DecisionEngine(SETTINGS), context, SmaSignals(5, 20))
    gate = PretradeRiskGate(panel.symbols, RiskLimits())
    costs = CostModel.from_settings(panel.symbols, CostSettings())
    result = EventDrivenEngine(panel, costs, 1e6).run(step, gate)
    return step, result.weights


def test_decision_step_trades_on_engine_decisions_within_the_cap_after_warmup() -> None:
    panel = random_panel(bars=120)

    step, weights = run(panel, DecisionContext())

    assert len(step.decisions) == 3 * (120 - 20)  # one per symbol per bar with 21 closes
    assert all(abs(d.target_weight) <= 0.3 + 1e-12 for d in step.decisions)
    assert all(d.reasons and d.model_versions for d in step.decisions)
    assert np.abs(weights[:21]).max() == 0.0  # nothing before the signal has a history
    assert np.abs(weights[21:]).max() > 0.01  # ...and positions afterwards


def test_decision_step_uses_no_future_bar() -> None:
    # Arrange: the same market, then one whose last 30 bars are replaced by a crash.
    panel = random_panel(bars=120)
    crashed_close = panel.close.copy()
    crashed_close.iloc[90:] *= 0.5
    crashed = MarketPanel(open=panel.open, close=crashed_close, dollar_volume=panel.dollar_volume)

    # Act
    original, _ = run(panel, DecisionContext())
    altered, _ = run(crashed, DecisionContext())

    # Assert: decisions made on bars before 90 are identical.
    before = [d for d in original.decisions if d.as_of < panel.index[90]]
    assert before == [d for d in altered.decisions if d.as_of < panel.index[90]]
    assert original.decisions != altered.decisions


def test_decision_step_under_the_kill_switch_holds_and_never_trades() -> None:
    step, weights = run(random_panel(bars=60), DecisionContext(trading_state=TradingState.HALTED))

    assert np.abs(weights).max() == 0.0
    assert all("halted" in " ".join(d.reasons).lower() for d in step.decisions)


def test_decision_step_never_holds_a_restricted_symbol() -> None:
    panel = random_panel(bars=120)

    step, weights = run(panel, DecisionContext(restricted_symbols=frozenset({"MSFT"})))

    column = panel.symbols.index("MSFT")
    assert np.abs(weights[:, column]).max() == 0.0
    assert any(np.abs(weights[:, c]).max() > 0 for c in range(3) if c != column)
    msft = [d for d in step.decisions if d.symbol == "MSFT"]
    assert msft and all("restricted" in " ".join(d.reasons).lower() for d in msft)
