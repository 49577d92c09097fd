"""The backtest step end to end: synthetic bars in a real lake -> report and metrics files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from quantdesk.config import Settings, load_settings
from quantdesk.data.lake import Lake
from quantdesk.data.sources.synthetic import SyntheticConfig, SyntheticMarket
from quantdesk.domain import Granularity, InvalidInputError
from quantdesk.pipelines.backtest import run_backtest

START = datetime(2019, 1, 1, tzinfo=UTC)
END = datetime(2021, 1, 1, tzinfo=UTC)
SYMBOLS = ("AAPL", "BTC-USD", "SPX")
QUANTDESK = str(Path(sys.executable).with_name("quantdesk"))


def fill_lake(home: Path) -> None:
    market = SyntheticMarket(SyntheticConfig(symbols=SYMBOLS, seed=3))
    lake = Lake(home / "lake")
    for symbol in SYMBOLS:
        lake.write_bars(market.bars(symbol, Granularity.D1, START, END))


def small_settings(home: Path) -> Settings:
    return load_settings(
        home=home,
        backtest={"sma_fast": 5, "sma_slow": 30, "min_train_bars": 120, "walk_forward_folds": 3},
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backtest") / "home"
    fill_lake(path)
    return path


def test_run_backtest_writes_report_and_metrics_under_reports(home: Path) -> None:
    # Act
    summary = run_backtest(small_settings(home), START, END, "sma", ["AAPL", "BTC-USD"])

    # Assert
    assert summary.report_path.parent == home.resolve() / "reports"
    page = summary.report_path.read_text()
    for heading in ("Cost sensitivity", "Monthly returns", "Drawdown", "Rolling Sharpe"):
        assert heading in page
    assert "Exposure" in page and "SPX" in page  # benchmark read from the lake
    document = json.loads(summary.metrics_path.read_text())
    assert set(document["cost_sensitivity"]) == {"0.5x", "1x", "2x"}
    assert document["metrics"]["sharpe"] == pytest.approx(summary.metrics["sharpe"])
    assert summary.periods_per_year == 365  # crypto trades every day
    assert summary.out_of_sample_start > START


def test_run_backtest_rerun_is_idempotent(home: Path) -> None:
    # Arrange
    settings = small_settings(home)
    first = run_backtest(settings, START, END, "sma", ["AAPL"])
    before = first.metrics_path.read_bytes()

    # Act
    second = run_backtest(settings, START, END, "sma", ["AAPL"])

    # Assert
    assert second.metrics_path.read_bytes() == before
    assert second.report_path == first.report_path


def test_run_backtest_symbol_missing_from_lake_raises_naming_it(home: Path) -> None:
    with pytest.raises(InvalidInputError, match="MSFT"):
        run_backtest(small_settings(home), START, END, "sma", ["AAPL", "MSFT"])


def test_quantdesk_backtest_command_prints_metrics_and_report_path(home: Path) -> None:
    # Arrange
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env.update(
        QUANTDESK_HOME=str(home),
        QUANTDESK_BACKTEST__SMA_FAST="5",
        QUANTDESK_BACKTEST__SMA_SLOW="30",
        QUANTDESK_BACKTEST__MIN_TRAIN_BARS="120",
        COLUMNS="200",
    )
    args = ["backtest", "--strategy", "sma", "--start", "2019-01-01", "--end", "2021-01-01"]

    # Act
    result = subprocess.run(
        [QUANTDESK, *args, "--symbols", "AAPL,BTC-USD"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    bad = subprocess.run(
        [QUANTDESK, *args, "--strategy", "nope"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip

    # Assert
    assert result.returncode == 0, result.stderr
    assert "sharpe" in result.stdout and "deflated_sharpe" in result.stdout
    assert "report: " in result.stdout and ".html" in result.stdout
    assert bad.returncode == 2
    assert "unknown strategy 'nope'" in bad.stderr
