"""Optimizers: weights sum to 1, bounds hold, closed forms match, RP equalises risk, HRP
matches a case worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.config import PortfolioSettings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.portfolio.covariance import shrunk_covariance
from quantdesk.portfolio.optimizer import (
    OptimizationMethod,
    WeightBounds,
    hierarchical_risk_parity,
    maximum_sharpe,
    mean_variance,
    minimum_variance,
    optimize,
    risk_contributions,
    risk_parity,
)

NAMES = ["A", "B", "C", "D"]
VOLS = np.array([0.10, 0.15, 0.20, 0.30])
CORR = np.array(
    [[1.0, 0.3, 0.2, 0.1], [0.3, 1.0, 0.4, 0.2], [0.2, 0.4, 1.0, 0.5], [0.1, 0.2, 0.5, 1.0]]
)
COV = pd.DataFrame(CORR * np.outer(VOLS, VOLS), index=NAMES, columns=NAMES)
MU = pd.Series([0.04, 0.06, 0.09, 0.10], index=NAMES)
WIDE = WeightBounds(-1.0, 1.0)


def returns_frame(rows: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    daily = COV.to_numpy() / 252
    return pd.DataFrame(rng.multivariate_normal(MU / 50, daily, rows), columns=NAMES)


def test_minimum_variance_with_wide_bounds_matches_closed_form() -> None:
    inverse = np.linalg.inv(COV.to_numpy())
    expected = inverse @ np.ones(4) / (np.ones(4) @ inverse @ np.ones(4))

    result = minimum_variance(COV, WIDE)

    assert result.weights.to_numpy() == pytest.approx(expected, abs=1e-5)


def test_maximum_sharpe_with_wide_bounds_matches_tangency_closed_form() -> None:
    raw = np.linalg.solve(COV.to_numpy(), MU.to_numpy() - 0.01)
    expected = raw / raw.sum()

    result = maximum_sharpe(MU, COV, WIDE, risk_free_rate=0.01)

    assert result.weights.to_numpy() == pytest.approx(expected, abs=1e-5)


def test_mean_variance_huge_risk_aversion_tends_to_minimum_variance() -> None:
    averse = mean_variance(MU, COV, risk_aversion=1e6)
    minvar = minimum_variance(COV)

    assert averse.weights.to_numpy() == pytest.approx(minvar.weights.to_numpy(), abs=1e-4)


@pytest.mark.parametrize("method", list(OptimizationMethod))
def test_optimize_weights_sum_to_one_and_respect_bounds(method: OptimizationMethod) -> None:
    settings = PortfolioSettings(min_weight=0.05, max_weight=0.4)

    result = optimize(method, returns_frame(), settings)

    assert result.weights.sum() == pytest.approx(1.0, abs=1e-8)
    assert list(result.weights.index) == NAMES
    assert result.risk_contributions.sum() == pytest.approx(1.0, abs=1e-8)
    assert result.volatility > 0
    if method in (
        OptimizationMethod.MEAN_VARIANCE,
        OptimizationMethod.MIN_VARIANCE,
        OptimizationMethod.MAX_SHARPE,
    ):
        assert result.weights.min() >= 0.05 - 1e-6
        assert result.weights.max() <= 0.4 + 1e-6
    else:
        assert (result.weights > 0).all()


def test_mean_variance_binding_cap_is_held() -> None:
    result = mean_variance(MU, COV, risk_aversion=0.5, bounds=WeightBounds(0.0, 0.3))

    assert result.weights.max() == pytest.approx(0.3, abs=1e-6)
    assert result.weights.min() >= -1e-8


def test_risk_parity_equalises_risk_contributions() -> None:
    result = risk_parity(COV)

    assert result.risk_contributions.to_numpy() == pytest.approx(np.full(4, 0.25), abs=1e-5)
    assert result.weights["A"] > result.weights["D"]


def test_risk_parity_with_budgets_matches_budgets() -> None:
    budgets = pd.Series([0.4, 0.3, 0.2, 0.1], index=NAMES)

    result = risk_parity(COV, budgets)

    assert result.risk_contributions.to_numpy() == pytest.approx(budgets.to_numpy(), abs=1e-5)


def test_risk_parity_uncorrelated_is_inverse_volatility() -> None:
    cov = pd.DataFrame(np.diag(VOLS**2), index=NAMES, columns=NAMES)

    result = risk_parity(cov)

    expected = (1 / VOLS) / (1 / VOLS).sum()
    assert result.weights.to_numpy() == pytest.approx(expected, abs=1e-6)


def test_hierarchical_risk_parity_matches_hand_worked_case() -> None:
    # Two pairs, uncorrelated with each other: (A, B) with var .04/.01, rho .5 (cov .01) and
    # (C, D) with var .09/.09, rho .6 (cov .054). By hand:
    #   cluster AB: inverse-variance weights (.2, .8); variance .2²·.04+.8²·.01+2·.2·.8·.01 = .0112
    #   cluster CD: weights (.5, .5); variance .25·.09·2 + 2·.25·.054 = .072
    #   split: AB gets 1 − .0112/(.0112+.072) = .865385, CD gets .134615
    #   inside AB: A gets 1 − .04/.05 = .2 of it, B .8; inside CD: .5 each.
    cov = pd.DataFrame(
        [[0.04, 0.01, 0, 0], [0.01, 0.01, 0, 0], [0, 0, 0.09, 0.054], [0, 0, 0.054, 0.09]],
        index=NAMES, columns=NAMES,
    )  # fmt: skip
    ab = 1 - 0.0112 / 0.0832

    result = hierarchical_risk_parity(cov)

    expected = [0.2 * ab, 0.8 * ab, 0.5 * (1 - ab), 0.5 * (1 - ab)]
    assert result.weights.to_numpy() == pytest.approx(expected, abs=1e-9)
    assert result.weights.to_numpy() == pytest.approx([0.173077, 0.692308, 0.067308, 0.067308],
                                                      abs=1e-6)  # fmt: skip


def test_risk_contributions_of_equal_weights_on_identity_are_equal() -> None:
    cov = pd.DataFrame(np.eye(3), index=list("XYZ"), columns=list("XYZ"))

    contributions = risk_contributions(pd.Series(1 / 3, index=list("XYZ")), cov)

    assert contributions.to_numpy() == pytest.approx([1 / 3] * 3)


def test_shrunk_covariance_is_closer_to_truth_than_sample_on_few_rows() -> None:
    frame = returns_frame(rows=30, seed=8)
    truth = COV.to_numpy() / 252

    shrunk = shrunk_covariance(frame).to_numpy()
    sample = np.cov(frame.to_numpy(), rowvar=False, bias=True)

    assert np.linalg.norm(shrunk - truth) < np.linalg.norm(sample - truth)


def test_infeasible_bounds_and_no_positive_excess_raise() -> None:
    with pytest.raises(InvalidInputError, match="cannot sum to 1"):
        minimum_variance(COV, WeightBounds(0.0, 0.2))
    with pytest.raises(InvalidInputError, match="beats r"):
        maximum_sharpe(MU, COV, risk_free_rate=0.5)
