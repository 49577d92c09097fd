"""The SMA crossover baseline and the strategy registry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.backtest.market_panel import MarketPanel
from quantdesk.backtest.metrics import sharpe_ratio
from quantdesk.backtest.strategies import (
    STRATEGIES,
    SmaCrossover,
    SmaGridSearch,
    build_strategy,
)
from quantdesk.backtest.vectorized import run_vectorized
from quantdesk.config import CostSettings, load_settings
from quantdesk.domain import InvalidInputError
from tests.unit.backtest.panels import random_panel


def test_sma_crossover_rising_then_falling_prices_go_long_then_flat() -> None:
    # Arrange: 30 rising bars then 30 falling
    index = pd.date_range("2024-01-01", periods=60, freq="D", tz="UTC")
    prices = np.r_[np.linspace(100, 130, 30), np.linspace(129, 90, 30)]
    panel = MarketPanel.from_closes(pd.DataFrame({"AAPL": prices}, index=index))

    # Act
    weights = SmaCrossover(fast=3, slow=10).target_weights(panel)["AAPL"]

    # Assert: zero during warm-up, long in the rise, flat once the fall crosses
    assert (weights.iloc[:9] == 0).all()
    assert (weights.iloc[9:30] == 1.0).all()
    assert (weights.iloc[-10:] == 0).all()


def test_sma_crossover_with_shorts_splits_gross_over_symbols() -> None:
    panel = random_panel()

    weights = SmaCrossover(fast=5, slow=20, allow_short=True).target_weights(panel)

    assert set(np.unique(weights.iloc[20:].to_numpy())) <= {-1 / 3, 1 / 3}


def test_sma_crossover_weight_of_bar_t_ignores_later_prices() -> None:
    # Arrange
    panel = random_panel()
    close = panel.close.copy()
    close.iloc[70:] *= 0.5
    shocked = MarketPanel(panel.open, close, panel.dollar_volume)
    strategy = SmaCrossover(fast=5, slow=20)

    # Act
    base, other = strategy.target_weights(panel), strategy.target_weights(shocked)

    # Assert
    pd.testing.assert_frame_equal(base.iloc[:70], other.iloc[:70])


def test_sma_crossover_bad_windows_raise() -> None:
    with pytest.raises(InvalidInputError, match="fast < slow"):
        SmaCrossover(fast=50, slow=20)


def test_build_strategy_sma_uses_settings_windows() -> None:
    settings = load_settings(backtest={"sma_fast": 7, "sma_slow": 30})

    strategy = build_strategy("sma", settings)

    assert strategy.name == "sma_7_30"


def test_build_strategy_unknown_name_lists_known() -> None:
    with pytest.raises(InvalidInputError, match=r"known strategies: .*sma"):
        build_strategy("nope", load_settings())
    assert "sma" in STRATEGIES


def test_sma_grid_search_fit_picks_the_best_net_sharpe_pair_on_train() -> None:
    # Arrange
    panel = random_panel(bars=400, seed=9)
    search = SmaGridSearch(CostSettings(), fast_windows=(3, 10), slow_windows=(20, 60))
    costs = CostModel.from_settings(panel.symbols, CostSettings())

    # Act
    fitted = search.fit(panel)

    # Assert: the chosen pair has the highest Sharpe among all pairs run one by one
    def net_sharpe(fast: int, slow: int) -> float:
        weights = SmaCrossover(fast, slow).target_weights(panel)
        return sharpe_ratio(run_vectorized(panel, weights, costs).returns.to_numpy()[1:])

    scores = {pair: net_sharpe(*pair) for pair in search.pairs}
    assert fitted.chosen is not None
    assert (fitted.chosen.fast, fitted.chosen.slow) == max(scores, key=scores.__getitem__)
    assert search.trials == 4
    assert fitted.name.startswith("sma_grid(sma_")


def test_sma_grid_search_unfitted_refuses_to_trade() -> None:
    with pytest.raises(InvalidInputError, match="fitted"):
        SmaGridSearch(CostSettings()).target_weights(random_panel())
