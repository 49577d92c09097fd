"""RL environment steps/s against a FinRL-style peer (a pandas ``DataFrame.loc`` per step).

The peer is written the way popular trading environments are (FinRL's stock trading env keeps
a long DataFrame indexed by day and reads ``df.loc[day, :]`` every step): same observation,
same cost model, same turbulence halt, same reward, so both must produce IDENTICAL
trajectories for the same actions (asserted before timing). Ours indexes preloaded NumPy
arrays. Also: stable-baselines3 PPO training frames/s on each environment.
"""

from __future__ import annotations

import math
import time
from typing import Any

import gymnasium as gym
import numpy as np
import numpy.typing as npt
import pandas as pd
from gymnasium import spaces

from bench.measure import Measurement, best_of
from quantdesk.backtest.costs import CostModel
from quantdesk.config import CostSettings, RLSettings
from quantdesk.rl.env import EnvConfig, PortfolioEnv, weights_from_action
from quantdesk.rl.market_tensor import MarketTensor
from quantdesk.rl.turbulence import turbulence_index

SYMBOLS = ("AAPL", "MSFT", "SPX", "NDX", "EUR-USD", "GBP-USD", "USD-JPY", "BTC-USD", "ETH-USD")
ROWS = 1_500
FEATURES = 9
STEPS = 2_000
CONFIG = EnvConfig(window=10, turbulence_threshold=25.0, turbulence_lookback=60)


def _market(seed: int = 0) -> MarketTensor:
    rng = np.random.default_rng(seed)
    prices = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, (ROWS, len(SYMBOLS))), axis=0))
    return MarketTensor(
        times=np.datetime64("2019-01-01", "ns") + np.arange(ROWS) * np.timedelta64(1, "D"),
        symbols=SYMBOLS,
        feature_names=tuple(f"f{i}" for i in range(FEATURES)),
        prices=prices,
        features=rng.normal(size=(ROWS, len(SYMBOLS), FEATURES)),
    )


class DataFramePortfolioEnv(gym.Env[npt.NDArray[np.float32], Any]):
    """The peer: a long frame (one row per day and ticker) read with ``.loc`` every step."""

    def __init__(self, frame: pd.DataFrame, features: list[str], costs: CostModel) -> None:
        super().__init__()
        self.df, self.features, self.costs, self.config = frame, features, costs, CONFIG
        self.n = frame["tic"].nunique()
        self.last_day = int(frame.index.max()) - 1
        size = CONFIG.window * self.n * len(features) + self.n + 1
        self.observation_space = spaces.Box(-np.inf, np.inf, (size,), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (self.n + 1,), np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
        super().reset(seed=seed)
        self.day = CONFIG.window - 1
        self.weights = np.zeros(self.n + 1)
        self.weights[0] = 1.0
        self.value = 1.0
        return self._state(), {}

    def step(
        self, action: Any
    ) -> tuple[npt.NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        data = self.df.loc[self.day, :]
        next_data = self.df.loc[self.day + 1, :]
        if data["turbulence"].iloc[0] > CONFIG.turbulence_threshold:
            target = np.zeros(self.n + 1)
            target[0] = 1.0
        else:
            target = weights_from_action(action, CONFIG)
        cost = float(self.costs.rebalance_cost(self.weights[1:], target[1:]))
        growth_assets = next_data["close"].to_numpy() / data["close"].to_numpy()
        drifted = target * np.concatenate([[1.0], growth_assets])
        gross = float(drifted.sum())
        growth = (1.0 - cost) * gross
        self.value *= growth
        self.weights = drifted / gross
        self.day += 1
        terminated = self.day > self.last_day
        return self._state(), math.log(growth), terminated, False, {}

    def _state(self) -> npt.NDArray[np.float32]:
        day = min(self.day, self.last_day + 1)
        window = self.df.loc[day - CONFIG.window + 1 : day, self.features].to_numpy()
        return np.concatenate([window.ravel().astype(np.float32), self.weights.astype(np.float32)])


def _frame(market: MarketTensor) -> pd.DataFrame:
    """The market as FinRL keeps it: one row per (day, tic), indexed by day number."""
    t, n, f = market.features.shape
    turbulence = turbulence_index(market.prices, CONFIG.turbulence_lookback)
    frame = pd.DataFrame(market.features.reshape(t * n, f), columns=list(market.feature_names))
    frame.insert(0, "tic", np.tile(market.symbols, t))
    frame.insert(1, "close", market.prices.reshape(t * n))
    frame["turbulence"] = np.repeat(turbulence, n)
    frame.index = np.repeat(np.arange(t), n)
    return frame


def _play(env: gym.Env[Any, Any], actions: npt.NDArray[np.float32]) -> list[Any]:
    obs, _ = env.reset(seed=0)
    trajectory: list[Any] = [obs]
    for action in actions:
        obs, reward, terminated, _, _ = env.step(action)
        trajectory.append((obs, reward))
        if terminated:
            obs, _ = env.reset()
    return trajectory


def _ppo_seconds(env: gym.Env[Any, Any], steps: int) -> float:
    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    settings = RLSettings()
    model = PPO("MlpPolicy", env, n_steps=512, batch_size=64, seed=0, device="cpu", verbose=0,
                policy_kwargs={"net_arch": list(settings.net_arch)})  # fmt: skip
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    return time.perf_counter() - start


def run() -> list[Measurement]:
    market = _market()
    costs = CostModel.from_settings(market.symbols, CostSettings())
    ours = PortfolioEnv(market, costs, CONFIG)
    peer = DataFramePortfolioEnv(_frame(market), list(market.feature_names), costs)
    actions = np.random.default_rng(1).uniform(-1, 1, (STEPS, len(SYMBOLS) + 1)).astype(np.float32)

    mine, theirs = _play(ours, actions), _play(peer, actions)
    np.testing.assert_array_equal(mine[0], theirs[0])
    for (obs_a, rew_a), (obs_b, rew_b) in zip(mine[1:], theirs[1:], strict=True):
        np.testing.assert_array_equal(obs_a, obs_b)
        assert rew_a == rew_b, (rew_a, rew_b)

    ours_s = best_of(lambda: _play(ours, actions), repeat=9)
    peer_s = best_of(lambda: _play(peer, actions), repeat=3)
    ppo_steps = 2_048
    ppo_ours = _ppo_seconds(ours, ppo_steps)
    ppo_peer = _ppo_seconds(peer, ppo_steps)
    return [
        Measurement(
            f"env steps, {len(SYMBOLS)} assets x {FEATURES} feats x 10 bars",
            ours_s,
            peer_s,
            "DataFrame.loc per step",
            STEPS,
            "steps",
        ),
        Measurement(
            "SB3 PPO training (frames)",
            ppo_ours,
            ppo_peer,
            "same PPO on the peer env",
            ppo_steps,
            "frames",
        ),
    ]
