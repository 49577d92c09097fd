"""Training environments for stable-baselines3: one env, or N copies in lockstep.

``n_envs > 1`` collects experience from N seeded copies (SB3 seeds copy ``i`` with
``seed + i``); ``subprocess`` puts each copy in its own process (SubprocVecEnv), worth it only
when a step costs more than the inter-process round trip, which our NumPy step rarely does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym

from quantdesk.rl.env import PortfolioEnv


def training_env(factory: Callable[[], PortfolioEnv], n_envs: int, subprocess: bool) -> Any:
    """A gymnasium env (``n_envs == 1``) or an SB3 VecEnv of ``n_envs`` copies."""
    if n_envs <= 1:
        return factory()
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    factories: list[Callable[[], gym.Env[Any, Any]]] = [factory] * n_envs
    return SubprocVecEnv(factories) if subprocess else DummyVecEnv(factories)


def close_training_env(env: Any) -> None:
    """Stop a VecEnv's worker processes (a no-op for a plain env)."""
    from stable_baselines3.common.vec_env import VecEnv

    if isinstance(env, VecEnv):
        env.close()
