"""The turbulence index (Kritzman & Li): how unusual today's cross-asset returns are.

``turbulence[t] = (r_t - mu)' S^-1 (r_t - mu)`` where ``r_t`` is the return into bar ``t``
and ``mu``, ``S`` come from the ``lookback`` returns strictly before it, so the value at ``t``
uses prices up to ``t`` only. A risk halt compares it with a threshold (e.g. a high quantile
of the training window's values) and moves the portfolio to cash.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from quantdesk.domain.errors import InvalidInputError

FloatArray = npt.NDArray[np.float64]


def turbulence_index(prices: FloatArray, lookback: int) -> FloatArray:
    """Mahalanobis turbulence of every row of ``prices`` (T, N); 0 while history is short."""
    if lookback < 2:
        raise InvalidInputError(f"turbulence lookback must be at least 2, got {lookback}")
    prices = np.asarray(prices, dtype=np.float64)
    out = np.zeros(len(prices))
    returns = prices[1:] / prices[:-1] - 1.0  # returns[k] is the return into row k + 1
    for k in range(lookback, len(returns)):
        history = returns[k - lookback : k]
        mu = history.mean(axis=0)
        cov = np.atleast_2d(np.cov(history, rowvar=False))
        diff = returns[k] - mu
        out[k + 1] = float(diff @ np.linalg.pinv(cov, hermitian=True) @ diff)
    return out


def turbulence_threshold(values: FloatArray, quantile: float) -> float:
    """The ``quantile`` of the non-zero (warm) turbulence values; +inf when there are none."""
    warm = values[values > 0]
    if len(warm) == 0:
        return float("inf")
    return float(np.quantile(warm, quantile))
