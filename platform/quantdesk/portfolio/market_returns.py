"""Daily returns of a set of symbols from the clean lake, aligned on one calendar.

Closes are aligned by the backtest's market panel (a market that did not trade on a day
keeps its last close, i.e. a zero return), then turned into simple daily returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pandas as pd

from quantdesk.backtest.market_panel import MarketPanel
from quantdesk.data.lake import Lake
from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.market import Granularity


def lake_symbols(lake: Lake, wanted: Sequence[str]) -> list[str]:
    """The symbols of ``wanted`` that have clean daily bars, in ``wanted`` order."""
    present = set(lake.symbols())
    return [s for s in wanted if s in present]


def daily_returns(lake: Lake, symbols: Sequence[str], end: datetime, days: int) -> pd.DataFrame:
    """Simple daily returns over the ``days`` calendar days before ``end`` (one column each)."""
    if not symbols:
        raise InvalidInputError("no symbols with clean daily bars in the lake")
    bars = lake.read_bars(
        list(symbols), end - timedelta(days=days), end, granularity=Granularity.D1
    )
    missing = sorted(set(symbols) - set(bars["symbol"].astype(str)))
    if missing:
        raise InvalidInputError(f"no clean daily bars in the window for {', '.join(missing)}")
    close = MarketPanel.from_bars(bars).close
    return close.pct_change().iloc[1:]


def last_closes(lake: Lake, symbols: Sequence[str], end: datetime, days: int) -> pd.Series:
    """The latest close of each symbol within the window."""
    bars = lake.read_bars(
        list(symbols), end - timedelta(days=days), end, granularity=Granularity.D1
    )
    return bars.groupby("symbol")["close"].last().rename(index=str)
