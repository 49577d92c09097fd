"""Run a decision rule through an environment episode and score the result.

A *decider* maps (observation, environment) to target weights over (cash, assets). Trained
agents, their blends and the baselines (buy-and-hold, equal weight, random) are all deciders,
so every strategy trades the same environment, at the same costs, with the same risk halts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from gymnasium import spaces

from quantdesk.rl.env import PortfolioEnv

FloatArray = npt.NDArray[np.float64]
Observation = npt.NDArray[np.float32]
Decider = Callable[[Observation, PortfolioEnv], FloatArray]


class Predictor(Protocol):
    """What a trained agent offers (a stable-baselines3 model satisfies it)."""

    def predict(
        self,
        observation: Any,
        state: Any = ...,
        episode_start: Any = ...,
        deterministic: bool = ...,
    ) -> tuple[Any, Any]: ...


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    """Per-step net log returns (costs included, penalties excluded) and trading totals."""

    log_returns: FloatArray
    turnover: float
    costs: float
    halted_steps: int


@dataclass(frozen=True, slots=True)
class PerformanceMetrics:
    """Scores of a log-return series; ``sharpe`` is annualized with a zero risk-free rate."""

    total_return: float
    annual_return: float
    sharpe: float
    max_drawdown: float
    steps: int

    def as_dict(self) -> dict[str, float]:
        return {
            "total_return": self.total_return,
            "annual_return": self.annual_return,
            "sharpe": self.sharpe,
            "max_drawdown": self.max_drawdown,
        }


def run_episode(env: PortfolioEnv, decide: Decider, seed: int | None = None) -> EpisodeResult:
    """Play one whole episode; the environment's own timing rules apply (see rl.env)."""
    observation, _ = env.reset(seed=seed)
    returns: list[float] = []
    turnover = costs = 0.0
    halted = 0
    done = False
    while not done:
        before = env.value
        observation, _, terminated, truncated, info = env.step_weights(decide(observation, env))
        returns.append(math.log(env.value / before))
        turnover += info["turnover"]
        costs += info["cost"]
        halted += int(info["halted"])
        done = terminated or truncated
    return EpisodeResult(np.asarray(returns), turnover, costs, halted)


def performance(log_returns: FloatArray, periods_per_year: int) -> PerformanceMetrics:
    """Total and annualized return, annualized Sharpe and maximum drawdown."""
    r = np.asarray(log_returns, dtype=np.float64)
    if len(r) == 0:
        return PerformanceMetrics(0.0, 0.0, 0.0, 0.0, 0)
    wealth = np.exp(np.cumsum(r))
    peak = np.maximum.accumulate(np.r_[1.0, wealth])[1:]
    std = float(r.std(ddof=1)) if len(r) > 1 else 0.0
    sharpe = float(r.mean() / std * math.sqrt(periods_per_year)) if std > 1e-12 else 0.0
    return PerformanceMetrics(
        total_return=float(wealth[-1] - 1.0),
        annual_return=float(math.expm1(r.mean() * periods_per_year)),
        sharpe=sharpe,
        max_drawdown=float(np.max(1.0 - wealth / peak)),
        steps=len(r),
    )


# -- deciders ---------------------------------------------------------------------------------
def agent_decider(agent: Predictor) -> Decider:
    """The agent's deterministic action, mapped to weights by the environment."""

    def decide(observation: Observation, env: PortfolioEnv) -> FloatArray:
        action, _ = agent.predict(observation, deterministic=True)
        return env.target_weights(action)

    return decide


def blend_decider(agents: Mapping[str, Predictor], weights: Mapping[str, float]) -> Decider:
    """A weighted average of the members' target mixes (weights sum to one)."""
    members = [(agents[name], w) for name, w in weights.items() if w > 0]

    def decide(observation: Observation, env: PortfolioEnv) -> FloatArray:
        mix = np.zeros(env.n_assets + 1)
        for agent, w in members:
            action, _ = agent.predict(observation, deterministic=True)
            mix += w * env.target_weights(action)
        return mix

    return decide


def buy_and_hold_decider() -> Decider:
    """Equal weights on the first step, then never trade (weights drift with prices)."""

    def decide(observation: Observation, env: PortfolioEnv) -> FloatArray:
        current = env.weights
        if current[0] == 1.0:
            return equal_weights(env.n_assets)
        return current

    return decide


def equal_weight_decider() -> Decider:
    """Rebalance to 1/N of the assets every step (no cash)."""

    def decide(observation: Observation, env: PortfolioEnv) -> FloatArray:
        return equal_weights(env.n_assets)

    return decide


def random_decider(seed: int) -> Decider:
    """Uniformly random actions from the action space, seeded (the no-skill agent)."""
    rng = np.random.default_rng(seed)

    def decide(observation: Observation, env: PortfolioEnv) -> FloatArray:
        space = env.action_space
        if isinstance(space, spaces.Box):
            action: Any = rng.uniform(space.low.astype(np.float64), space.high.astype(np.float64))
        else:
            action = rng.integers(0, env.config.discrete_levels, env.n_assets + 1)
        return env.target_weights(action)

    return decide


def equal_weights(n_assets: int) -> FloatArray:
    out = np.full(n_assets + 1, 1.0 / n_assets)
    out[0] = 0.0
    return out


def mean_and_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), float(array.std(ddof=1)) if len(array) > 1 else 0.0
