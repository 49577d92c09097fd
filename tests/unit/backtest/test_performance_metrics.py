"""Metrics against empyrical-reloaded 0.7.1 (the reference), and the deflated Sharpe ratio."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest import metrics
from quantdesk.backtest.costs import CostModel
from quantdesk.backtest.vectorized import run_vectorized
from quantdesk.config import CostSettings
from tests.unit.backtest.panels import random_panel, random_weights


@pytest.fixture(scope="module")
def returns() -> np.ndarray:
    rng = np.random.default_rng(21)
    return rng.standard_t(4, 750) * 0.01 + 0.0004


@pytest.mark.parametrize("periods", [252, 365])
def test_cagr_volatility_sharpe_match_empyrical(returns: np.ndarray, periods: int) -> None:
    assert metrics.cagr(returns, periods) == pytest.approx(
        empyrical.annual_return(returns, annualization=periods), rel=1e-12
    )
    assert metrics.volatility(returns, periods) == pytest.approx(
        empyrical.annual_volatility(returns, annualization=periods), rel=1e-12
    )
    assert metrics.sharpe_ratio(returns, periods) == pytest.approx(
        empyrical.sharpe_ratio(returns, annualization=periods), rel=1e-12
    )


def test_sharpe_and_sortino_with_risk_free_match_empyrical(returns: np.ndarray) -> None:
    # empyrical takes the per-bar risk-free rate; ours is annual
    per_bar = 0.03 / 252

    assert metrics.sharpe_ratio(returns, 252, 0.03) == pytest.approx(
        empyrical.sharpe_ratio(returns, risk_free=per_bar), rel=1e-12
    )
    assert metrics.sortino_ratio(returns, 252, 0.03) == pytest.approx(
        empyrical.sortino_ratio(returns, required_return=per_bar), rel=1e-12
    )


def test_drawdown_and_calmar_match_empyrical(returns: np.ndarray) -> None:
    assert metrics.max_drawdown(returns) == pytest.approx(
        empyrical.max_drawdown(returns), rel=1e-12
    )
    assert metrics.calmar_ratio(returns) == pytest.approx(
        empyrical.calmar_ratio(returns), rel=1e-12
    )


def test_max_drawdown_first_return_loss_counts_from_start() -> None:
    assert metrics.max_drawdown([-0.1, 0.05, -0.2]) == pytest.approx(0.9 * 1.05 * 0.8 / 1 - 1)


def test_hit_rate_ignores_flat_bars() -> None:
    assert metrics.hit_rate([0.01, 0.0, -0.02, 0.03, 0.0]) == pytest.approx(2 / 3)


def test_deflated_sharpe_paper_example_matches_published_value() -> None:
    # Bailey & López de Prado (2014), numerical example: annual SR 2.5 over 1,250 days, 100
    # trials with annualised SR variance 0.5, skewness -3, kurtosis 10 -> DSR ~ 0.9004
    sharpe = 2.5 / math.sqrt(250)
    benchmark = metrics.expected_max_sharpe(100, 0.5 / 250)

    dsr = metrics.probabilistic_sharpe_ratio(sharpe, benchmark, 1250, -3.0, 10.0)

    assert benchmark * math.sqrt(250) == pytest.approx(1.7894, abs=1e-3)
    assert dsr == pytest.approx(0.9004, abs=5e-4)


def test_deflated_sharpe_more_trials_lower_confidence(returns: np.ndarray) -> None:
    values = [metrics.deflated_sharpe_ratio(returns, n) for n in (1, 10, 100, 1000)]

    assert values == sorted(values, reverse=True)
    assert values[0] > values[-1]


def test_deflated_sharpe_one_trial_is_psr_against_zero() -> None:
    # Arrange: normal returns: skewness ~0, kurtosis ~3
    rng = np.random.default_rng(4)
    r = rng.normal(0.001, 0.01, 2000)
    sharpe = r.mean() / r.std(ddof=1)

    # Act
    dsr = metrics.deflated_sharpe_ratio(r, trials=1)

    # Assert: close to the normal-theory value Phi(SR * sqrt(T-1) / sqrt(1 + SR^2 / 2))
    approx = 0.5 * (1 + math.erf(sharpe * math.sqrt(1999) / math.sqrt(1 + sharpe**2 / 2) / 2**0.5))
    assert dsr == pytest.approx(approx, abs=5e-3)


def test_compute_metrics_backtest_result_reports_costs_turnover_exposure() -> None:
    # Arrange
    panel = random_panel()
    costs = CostModel.from_settings(panel.symbols, CostSettings())
    result = run_vectorized(panel, random_weights(panel), costs, initial_equity=1e6)

    # Act
    figures = metrics.compute_metrics(result, periods_per_year=252, trials=5)

    # Assert
    returns = result.returns.to_numpy()[1:]
    assert figures.sharpe == pytest.approx(empyrical.sharpe_ratio(returns), rel=1e-12)
    assert figures.costs_paid == pytest.approx(result.costs.to_numpy().sum())
    expected_turnover = result.turnover.sum(axis=1).iloc[1:].mean() * 252
    assert figures.turnover == pytest.approx(expected_turnover)
    assert figures.exposure == pytest.approx(result.weights.abs().sum(axis=1).iloc[1:].mean())
    assert figures.total_return == pytest.approx(result.equity.iloc[-1] / 1e6 - 1)
    assert figures.bars == len(panel.index) - 1
    assert 0 <= figures.deflated_sharpe <= 1


def test_rolling_sharpe_matches_empyrical_rolling(returns: np.ndarray) -> None:
    series = pd.Series(returns)

    ours = metrics.rolling_sharpe(series, 60).to_numpy()[59:]
    reference = empyrical.roll_sharpe_ratio(returns, window=60)

    np.testing.assert_allclose(ours, reference, rtol=1e-9)
