"""The backtest batch step: daily clean bars -> walk-forward backtest -> tearsheet + metrics.

Idempotent for a given (strategy, symbols, interval, settings): the report and its metrics
JSON are overwritten atomically under ``<home>/reports/``, so a rerun of the DAG task or the
CLI leaves the same files. Nothing here looks ahead: strategies are fitted per fold on
training bars only and every trade executes at the bar after its decision, net of costs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from quantdesk.backtest.costs import CostModel
from quantdesk.backtest.market_panel import MarketPanel
from quantdesk.backtest.metrics import compute_metrics
from quantdesk.backtest.report import TearsheetInput, write_tearsheet
from quantdesk.backtest.strategies import build_strategy
from quantdesk.backtest.walk_forward import (
    WalkForwardResult,
    cost_sensitivity,
    run_walk_forward,
    walk_forward_spec,
)
from quantdesk.config import Settings
from quantdesk.data.atomic_files import write_file_atomic
from quantdesk.data.lake import Lake
from quantdesk.domain import Granularity, InvalidInputError
from quantdesk.structured_logging import get_logger

_log = get_logger(__name__)

_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class BacktestSummary:
    strategy: str
    symbols: tuple[str, ...]
    start: datetime
    end: datetime
    bars: int
    out_of_sample_start: datetime
    periods_per_year: int
    metrics: dict[str, float | int]
    cost_sensitivity: dict[str, dict[str, float | int]]
    report_path: Path
    metrics_path: Path


def bars_per_year(index: pd.Index, fallback: int) -> int:
    """Bars per year as observed (252 for NYSE days, 365 with crypto), else ``fallback``."""
    times = pd.DatetimeIndex(index)
    years = float((times[-1] - times[0]).total_seconds()) / 86_400 / _DAYS_PER_YEAR
    if years < 0.5:
        return fallback
    return round((len(times) - 1) / years)


def _benchmark_equity(
    lake: Lake, settings: Settings, run: WalkForwardResult, start: datetime, end: datetime
) -> tuple[pd.Series, str]:
    """The configured benchmark held throughout, or equal-weight buy-and-hold of the panel."""
    index = run.panel.index
    name = settings.backtest.benchmark
    bars = lake.read_bars(name, start, end, granularity=Granularity.D1) if name else None
    if bars is not None and not bars.empty:
        close = bars.set_index("open_time")["close"].astype(float)
        aligned = close.reindex(index.union(close.index)).ffill().reindex(index)
        if aligned.notna().all():
            return aligned, name
    growth = (run.panel.close / run.panel.close.iloc[0]).mean(axis=1)
    return growth, "equal-weight buy and hold"


def _finite(values: dict[str, float | int]) -> dict[str, float | int | None]:
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()
    }


def run_backtest(
    settings: Settings,
    start: datetime,
    end: datetime,
    strategy: str = "sma",
    symbols: Sequence[str] | None = None,
) -> BacktestSummary:
    """Walk-forward backtest of ``strategy`` on daily bars in ``[start, end)``; write a report."""
    names = tuple(dict.fromkeys(symbols or settings.universe))
    if not names:
        raise InvalidInputError("a backtest needs at least one symbol")
    chosen = build_strategy(strategy, settings)
    config = settings.backtest
    lake = Lake(settings.lake_dir)
    bars = lake.read_bars(names, start, end, granularity=Granularity.D1)
    missing = sorted(set(names) - set(bars["symbol"].astype(str)))
    if missing:
        raise InvalidInputError(
            f"no clean daily bars in the lake for {', '.join(missing)} in [{start}, {end})"
        )
    panel = MarketPanel.from_bars(bars)
    periods = bars_per_year(panel.index, config.periods_per_year)
    costs = CostModel.from_settings(panel.symbols, settings.costs)
    spec = walk_forward_spec(
        len(panel.index), config.walk_forward_folds, config.min_train_bars, config.embargo_bars
    )
    run = run_walk_forward(chosen, panel, costs, spec, config.initial_equity, config.fill)
    metrics = compute_metrics(run.result, periods, config.risk_free_rate, trials=chosen.trials)
    scales = tuple(sorted(set(config.cost_scales) | {1.0}))
    sensitivity = cost_sensitivity(
        run, costs, scales, periods, config.fill, chosen.trials, config.risk_free_rate
    )
    benchmark, benchmark_name = _benchmark_equity(lake, settings, run, start, end)
    stem = f"backtest_{chosen.name}_{start:%Y%m%d}_{end:%Y%m%d}"
    report = write_tearsheet(
        TearsheetInput(
            title=f"Backtest: {chosen.name}",
            run=run,
            metrics=metrics,
            sensitivity=sensitivity,
            benchmark=benchmark,
            benchmark_name=benchmark_name,
            periods_per_year=periods,
            rolling_window=config.rolling_window,
        ),
        settings.reports_dir,
        stem,
    )
    table = {f"{scale:g}x": m.as_dict() for scale, m in sensitivity.items()}
    document = {
        "strategy": chosen.name,
        "symbols": list(panel.symbols),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "out_of_sample_start": run.panel.index[0].isoformat(),
        "periods_per_year": periods,
        "metrics": _finite(metrics.as_dict()),
        "cost_sensitivity": {k: _finite(v) for k, v in table.items()},
        "final_equity": float(np.asarray(run.result.equity)[-1]),
    }
    metrics_path = settings.reports_dir / f"{stem}.json"
    payload = json.dumps(document, indent=2, sort_keys=True).encode("utf-8")
    write_file_atomic(metrics_path, lambda handle: handle.write(payload))
    _log.info("backtest_done", strategy=chosen.name, report=str(report), sharpe=metrics.sharpe)
    return BacktestSummary(
        strategy=chosen.name,
        symbols=panel.symbols,
        start=start,
        end=end,
        bars=len(panel.index),
        out_of_sample_start=run.panel.index[0].to_pydatetime(),
        periods_per_year=periods,
        metrics=metrics.as_dict(),
        cost_sensitivity=table,
        report_path=report,
        metrics_path=metrics_path,
    )
