"""Hand-built canonical bar frames for the aggregator and quality-gate tests.

Bars sit at explicit open times (taken from the trading calendar or written out by hand), so a
test can say exactly which bar is missing, duplicated, stale or off the calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from quantdesk.data.bars import normalize_bar_frame
from quantdesk.data.calendars import expected_open_times
from quantdesk.data.catalog import get_instrument
from quantdesk.domain import AssetClass, Granularity, Venue

_TYPICAL_PRICE = {AssetClass.EQUITY: 100.0, AssetClass.FX: 1.1, AssetClass.CRYPTO: 40_000.0}


def bars_at(
    symbol: str,
    granularity: Granularity,
    open_times: Sequence[datetime] | pd.DatetimeIndex,
    *,
    seed: int = 11,
    sigma: float = 0.005,
    start_price: float | None = None,
    venue: Venue | None = None,
) -> pd.DataFrame:
    """A seeded, internally consistent random walk at exactly ``open_times`` (canonical)."""
    instrument = get_instrument(symbol)
    times = pd.DatetimeIndex(open_times)
    n = len(times)
    rng = np.random.default_rng(seed)
    first = start_price if start_price is not None else _TYPICAL_PRICE[instrument.asset_class]
    close = first * np.exp(np.cumsum(rng.normal(0, sigma, n)))
    open_ = np.r_[first, close[:-1]]
    step = pd.Timedelta(granularity.duration)
    return normalize_bar_frame(
        pd.DataFrame(
            {
                "symbol": symbol,
                "venue": (venue or instrument.venue).value,
                "granularity": granularity.value,
                "open_time": times,
                "open": open_,
                "high": np.maximum(open_, close) * (1 + rng.uniform(0, 0.002, n)),
                "low": np.minimum(open_, close) * (1 - rng.uniform(0, 0.002, n)),
                "close": close,
                "volume": rng.uniform(1, 10, n),
                "available_at": times + step,
            }
        )
    )


def calendar_bars(
    symbol: str,
    granularity: Granularity,
    start: datetime,
    end: datetime,
    *,
    seed: int = 11,
    sigma: float = 0.005,
) -> pd.DataFrame:
    """A complete series: one bar at every open time the symbol's calendar has in [start, end)."""
    times = expected_open_times(get_instrument(symbol).calendar, granularity, start, end)
    return bars_at(symbol, granularity, times, seed=seed, sigma=sigma)


def set_bar(frame: pd.DataFrame, position: int, **values: float) -> pd.DataFrame:
    """A copy of ``frame`` with the given columns of one row replaced."""
    out = frame.copy()
    for column, value in values.items():
        out.loc[position, column] = value
    return out


def set_flat_price(frame: pd.DataFrame, positions: Sequence[int], price: float) -> pd.DataFrame:
    """A copy where the given rows trade flat at ``price`` (o = h = l = c): a stale quote."""
    out = frame.copy()
    for column in ("open", "high", "low", "close"):
        out.loc[list(positions), column] = price
    return out


def scale_prices(frame: pd.DataFrame, positions: Sequence[int], factor: float) -> pd.DataFrame:
    """A copy with every price of the given rows multiplied by ``factor`` (OHLC stays valid)."""
    out = frame.copy()
    for column in ("open", "high", "low", "close"):
        out.loc[list(positions), column] = out.loc[list(positions), column] * factor
    return out
