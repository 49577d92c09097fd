"""Portfolio optimizers over one covariance estimate (Ledoit-Wolf shrinkage by default).

Methods: mean-variance with bounds, minimum variance, maximum Sharpe (the convex
Cornuejols-Tütüncü reformulation), risk parity (convex log-barrier formulation) and
hierarchical risk parity (López de Prado: single-linkage clustering on correlation distance,
quasi-diagonal order, recursive bisection with inverse-variance cluster weights). The convex
problems are solved with cvxpy; HRP needs only scipy's clustering. Weights always sum to 1;
bounds apply to mv, minvar and maxsharpe (risk parity and HRP are long-only by construction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.config import PortfolioSettings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.portfolio.covariance import check_covariance, complete_returns, shrunk_covariance


class OptimizationMethod(StrEnum):
    MEAN_VARIANCE = "mv"
    MIN_VARIANCE = "minvar"
    MAX_SHARPE = "maxsharpe"
    RISK_PARITY = "riskparity"
    HRP = "hrp"


@dataclass(frozen=True, slots=True)
class WeightBounds:
    """Per-asset weight bounds; a negative ``min_weight`` allows shorts."""

    min_weight: float = 0.0
    max_weight: float = 1.0

    def __post_init__(self) -> None:
        if not -1.0 <= self.min_weight <= self.max_weight <= 1.0:
            raise InvalidInputError(
                f"need -1 <= min_weight <= max_weight <= 1, got {self.min_weight}, "
                f"{self.max_weight}"
            )

    def check_feasible(self, n: int) -> None:
        if n * self.max_weight < 1 - 1e-9 or n * self.min_weight > 1 + 1e-9:
            raise InvalidInputError(
                f"weights of {n} assets in [{self.min_weight}, {self.max_weight}] cannot sum to 1"
            )


@dataclass(frozen=True, slots=True)
class OptimizationResult:
    """Weights and what they imply under the estimates used (per period of the returns)."""

    method: OptimizationMethod
    weights: pd.Series
    expected_return: float | None
    volatility: float
    risk_contributions: pd.Series


def risk_contributions(weights: pd.Series, cov: pd.DataFrame) -> pd.Series:
    """Each asset's share of portfolio variance, ``w_i (Σw)_i / w'Σw`` (sums to 1)."""
    w = weights.reindex(cov.index).fillna(0.0).to_numpy(dtype=np.float64)
    sigma = cov.to_numpy(dtype=np.float64)
    marginal = sigma @ w
    total = float(w @ marginal)
    if total <= 0:
        return pd.Series(0.0, index=cov.index)
    return pd.Series(w * marginal / total, index=cov.index)


def _result(
    method: OptimizationMethod, w: np.ndarray, cov: pd.DataFrame, mu: pd.Series | None
) -> OptimizationResult:
    w = np.where(np.abs(w) < 1e-10, 0.0, w)
    w = w / w.sum()
    weights = pd.Series(w, index=cov.index, name="weight")
    sigma = cov.to_numpy(dtype=np.float64)
    return OptimizationResult(
        method=method,
        weights=weights,
        expected_return=None if mu is None else float(mu.reindex(cov.index).to_numpy() @ w),
        volatility=float(np.sqrt(max(w @ sigma @ w, 0.0))),
        risk_contributions=risk_contributions(weights, cov),
    )


def _cvxpy() -> Any:
    """cvxpy, imported on first use (its top-level re-exports are invisible to mypy)."""
    import cvxpy

    return cvxpy


def _solve(problem: Any, what: str, infeasible: str = "") -> None:
    cp = _cvxpy()

    try:
        problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    except cp.error.SolverError as exc:
        raise InvalidInputError(f"{what}: the solver failed ({exc})") from None
    if infeasible and problem.status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
        raise InvalidInputError(f"{what}: {infeasible}")
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise InvalidInputError(f"{what}: no solution ({problem.status})")


def _mu(mu: pd.Series, cov: pd.DataFrame) -> np.ndarray:
    missing = sorted(set(cov.index) - set(mu.index))
    if missing:
        raise InvalidInputError(f"no expected return for {', '.join(map(str, missing))}")
    values: np.ndarray = mu.reindex(cov.index).to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise InvalidInputError("expected returns must be finite")
    return values


def mean_variance(
    mu: pd.Series, cov: pd.DataFrame, risk_aversion: float, bounds: WeightBounds = WeightBounds()
) -> OptimizationResult:
    """Maximise ``μ'w − (γ/2) w'Σw`` with ``Σw = 1`` and the bounds."""
    cp = _cvxpy()

    if risk_aversion <= 0:
        raise InvalidInputError(f"risk_aversion must be > 0, got {risk_aversion}")
    sigma, m = check_covariance(cov), _mu(mu, cov)
    bounds.check_feasible(len(m))
    w = cp.Variable(len(m))
    objective = cp.Maximize(m @ w - risk_aversion / 2 * cp.quad_form(w, cp.psd_wrap(sigma)))
    constraints = [cp.sum(w) == 1, w >= bounds.min_weight, w <= bounds.max_weight]
    _solve(cp.Problem(objective, constraints), "mean-variance")
    return _result(OptimizationMethod.MEAN_VARIANCE, np.asarray(w.value), cov, mu)


def minimum_variance(
    cov: pd.DataFrame, bounds: WeightBounds = WeightBounds()
) -> OptimizationResult:
    """Minimise ``w'Σw`` with ``Σw = 1`` and the bounds."""
    cp = _cvxpy()

    sigma = check_covariance(cov)
    bounds.check_feasible(len(sigma))
    w = cp.Variable(len(sigma))
    constraints = [cp.sum(w) == 1, w >= bounds.min_weight, w <= bounds.max_weight]
    _solve(cp.Problem(cp.Minimize(cp.quad_form(w, cp.psd_wrap(sigma))), constraints), "minvar")
    return _result(OptimizationMethod.MIN_VARIANCE, np.asarray(w.value), cov, None)


def maximum_sharpe(
    mu: pd.Series,
    cov: pd.DataFrame,
    bounds: WeightBounds = WeightBounds(),
    risk_free_rate: float = 0.0,
) -> OptimizationResult:
    """Tangency portfolio: minimise ``y'Σy`` s.t. ``(μ−r)'y = 1``; ``w = y / Σy``.

    Bounds scale with ``κ = Σy`` so they hold for ``w``. Needs an asset above ``r``.
    """
    cp = _cvxpy()

    sigma, m = check_covariance(cov), _mu(mu, cov)
    excess = m - risk_free_rate
    if bounds.min_weight >= 0 and excess.max() <= 0:
        raise InvalidInputError("maximum Sharpe needs an asset whose expected return beats r")
    bounds.check_feasible(len(m))
    y, kappa = cp.Variable(len(m)), cp.Variable(nonneg=True)
    constraints = [
        excess @ y == 1,
        cp.sum(y) == kappa,
        y >= bounds.min_weight * kappa,
        y <= bounds.max_weight * kappa,
    ]
    _solve(
        cp.Problem(cp.Minimize(cp.quad_form(y, cp.psd_wrap(sigma))), constraints),
        "maxsharpe",
        infeasible="no portfolio within the bounds has a positive expected excess return",
    )
    if kappa.value is None or float(kappa.value) <= 1e-12:
        raise InvalidInputError("maximum Sharpe: no fully invested portfolio has positive excess")
    return _result(OptimizationMethod.MAX_SHARPE, np.asarray(y.value) / float(kappa.value), cov, mu)


def risk_parity(cov: pd.DataFrame, budgets: pd.Series | None = None) -> OptimizationResult:
    """Weights whose risk contributions match ``budgets`` (equal by default).

    Solves the strictly convex ``min ½ y'Σy − Σ b_i log y_i`` (Spinu / Bai et al.); at the
    optimum ``y_i (Σy)_i = b_i``, so ``w = y / Σy`` has contributions proportional to ``b``.
    """
    cp = _cvxpy()

    sigma = check_covariance(cov)
    n = len(sigma)
    b = np.full(n, 1.0 / n) if budgets is None else budgets.reindex(cov.index).to_numpy(float)
    if not (np.isfinite(b).all() and (b > 0).all()):
        raise InvalidInputError("risk budgets must be positive for every asset")
    b = b / b.sum()
    scale = float(np.sqrt(np.mean(np.diag(sigma))))  # well-conditioned units for the solver
    y = cp.Variable(n)
    objective = cp.Minimize(0.5 * cp.quad_form(y, cp.psd_wrap(sigma / scale**2)) - b @ cp.log(y))
    _solve(cp.Problem(objective), "risk parity")
    return _result(OptimizationMethod.RISK_PARITY, np.asarray(y.value), cov, None)


def hierarchical_risk_parity(cov: pd.DataFrame) -> OptimizationResult:
    """HRP weights (López de Prado, 2016); long-only, no matrix inversion."""
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    sigma = check_covariance(cov)
    n = len(sigma)
    if n == 1:
        return _result(OptimizationMethod.HRP, np.ones(1), cov, None)
    sd = np.sqrt(np.diag(sigma))
    if (sd <= 0).any():
        raise InvalidInputError("HRP needs a positive variance for every asset")
    corr = np.clip(sigma / np.outer(sd, sd), -1.0, 1.0)
    distance = np.sqrt(np.clip((1.0 - corr) / 2.0, 0.0, 1.0))
    np.fill_diagonal(distance, 0.0)
    order = list(leaves_list(linkage(squareform(distance, checks=False), method="single")))
    weights = np.ones(n)
    clusters = [order]
    while clusters:
        clusters = [c[j:k] for c in clusters for j, k in ((0, len(c) // 2), (len(c) // 2, len(c)))
                    if len(c) > 1]  # fmt: skip
        for left, right in zip(clusters[::2], clusters[1::2], strict=True):
            var_left, var_right = _cluster_variance(sigma, left), _cluster_variance(sigma, right)
            alpha = 1.0 - var_left / (var_left + var_right)
            weights[left] *= alpha
            weights[right] *= 1.0 - alpha
    return _result(OptimizationMethod.HRP, weights, cov, None)


def _cluster_variance(sigma: np.ndarray, members: list[int]) -> float:
    """Variance of the inverse-variance portfolio of ``members``."""
    sub = sigma[np.ix_(members, members)]
    ivp = 1.0 / np.diag(sub)
    ivp /= ivp.sum()
    return float(ivp @ sub @ ivp)


def optimize(
    method: OptimizationMethod | str, returns: pd.DataFrame, settings: PortfolioSettings
) -> OptimizationResult:
    """Estimate μ (sample mean) and Σ (Ledoit-Wolf) from per-period returns, then optimize."""
    chosen = OptimizationMethod(method)
    frame = complete_returns(returns)
    cov = shrunk_covariance(frame)
    mu = frame.mean()
    bounds = WeightBounds(settings.min_weight, settings.max_weight)
    rf = settings.risk_free_rate / settings.periods_per_year
    runners: dict[OptimizationMethod, Callable[[], OptimizationResult]] = {
        OptimizationMethod.MEAN_VARIANCE: lambda: mean_variance(
            mu, cov, settings.risk_aversion, bounds
        ),
        OptimizationMethod.MIN_VARIANCE: lambda: minimum_variance(cov, bounds),
        OptimizationMethod.MAX_SHARPE: lambda: maximum_sharpe(mu, cov, bounds, rf),
        OptimizationMethod.RISK_PARITY: lambda: risk_parity(cov),
        OptimizationMethod.HRP: lambda: hierarchical_risk_parity(cov),
    }
    return runners[chosen]()
