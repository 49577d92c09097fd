"""Trailing-window operations on (time x symbol) arrays: each column is filtered on its own.

Every function here looks only backwards: the value at row ``t`` uses rows ``<= t``. A window
with a NaN inside (history too short, or a gap) gives NaN. Pandas' column-wise rolling and
exponential kernels do the work in compiled code, once for all symbols.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quantdesk.features.panel import FloatArray

__all__ = [
    "ewm_mean",
    "lag",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_std",
    "rolling_sum",
    "rolling_zscore",
    "safe_divide",
]


def _frame(values: FloatArray) -> pd.DataFrame:
    return pd.DataFrame(values, copy=False)


def _out(frame: pd.DataFrame) -> FloatArray:
    result: FloatArray = frame.to_numpy(dtype=np.float64)
    return result


def lag(values: FloatArray, periods: int) -> FloatArray:
    """``values`` moved ``periods`` rows down (the value ``periods`` bars ago); NaN on top."""
    if periods < 1:
        raise ValueError("a lag must look back at least one bar")
    out = np.full_like(values, np.nan)
    out[periods:] = values[:-periods]
    return out


def rolling_mean(values: FloatArray, window: int) -> FloatArray:
    return _out(_frame(values).rolling(window, min_periods=window).mean())


def rolling_sum(values: FloatArray, window: int) -> FloatArray:
    return _out(_frame(values).rolling(window, min_periods=window).sum())


def rolling_std(values: FloatArray, window: int, ddof: int = 0) -> FloatArray:
    """Trailing standard deviation; exactly 0 for a constant window (pandas guarantees it)."""
    return _out(_frame(values).rolling(window, min_periods=window).std(ddof=ddof))


def rolling_min(values: FloatArray, window: int) -> FloatArray:
    return _out(_frame(values).rolling(window, min_periods=window).min())


def rolling_max(values: FloatArray, window: int) -> FloatArray:
    return _out(_frame(values).rolling(window, min_periods=window).max())


def ewm_mean(values: FloatArray, alpha: float, min_periods: int = 0) -> FloatArray:
    """Recursive mean ``y[t] = alpha * x[t] + (1 - alpha) * y[t-1]`` seeded by the first value.

    Leading NaNs are skipped (the filter starts at each column's first value), as pandas'
    ``ewm(adjust=False)`` does. The value at ``t`` depends on every earlier bar with weight
    ``(1 - alpha) ** age``: a recursive feature remembers where its history starts.
    """
    return _out(_frame(values).ewm(alpha=alpha, adjust=False, min_periods=min_periods).mean())


def safe_divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """``numerator / denominator`` with NaN where the denominator is 0 (no warnings)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(denominator != 0, numerator / denominator, np.nan)
    return out


def rolling_zscore(values: FloatArray, window: int) -> FloatArray:
    """``(x - trailing mean) / trailing std`` (population std) over ``window`` bars.

    A constant window gives 0 (the value is exactly its mean), not a division by zero.
    """
    mean = rolling_mean(values, window)
    std = rolling_std(values, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(
            std > 0, (values - mean) / std, np.where(np.isnan(std), np.nan, 0.0)
        )
    return out
