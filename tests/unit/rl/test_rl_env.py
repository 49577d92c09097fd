"""The portfolio environment: gymnasium contract, timing (no look-ahead), costs, halts, seeds."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from quantdesk.backtest.costs import CostModel
from quantdesk.domain.errors import InvalidInputError
from quantdesk.rl.env import EnvConfig, PortfolioEnv
from quantdesk.rl.market_tensor import MarketTensor

RATES = np.array([0.001, 0.002, 0.0005])


def _costs(market: MarketTensor) -> CostModel:
    # fee + half spread 1 bps + slippage 1 bps = 10, 20 and 5 bps = RATES
    n = len(market.symbols)
    return CostModel(
        symbols=market.symbols,
        fee_bps=np.array([8.0, 18.0, 3.0])[:n],
        half_spread_bps=np.ones(n),
        slippage_bps=1.0,
    )


def _env(market: MarketTensor, **config: object) -> PortfolioEnv:
    return PortfolioEnv(market, _costs(market), EnvConfig(**config))  # type: ignore[arg-type]


def _rollout(
    env: PortfolioEnv, actions: np.ndarray, seed: int = 0
) -> tuple[list[np.ndarray], list[float]]:
    obs, _ = env.reset(seed=seed)
    observations, rewards = [obs], []
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        observations.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            break
    return observations, rewards


@pytest.mark.parametrize("mode", ["softmax", "simplex", "discrete"])
def test_env_check_env_each_action_mode_passes(make_market, mode: str) -> None:
    env = _env(make_market(), action_mode=mode, turbulence_threshold=30.0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # unbounded feature values, no render
        check_env(env, skip_render_check=True)


def test_env_observation_at_t_perturbing_data_after_t_unchanged(make_market) -> None:
    # Arrange: the same actions on a market and on a copy whose data after row t differ.
    market = make_market(rows=120)
    env = _env(market, window=5, turbulence_threshold=10.0, turbulence_lookback=20)
    t = 70
    prices, features = market.prices.copy(), market.features.copy()
    prices[t + 1 :] *= np.exp(np.random.default_rng(9).normal(0, 0.2, prices[t + 1 :].shape))
    features[t + 1 :] += 5.0
    future = MarketTensor(market.times, market.symbols, market.feature_names, prices, features)
    other = _env(future, window=5, turbulence_threshold=10.0, turbulence_lookback=20)
    actions = np.random.default_rng(3).uniform(-1, 1, (200, 4)).astype(np.float32)
    steps = t - env.config.window + 1  # rows first..t-1 traded, so observation t is reached

    # Act
    obs_a, rew_a = _rollout(env, actions[:steps])
    obs_b, rew_b = _rollout(other, actions[:steps])
    reward_t_a = env.step(actions[steps])[1]
    reward_t_b = other.step(actions[steps])[1]

    # Assert: observations up to row t and rewards up to t-1 -> t are identical; reward t -> t+1
    # uses the perturbed price at t+1 and differs.
    assert env.row == other.row == t + 1
    for a, b in zip(obs_a, obs_b, strict=True):
        np.testing.assert_array_equal(a, b)
    assert rew_a == rew_b
    assert reward_t_a != reward_t_b


def test_env_reward_one_step_equals_log_growth_net_of_costs(make_market) -> None:
    market = make_market(rows=40)
    env = _env(market, window=3, action_mode="simplex")
    env.reset(seed=0)
    t = env.row
    action = np.array([0.125, 0.5, 0.25, 0.125], dtype=np.float32)  # exact in float32
    target = action.astype(np.float64)

    _, reward, _, _, info = env.step(action)

    # from all cash, buying target[1:] of the post-cost equity: c = sum(rate * target * (1 - c))
    bought = float(RATES @ target[1:])
    cost = bought / (1 + bought)
    growth = market.prices[t + 1] / market.prices[t]
    expected = math.log((1 - cost) * (target[0] + target[1:] @ growth))
    assert reward == pytest.approx(expected, rel=1e-12)
    assert info["cost"] == pytest.approx(cost)
    assert env.value == pytest.approx(math.exp(expected))
    drifted = np.r_[target[0], target[1:] * growth]
    np.testing.assert_allclose(env.weights, drifted / drifted.sum())


def test_env_turbulence_above_threshold_halts_to_cash(make_market) -> None:
    market = make_market(rows=50)
    turbulence = np.zeros(len(market))
    turbulence[10:] = 100.0
    env = PortfolioEnv(
        market, _costs(market), EnvConfig(window=5, turbulence_threshold=50.0), turbulence
    )
    env.reset(seed=0)
    fully_invested = np.array([-1, 1, 1, 1], dtype=np.float32)

    for _ in range(5):  # rows 4..8: no halt
        _, _, _, _, info = env.step(fully_invested)
        assert not info["halted"]
    _, reward, _, _, info = env.step(fully_invested)  # row 9 -> no halt yet
    _, reward, _, _, info = env.step(fully_invested)  # row 10: halted

    assert info["halted"]
    np.testing.assert_array_equal(env.weights, [1.0, 0.0, 0.0, 0.0])
    assert reward < 0  # selling everything costs, holding cash earns nothing


def test_env_same_seed_random_episodes_identical_trajectories(make_market) -> None:
    market = make_market(rows=300)
    actions = np.random.default_rng(1).uniform(-1, 1, (50, 4)).astype(np.float32)

    first = _rollout(_env(market, episode_length=50), actions, seed=11)
    second = _rollout(_env(market, episode_length=50), actions, seed=11)
    other = _rollout(_env(market, episode_length=50), actions, seed=12)

    assert first[1] == second[1]
    assert first[1] != other[1]
    assert len(first[1]) == 50


def test_env_episode_over_whole_range_terminates_at_last_price(make_market) -> None:
    market = make_market(rows=30)
    env = _env(market, window=4)
    env.reset(seed=0)
    steps, terminated = 0, False
    while not terminated:
        _, _, terminated, truncated, _ = env.step(np.zeros(4, dtype=np.float32))
        assert not truncated
        steps += 1

    assert steps == 30 - 4  # rows 3..28 each have a next price


def test_env_drawdown_penalty_lowers_reward_only_when_losing(make_market) -> None:
    market = make_market(rows=60, seed=4)
    actions = np.tile(np.array([-1, 1, 1, 1], dtype=np.float32), (40, 1))

    _, plain = _rollout(_env(market), actions)
    _, penalized = _rollout(_env(market, risk_penalty="drawdown", risk_aversion=2.0), actions)

    diffs = np.array(plain) - np.array(penalized)
    assert np.all(diffs >= 0)
    assert np.any(diffs > 0)


def test_env_vectorized_dummy_and_subprocess_same_first_rewards(make_market) -> None:
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    market = make_market(rows=80)
    factories = [lambda: _env(market, episode_length=20) for _ in range(2)]
    dummy = DummyVecEnv(factories)
    subproc = SubprocVecEnv(factories, start_method="fork")
    try:
        dummy.seed(5)
        subproc.seed(5)
        dummy.reset()
        subproc.reset()
        actions = np.zeros((2, 4), dtype=np.float32)
        _, rewards_dummy, _, _ = dummy.step(actions)
        _, rewards_subproc, _, _ = subproc.step(actions)
    finally:
        subproc.close()
        dummy.close()

    np.testing.assert_allclose(rewards_dummy, rewards_subproc, rtol=1e-6)  # dummy keeps float32


def test_env_cost_model_other_symbols_raises_invalid_input(make_market) -> None:
    costs = CostModel.free(("A", "B", "C"))

    with pytest.raises(InvalidInputError, match="cost model symbols"):
        PortfolioEnv(make_market(), costs)


def test_env_cost_model_with_impact_raises_invalid_input(make_market) -> None:
    market = make_market()
    costs = CostModel(market.symbols, np.ones(3), np.ones(3), impact_coefficient=0.1)

    with pytest.raises(InvalidInputError, match="IMPACT_COEFFICIENT"):
        PortfolioEnv(market, costs)


def test_env_config_bad_window_raises_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="window"):
        EnvConfig(window=0)


def test_market_tensor_nan_feature_raises_naming_feature(make_market) -> None:
    market = make_market(rows=20)
    features = market.features.copy()
    features[3, 1, 0] = np.nan

    with pytest.raises(InvalidInputError, match="'f0' of 'S1'"):
        MarketTensor(market.times, market.symbols, market.feature_names, market.prices, features)


def test_normalize_tensor_row_t_ignores_rows_after_t(make_market) -> None:
    from quantdesk.rl.normalization import normalize_tensor

    market = make_market(rows=60)
    features = market.features.copy()
    features[41:] *= 10.0
    changed = MarketTensor(
        market.times, market.symbols, market.feature_names, market.prices, features
    )

    a, b = normalize_tensor(market, 20), normalize_tensor(changed, 20)

    assert len(a) == 60 - 19 and a.times[0] == market.times[19]
    np.testing.assert_array_equal(a.features[: 41 - 19], b.features[: 41 - 19])
    assert not np.array_equal(a.features[41 - 19 :], b.features[41 - 19 :])
    assert np.abs(a.features).max() <= 5.0
