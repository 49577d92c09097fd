"""A training frame from the synthetic market with a planted signal: the honesty-test bench.

Features at bar ``t`` use only what is known when bar ``t`` closes: the published signal
``z[t]`` and trailing log returns. The label is the next bar's log return (close ``t`` to close
``t+1``) and its down/flat/up class (flat when ``|r| < flat_k * trailing sigma``). With
``leak=True`` a *future-looking* feature (the label plus noise) is added on purpose, so tests
can show the out-of-sample guards catch look-ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from quantdesk.data.sources.synthetic import SyntheticMarket
from quantdesk.domain import Granularity
from quantdesk.features.datasets import DOWN, FLAT, UP, LabelArrays

SIGNAL = "signal"
LEAK = "leaked_future_return"
RETURN_FEATURES = ("logret_1", "logret_5", "vol_20")


@dataclass(frozen=True, slots=True, eq=False)
class SyntheticTrainingData:
    """The frame (symbol, timestamp, features) and its labels; the oracle is ``signal``."""

    frame: pd.DataFrame
    labels: LabelArrays
    features: tuple[str, ...]


def synthetic_training_data(
    market: SyntheticMarket,
    start: datetime,
    end: datetime,
    *,
    flat_k: float = 0.25,
    vol_window: int = 20,
    leak: bool = False,
    leak_noise: float = 1.0,
) -> SyntheticTrainingData:
    """Features, labels and the oracle for every symbol of ``market`` on its signal bars."""
    granularity = Granularity(market.config.signal_granularity)
    parts = []
    for symbol in market.config.symbols:
        bars = market.bars(symbol, granularity, start, end)
        signal = market.signal_frame(symbol, start, end)[["open_time", SIGNAL]]
        frame = bars[["symbol", "open_time", "close"]].merge(signal, on="open_time", how="left")
        logp = np.log(frame["close"].to_numpy())
        ret = np.diff(logp, prepend=np.nan)
        r = pd.Series(ret)
        frame["logret_1"] = ret
        frame["logret_5"] = r.rolling(5).sum().to_numpy()
        frame["vol_20"] = r.rolling(vol_window).std().to_numpy()
        frame["forward_return"] = np.append(ret[1:], np.nan)
        parts.append(frame)
    data = pd.concat(parts, ignore_index=True).rename(columns={"open_time": "timestamp"})
    rng = np.random.default_rng(market.config.seed)
    forward = data["forward_return"].to_numpy()
    if leak:
        scale = np.nanstd(forward)
        data[LEAK] = forward + leak_noise * scale * rng.standard_normal(len(data))
    sigma = data["vol_20"].to_numpy()
    direction = np.where(
        ~np.isfinite(forward) | ~np.isfinite(sigma),
        -1,
        np.where(forward > flat_k * sigma, UP, np.where(forward < -flat_k * sigma, DOWN, FLAT)),
    ).astype(np.int64)
    features = (SIGNAL, *RETURN_FEATURES, *((LEAK,) if leak else ()))
    frame = data[["symbol", "timestamp", *features]].copy()
    return SyntheticTrainingData(
        frame=frame,
        labels=LabelArrays(np.where(np.isfinite(forward), forward, np.nan), direction),
        features=features,
    )
