"""Causal feature scaling for the RL observation: a trailing z-score per symbol and feature.

Raw features live on very different scales (RSI in 0..100, returns near 0), which policy
networks learn poorly from. A scaler fit on a whole series would leak the future into the
past; a trailing window uses rows ``t - window + 1 .. t`` only, so row ``t`` stays causal.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from quantdesk.domain.errors import InvalidInputError
from quantdesk.rl.market_tensor import MarketTensor

FloatArray = npt.NDArray[np.float64]


def trailing_zscore(values: FloatArray, window: int, clip: float = 5.0) -> FloatArray:
    """``(x[t] - mean) / std`` over the trailing ``window`` rows (axis 0), clipped; the first
    ``window - 1`` rows are NaN (not enough history)."""
    if window < 2:
        raise InvalidInputError(f"normalization window must be >= 2, got {window}")
    x = np.asarray(values, dtype=np.float64)
    zeros = np.zeros((1, *x.shape[1:]))
    s1 = np.concatenate([zeros, np.cumsum(x, axis=0)])
    s2 = np.concatenate([zeros, np.cumsum(x * x, axis=0)])
    out = np.full_like(x, np.nan)
    if len(x) < window:
        return out
    n = float(window)
    total = s1[window:] - s1[:-window]
    squares = s2[window:] - s2[:-window]
    mean = total / n
    var = np.maximum(squares / n - mean * mean, 0.0)
    std = np.sqrt(var)
    current = x[window - 1 :]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(std > 1e-12, (current - mean) / std, 0.0)
    out[window - 1 :] = np.clip(z, -clip, clip)
    return out


def normalize_tensor(market: MarketTensor, window: int) -> MarketTensor:
    """The tensor with trailing z-scored features, without the rows still warming up."""
    scaled = trailing_zscore(market.features, window)
    return MarketTensor(
        market.times[window - 1 :],
        market.symbols,
        market.feature_names,
        market.prices[window - 1 :],
        scaled[window - 1 :],
    )
