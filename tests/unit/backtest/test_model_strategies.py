"""The learned strategies trade only what each fold's training bars taught them.

Two lakes hold the same bars up to the end of the first fold's test window and different
bars after it; everything the first fold produces must be identical in both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.market_panel import MarketPanel
from quantdesk.backtest.model_strategies import HybridStrategy, RlStrategy
from quantdesk.backtest.strategies import build_strategy
from quantdesk.backtest.walk_forward import walk_forward_spec
from quantdesk.config import Settings
from quantdesk.data.lake import Lake
from quantdesk.domain import Granularity, InvalidInputError
from quantdesk.features.splits import WalkForwardFold, walk_forward_splits
from tests.unit.backtest.model_strategy_lake import END, START, SYMBOLS, fill_lake, tiny_settings


def _panel(settings: Settings) -> MarketPanel:
    bars = Lake(settings.lake_dir).read_bars(SYMBOLS, START, END, granularity=Granularity.D1)
    return MarketPanel.from_bars(bars)


def _first_fold(settings: Settings, panel: MarketPanel) -> WalkForwardFold:
    b = settings.backtest
    spec = walk_forward_spec(
        len(panel.index), b.walk_forward_folds, b.min_train_bars, b.embargo_bars
    )
    return walk_forward_splits(len(panel.index), spec)[0]


@pytest.fixture(scope="module")
def two_lakes(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Settings, Settings, WalkForwardFold]:
    original = tmp_path_factory.mktemp("original")
    fill_lake(original)
    settings = tiny_settings(original)
    fold = _first_fold(settings, _panel(settings))
    cut = _panel(settings).index[fold.test.stop]

    def perturb(bars: pd.DataFrame) -> pd.DataFrame:
        later = bars["open_time"] >= cut
        factor = np.where(later, 1.0 + 0.3 * np.sin(np.arange(len(bars))), 1.0)
        out = bars.copy()
        for column in ("open", "high", "low", "close"):
            out[column] = out[column] * factor
        return out

    changed = tmp_path_factory.mktemp("changed")
    fill_lake(changed, perturb)
    return settings, tiny_settings(changed), fold


def test_registry_model_strategies_are_registered_by_name() -> None:
    # Arrange
    settings = tiny_settings(Path("/nonexistent-home"))

    # Act
    names = {name: build_strategy(name, settings).name for name in ("hybrid", "rl", "ensemble")}

    # Assert
    assert names == {"hybrid": "hybrid", "rl": "rl", "ensemble": "ensemble"}


def test_hybrid_unfitted_target_weights_raises_asking_for_fit() -> None:
    settings = tiny_settings(Path("/nonexistent-home"))
    panel = MarketPanel.from_closes(pd.DataFrame({"AAPL": [1.0, 2.0]}, index=pd.date_range(
        "2020-01-01", periods=2, tz="UTC")))  # fmt: skip
    with pytest.raises(InvalidInputError, match="fitted"):
        HybridStrategy(settings).target_weights(panel)


def test_hybrid_bars_after_fold_test_window_changed_fold_signals_unchanged(
    two_lakes: tuple[Settings, Settings, WalkForwardFold],
) -> None:
    # Arrange
    original, changed, fold = two_lakes
    outputs = []

    # Act
    for settings in (original, changed):
        panel = _panel(settings)
        fitted = HybridStrategy(settings).fit(panel.slice(fold.train.start, fold.train.stop))
        history = panel.slice(0, fold.test.stop)
        outputs.append((fitted.signals(history), fitted.target_weights(history)))

    # Assert
    (signals_a, weights_a), (signals_b, weights_b) = outputs
    assert signals_a and signals_a == signals_b
    assert len({s.prob_up for s in signals_a.values()}) > 1  # real, varying predictions
    pd.testing.assert_frame_equal(weights_a, weights_b)
    assert (weights_a.iloc[: fold.train.stop] == 0).all().all()  # no in-sample positions


def test_rl_bars_after_fold_test_window_changed_fold_weights_unchanged(
    two_lakes: tuple[Settings, Settings, WalkForwardFold],
) -> None:
    # Arrange
    original, changed, fold = two_lakes
    outputs = []

    # Act
    for settings in (original, changed):
        panel = _panel(settings)
        fitted = RlStrategy(settings).fit(panel.slice(fold.train.start, fold.train.stop))
        history = panel.slice(0, fold.test.stop)
        outputs.append((fitted.rl_weights(history), fitted.target_weights(history)))

    # Assert
    (rl_a, weights_a), (rl_b, weights_b) = outputs
    pd.testing.assert_frame_equal(rl_a, rl_b)
    pd.testing.assert_frame_equal(weights_a, weights_b)
    tested = weights_a.iloc[fold.test.start : fold.test.stop]
    assert (tested.abs() > 0).any().any()  # the ensemble did take positions
    cap = original.decisions.max_abs_weight
    assert (tested.abs() <= cap + 1e-12).all().all()


def test_hybrid_bars_inside_training_changed_fold_signals_change(
    two_lakes: tuple[Settings, Settings, WalkForwardFold], tmp_path: Path
) -> None:
    """The control: the comparison above can fail, since training data does matter."""
    # Arrange
    original, _, fold = two_lakes
    panel = _panel(original)
    cut = panel.index[fold.train.stop // 2]

    def perturb(bars: pd.DataFrame) -> pd.DataFrame:
        out = bars.copy()
        early = (out["open_time"] < cut).to_numpy()
        for column in ("open", "high", "low", "close"):
            out.loc[early, column] = out.loc[early, column] * (
                1.0 + 0.2 * np.cos(np.arange(early.sum()))
            )
        return out

    fill_lake(tmp_path, perturb)
    changed = tiny_settings(tmp_path)

    # Act
    signals = [
        HybridStrategy(s)
        .fit(_panel(s).slice(fold.train.start, fold.train.stop))
        .signals(_panel(s).slice(0, fold.test.stop))
        for s in (original, changed)
    ]

    # Assert
    assert signals[0] != signals[1]
