"""Small seeded markets for the feature tests: several calendars, late bars, one benchmark.

The benchmark (SPX) trades weekdays; the crypto symbol trades every day, so the cross-asset
alignment meets weekends. ``late_rate`` makes some bars arrive days after they close (as a
corrected or delayed delivery would), which the point-in-time logic must handle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quantdesk.data.bars import normalize_bar_frame

BENCHMARK = "SPX"
START = pd.Timestamp("2022-01-03", tz="UTC")


def symbol_bars(
    symbol: str,
    n: int,
    rng: np.random.Generator,
    *,
    weekdays_only: bool,
    late_rate: float = 0.0,
    start_price: float = 100.0,
) -> pd.DataFrame:
    """``n`` daily bars of a random walk with consistent OHLC and positive volume."""
    freq = "B" if weekdays_only else "D"
    open_time = pd.date_range(START, periods=n, freq=freq)
    log_close = np.log(start_price) + np.cumsum(rng.normal(0.0, 0.015, n))
    close = np.exp(log_close)
    open_ = np.r_[start_price, close[:-1]] * np.exp(rng.normal(0.0, 0.003, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.006, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.006, n)))
    delay = np.where(rng.random(n) < late_rate, rng.integers(1, 5, n), 0)
    return pd.DataFrame(
        {
            "symbol": symbol,
            "venue": "synthetic",
            "granularity": "1d",
            "open_time": open_time,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.lognormal(10.0, 0.5, n),
            "available_at": open_time + pd.Timedelta(hours=21) + pd.to_timedelta(delay, unit="D"),
        }
    )


def market(seed: int, n: int = 120, late_rate: float = 0.0) -> pd.DataFrame:
    """SPX, AAPL (weekdays) and BTC-USD (every day), ``n`` bars each, canonical."""
    rng = np.random.default_rng(seed)
    parts = [
        symbol_bars(BENCHMARK, n, rng, weekdays_only=True, late_rate=late_rate, start_price=4000.0),
        symbol_bars("AAPL", n, rng, weekdays_only=True, late_rate=late_rate, start_price=150.0),
        symbol_bars(
            "BTC-USD", n, rng, weekdays_only=False, late_rate=late_rate, start_price=30000.0
        ),
    ]
    return normalize_bar_frame(pd.concat(parts, ignore_index=True))
