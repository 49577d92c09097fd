"""Walk-forward backtests over purged, embargoed splits: only out-of-sample bars are traded.

For each fold (from :func:`quantdesk.features.splits.walk_forward_splits`) the strategy is
fitted on the fold's training bars only, then asked for weights on the bars up to the end of
the fold's test window (causal strategies need the history for their look-backs) and only the
test window's weights are kept. The test windows tile the end of the series, so the kept
weights form one out-of-sample path that a single engine run trades: positions carry across
fold boundaries as they would live, and costs are charged on every change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quantdesk.backtest.costs import CostModel
from quantdesk.backtest.market_panel import Fill, MarketPanel
from quantdesk.backtest.metrics import PerformanceMetrics, compute_metrics
from quantdesk.backtest.strategies import Strategy
from quantdesk.backtest.vectorized import BacktestResult, run_vectorized
from quantdesk.domain import InvalidInputError
from quantdesk.features.splits import WalkForwardSpec, walk_forward_splits


@dataclass(frozen=True, slots=True)
class FoldWindow:
    """Bar times of one fold: where the strategy learned and where it was tested."""

    index: int
    strategy: str  # the fitted strategy's name (e.g. the windows a grid search chose)
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp


@dataclass(frozen=True, slots=True)
class WalkForwardResult:
    """The stitched out-of-sample backtest, the weights it traded and its folds."""

    strategy: str
    panel: MarketPanel  # the out-of-sample bars only
    targets: pd.DataFrame
    result: BacktestResult
    folds: tuple[FoldWindow, ...]


def walk_forward_spec(
    n_bars: int, n_folds: int, min_train_bars: int, embargo: int, label_horizon: int = 1
) -> WalkForwardSpec:
    """Folds that give the first fold ``min_train_bars`` and split the rest into equal tests."""
    gap = label_horizon + embargo
    test_size = (n_bars - min_train_bars - gap) // n_folds
    if test_size < 1:
        raise InvalidInputError(
            f"{n_bars} bars cannot hold {n_folds} walk-forward folds after "
            f"{min_train_bars} training bars and a gap of {gap}"
        )
    return WalkForwardSpec(
        n_folds=n_folds,
        test_size=test_size,
        validation_size=0,
        min_train_size=min_train_bars,
        label_horizon=label_horizon,
        embargo=embargo,
    )


def out_of_sample_targets(
    strategy: Strategy, panel: MarketPanel, spec: WalkForwardSpec
) -> tuple[pd.DataFrame, tuple[FoldWindow, ...]]:
    """Weights on the test windows only, each from a strategy fitted on its fold's train."""
    folds = walk_forward_splits(len(panel.index), spec)
    pieces: list[pd.DataFrame] = []
    windows: list[FoldWindow] = []
    index = panel.index
    for fold in folds:
        fitted = strategy.fit(panel.slice(fold.train.start, fold.train.stop))
        history = panel.slice(0, fold.test.stop)
        weights = fitted.target_weights(history)
        if not weights.index.equals(history.index):
            raise InvalidInputError(f"strategy {strategy.name} returned misaligned weights")
        pieces.append(weights.iloc[fold.test.start : fold.test.stop])
        windows.append(
            FoldWindow(
                index=fold.index,
                strategy=fitted.name,
                train_start=index[fold.train.start],
                train_end=index[fold.train.stop - 1],
                test_start=index[fold.test.start],
                test_end=index[fold.test.stop - 1],
            )
        )
    return pd.concat(pieces), tuple(windows)


def run_walk_forward(
    strategy: Strategy,
    panel: MarketPanel,
    costs: CostModel,
    spec: WalkForwardSpec,
    initial_equity: float = 1.0,
    fill: Fill = "open",
) -> WalkForwardResult:
    """Fit per fold, trade the out-of-sample weights once, return the stitched result."""
    targets, windows = out_of_sample_targets(strategy, panel, spec)
    first = int(np.searchsorted(panel.index, targets.index[0]))
    tested = panel.slice(first, first + len(targets))
    result = run_vectorized(tested, targets, costs, initial_equity, fill)
    return WalkForwardResult(
        strategy=strategy.name, panel=tested, targets=targets, result=result, folds=windows
    )


def cost_sensitivity(
    run: WalkForwardResult,
    costs: CostModel,
    scales: tuple[float, ...],
    periods_per_year: int,
    fill: Fill = "open",
    trials: int = 1,
    risk_free_rate: float = 0.0,
) -> dict[float, PerformanceMetrics]:
    """The same out-of-sample weights traded with every cost multiplied by each scale."""
    return {
        scale: compute_metrics(
            run_vectorized(
                run.panel, run.targets, costs.scaled(scale), run.result.initial_equity, fill
            ),
            periods_per_year,
            risk_free_rate,
            trials=trials,
        )
        for scale in scales
    }
