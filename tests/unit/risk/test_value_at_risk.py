"""VaR and ES against closed forms (normal) and samples whose answer is known by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from quantdesk.domain.errors import InvalidInputError
from quantdesk.risk.var import (
    VarMethod,
    ewma_covariance,
    ewma_volatility,
    historical_var,
    monte_carlo_var,
    normal_var_es,
    parametric_var,
    portfolio_returns,
    tail_size,
    var_report,
)


def test_historical_var_on_known_sample_is_the_fifth_worst_loss() -> None:
    # Returns -1%, -2%, ..., -100%: at 95% the tail is the 5 worst (-96%..-100%).
    returns = -np.arange(1, 101) / 100.0

    estimate = historical_var(returns, 0.95)

    assert tail_size(100, 0.95) == 5
    assert estimate.var == pytest.approx(0.96)
    assert estimate.expected_shortfall == pytest.approx(0.98)


def test_historical_var_ignores_order_and_gains() -> None:
    rng = np.random.default_rng(1)
    returns = np.concatenate([np.full(990, 0.01), [-0.05, -0.04, -0.03, -0.02, -0.06,
                              -0.07, -0.08, -0.09, -0.10, -0.11]])  # fmt: skip
    rng.shuffle(returns)

    estimate = historical_var(returns, 0.99)

    assert estimate.var == pytest.approx(0.02)
    assert estimate.expected_shortfall == pytest.approx(0.065)


def test_normal_closed_form_matches_textbook_values() -> None:
    var, es = normal_var_es(0.0, 1.0, 0.99)

    assert var == pytest.approx(2.326348, abs=1e-6)
    assert es == pytest.approx(2.665214, abs=1e-6)


def test_normal_closed_form_shifts_by_the_mean_and_scales_by_sigma() -> None:
    var, es = normal_var_es(0.001, 0.02, 0.975)

    assert var == pytest.approx(1.959964 * 0.02 - 0.001, abs=1e-6)
    assert es == pytest.approx(0.02 * 2.337803 - 0.001, abs=1e-6)


def test_historical_var_of_large_normal_sample_converges_to_closed_form() -> None:
    returns = np.random.default_rng(3).normal(0.0, 0.01, 400_000)

    estimate = historical_var(returns, 0.99)
    var, es = normal_var_es(0.0, 0.01, 0.99)

    assert estimate.var == pytest.approx(var, rel=0.02)
    assert estimate.expected_shortfall == pytest.approx(es, rel=0.02)


def test_parametric_var_with_sample_sigma_uses_closed_form_and_horizon() -> None:
    returns = np.array([0.01, -0.01, 0.02, -0.02, 0.0])
    sigma = float(np.std(returns, ddof=1))

    estimate = parametric_var(returns, 0.99, horizon=4, ewma_lambda=None)

    assert estimate.method is VarMethod.PARAMETRIC
    assert estimate.var == pytest.approx(2.326348 * sigma * 2, rel=1e-6)
    assert estimate.expected_shortfall > estimate.var


def test_ewma_volatility_follows_the_recursion() -> None:
    returns = [0.01, -0.02, 0.03]
    variance = float(np.var(returns))
    for r in returns:
        variance = 0.9 * variance + 0.1 * r * r

    assert ewma_volatility(returns, 0.9) == pytest.approx(math.sqrt(variance))


def test_ewma_volatility_reacts_to_a_volatility_jump() -> None:
    rng = np.random.default_rng(5)
    calm = rng.normal(0, 0.01, 500)
    stormy = np.concatenate([calm, rng.normal(0, 0.04, 60)])

    assert ewma_volatility(calm) == pytest.approx(0.01, rel=0.35)
    assert ewma_volatility(stormy) > 2.5 * ewma_volatility(calm)


def test_monte_carlo_var_matches_the_normal_closed_form() -> None:
    rng = np.random.default_rng(11)
    cov = np.array([[1e-4, 3e-5], [3e-5, 4e-4]])
    returns = pd.DataFrame(rng.multivariate_normal([0, 0], cov, 3000), columns=["A", "B"])
    weights = pd.Series({"A": 0.6, "B": 0.4})
    ewma = ewma_covariance(returns, 0.97).to_numpy()
    sigma = math.sqrt(float(weights.to_numpy() @ ewma @ weights.to_numpy()))

    estimate = monte_carlo_var(returns, weights, 0.99, paths=200_000, ewma_lambda=0.97, seed=1)
    var, es = normal_var_es(0.0, sigma, 0.99)

    assert estimate.var == pytest.approx(var, rel=0.02)
    assert estimate.expected_shortfall == pytest.approx(es, rel=0.02)


def test_monte_carlo_var_is_reproducible_with_a_seed() -> None:
    rng = np.random.default_rng(2)
    returns = pd.DataFrame(rng.normal(0, 0.01, (300, 3)), columns=["A", "B", "C"])
    weights = pd.Series({"A": 0.2, "B": 0.3, "C": 0.5})

    first = monte_carlo_var(returns, weights, paths=2000, seed=9)
    second = monte_carlo_var(returns, weights, paths=2000, seed=9)

    assert first == second


def test_var_report_gives_three_methods_with_es_above_var() -> None:
    rng = np.random.default_rng(4)
    returns = pd.DataFrame(rng.standard_t(5, (800, 2)) * 0.01, columns=["A", "B"])

    report = var_report(returns, pd.Series({"A": 0.5, "B": 0.5}), 0.99, paths=5000)

    assert [e.method for e in report] == list(VarMethod)
    assert all(e.expected_shortfall >= e.var > 0 for e in report)


def test_portfolio_returns_weights_the_columns() -> None:
    returns = pd.DataFrame({"A": [0.01, 0.02], "B": [-0.01, 0.04]})

    series = portfolio_returns(returns, pd.Series({"A": 0.5, "B": 0.5}))

    assert series.tolist() == pytest.approx([0.0, 0.03])


def test_var_bad_confidence_or_missing_symbol_raises() -> None:
    with pytest.raises(InvalidInputError, match="confidence"):
        historical_var([0.01, -0.01], 1.5)
    with pytest.raises(InvalidInputError, match="no returns"):
        portfolio_returns(pd.DataFrame({"A": [0.1, 0.2]}), pd.Series({"Z": 1.0}))
