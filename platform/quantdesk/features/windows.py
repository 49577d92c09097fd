"""Trailing-window operations on (time x symbol) arrays: each column is filtered on its own.

Every function here looks only backwards: the value at row ``t`` uses rows ``<= t``. A window
with a NaN inside (history too short, or a gap) gives NaN. Windows are strided views
(``sliding_window_view``) reduced along their last axis, and exponential filters run as one
IIR filter (``scipy.signal.lfilter``) down every column at once: no Python loop per bar or
per symbol. Each window is reduced on its own (no running sums), so a value never carries
rounding from far-away bars and cutting history later never changes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from quantdesk.features.panel import FloatArray

__all__ = [
    "ewm_mean",
    "lag",
    "rolling_cov",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_std",
    "rolling_sum",
    "rolling_zscore",
    "safe_divide",
]

_BLOCK_VALUES = 1 << 21  # window samples materialised at a time (~16 MB) by two-pass reducers

WindowReducer = Callable[[FloatArray], FloatArray]


def lag(values: FloatArray, periods: int) -> FloatArray:
    """``values`` moved ``periods`` rows down (the value ``periods`` bars ago); NaN on top."""
    if periods < 1:
        raise ValueError("a lag must look back at least one bar")
    out = np.full_like(values, np.nan)
    out[periods:] = values[:-periods]
    return out


def _blocks(rows: int, cols: int, window: int) -> Iterator[slice]:
    """Row ranges of the window axis small enough to materialise (rows x cols x window)."""
    step = max(1, _BLOCK_VALUES // max(1, cols * window))
    for first in range(0, rows, step):
        yield slice(first, min(rows, first + step))


def _trailing(values: FloatArray, window: int, reduce: WindowReducer, blocked: bool) -> FloatArray:
    """``reduce`` over every trailing window; row ``t`` gets the window ending at ``t``."""
    if window < 1:
        raise ValueError("a window holds at least one bar")
    out = np.full(values.shape, np.nan)
    if values.shape[0] < window:
        return out
    windows = sliding_window_view(values, window, axis=0)  # (rows - window + 1, cols, window)
    if not blocked:
        out[window - 1 :] = reduce(windows)
        return out
    for part in _blocks(windows.shape[0], values.shape[1], window):
        out[window - 1 + part.start : window - 1 + part.stop] = reduce(windows[part])
    return out


def rolling_sum(values: FloatArray, window: int) -> FloatArray:
    return _trailing(values, window, lambda w: np.sum(w, axis=-1), blocked=False)


def rolling_mean(values: FloatArray, window: int) -> FloatArray:
    return _trailing(values, window, lambda w: np.mean(w, axis=-1), blocked=False)


def rolling_min(values: FloatArray, window: int) -> FloatArray:
    return _trailing(values, window, lambda w: np.min(w, axis=-1), blocked=False)


def rolling_max(values: FloatArray, window: int) -> FloatArray:
    return _trailing(values, window, lambda w: np.max(w, axis=-1), blocked=False)


def rolling_std(values: FloatArray, window: int, ddof: int = 0) -> FloatArray:
    """Trailing standard deviation (two-pass, so no cancellation on large levels)."""

    def reduce(w: FloatArray) -> FloatArray:
        result: FloatArray = np.std(w, axis=-1, ddof=ddof)
        return result

    return _trailing(values, window, reduce, blocked=True)


def rolling_cov(left: FloatArray, right: FloatArray, window: int, ddof: int = 1) -> FloatArray:
    """Trailing covariance of two arrays of the same shape, column by column.

    One pass over window sums, ``(sum xy - sum x * sum y / n) / (n - ddof)``: exact enough for
    series whose mean is small against their spread (returns), not for price levels.
    """
    n = float(window)
    sum_xy = rolling_sum(left * right, window)
    sum_x, sum_y = rolling_sum(left, window), rolling_sum(right, window)
    out: FloatArray = (sum_xy - sum_x * sum_y / n) / (n - ddof)
    return out


def ewm_mean(values: FloatArray, alpha: float, start: int = 0, min_periods: int = 1) -> FloatArray:
    """Recursive mean ``y[t] = alpha * x[t] + (1 - alpha) * y[t-1]`` from ``y[start] = x[start]``.

    Rows before ``start`` and before the ``min_periods``-th value are NaN. This is pandas'
    ``ewm(alpha, adjust=False)`` for a series starting at ``start``. The value at ``t``
    depends on every earlier bar with weight ``(1 - alpha) ** age``: a recursive feature
    remembers (faintly) where its history starts.
    """
    from scipy.signal import lfilter  # type: ignore[import-untyped]

    out = np.full(values.shape, np.nan)
    if values.shape[0] <= start:
        return out
    seed = values[start]
    out[start] = seed
    if values.shape[0] > start + 1:
        decay = 1.0 - alpha
        filtered, _ = lfilter(
            [alpha], [1.0, -decay], values[start + 1 :], axis=0, zi=(decay * seed)[None, :]
        )
        out[start + 1 :] = filtered
    out[: start + min_periods - 1] = np.nan
    return out


def safe_divide(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """``numerator / denominator`` with NaN where the denominator is 0 (no warnings)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(denominator != 0, numerator / denominator, np.nan)
    return out


def rolling_zscore(values: FloatArray, window: int) -> FloatArray:
    """``(x - trailing mean) / trailing std`` (population std) over ``window`` bars.

    A constant window gives exactly 0 (the value is its mean), not a division by rounding
    noise: windows whose max equals their min count as constant.
    """
    mean = rolling_mean(values, window)
    std = rolling_std(values, window)
    constant = rolling_max(values, window) == rolling_min(values, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(constant, 0.0, (values - mean) / std)
    out: FloatArray = np.where(np.isnan(std), np.nan, z)
    return out
