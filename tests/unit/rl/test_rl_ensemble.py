"""The rolling ensemble: selection by validation Sharpe, the blend, baselines, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.config import RLSettings
from quantdesk.rl.ensemble import BASELINES, BEST, BLEND, blend_weights, evaluate_ensemble

SETTINGS = RLSettings(
    window=2, folds=2, train_size=80, validation_size=20, trade_size=20, episode_length=32,
    hyperparameters={"ppo": {"n_steps": 64, "batch_size": 32}, "a2c": {"n_steps": 8}},
    net_arch=(16,),
)  # fmt: skip


def test_blend_weights_positive_sharpes_proportional() -> None:
    weights = blend_weights({"ppo": 1.5, "a2c": 0.5, "sac": -2.0})

    assert weights == pytest.approx({"ppo": 0.75, "a2c": 0.25, "sac": 0.0})


def test_blend_weights_no_positive_sharpe_equal() -> None:
    assert blend_weights({"ppo": -1.0, "a2c": -0.1}) == {"ppo": 0.5, "a2c": 0.5}


def test_ensemble_two_seeds_selects_best_validation_agent_and_reports_baselines(
    make_market,
) -> None:
    market = make_market(rows=200, assets=2, seed=5)
    costs = CostModel.free(market.symbols)

    report = evaluate_ensemble(market, costs, SETTINGS, ("ppo", "a2c"), seeds=(0, 1), timesteps=128)

    assert len(report.runs) == 2
    for run in report.runs:
        assert set(run.metrics) == {BEST, BLEND, "ppo", "a2c", *BASELINES}
        for fold in run.folds:
            assert fold.selected == max(
                fold.validation_sharpe, key=fold.validation_sharpe.__getitem__
            )
            assert sum(fold.blend_weights.values()) == pytest.approx(1.0)
            # the best-agent strategy is exactly the selected member's trades
            np.testing.assert_array_equal(
                fold.trade_returns[BEST], fold.trade_returns[fold.selected]
            )
            last = fold.fold == SETTINGS.folds - 1  # no close after the last row
            steps = SETTINGS.trade_size - 1 if last else SETTINGS.trade_size
            assert all(len(r) == steps for r in fold.trade_returns.values())
        assert set(run.members) == {"ppo", "a2c"}
    summary = report.summary()
    mean, std = summary["buy_and_hold"]["sharpe"]
    assert std == 0.0  # a deterministic baseline does not depend on the seed
    assert np.isfinite(mean)


def test_ensemble_subprocess_vec_envs_train_and_trade(make_market) -> None:
    market = make_market(rows=200, assets=2, seed=5)
    settings = SETTINGS.model_copy(update={"n_envs": 2, "subprocess_envs": True, "folds": 1})

    report = evaluate_ensemble(
        market, CostModel.free(market.symbols), settings, ("ppo",), seeds=(0,), timesteps=128
    )

    run = report.runs[0]
    assert run.selected == "ppo"
    assert np.isfinite(run.metrics[BEST].sharpe)
