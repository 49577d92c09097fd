"""Value at risk and expected shortfall: historical, parametric (normal) and Monte Carlo.

Losses are positive numbers, as fractions of portfolio value, over one period of the input
returns (scaled by ``sqrt(horizon)`` where stated). Empirical convention: with ``n`` returns
and confidence ``c``, the tail is the ``k = ceil(n * (1 - c))`` worst outcomes; VaR is the
smallest loss in that tail and ES its mean, so ES >= VaR always holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantdesk.domain.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]


class VarMethod(StrEnum):
    HISTORICAL = "historical"
    PARAMETRIC = "parametric"
    MONTE_CARLO = "monte_carlo"


@dataclass(frozen=True, slots=True)
class VarEstimate:
    """VaR and ES (fractions of value) of one method at one confidence and horizon."""

    method: VarMethod
    confidence: float
    horizon: int
    var: float
    expected_shortfall: float

    def in_currency(self, value: float) -> tuple[float, float]:
        return self.var * value, self.expected_shortfall * value


def _check_confidence(confidence: float) -> None:
    if not 0.5 < confidence < 1.0:
        raise InvalidInputError(f"confidence must be in (0.5, 1), got {confidence}")


def _clean(returns: npt.ArrayLike, what: str = "returns") -> FloatArray:
    values = np.asarray(returns, dtype=np.float64).ravel()
    values = values[~np.isnan(values)]
    if values.size < 2:
        raise InvalidInputError(f"{what} need at least 2 non-missing observations")
    if not np.isfinite(values).all():
        raise InvalidInputError(f"{what} contain infinite values")
    return values


def tail_size(n: int, confidence: float) -> int:
    """How many worst outcomes form the tail (at least one)."""
    return max(1, math.ceil(round(n * (1.0 - confidence), 9)))


def historical_var(returns: npt.ArrayLike, confidence: float = 0.99) -> VarEstimate:
    """Empirical VaR/ES of the observed returns (no distribution assumed)."""
    _check_confidence(confidence)
    values = _clean(returns)
    var, es = _empirical_tail(values, confidence)
    return VarEstimate(VarMethod.HISTORICAL, confidence, 1, var, es)


def _empirical_tail(values: FloatArray, confidence: float) -> tuple[float, float]:
    k = tail_size(values.size, confidence)
    tail = np.partition(-values, values.size - k)[values.size - k :]  # the k largest losses
    return float(tail.min()), float(tail.mean())


def normal_var_es(mean: float, sigma: float, confidence: float) -> tuple[float, float]:
    """Closed forms for normal returns: VaR = z·σ − μ, ES = σ·φ(z)/(1−c) − μ."""
    from scipy.stats import norm

    _check_confidence(confidence)
    if sigma < 0 or not math.isfinite(sigma):
        raise InvalidInputError(f"sigma must be finite and >= 0, got {sigma}")
    z = float(norm.ppf(confidence))
    var = z * sigma - mean
    es = sigma * float(norm.pdf(z)) / (1.0 - confidence) - mean
    return var, es


def ewma_volatility(returns: npt.ArrayLike, lam: float = 0.94) -> float:
    """RiskMetrics EWMA volatility after the last return (seeded with the sample variance)."""
    if not 0.0 < lam < 1.0:
        raise InvalidInputError(f"EWMA lambda must be in (0, 1), got {lam}")
    values = _clean(returns)
    variance = float(np.var(values[: min(values.size, 20)]))
    for r in values:
        variance = lam * variance + (1.0 - lam) * float(r) ** 2
    return math.sqrt(variance)


def ewma_covariance(returns: pd.DataFrame, lam: float = 0.94) -> pd.DataFrame:
    """EWMA covariance of the columns after the last row (zero-mean, RiskMetrics style)."""
    if not 0.0 < lam < 1.0:
        raise InvalidInputError(f"EWMA lambda must be in (0, 1), got {lam}")
    frame = returns.dropna()
    if len(frame) < 2:
        raise InvalidInputError("EWMA covariance needs at least 2 complete rows of returns")
    values = frame.to_numpy(dtype=np.float64)
    seed = values[: min(len(values), 20)]
    cov = np.cov(seed, rowvar=False, bias=True).reshape(values.shape[1], values.shape[1])
    for row in values:
        cov = lam * cov + (1.0 - lam) * np.outer(row, row)
    return pd.DataFrame(cov, index=frame.columns, columns=frame.columns)


def parametric_var(
    returns: npt.ArrayLike,
    confidence: float = 0.99,
    *,
    horizon: int = 1,
    ewma_lambda: float | None = 0.94,
) -> VarEstimate:
    """Normal VaR/ES with EWMA (or, with ``ewma_lambda=None``, sample) volatility.

    The mean is taken as zero: over short horizons its estimate is noise, not information.
    """
    values = _clean(returns)
    _check_horizon(horizon)
    sigma = (
        float(np.std(values, ddof=1))
        if ewma_lambda is None
        else ewma_volatility(values, ewma_lambda)
    )
    var, es = normal_var_es(0.0, sigma * math.sqrt(horizon), confidence)
    return VarEstimate(VarMethod.PARAMETRIC, confidence, horizon, var, es)


def monte_carlo_var(
    returns: pd.DataFrame,
    weights: pd.Series,
    confidence: float = 0.99,
    *,
    horizon: int = 1,
    paths: int = 20_000,
    ewma_lambda: float = 0.94,
    seed: int = 7,
) -> VarEstimate:
    """Simulate ``paths`` multivariate-normal horizon returns with the EWMA covariance."""
    _check_confidence(confidence)
    _check_horizon(horizon)
    if paths < 100:
        raise InvalidInputError(f"Monte Carlo needs at least 100 paths, got {paths}")
    w = _aligned_weights(returns, weights)
    cov = ewma_covariance(returns[w.index], ewma_lambda).to_numpy() * horizon
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(np.zeros(len(w)), cov, size=paths, method="cholesky")
    simulated = draws @ w.to_numpy(dtype=np.float64)
    var, es = _empirical_tail(simulated, confidence)
    return VarEstimate(VarMethod.MONTE_CARLO, confidence, horizon, var, es)


def portfolio_returns(returns: pd.DataFrame, weights: pd.Series) -> pd.Series:
    """Per-period returns of fixed weights (rows with a missing return are dropped)."""
    w = _aligned_weights(returns, weights)
    frame = returns[w.index].dropna()
    return pd.Series(frame.to_numpy() @ w.to_numpy(dtype=np.float64), index=frame.index)


def _aligned_weights(returns: pd.DataFrame, weights: pd.Series) -> pd.Series:
    missing = sorted(set(weights.index) - set(returns.columns))
    if missing:
        raise InvalidInputError(f"no returns for weighted symbols: {', '.join(map(str, missing))}")
    if not np.isfinite(weights.to_numpy(dtype=np.float64)).all():
        raise InvalidInputError("weights must be finite")
    return weights.astype("float64")


def _check_horizon(horizon: int) -> None:
    if horizon < 1:
        raise InvalidInputError(f"horizon must be >= 1 period, got {horizon}")


def var_report(
    returns: pd.DataFrame,
    weights: pd.Series,
    confidence: float = 0.99,
    *,
    ewma_lambda: float = 0.94,
    paths: int = 20_000,
    seed: int = 7,
) -> list[VarEstimate]:
    """The three one-period estimates for a weighted portfolio, side by side."""
    series = portfolio_returns(returns, weights)
    return [
        historical_var(series, confidence),
        parametric_var(series, confidence, ewma_lambda=ewma_lambda),
        monte_carlo_var(
            returns, weights, confidence, paths=paths, ewma_lambda=ewma_lambda, seed=seed
        ),
    ]
