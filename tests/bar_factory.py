"""Small seeded bar frames for tests that need bars but not a whole market."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from quantdesk.data.bars import normalize_bar_frame
from quantdesk.data.catalog import get_instrument
from quantdesk.domain import Granularity

JAN = datetime(2024, 1, 1, tzinfo=UTC)


def make_bars(
    symbol: str = "BTC-USD",
    granularity: Granularity = Granularity.H1,
    start: datetime = JAN,
    periods: int = 48,
    seed: int = 7,
) -> pd.DataFrame:
    """A seeded random walk in the canonical bar shape, available when each bar closes."""
    rng = np.random.default_rng(seed)
    step = pd.Timedelta(granularity.duration)
    open_time = pd.date_range(start=start, periods=periods, freq=step)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, periods)))
    open_ = np.r_[100.0, close[:-1]]
    return normalize_bar_frame(
        pd.DataFrame(
            {
                "symbol": symbol,
                "venue": get_instrument(symbol).venue.value,
                "granularity": granularity.value,
                "open_time": open_time,
                "open": open_,
                "high": np.maximum(open_, close) * (1 + rng.uniform(0, 0.005, periods)),
                "low": np.minimum(open_, close) * (1 - rng.uniform(0, 0.005, periods)),
                "close": close,
                "volume": rng.uniform(1, 10, periods),
                "available_at": open_time + step,
            }
        )
    )
