"""Event-driven engine: parity with the vectorized engine, no look-ahead, risk gate, fills."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.backtest.event_driven import (
    BarView,
    Book,
    EventDrivenEngine,
    GrossExposureLimit,
    PrecomputedWeights,
    SmaCrossoverStep,
)
from quantdesk.backtest.pretrade_gate import PretradeRiskGate
from quantdesk.backtest.strategies import SmaCrossover
from quantdesk.backtest.vectorized import run_vectorized, simulate
from quantdesk.config import CostSettings
from quantdesk.domain import InvalidInputError
from quantdesk.risk.limits import RiskLimits
from tests.unit.backtest.panels import random_panel, random_weights

FloatArray = np.ndarray


@pytest.mark.parametrize("fill", ["open", "close"])
@pytest.mark.parametrize(
    "settings",
    [
        CostSettings(),
        CostSettings(impact_coefficient=0.2),
        CostSettings(volume_cap=0.05),
    ],
    ids=["linear", "impact", "volume_cap"],
)
def test_event_engine_equals_vectorized_on_same_weights_and_costs(
    fill: str, settings: CostSettings
) -> None:
    # Arrange: long/short multi-asset weights, costs scaled up so they matter
    panel = random_panel(bars=150, dollar_volume=2e6)
    costs = CostModel.from_settings(panel.symbols, settings, scale=2.0)
    targets = random_weights(panel, change_every=4)

    # Act
    vectorized = run_vectorized(panel, targets, costs, 1e6, fill)  # type: ignore[arg-type]
    event = EventDrivenEngine(panel, costs, 1e6, fill).run(  # type: ignore[arg-type]
        PrecomputedWeights(targets.to_numpy())
    )

    # Assert
    np.testing.assert_allclose(event.equity, vectorized.equity.to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(event.units, vectorized.positions.to_numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(event.fees, vectorized.costs.to_numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(event.weights, vectorized.weights.to_numpy(), atol=1e-12)


def test_event_sma_step_grid_equals_vectorized_sma_grid() -> None:
    # Arrange
    panel = random_panel(symbols=("AAPL", "BTC-USD"), bars=250)
    costs = CostModel.from_settings(panel.symbols, CostSettings())
    fast, slow = np.array([3, 5, 10]), np.array([20, 30, 50])
    frames = [
        SmaCrossover(int(f), int(s)).target_weights(panel) for f, s in zip(fast, slow, strict=True)
    ]
    weights = np.stack([frame.to_numpy() for frame in frames], axis=1)

    # Act
    step = SmaCrossoverStep(fast, slow, len(panel.index), 2)
    event = EventDrivenEngine(panel, costs, 1.0, record_fills=False).run(step)
    grid = simulate(panel.open.to_numpy(), panel.close.to_numpy(), weights, costs)

    # Assert
    assert event.equity.shape == (250, 3)
    np.testing.assert_allclose(event.equity, grid.equity, rtol=1e-9)


class Peeking:
    """A decision step that records how much history it was shown."""

    def __init__(self) -> None:
        self.lengths: list[int] = []

    def decide(self, bar: BarView, book: Book) -> FloatArray:
        self.lengths.append(len(bar.close))
        return np.full(bar.close.shape[1], 0.2)


def test_event_engine_decision_sees_only_bars_up_to_now_read_only() -> None:
    # Arrange
    panel = random_panel(bars=20)
    step = Peeking()

    # Act
    EventDrivenEngine(panel, CostModel.free(panel.symbols)).run(step)

    # Assert
    assert step.lengths == list(range(1, 21))


def test_event_engine_bar_history_cannot_be_written() -> None:
    class Vandal:
        def decide(self, bar: BarView, book: Book) -> FloatArray:
            bar.close[-1, 0] = 1.0
            return np.zeros(bar.close.shape[1])

    panel = random_panel(bars=5)

    with pytest.raises(ValueError, match="read-only"):
        EventDrivenEngine(panel, CostModel.free(panel.symbols)).run(Vandal())


def test_event_engine_risk_gate_trims_gross_exposure() -> None:
    # Arrange: the decision wants 3x gross; the gate allows 1x
    panel = random_panel(bars=30)
    wants = np.full((30, 3), 1.0)

    # Act
    result = EventDrivenEngine(panel, CostModel.free(panel.symbols)).run(
        PrecomputedWeights(wants), GrossExposureLimit(max_gross=1.0)
    )

    # Assert
    np.testing.assert_allclose(np.abs(result.weights[1:]).sum(axis=1), 1.0)


def test_event_engine_fills_record_quantity_price_and_fee() -> None:
    # Arrange: buy at bar 1, sell at bar 3
    panel = random_panel(symbols=("AAPL",), bars=5)
    costs = CostModel.from_settings(panel.symbols, CostSettings())
    wants = np.array([[1.0], [1.0], [0.0], [0.0], [0.0]])

    # Act
    result = EventDrivenEngine(panel, costs, 10_000.0).run(PrecomputedWeights(wants))

    # Assert
    buy, sell = result.fills
    assert (buy.bar, sell.bar) == (1, 3)
    assert buy.price == panel.open["AAPL"].iloc[1]
    assert buy.quantity == pytest.approx(-sell.quantity)
    assert buy.fee == pytest.approx(buy.quantity * buy.price * float(costs.linear_rate[0]))


def test_event_engine_bad_targets_raise_naming_bar() -> None:
    class Wrong:
        def decide(self, bar: BarView, book: Book) -> FloatArray:
            return np.zeros(2)

    panel = random_panel(bars=5)

    with pytest.raises(InvalidInputError, match="bar 0"):
        EventDrivenEngine(panel, CostModel.free(panel.symbols)).run(Wrong())


def test_pretrade_gate_loose_limits_changes_nothing() -> None:
    # Arrange
    panel = random_panel(bars=60)
    costs = CostModel.from_settings(panel.symbols, CostSettings())
    wants = random_weights(panel).to_numpy()
    gate = PretradeRiskGate(panel.symbols, RiskLimits())

    # Act
    gated = EventDrivenEngine(panel, costs, 1e6).run(PrecomputedWeights(wants), gate)
    free = EventDrivenEngine(panel, costs, 1e6).run(PrecomputedWeights(wants))

    # Assert
    np.testing.assert_allclose(gated.equity, free.equity, rtol=1e-9)
    assert gate.denials == []


def test_pretrade_gate_restricted_symbol_is_never_bought() -> None:
    # Arrange
    panel = random_panel(bars=30)
    limits = RiskLimits(restricted_symbols=frozenset({"BTC-USD"}))
    gate = PretradeRiskGate(panel.symbols, limits)
    wants = np.full((30, 3), 0.3)

    # Act
    result = EventDrivenEngine(panel, CostModel.free(panel.symbols), 1e6).run(
        PrecomputedWeights(wants), gate
    )

    # Assert
    assert not result.units[:, 2].any()
    assert result.units[-1, 0] > 0
    assert {d.symbol for d in gate.denials} == {"BTC-USD"}
    assert all("restricted_symbol" in d.reasons for d in gate.denials)


def test_pretrade_gate_gross_limit_denies_what_would_breach_it() -> None:
    # Arrange: each symbol wants 60% of equity; gross may not exceed 100%
    panel = random_panel(bars=10)
    gate = PretradeRiskGate(panel.symbols, RiskLimits(max_gross_exposure=1.0))

    # Act
    result = EventDrivenEngine(panel, CostModel.free(panel.symbols), 1e6).run(
        PrecomputedWeights(np.full((10, 3), 0.6)), gate
    )

    # Assert
    assert np.abs(result.weights[1:]).sum(axis=1).max() <= 1.0 + 1e-9
    assert any("max_gross_exposure" in d.reasons for d in gate.denials)


def test_event_engine_book_cannot_be_written_by_a_decision() -> None:
    class Thief:
        def decide(self, bar: BarView, book: Book) -> FloatArray:
            if bar.index == 2:
                book.units[0] = 1e9
            return np.full(bar.close.shape[1], 0.1)

    panel = random_panel(bars=5)

    with pytest.raises(ValueError, match="read-only"):
        EventDrivenEngine(panel, CostModel.free(panel.symbols)).run(Thief())
