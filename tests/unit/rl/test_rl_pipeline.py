"""The train_rl batch step and the ``quantdesk rl`` commands, end to end on small data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantdesk.cli import app
from quantdesk.config import Settings, load_settings
from quantdesk.data.lake import Lake
from quantdesk.data.sources.synthetic import SyntheticConfig, SyntheticSource
from quantdesk.domain import Granularity
from quantdesk.pipelines.train_rl import promote_rl, train_rl
from quantdesk.rl.registry import CHAMPION, load_ensemble

SMALL = {
    "window": 2, "folds": 2, "train_size": 120, "validation_size": 30, "trade_size": 30,
    "episode_length": 32, "net_arch": (16,), "normalize_window": 20,
    "hyperparameters": {"ppo": {"n_steps": 64, "batch_size": 32}, "a2c": {"n_steps": 8}},
}  # fmt: skip


def _settings(home: Path) -> Settings:
    return load_settings(home=home, rl=SMALL, universe=("AAPL", "BTC-USD"))


def test_train_rl_lake_source_registers_challenger_and_writes_report(tmp_path: Path) -> None:
    # Arrange: a clean lake with daily bars of two symbols and the benchmark.
    settings = _settings(tmp_path)
    source = SyntheticSource(SyntheticConfig(symbols=("AAPL", "BTC-USD", "SPX"), first_year=2018))
    lake = Lake(settings.lake_dir)
    for symbol in ("AAPL", "BTC-USD", "SPX"):
        lake.write_bars(
            source.fetch_bars(
                symbol,
                Granularity.D1,
                datetime(2018, 1, 1, tzinfo=UTC),
                datetime(2021, 1, 1, tzinfo=UTC),
            )
        )

    # Act
    summary = train_rl(
        settings, datetime(2019, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC),
        agents=("ppo", "a2c"), seeds=(0,), timesteps=128,
    )  # fmt: skip
    promotion = promote_rl(settings)
    champion = load_ensemble(settings, CHAMPION)

    # Assert
    assert summary.symbols == ("AAPL", "BTC-USD")
    assert summary.model_version == 1
    assert {"ensemble_best", "ensemble_blend", "buy_and_hold", "equal_weight", "random"} <= set(
        summary.sharpe
    )
    report = json.loads(Path(summary.report_path).read_text())
    assert report["features"] == list(champion.feature_names)
    assert "rsi_14" in champion.feature_names
    assert champion.selected == summary.selected
    assert promotion.promoted


def test_cli_rl_train_synthetic_prints_table_and_bad_agent_exits_2(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"QUANTDESK_HOME": str(tmp_path), "QUANTDESK_RL__WINDOW": "2",
           "QUANTDESK_RL__FOLDS": "1", "QUANTDESK_RL__TRAIN_SIZE": "100",
           "QUANTDESK_RL__VALIDATION_SIZE": "30", "QUANTDESK_RL__TRADE_SIZE": "30",
           "QUANTDESK_RL__EPISODE_LENGTH": "32", "QUANTDESK_RL__NET_ARCH": "[16]"}  # fmt: skip

    ok = runner.invoke(
        app,
        ["train", "rl", "--source", "synthetic", "--agents", "a2c", "--seeds", "0,1,2",
         "--timesteps", "64", "--start", "2016-01-01", "--end", "2016-07-01", "--no-register"],
        env=env,
    )  # fmt: skip
    bad = runner.invoke(app, ["rl", "train", "--agents", "dqn"], env=env)

    assert ok.exit_code == 0, ok.output
    assert "ensemble_blend" in ok.output and "buy_and_hold" in ok.output
    assert "seeds [0, 1, 2]" in ok.output
    assert bad.exit_code != 0
    assert isinstance(bad.exception, Exception) and "dqn" in str(bad.exception)


@pytest.mark.parametrize("option", ["--start", "--end"])
def test_cli_rl_train_bad_date_raises_naming_option(tmp_path: Path, option: str) -> None:
    result = CliRunner().invoke(
        app, ["rl", "train", option, "yesterday"], env={"QUANTDESK_HOME": str(tmp_path)}
    )

    assert result.exit_code != 0
    assert option in str(result.exception)
