"""Causal feature scaling for the RL observation: a trailing z-score per symbol and feature.

Raw features live on very different scales (RSI in 0..100, returns near 0), which policy
networks learn poorly from. A scaler fit on a whole series would leak the future into the
past; the feature pipeline's trailing z-score (:func:`quantdesk.features.windows.rolling_zscore`)
uses rows ``t - window + 1 .. t`` only, so row ``t`` stays causal. Values are clipped so one
shock cannot dominate an observation.
"""

from __future__ import annotations

import numpy as np

from quantdesk.domain.errors import InvalidInputError
from quantdesk.features.windows import rolling_zscore
from quantdesk.rl.market_tensor import MarketTensor


def normalize_tensor(market: MarketTensor, window: int, clip: float = 5.0) -> MarketTensor:
    """The tensor with trailing z-scored, clipped features, without the warm-up rows."""
    if window < 2:
        raise InvalidInputError(f"normalization window must be >= 2, got {window}")
    t, n, f = market.features.shape
    if t < window:
        raise InvalidInputError(f"{t} rows cannot fill a normalization window of {window}")
    scaled = rolling_zscore(market.features.reshape(t, n * f), window).reshape(t, n, f)
    return MarketTensor(
        market.times[window - 1 :],
        market.symbols,
        market.feature_names,
        market.prices[window - 1 :],
        np.clip(scaled[window - 1 :], -clip, clip),
    )
