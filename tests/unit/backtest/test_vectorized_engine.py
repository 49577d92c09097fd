"""The vectorized engine: next-bar execution, drift, exact costs, caps, grids, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.backtest.market_panel import MarketPanel
from quantdesk.backtest.vectorized import run_vectorized, simulate
from quantdesk.config import CostSettings
from quantdesk.domain import Granularity, InvalidInputError
from tests.bar_factory import make_bars
from tests.unit.backtest.panels import random_panel, random_weights

COSTS = CostSettings()


def one_symbol_panel() -> MarketPanel:
    index = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")
    return MarketPanel(
        open=pd.DataFrame({"AAPL": [100.0, 102.0, 99.0, 105.0]}, index=index),
        close=pd.DataFrame({"AAPL": [101.0, 100.0, 104.0, 103.0]}, index=index),
        dollar_volume=pd.DataFrame({"AAPL": [1e9] * 4}, index=index),
    )


def test_run_vectorized_hand_computed_path_buys_next_open_and_pays_fee() -> None:
    # Arrange: 10 bps all-in cost; decide "long" on bar 0's close, "flat" on bar 2's close
    panel = one_symbol_panel()
    costs = CostModel(symbols=("AAPL",), fee_bps=np.array([10.0]), half_spread_bps=np.zeros(1))
    targets = pd.DataFrame({"AAPL": [1.0, 1.0, 0.0, 0.0]}, index=panel.index)

    # Act
    result = run_vectorized(panel, targets, costs, initial_equity=1000.0, fill="open")

    # Assert: bought at bar 1's open keeping 1/(1+f), sold at bar 3's open keeping (1-f)
    units = 1000.0 / 1.001 / 102.0
    expected = [1000.0, units * 100.0, units * 104.0, units * 105.0 * 0.999]
    np.testing.assert_allclose(result.equity.to_numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(result.positions["AAPL"].to_numpy(), [0, units, units, 0])
    assert result.total_costs == pytest.approx(1000.0 - units * 102.0 + units * 105.0 * 0.001)


def test_run_vectorized_close_fill_trades_at_next_close() -> None:
    # Arrange
    panel = one_symbol_panel()
    targets = pd.DataFrame({"AAPL": [1.0, 1.0, 1.0, 1.0]}, index=panel.index)

    # Act
    result = run_vectorized(panel, targets, CostModel.free(["AAPL"]), fill="close")

    # Assert: bought at bar 1's close (100), so bar 2 earns 104/100 and bar 3 103/100
    np.testing.assert_allclose(result.equity.to_numpy(), [1.0, 1.0, 1.04, 1.03])


def test_run_vectorized_changing_a_later_target_leaves_earlier_equity_unchanged() -> None:
    # Arrange
    panel = random_panel()
    costs = CostModel.from_settings(panel.symbols, COSTS)
    targets = random_weights(panel)
    changed = targets.copy()
    changed.iloc[60] = [0.9, -0.9, 0.3]

    # Act
    base = run_vectorized(panel, targets, costs).equity
    other = run_vectorized(panel, changed, costs).equity

    # Assert: bar 60's decision is first traded at bar 61
    np.testing.assert_array_equal(base.iloc[:61].to_numpy(), other.iloc[:61].to_numpy())
    assert base.iloc[61] != other.iloc[61]


def test_run_vectorized_future_prices_do_not_change_past_equity() -> None:
    # Arrange
    panel = random_panel()
    costs = CostModel.from_settings(panel.symbols, COSTS)
    targets = random_weights(panel)
    shocked_close = panel.close.copy()
    shocked_close.iloc[80:] *= 1.5
    shocked_open = panel.open.copy()
    shocked_open.iloc[80:] *= 1.5
    shocked = MarketPanel(shocked_open, shocked_close, panel.dollar_volume)

    # Act
    base = run_vectorized(panel, targets, costs).equity
    other = run_vectorized(shocked, targets, costs).equity

    # Assert
    np.testing.assert_array_equal(base.iloc[:80].to_numpy(), other.iloc[:80].to_numpy())


def test_closed_form_equals_stepwise_for_linear_costs() -> None:
    # Arrange
    panel = random_panel(bars=200)
    costs = CostModel.from_settings(panel.symbols, COSTS, scale=3.0)
    targets = random_weights(panel, change_every=3)

    # Act
    closed = run_vectorized(panel, targets, costs, method="closed_form")
    steps = run_vectorized(panel, targets, costs, method="stepwise")

    # Assert
    np.testing.assert_allclose(closed.equity, steps.equity, rtol=1e-12)
    np.testing.assert_allclose(closed.costs, steps.costs, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(closed.positions, steps.positions, rtol=1e-12, atol=1e-15)


def test_run_vectorized_costs_paid_equal_gross_minus_net_wealth_effect() -> None:
    # Arrange: one trade in and one out, so the gap in final equity is the costs compounded
    panel = random_panel(symbols=("AAPL",), bars=30)
    targets = pd.DataFrame({"AAPL": [1.0] * 10 + [0.0] * 20}, index=panel.index)
    costs = CostModel.from_settings(panel.symbols, COSTS)

    # Act
    net = run_vectorized(panel, targets, costs)
    gross = run_vectorized(panel, targets, CostModel.free(panel.symbols))

    # Assert
    assert net.equity.iloc[-1] < gross.equity.iloc[-1]
    assert np.count_nonzero(net.costs.to_numpy()) == 2
    buy, sell = net.costs.to_numpy()[net.costs.to_numpy() > 0]
    assert buy == pytest.approx(1.0 - 1.0 / (1.0 + float(costs.linear_rate[0])), rel=1e-9)
    value_at_exit = net.positions["AAPL"].iloc[10] * panel.open["AAPL"].iloc[11]
    assert sell == pytest.approx(float(costs.linear_rate[0]) * value_at_exit, rel=1e-12)


def test_run_vectorized_constant_mix_rebalances_the_drift() -> None:
    # Arrange
    panel = random_panel(symbols=("AAPL", "MSFT"), bars=10)
    targets = pd.DataFrame(0.5, index=panel.index, columns=list(panel.symbols))

    # Act
    result = run_vectorized(panel, targets, CostModel.free(panel.symbols))

    # Assert: after the first buy, each bar trades back the drift, and only that
    assert result.turnover.iloc[1].sum() == pytest.approx(1.0)
    assert (result.turnover.iloc[2:].sum(axis=1) > 0).all()
    assert (result.turnover.iloc[2:].sum(axis=1) < 0.05).all()
    np.testing.assert_allclose(result.weights.iloc[1:], 0.5)


def test_run_vectorized_scaled_costs_cost_more() -> None:
    # Arrange
    panel = random_panel()
    targets = random_weights(panel)
    base = CostModel.from_settings(panel.symbols, COSTS)

    # Act
    finals = [
        run_vectorized(panel, targets, base.scaled(s)).equity.iloc[-1] for s in (0.0, 1.0, 2.0)
    ]

    # Assert
    assert finals[0] > finals[1] > finals[2]


def test_run_vectorized_volume_cap_spreads_a_big_trade_over_bars() -> None:
    # Arrange: each bar can trade 10% of a 1,000 dollar-volume bar = 100 on 1,000 equity
    panel = random_panel(symbols=("AAPL",), bars=20, dollar_volume=1_000.0)
    volume = pd.DataFrame(1_000.0, index=panel.index, columns=["AAPL"])
    panel = MarketPanel(panel.open, panel.close, volume)
    settings = CostSettings(volume_cap=0.1, slippage_bps=0.0)
    costs = CostModel.from_settings(panel.symbols, settings)
    targets = pd.DataFrame(1.0, index=panel.index, columns=["AAPL"])

    # Act
    result = run_vectorized(panel, targets, costs, initial_equity=1_000.0)

    # Assert: the first fills are capped, each at most 100 currency, the position builds up
    traded_value = result.turnover["AAPL"] * result.equity.shift(1).fillna(1_000.0)
    assert traded_value.iloc[1] == pytest.approx(100.0, rel=0.05)
    assert (traded_value <= 100.0 * (1 + 1e-9) * 1.1).all()
    held = result.weights["AAPL"].to_numpy()
    assert held[1] < held[2] < held[3] < 1.0
    assert held[-1] == pytest.approx(1.0)


def test_run_vectorized_impact_costs_more_than_linear() -> None:
    # Arrange
    panel = random_panel(dollar_volume=1e5)
    targets = random_weights(panel)
    linear = CostModel.from_settings(panel.symbols, COSTS)
    impact = CostModel.from_settings(panel.symbols, CostSettings(impact_coefficient=0.1))

    # Act
    with_impact = run_vectorized(panel, targets, impact, initial_equity=1e5)
    without = run_vectorized(panel, targets, linear, initial_equity=1e5)

    # Assert
    assert with_impact.total_costs > without.total_costs
    assert with_impact.equity.iloc[-1] < without.equity.iloc[-1]


def test_simulate_grid_of_portfolios_equals_separate_runs() -> None:
    # Arrange: three independent one-symbol portfolios in one call
    panel = random_panel(symbols=("AAPL",), bars=50)
    costs = CostModel.from_settings(panel.symbols, COSTS)
    rng = np.random.default_rng(2)
    grid = (rng.uniform(size=(50, 3, 1)) > 0.5).astype(float)
    open_, close = panel.open.to_numpy(), panel.close.to_numpy()

    # Act
    together = simulate(open_, close, grid, costs)
    alone = [simulate(open_, close, grid[:, p, :], costs).equity for p in range(3)]

    # Assert
    np.testing.assert_allclose(together.equity, np.stack(alone, axis=1), rtol=1e-13)


def test_run_vectorized_nan_target_raises_naming_bar() -> None:
    panel = random_panel()
    targets = random_weights(panel)
    targets.iloc[7, 1] = np.nan

    with pytest.raises(InvalidInputError, match="bar 7"):
        run_vectorized(panel, targets, CostModel.free(panel.symbols))


def test_run_vectorized_misaligned_columns_raise() -> None:
    panel = random_panel()
    targets = random_weights(panel).iloc[:, ::-1]

    with pytest.raises(InvalidInputError, match="columns"):
        run_vectorized(panel, targets, CostModel.free(panel.symbols))


def test_market_panel_from_bars_mixed_calendars_carries_prices_and_zero_volume() -> None:
    # Arrange: daily crypto every day, equity bars only on some days
    crypto = make_bars("BTC-USD", Granularity.D1, periods=10)
    equity = make_bars("AAPL", Granularity.D1, periods=10, seed=3).iloc[[0, 1, 2, 5, 6, 9]]
    bars = pd.concat([crypto, equity])

    # Act
    panel = MarketPanel.from_bars(bars)

    # Assert
    assert panel.symbols == ("AAPL", "BTC-USD")
    assert len(panel.index) == 10
    assert panel.close["AAPL"].iloc[3] == panel.close["AAPL"].iloc[2]
    assert panel.open["AAPL"].iloc[3] == panel.close["AAPL"].iloc[2]
    assert panel.dollar_volume["AAPL"].iloc[3] == 0.0
