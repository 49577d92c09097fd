"""Rule-based signals in the same shape as a model's, for when no trained model exists."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd

from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.trading import Signal

SMA_MODEL_NAME = "sma_crossover"


def sma_crossover_signal(
    symbol: str,
    closes: pd.Series,
    as_of: datetime,
    *,
    fast: int = 20,
    slow: int = 50,
    confidence: float = 0.6,
    horizon_bars: int = 1,
) -> Signal:
    """Up when the fast mean of ``closes`` is above the slow one, down when below.

    ``closes`` must end at the last bar known at ``as_of``. The expected return is the mean
    log return over the slow window times the horizon (a naive momentum estimate): when it
    disagrees with the crossover the engine's Kelly cap gives the signal no size.
    """
    if not 1 <= fast < slow:
        raise InvalidInputError(f"need 1 <= fast < slow, got fast={fast}, slow={slow}")
    if not 1 / 3 < confidence <= 1:
        raise InvalidInputError(f"confidence must be in (1/3, 1], got {confidence}")
    values = closes.dropna().to_numpy(dtype=np.float64)
    if len(values) < slow + 1:
        raise InvalidInputError(f"{symbol}: need {slow + 1} closes for SMA({fast}/{slow})")
    if (values <= 0).any():
        raise InvalidInputError(f"{symbol}: closes must be positive")
    fast_mean, slow_mean = values[-fast:].mean(), values[-slow:].mean()
    drift = float(np.diff(np.log(values[-slow - 1 :])).mean()) * horizon_bars
    rest = (1.0 - confidence) / 2.0
    if math.isclose(fast_mean, slow_mean, rel_tol=1e-12):
        probs = (rest, confidence, rest)
    elif fast_mean > slow_mean:
        probs = (rest, rest, confidence)
    else:
        probs = (confidence, rest, rest)
    return Signal(
        symbol=symbol,
        as_of=as_of,
        model_name=SMA_MODEL_NAME,
        model_version=f"fast{fast}-slow{slow}",
        horizon_bars=horizon_bars,
        prob_down=probs[0],
        prob_flat=probs[1],
        prob_up=probs[2],
        expected_return=drift,
    )
