"""Causal rolling z-scores of a feature frame, per symbol: scale-free inputs without look-ahead.

Normalising with the mean and spread of the whole sample would leak the future into every row;
here each value is scaled by the trailing ``window`` values of its own symbol only (the first
``window - 1`` rows of a symbol are NaN). The frame must be keyed and sorted like the output
of :func:`quantdesk.features.engineer.compute_features` (symbol, then open_time).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from quantdesk.domain import InvalidInputError
from quantdesk.features.names import ENTITY_JOIN_KEY
from quantdesk.features.windows import rolling_zscore

__all__ = ["rolling_zscore_frame"]


def rolling_zscore_frame(frame: pd.DataFrame, columns: Sequence[str], window: int) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` replaced by their per-symbol trailing z-scores."""
    if window < 2:
        raise InvalidInputError(f"a z-score window needs at least 2 bars, got {window}")
    missing = [c for c in (ENTITY_JOIN_KEY, *columns) if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"frame is missing columns: {', '.join(missing)}")
    codes, _ = pd.factorize(frame[ENTITY_JOIN_KEY], sort=False)
    if len(codes) > 1 and np.any(np.diff(codes) < 0):
        raise InvalidInputError("frame must be sorted by symbol (one block per symbol)")
    starts = np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    rows = np.arange(len(codes)) - np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
    shape = (int(rows.max()) + 1 if len(rows) else 0, int(codes.max()) + 1 if len(codes) else 0)
    out = frame.copy()
    for column in columns:
        grid = np.full(shape, np.nan)
        grid[rows, codes] = frame[column].to_numpy(dtype=np.float64)
        out[column] = rolling_zscore(grid, window)[rows, codes]
    return out
