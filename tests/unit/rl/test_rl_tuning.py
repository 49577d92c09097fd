"""Ray Tune search over an agent's hyperparameters (local Ray, two parallel trials)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.config import load_settings
from quantdesk.rl.tuning import tune_agent


@pytest.mark.slow
def test_tune_agent_two_trials_reports_best_validation_sharpe(make_market, tmp_path: Path) -> None:
    settings = load_settings(
        home=tmp_path,
        rl={"window": 2, "folds": 1, "train_size": 80, "validation_size": 20, "trade_size": 20,
            "episode_length": 32, "net_arch": (8,), "tune_concurrency": 2},
    )  # fmt: skip
    market = make_market(rows=140, assets=2)

    result = tune_agent(
        settings, market, CostModel.free(market.symbols), "a2c", samples=2, timesteps=64
    )

    assert result.agent == "a2c"
    assert len(result.trials) == 2
    assert result.best_sharpe == max(s for _, s in result.trials)
    assert np.isfinite(result.best_sharpe)
    assert {"learning_rate", "gamma", "n_steps"} <= set(result.best_config)
