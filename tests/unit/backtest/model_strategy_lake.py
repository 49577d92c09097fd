"""A small synthetic lake and tiny settings for the model strategies' and steps' tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from quantdesk.config import Settings, load_settings
from quantdesk.data.lake import Lake
from quantdesk.data.sources.synthetic import SyntheticConfig, SyntheticSource
from quantdesk.domain import Granularity
from tests.tiny_models import TINY_HYBRID

SYMBOLS = ("AAPL", "MSFT")
LAKE_SYMBOLS = (*SYMBOLS, "SPX")
START, END = datetime(2015, 1, 1, tzinfo=UTC), datetime(2017, 1, 1, tzinfo=UTC)
TINY_MODELS = {**TINY_HYBRID, "mc_samples": 4}
TINY_BACKTEST = {
    "min_train_bars": 250,
    "walk_forward_folds": 2,
    "sma_fast": 5,
    "sma_slow": 30,
    "model_epochs": 1,
    "model_mc_passes": 3,
    "model_validation_bars": 20,
    "rl_agents": ("a2c",),
    "rl_timesteps": 64,
    "rl_normalize_window": 20,
}
TINY_RL = {
    "window": 4,
    "net_arch": (16,),
    "turbulence_lookback": 20,
    "normalize_window": 20,
    "folds": 2,
    "train_size": 150,
    "validation_size": 30,
    "trade_size": 30,
    "agents": ("a2c",),
    "seeds": (0,),
    "timesteps": 64,
}

Transform = Callable[[pd.DataFrame], pd.DataFrame]


def fill_lake(home: Path, transform: Transform | None = None) -> None:
    """Daily bars of ``LAKE_SYMBOLS`` (SPX is the benchmark), optionally transformed."""
    source = SyntheticSource(SyntheticConfig(seed=11, symbols=LAKE_SYMBOLS, gap_rate=0.0))
    lake = Lake(home / "lake")
    for symbol in LAKE_SYMBOLS:
        bars = source.fetch_bars(symbol, Granularity.D1, START, END)
        lake.write_bars(transform(bars) if transform is not None else bars)


def tiny_settings(home: Path) -> Settings:
    return load_settings(
        home=home,
        universe=SYMBOLS,
        models=TINY_MODELS,
        backtest=TINY_BACKTEST,
        rl=TINY_RL,
        torch_threads=1,
    )
