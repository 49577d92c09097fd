"""Walk-forward runner: fits on train only, trades only out-of-sample bars, one stitched path."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.backtest.market_panel import MarketPanel
from quantdesk.backtest.strategies import SmaCrossover
from quantdesk.backtest.vectorized import run_vectorized
from quantdesk.backtest.walk_forward import cost_sensitivity, run_walk_forward, walk_forward_spec
from quantdesk.config import CostSettings
from quantdesk.domain import InvalidInputError
from tests.unit.backtest.panels import random_panel


@dataclass
class RecordingStrategy:
    """A real strategy that remembers the bars it was trained on; holds a constant 25%."""

    seen: list[pd.Index] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "recording"

    @property
    def trials(self) -> int:
        return 1

    def fit(self, train: MarketPanel) -> RecordingStrategy:
        self.seen.append(train.index)
        return self

    def target_weights(self, panel: MarketPanel) -> pd.DataFrame:
        return pd.DataFrame(0.25, index=panel.index, columns=panel.close.columns)


def test_run_walk_forward_fits_each_fold_only_before_its_purged_test_window() -> None:
    # Arrange
    panel = random_panel(bars=300)
    spec = walk_forward_spec(300, n_folds=4, min_train_bars=100, embargo=3)
    strategy = RecordingStrategy()

    # Act
    run = run_walk_forward(strategy, panel, CostModel.free(panel.symbols), spec)

    # Assert: 4 fits, each ending a gap (purge 1 + embargo 3) before its test window
    assert len(strategy.seen) == 4
    for train_index, fold in zip(strategy.seen, run.folds, strict=True):
        assert train_index[-1] == fold.train_end
        gap = panel.index.get_loc(fold.test_start) - panel.index.get_loc(fold.train_end) - 1
        assert gap == 4
    assert len(strategy.seen[1]) > len(strategy.seen[0])  # expanding window


def test_run_walk_forward_trades_only_the_tiled_test_windows() -> None:
    # Arrange
    panel = random_panel(bars=300)
    spec = walk_forward_spec(300, n_folds=4, min_train_bars=100, embargo=3)

    # Act
    run = run_walk_forward(RecordingStrategy(), panel, CostModel.free(panel.symbols), spec)

    # Assert: contiguous test windows ending at the last bar
    assert run.targets.index.is_unique
    assert run.targets.index[-1] == panel.index[-1]
    assert len(run.targets) == 4 * spec.test_size
    assert run.panel.index.equals(run.targets.index)
    for before, after in zip(run.folds, run.folds[1:], strict=False):
        assert panel.index.get_loc(after.test_start) == panel.index.get_loc(before.test_end) + 1


def test_run_walk_forward_causal_strategy_equals_direct_run_on_test_span() -> None:
    # Arrange
    panel = random_panel(bars=300)
    costs = CostModel.from_settings(panel.symbols, CostSettings())
    spec = walk_forward_spec(300, n_folds=3, min_train_bars=120, embargo=2)
    strategy = SmaCrossover(fast=5, slow=30)

    # Act
    run = run_walk_forward(strategy, panel, costs, spec, initial_equity=1e6)

    # Assert: the SMA only looks back, so fold-by-fold weights equal the full-history ones
    start = panel.index.get_loc(run.targets.index[0])
    tested = panel.slice(start, len(panel.index))
    direct = run_vectorized(tested, strategy.target_weights(panel).iloc[start:], costs, 1e6)
    np.testing.assert_allclose(run.result.equity, direct.equity, rtol=1e-13)


def test_cost_sensitivity_higher_scale_lower_return() -> None:
    # Arrange
    panel = random_panel(bars=300)
    costs = CostModel.from_settings(panel.symbols, CostSettings())
    spec = walk_forward_spec(300, n_folds=3, min_train_bars=120, embargo=2)
    run = run_walk_forward(SmaCrossover(fast=3, slow=10), panel, costs, spec)

    # Act
    table = cost_sensitivity(run, costs, (0.5, 1.0, 2.0), 252)

    # Assert
    returns = [table[s].total_return for s in (0.5, 1.0, 2.0)]
    assert returns[0] > returns[1] > returns[2]
    assert table[2.0].costs_paid > table[1.0].costs_paid > table[0.5].costs_paid


def test_walk_forward_spec_too_few_bars_raises() -> None:
    with pytest.raises(InvalidInputError, match="cannot hold 5 walk-forward folds"):
        walk_forward_spec(100, n_folds=5, min_train_bars=98, embargo=1)
