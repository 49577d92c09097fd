"""Out-of-sample metrics of a forecast: IC, rank IC, accuracy, Brier, ECE, Sharpe after costs.

Pure numpy. Every model (hybrid and baselines) is scored by :func:`evaluate_predictions` on
the same samples, so comparisons are like for like.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantdesk.domain.errors import InvalidInputError
from quantdesk.models.calibration import expected_calibration_error

if TYPE_CHECKING:
    from quantdesk.features.datasets import WindowedDataset

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """Scores of one set of out-of-sample predictions (``n`` samples)."""

    n: int
    ic: float
    rank_ic: float
    accuracy: float
    balanced_accuracy: float
    directional_accuracy: float
    brier: float
    ece: float
    sharpe_after_costs: float
    mean_turnover: float

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


def information_coefficient(forecast: npt.ArrayLike, realized: npt.ArrayLike) -> float:
    """Pearson correlation; 0.0 when either side is constant (no information)."""
    f = np.asarray(forecast, dtype=np.float64)
    r = np.asarray(realized, dtype=np.float64)
    if len(f) < 2 or f.std() < 1e-15 or r.std() < 1e-15:
        return 0.0
    return float(np.corrcoef(f, r)[0, 1])


def rank_information_coefficient(forecast: npt.ArrayLike, realized: npt.ArrayLike) -> float:
    """Spearman correlation (Pearson of ranks, ties averaged)."""
    f = pd.Series(np.asarray(forecast, dtype=np.float64)).rank().to_numpy()
    r = pd.Series(np.asarray(realized, dtype=np.float64)).rank().to_numpy()
    return information_coefficient(f, r)


def accuracy(predicted: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    p, y = np.asarray(predicted), np.asarray(labels)
    return float(np.mean(p == y)) if len(y) else 0.0


def balanced_accuracy(predicted: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Mean recall over the classes present in ``labels``."""
    p, y = np.asarray(predicted), np.asarray(labels)
    recalls = [float(np.mean(p[y == c] == c)) for c in np.unique(y)]
    return float(np.mean(recalls)) if recalls else 0.0


def directional_accuracy(forecast: npt.ArrayLike, realized: npt.ArrayLike) -> float:
    """Balanced binary framing: share of non-zero moves whose sign the forecast got right."""
    f, r = np.asarray(forecast, dtype=np.float64), np.asarray(realized, dtype=np.float64)
    moved = r != 0
    return float(np.mean(np.sign(f[moved]) == np.sign(r[moved]))) if moved.any() else 0.0


def brier_score(probabilities: npt.ArrayLike, labels: npt.ArrayLike) -> float:
    """Multi-class Brier: mean over samples of the squared distance to the one-hot label."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1))) if len(y) else 0.0


def signal_returns_after_costs(
    forecast: npt.ArrayLike,
    realized: npt.ArrayLike,
    symbols: npt.ArrayLike,
    time_positions: npt.ArrayLike,
    cost_rates: Mapping[str, float],
) -> tuple[FloatArray, float]:
    """Per-time returns of trading ``sign(forecast)`` equally across symbols, net of costs.

    Each symbol holds ``sign(forecast)`` (long 1, short 1, flat 0) over the label horizon;
    changing the position costs ``cost_rates[symbol]`` per unit of traded notional (from the
    shared cost model). Returns (portfolio return per time, mean turnover per position).
    Assumes a one-bar horizon (non-overlapping returns).
    """
    f = np.asarray(forecast, dtype=np.float64)
    r = np.asarray(realized, dtype=np.float64)
    s = np.asarray(symbols).astype(str)
    t = np.asarray(time_positions, dtype=np.int64)
    missing = sorted(set(s.tolist()) - set(cost_rates))
    if missing:
        raise InvalidInputError(f"no cost rate for symbol(s): {', '.join(missing)}")
    position = np.sign(f)
    net = np.empty_like(r)
    turnover = np.empty_like(r)
    for symbol in np.unique(s):
        rows = np.flatnonzero(s == symbol)
        rows = rows[np.argsort(t[rows], kind="stable")]
        pos = position[rows]
        traded = np.abs(np.diff(pos, prepend=0.0))
        turnover[rows] = traded
        net[rows] = pos * r[rows] - cost_rates[symbol] * traded
    _, inverse = np.unique(t, return_inverse=True)
    per_time = np.bincount(inverse, weights=net) / np.bincount(inverse)
    return np.asarray(per_time, dtype=np.float64), float(turnover.mean()) if len(r) else 0.0


def sharpe_ratio(returns: npt.ArrayLike, periods_per_year: float) -> float:
    x = np.asarray(returns, dtype=np.float64)
    if len(x) < 2 or x.std(ddof=1) < 1e-15:
        return 0.0
    return float(x.mean() / x.std(ddof=1) * math.sqrt(periods_per_year))


def evaluate_predictions(
    *,
    probabilities: npt.ArrayLike,
    forecast: npt.ArrayLike,
    realized: npt.ArrayLike,
    direction: npt.ArrayLike,
    symbols: npt.ArrayLike,
    time_positions: npt.ArrayLike,
    cost_rates: Mapping[str, float],
    periods_per_year: float = 252.0,
) -> EvaluationReport:
    """Every metric of one model's out-of-sample predictions."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(direction, dtype=np.int64)
    f = np.asarray(forecast, dtype=np.float64)
    r = np.asarray(realized, dtype=np.float64)
    if not (len(p) == len(y) == len(f) == len(r)):
        raise InvalidInputError("probabilities, forecast, realized and direction differ in length")
    predicted = p.argmax(axis=1) if len(p) else np.zeros(0, dtype=np.int64)
    per_time, turnover = signal_returns_after_costs(f, r, symbols, time_positions, cost_rates)
    return EvaluationReport(
        n=len(y),
        ic=information_coefficient(f, r),
        rank_ic=rank_information_coefficient(f, r),
        accuracy=accuracy(predicted, y),
        balanced_accuracy=balanced_accuracy(predicted, y),
        directional_accuracy=directional_accuracy(f, r),
        brier=brier_score(p, y),
        ece=expected_calibration_error(p, y) if len(y) else 0.0,
        sharpe_after_costs=sharpe_ratio(per_time, periods_per_year),
        mean_turnover=turnover,
    )


def evaluate_on_samples(
    dataset: WindowedDataset,
    indices: npt.NDArray[np.int64],
    probabilities: npt.NDArray[np.float64],
    forecast: npt.NDArray[np.float64],
    cost_rates: Mapping[str, float],
    periods_per_year: float,
) -> EvaluationReport:
    """:func:`evaluate_predictions` on the samples ``indices`` of ``dataset`` (their outcomes,
    symbols and times), so the hybrid and every baseline are scored the same way."""
    return evaluate_predictions(
        probabilities=probabilities,
        forecast=forecast,
        realized=dataset.forward_return[indices],
        direction=dataset.direction[indices],
        symbols=dataset.symbols[indices],
        time_positions=dataset.time_positions[indices],
        cost_rates=cost_rates,
        periods_per_year=periods_per_year,
    )
