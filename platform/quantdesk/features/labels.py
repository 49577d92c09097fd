"""Training labels: forward returns and a down/flat/up class. They LOOK FORWARD, by design.

A label at bar ``t`` is made from bar ``t + horizon``, which is not known until that bar's
``available_at`` (given as ``label_available_at`` so dataset code can purge training rows
whose label overlaps a test period). Labels are targets only, never model inputs:

- they come from a separate function returning a separate type, :class:`Labels`, never a bare
  DataFrame the feature code could be handed by mistake;
- every label column starts with ``label_`` and the feature builder refuses such columns and
  :class:`Labels` objects outright.

Definitions, per symbol (bars in ``open_time`` order, gaps not filled):

- ``label_fwd_return``: ``log(close[t + h] / close[t])``;
- ``label_class``: 0 = down, 1 = flat, 2 = up, flat when
  ``|label_fwd_return| < flat_k * sigma[t] * sqrt(h)``, where ``sigma[t]`` is the standard
  deviation (ddof 1) of the ``vol_window`` log returns up to and including bar ``t`` (known at
  ``t``: the threshold itself does not look forward). Missing (``<NA>``) where the forward bar
  or the trailing volatility is not there yet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from quantdesk.data.bars import normalize_bar_frame
from quantdesk.domain import InvalidInputError

__all__ = [
    "DOWN",
    "FLAT",
    "LABEL_AVAILABLE_AT",
    "LABEL_CLASS",
    "LABEL_COLUMNS",
    "LABEL_END_TIME",
    "LABEL_FWD_RETURN",
    "UP",
    "Labels",
    "build_labels",
]

DOWN: Final = 0
FLAT: Final = 1
UP: Final = 2
LABEL_FWD_RETURN: Final = "label_fwd_return"
LABEL_CLASS: Final = "label_class"
LABEL_END_TIME: Final = "label_end_time"
LABEL_AVAILABLE_AT: Final = "label_available_at"
LABEL_COLUMNS: Final = (LABEL_FWD_RETURN, LABEL_CLASS, LABEL_END_TIME, LABEL_AVAILABLE_AT)


@dataclass(frozen=True, slots=True, eq=False)
class Labels:
    """Forward-looking targets keyed (symbol, open_time); NOT a feature frame (see module)."""

    frame: pd.DataFrame
    horizon: int
    flat_k: float
    vol_window: int


def build_labels(
    bars: pd.DataFrame, horizon: int = 1, flat_k: float = 0.5, vol_window: int = 20
) -> Labels:
    """Labels of every bar in ``bars`` (canonical frame, one bar size); see the module."""
    if horizon < 1:
        raise InvalidInputError(f"label horizon must be at least 1 bar, got {horizon}")
    if vol_window < 2:
        raise InvalidInputError(f"label vol_window must be at least 2 bars, got {vol_window}")
    if not (flat_k >= 0 and math.isfinite(flat_k)):
        raise InvalidInputError(f"label flat_k must be a finite number >= 0, got {flat_k}")
    bars = normalize_bar_frame(bars)
    by_symbol = bars.groupby("symbol", sort=False, observed=True)
    log_close = np.log(bars["close"].to_numpy(dtype=np.float64))
    log_close_s = pd.Series(log_close, index=bars.index)
    grouped_close = log_close_s.groupby(bars["symbol"], sort=False)
    forward = grouped_close.shift(-horizon) - log_close_s
    log_ret = log_close_s - grouped_close.shift(1)
    sigma = log_ret.groupby(bars["symbol"], sort=False).transform(
        lambda r: r.rolling(vol_window, min_periods=vol_window).std(ddof=1)
    )
    threshold = flat_k * sigma * math.sqrt(horizon)
    flat = (np.abs(forward) < threshold) | (forward == 0)
    classes = np.where(flat, FLAT, np.where(forward > 0, UP, DOWN))
    known = forward.notna() & sigma.notna()
    frame = pd.DataFrame(
        {
            "symbol": bars["symbol"],
            "open_time": bars["open_time"],
            LABEL_FWD_RETURN: forward.astype("float64"),
            LABEL_CLASS: pd.array(np.where(known, classes, 0), dtype="Int8"),
            LABEL_END_TIME: by_symbol["open_time"].shift(-horizon),
            LABEL_AVAILABLE_AT: by_symbol["available_at"].shift(-horizon),
        }
    )
    frame.loc[~known.to_numpy(), LABEL_CLASS] = pd.NA
    return Labels(frame.reset_index(drop=True), horizon, flat_k, vol_window)
