"""Small seeded panels and weights for the backtest tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from quantdesk.backtest.market_panel import MarketPanel


def random_panel(
    symbols: tuple[str, ...] = ("AAPL", "MSFT", "BTC-USD"),
    bars: int = 120,
    seed: int = 11,
    dollar_volume: float = 5e6,
) -> MarketPanel:
    """Daily bars with overnight gaps (open differs from the previous close)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2024-01-01", periods=bars, freq="D", tz="UTC")
    gap = rng.normal(0, 0.004, (bars, len(symbols)))
    intraday = rng.normal(0.0003, 0.012, (bars, len(symbols)))
    close = 100 * np.exp(np.cumsum(gap + intraday, axis=0))
    previous = np.vstack([close[:1] / np.exp(gap[:1] + intraday[:1]), close[:-1]])
    open_ = previous * np.exp(gap)
    volume = dollar_volume * rng.uniform(0.5, 1.5, (bars, len(symbols)))
    return MarketPanel(
        open=pd.DataFrame(open_, index=index, columns=list(symbols)),
        close=pd.DataFrame(close, index=index, columns=list(symbols)),
        dollar_volume=pd.DataFrame(volume, index=index, columns=list(symbols)),
    )


def random_weights(panel: MarketPanel, seed: int = 5, change_every: int = 7) -> pd.DataFrame:
    """Long/short weights that change every few bars (gross up to ~1.5)."""
    rng = np.random.default_rng(seed)
    n_bars, n_symbols = panel.close.shape
    blocks = rng.uniform(-0.5, 0.6, (n_bars // change_every + 1, n_symbols))
    values = np.repeat(blocks, change_every, axis=0)[:n_bars]
    return pd.DataFrame(values, index=panel.index, columns=panel.close.columns)
