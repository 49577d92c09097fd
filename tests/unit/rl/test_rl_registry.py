"""The ensemble in MLflow: one registered model, aliases, the gate, exact reconstruction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.config import Settings, load_settings
from quantdesk.domain.errors import InvalidInputError, NotFoundError
from quantdesk.models.promotion_gate import CandidateScores
from quantdesk.rl.agents import train_agent
from quantdesk.rl.bundle import EnsembleBundle, load_bundle, save_bundle
from quantdesk.rl.env import EnvConfig, PortfolioEnv
from quantdesk.rl.registry import CHALLENGER, CHAMPION, load_ensemble, promote, register_ensemble


def _settings(home: Path) -> Settings:
    return load_settings(home=home, rl={"net_arch": (8,), "promotion_margin": 0.05})


def _scores(*fold_sharpes: float) -> CandidateScores:
    return CandidateScores("sharpe", fold_sharpes, folds_key="same-windows")


def _bundle(make_market, settings: Settings, sharpe: float) -> tuple[EnsembleBundle, PortfolioEnv]:
    market = make_market(rows=60, assets=2)
    config = EnvConfig(window=2, episode_length=20)
    env = PortfolioEnv(market, CostModel.free(market.symbols), config)
    overrides = {"ppo": {"n_steps": 32, "batch_size": 32}, "a2c": {"n_steps": 8}}
    members = {
        name: train_agent(name, env, settings.rl, seed=0, timesteps=64, overrides=overrides[name])
        for name in ("ppo", "a2c")
    }
    bundle = EnsembleBundle(
        members=members,
        blend_weights={"ppo": 0.7, "a2c": 0.3},
        selected="ppo",
        env_config=config,
        symbols=market.symbols,
        feature_names=market.feature_names,
        metrics={"ensemble_blend.sharpe_mean": sharpe, "equal_weight.sharpe_mean": 0.2},
    )
    return bundle, env


def _observations(env: PortfolioEnv) -> np.ndarray:
    obs, _ = env.reset(seed=3)
    rows = [obs]
    for _ in range(9):
        obs, *_ = env.step(env.action_space.sample())
        rows.append(obs)
    return np.stack(rows)


def test_bundle_save_load_same_manifest_and_weights(make_market, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    bundle, env = _bundle(make_market, settings, sharpe=1.0)
    observations = _observations(env)

    loaded = load_bundle(save_bundle(bundle, tmp_path / "bundle"))

    assert loaded.manifest() == bundle.manifest()
    np.testing.assert_array_equal(
        loaded.target_weights(observations), bundle.target_weights(observations)
    )
    np.testing.assert_allclose(bundle.target_weights(observations).sum(axis=1), 1.0)


def test_registry_register_promote_load_by_alias_reconstructs_exactly(
    make_market, tmp_path: Path
) -> None:
    # Arrange
    settings = _settings(tmp_path)
    first, env = _bundle(make_market, settings, sharpe=1.0)
    weaker, _ = _bundle(make_market, settings, sharpe=0.5)
    observations = _observations(env)

    # Act
    registered = register_ensemble(settings, first, _scores(1.0, 0.8))
    first_gate = promote(settings)
    champion = load_ensemble(settings, CHAMPION)
    register_ensemble(settings, weaker, _scores(0.9, 0.85))  # mean 0.875 < 0.9 + margin
    second_gate = promote(settings)
    challenger = load_ensemble(settings, CHALLENGER)
    still_champion = load_ensemble(settings, CHAMPION)

    # Assert
    assert registered.version == 1
    assert first_gate.promote
    assert champion.manifest() == first.manifest()
    np.testing.assert_array_equal(
        champion.target_weights(observations), first.target_weights(observations)
    )
    assert not second_gate.promote
    assert any("does not beat champion" in reason for reason in second_gate.reasons)
    assert challenger.metrics["ensemble_blend.sharpe_mean"] == 0.5
    assert still_champion.manifest() == first.manifest()


def test_registry_unknown_alias_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="champion"):
        load_ensemble(_settings(tmp_path), CHAMPION)


def test_registry_scores_on_other_metric_raise_invalid_input(make_market, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    bundle, _ = _bundle(make_market, settings, sharpe=1.0)

    with pytest.raises(InvalidInputError, match="sharpe"):
        register_ensemble(settings, bundle, CandidateScores("ic", (0.1,), "k"))
