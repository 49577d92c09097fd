"""Small seeded markets for the RL tests (NumPy only, built in milliseconds)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from quantdesk.rl.market_tensor import MarketTensor

MarketFactory = Callable[..., MarketTensor]


def random_market(
    rows: int = 200, assets: int = 3, features: int = 2, seed: int = 0
) -> MarketTensor:
    rng = np.random.default_rng(seed)
    prices = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, (rows, assets)), axis=0))
    return MarketTensor(
        times=np.datetime64("2024-01-01", "ns") + np.arange(rows) * np.timedelta64(1, "D"),
        symbols=tuple(f"S{i}" for i in range(assets)),
        feature_names=tuple(f"f{i}" for i in range(features)),
        prices=prices,
        features=rng.normal(size=(rows, assets, features)),
    )


@pytest.fixture
def make_market() -> MarketFactory:
    return random_market
