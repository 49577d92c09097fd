"""The RL market tensor from the clean lake through the feature pipeline (IO at the edge).

Bars are read point in time (``as_of``), features come from
:func:`quantdesk.features.engineer.compute_features` (the ``rl_v1`` feature service unless
``Settings.rl.features`` says otherwise), and rows are aligned on the UTC day of each daily
bar, keeping only days where every symbol traded: equities and crypto then share the rows of
equity sessions, and a crypto weekend is one step from Friday to Monday.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from quantdesk.config import Settings
from quantdesk.data.lake import Lake
from quantdesk.domain import Granularity, NotFoundError
from quantdesk.features.engineer import compute_features
from quantdesk.features.names import (
    BETA_BENCHMARK_60,
    CORR_BENCHMARK_60,
    FEATURE_SERVICES,
)
from quantdesk.rl.market_tensor import MarketTensor
from quantdesk.rl.normalization import normalize_tensor
from quantdesk.structured_logging import get_logger

_log = get_logger(__name__)
_CROSS_ASSET = (CORR_BENCHMARK_60, BETA_BENCHMARK_60)


def rl_features(settings: Settings) -> tuple[str, ...]:
    """The features the RL observation uses."""
    return tuple(settings.rl.features or FEATURE_SERVICES["rl_v1"])


def lake_tensor(
    settings: Settings,
    symbols: Sequence[str],
    start: datetime,
    end: datetime,
    as_of: datetime | None = None,
) -> MarketTensor:
    """Normalized features and closes of ``symbols`` for days in ``[start, end)``."""
    granularity = Granularity(settings.rl.granularity)
    benchmark = settings.features.benchmark_symbol
    history = timedelta(days=settings.features.warmup_days) * 2
    to_read = tuple(dict.fromkeys((*symbols, benchmark)))
    bars = Lake(settings.lake_dir).read_bars(to_read, start - history, end, as_of, granularity)
    found = set(bars["symbol"].unique())
    missing = [s for s in symbols if s not in found]
    if missing:
        raise NotFoundError(
            f"no {granularity.value} bars in the clean lake for {', '.join(missing)}"
        )
    features = list(rl_features(settings))
    if benchmark not in found:
        _log.warning("rl.no_benchmark", benchmark=benchmark, dropped=list(_CROSS_ASSET))
        features = [f for f in features if f not in _CROSS_ASSET]
    frame = compute_features(bars, benchmark if benchmark in found else None, features)
    return tensor_from_bars(bars, frame, symbols, features, start, settings.rl.normalize_window)


def tensor_from_bars(
    bars: pd.DataFrame,
    features: pd.DataFrame,
    symbols: Sequence[str],
    names: Sequence[str],
    start: datetime,
    normalize_window: int,
) -> MarketTensor:
    """Align bars and their features on UTC days, normalize causally, keep days >= start."""
    day = bars["open_time"].dt.floor("D")
    closes = (
        bars.assign(day=day)
        .pivot_table(index="day", columns="symbol", values="close", aggfunc="last")
        .reindex(columns=list(symbols))
    )
    long = features.assign(time=features["open_time"].dt.floor("D"))
    long = long[long["symbol"].isin(symbols)][["time", "symbol", *names]]
    raw = MarketTensor.from_frames(closes, long)
    scaled = normalize_tensor(raw, normalize_window)
    first = pd.Timestamp(start).tz_convert("UTC").tz_localize(None).to_datetime64()
    return scaled.rows(int(np.searchsorted(scaled.times, first)), len(scaled))
