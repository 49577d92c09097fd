"""A small clean lake of synthetic daily bars for command tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from quantdesk.data.lake import Lake
from quantdesk.data.sources.synthetic import SyntheticConfig, SyntheticMarket
from quantdesk.domain import Granularity

SYMBOLS = ("SPX", "AAPL", "EUR-USD", "BTC-USD")


def write_synthetic_lake(home: Path, days: int = 200) -> None:
    market = SyntheticMarket(SyntheticConfig(symbols=SYMBOLS))
    end = datetime.now(UTC)
    frames = [market.bars(s, Granularity.D1, end - timedelta(days=days), end) for s in SYMBOLS]
    Lake(home / "lake").write_bars(pd.concat(frames))
