"""The tearsheet: tables from the figures it was given, charts, atomic write, monthly table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.backtest.metrics import compute_metrics
from quantdesk.backtest.report import (
    TearsheetInput,
    monthly_returns,
    render_tearsheet,
    write_tearsheet,
)
from quantdesk.backtest.strategies import SmaCrossover
from quantdesk.backtest.walk_forward import cost_sensitivity, run_walk_forward, walk_forward_spec
from quantdesk.config import CostSettings
from tests.unit.backtest.panels import random_panel


def tearsheet_input() -> TearsheetInput:
    panel = random_panel(bars=300)
    costs = CostModel.from_settings(panel.symbols, CostSettings())
    spec = walk_forward_spec(300, n_folds=3, min_train_bars=120, embargo=2)
    run = run_walk_forward(SmaCrossover(fast=5, slow=30), panel, costs, spec, 1e6)
    return TearsheetInput(
        title="Test <report>",
        run=run,
        metrics=compute_metrics(run.result),
        sensitivity=cost_sensitivity(run, costs, (0.5, 1.0, 2.0), 252),
        benchmark=run.panel.close["AAPL"],
        benchmark_name="AAPL",
        periods_per_year=252,
        rolling_window=20,
    )


def test_render_tearsheet_shows_metrics_sensitivity_folds_and_escapes_title() -> None:
    # Arrange
    data = tearsheet_input()

    # Act
    page = render_tearsheet(data)

    # Assert
    assert page.startswith("<!DOCTYPE html>")
    assert "Test &lt;report&gt;" in page and "<report>" not in page
    assert f"{data.metrics.sharpe:.3f}" in page
    for scale in ("0.5x", "1x", "2x"):
        assert f"<td>{scale}</td>" in page
    assert page.count("<tr><td>") >= len(data.run.folds)
    assert page.count('class="plotly-graph-div"') == 5
    assert page.count("plotly.js v") <= 2  # the library is inlined once


def test_write_tearsheet_atomic_overwrite_leaves_no_temp_files(tmp_path: Path) -> None:
    # Arrange
    data = tearsheet_input()

    # Act
    first = write_tearsheet(data, tmp_path / "reports", "demo")
    second = write_tearsheet(data, tmp_path / "reports", "demo")

    # Assert
    assert first == second == tmp_path / "reports" / "demo.html"
    assert [p.name for p in (tmp_path / "reports").iterdir()] == ["demo.html"]


def test_monthly_returns_compounds_within_each_month() -> None:
    # Arrange
    index = pd.to_datetime(["2024-01-30", "2024-01-31", "2024-02-01"], utc=True)
    returns = pd.Series([0.1, 0.1, -0.05], index=index)

    # Act
    table = monthly_returns(returns)

    # Assert
    assert table.loc[2024, 1] == pytest.approx(0.21)
    assert table.loc[2024, 2] == pytest.approx(-0.05)
    assert np.isnan(table.loc[2024, 3])
