"""Performance metrics of a backtest, with the deflated Sharpe ratio to price in the search.

Conventions (the same as empyrical, which the tests compare against): simple per-bar returns;
annualisation by ``periods_per_year``; volatility with ``ddof=1``; drawdowns from an equity
curve that starts at 1 before the first return; the risk-free rate is annual and converted to
a per-bar rate ``rf / periods_per_year``.

A Sharpe ratio found by trying many strategies is biased upward: the deflated Sharpe ratio
(Bailey & López de Prado, 2014) is the probability that the true Sharpe ratio exceeds the
best one expected from ``trials`` unskilled tries, given the sample length, skewness and
kurtosis. Report it beside the Sharpe ratio with the honest number of trials.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from quantdesk.backtest.vectorized import BacktestResult
from quantdesk.domain import InvalidInputError

FloatArray = NDArray[np.float64]
EULER_MASCHERONI = 0.5772156649015329
_NORMAL = NormalDist()


def _returns(values: ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0 or not np.all(np.isfinite(array)):
        raise InvalidInputError("returns must be a non-empty series of finite numbers")
    return array


def cagr(returns: ArrayLike, periods_per_year: int = 252) -> float:
    """Compound annual growth rate."""
    r = _returns(returns)
    final = float(np.prod(1.0 + r))
    if final <= 0:
        return -1.0
    return float(final ** (periods_per_year / r.size) - 1.0)


def volatility(returns: ArrayLike, periods_per_year: int = 252) -> float:
    """Annualised standard deviation of returns."""
    r = _returns(returns)
    if r.size < 2:
        return math.nan
    return float(np.std(r, ddof=1) * math.sqrt(periods_per_year))


def sharpe_ratio(
    returns: ArrayLike, periods_per_year: int = 252, risk_free_rate: float = 0.0
) -> float:
    """Annualised mean excess return over its standard deviation (NaN if undefined)."""
    excess = _returns(returns) - risk_free_rate / periods_per_year
    if excess.size < 2:
        return math.nan
    spread = float(np.std(excess, ddof=1))
    if spread == 0:
        return math.nan
    return float(np.mean(excess) / spread * math.sqrt(periods_per_year))


def sortino_ratio(
    returns: ArrayLike, periods_per_year: int = 252, risk_free_rate: float = 0.0
) -> float:
    """Annualised mean excess return over the downside deviation below the risk-free rate."""
    excess = _returns(returns) - risk_free_rate / periods_per_year
    if excess.size < 2:
        return math.nan
    downside = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    if downside == 0:
        return math.inf if float(np.mean(excess)) > 0 else math.nan
    return float(np.mean(excess) * math.sqrt(periods_per_year) / downside)


def drawdown(returns: ArrayLike) -> FloatArray:
    """Per bar, the fall of the equity curve from its running peak (0 or negative)."""
    wealth = np.cumprod(1.0 + _returns(returns))
    peak = np.maximum.accumulate(np.maximum(wealth, 1.0))
    result: FloatArray = wealth / peak - 1.0
    return result


def max_drawdown(returns: ArrayLike) -> float:
    """The worst peak-to-trough fall, as a negative fraction."""
    return float(np.min(drawdown(returns), initial=0.0))


def calmar_ratio(returns: ArrayLike, periods_per_year: int = 252) -> float:
    """CAGR over the absolute maximum drawdown (NaN without a drawdown)."""
    worst = max_drawdown(returns)
    if worst == 0:
        return math.nan
    return cagr(returns, periods_per_year) / abs(worst)


def hit_rate(returns: ArrayLike) -> float:
    """Share of winning bars among bars with a non-zero return (flat bars are not bets)."""
    r = _returns(returns)
    active = r[r != 0]
    if active.size == 0:
        return math.nan
    return float(np.mean(active > 0))


def expected_max_sharpe(trials: int, sharpe_variance: float) -> float:
    """Expected best per-bar Sharpe ratio of ``trials`` unskilled strategies (false strategy
    theorem), given the variance of the Sharpe ratios across the trials."""
    if trials < 1:
        raise InvalidInputError(f"the number of trials must be >= 1, got {trials}")
    if trials == 1:
        return 0.0
    g = EULER_MASCHERONI
    spread = math.sqrt(max(sharpe_variance, 0.0))
    first = _NORMAL.inv_cdf(1.0 - 1.0 / trials)
    second = _NORMAL.inv_cdf(1.0 - 1.0 / (trials * math.e))
    return spread * ((1.0 - g) * first + g * second)


def probabilistic_sharpe_ratio(
    sharpe: float, benchmark: float, observations: int, skewness: float, kurtosis: float
) -> float:
    """P(true Sharpe > ``benchmark``) for a per-bar ``sharpe`` measured on ``observations``
    returns with this skewness and (non-excess) kurtosis (Bailey & López de Prado, 2012)."""
    if observations < 2:
        return math.nan
    denominator = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if denominator <= 0:
        return math.nan
    z = (sharpe - benchmark) * math.sqrt(observations - 1) / math.sqrt(denominator)
    return _NORMAL.cdf(z)


def _moments(r: FloatArray) -> tuple[float, float, float]:
    """Per-bar Sharpe (ddof=1), sample skewness and non-excess kurtosis."""
    centred = r - r.mean()
    m2 = float(np.mean(centred**2))
    if m2 == 0:
        return math.nan, 0.0, 3.0
    skewness = float(np.mean(centred**3)) / m2**1.5
    kurtosis = float(np.mean(centred**4)) / m2**2
    return float(r.mean() / np.std(r, ddof=1)), skewness, kurtosis


def deflated_sharpe_ratio(
    returns: ArrayLike, trials: int = 1, trial_sharpe_variance: float | None = None
) -> float:
    """Probability that the strategy's true Sharpe beats the best of ``trials`` lucky ones.

    ``trial_sharpe_variance`` is the variance of the per-bar Sharpe ratios of all trials; when
    unknown, the sampling variance of this Sharpe estimate stands in for it (the spread
    unskilled trials of this length would show). With one trial this is the probabilistic
    Sharpe ratio against zero.
    """
    r = _returns(returns)
    sharpe, skewness, kurtosis = _moments(r)
    if math.isnan(sharpe) or r.size < 2:
        return math.nan
    if trial_sharpe_variance is None:
        spread = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
        trial_sharpe_variance = max(spread, 0.0) / (r.size - 1)
    benchmark = expected_max_sharpe(trials, trial_sharpe_variance)
    return probabilistic_sharpe_ratio(sharpe, benchmark, r.size, skewness, kurtosis)


@dataclass(frozen=True, slots=True)
class PerformanceMetrics:
    """The headline figures of one backtest (fractions, not percent)."""

    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    calmar: float
    hit_rate: float
    turnover: float  # annualised one-way turnover, in multiples of equity
    exposure: float  # average gross exposure (sum of |weights|)
    time_in_market: float  # share of bars holding anything
    costs_paid: float  # currency
    deflated_sharpe: float
    trials: int
    bars: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def compute_metrics(
    result: BacktestResult,
    periods_per_year: int = 252,
    risk_free_rate: float = 0.0,
    trials: int = 1,
    trial_sharpe_variance: float | None = None,
) -> PerformanceMetrics:
    """Every metric of ``result``; the first bar (before any position) is left out."""
    returns = result.returns.to_numpy()[1:]
    gross = result.gross_exposure.to_numpy()[1:]
    turnover = result.turnover.sum(axis=1).to_numpy()[1:]
    return PerformanceMetrics(
        total_return=float(result.equity.iloc[-1] / result.initial_equity - 1.0),
        cagr=cagr(returns, periods_per_year),
        volatility=volatility(returns, periods_per_year),
        sharpe=sharpe_ratio(returns, periods_per_year, risk_free_rate),
        sortino=sortino_ratio(returns, periods_per_year, risk_free_rate),
        max_drawdown=max_drawdown(returns),
        calmar=calmar_ratio(returns, periods_per_year),
        hit_rate=hit_rate(returns),
        turnover=float(np.mean(turnover) * periods_per_year),
        exposure=float(np.mean(gross)),
        time_in_market=float(np.mean(gross > 0)),
        costs_paid=result.total_costs,
        deflated_sharpe=deflated_sharpe_ratio(returns, trials, trial_sharpe_variance),
        trials=trials,
        bars=int(returns.size),
    )


def rolling_sharpe(returns: pd.Series, window: int, periods_per_year: int = 252) -> pd.Series:
    """Annualised Sharpe ratio over a trailing window of bars (NaN until the window fills)."""
    mean = returns.rolling(window).mean()
    spread = returns.rolling(window).std(ddof=1)
    rolling: pd.Series = (mean / spread.where(spread > 0)) * math.sqrt(periods_per_year)
    return rolling
