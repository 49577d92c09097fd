"""stable-baselines3 agents (PPO, A2C, SAC, TD3, DDPG) configured from ``Settings.rl``.

stable-baselines3 and torch are imported inside the functions, so importing this module (the
CLI, DAG parsing) stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quantdesk.config import RLSettings
from quantdesk.domain.errors import ConfigurationError, InvalidInputError

if TYPE_CHECKING:
    import gymnasium as gym
    from stable_baselines3.common.base_class import BaseAlgorithm

AGENTS: tuple[str, ...] = ("ppo", "a2c", "sac", "td3", "ddpg")
ON_POLICY: frozenset[str] = frozenset({"ppo", "a2c"})
# Keys of ``Settings.rl.hyperparameters`` that are ours, not the SB3 constructor's.
_NOISE_KEY = "action_noise_sigma"


def parse_agents(text: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``"ppo,a2c"`` (or a sequence) to validated agent names, in the given order."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in AGENTS]
    if unknown or not names:
        raise InvalidInputError(
            f"unknown RL agent(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(AGENTS)}"
        )
    if len(set(names)) != len(names):
        raise InvalidInputError(f"an RL agent is listed twice: {', '.join(names)}")
    return tuple(names)


def agent_class(name: str) -> type[BaseAlgorithm]:
    """The stable-baselines3 class of ``name``."""
    import stable_baselines3 as sb3

    classes: dict[str, type[BaseAlgorithm]] = {
        "ppo": sb3.PPO,
        "a2c": sb3.A2C,
        "sac": sb3.SAC,
        "td3": sb3.TD3,
        "ddpg": sb3.DDPG,
    }
    if name not in classes:
        parse_agents([name])
    return classes[name]


def hyperparameters(
    name: str, settings: RLSettings, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Settings' hyperparameters for ``name`` with ``overrides`` (a tuning trial) on top."""
    return {**settings.hyperparameters.get(name, {}), **(overrides or {})}


def make_agent(
    name: str,
    env: gym.Env[Any, Any] | Any,
    settings: RLSettings,
    seed: int,
    overrides: Mapping[str, Any] | None = None,
    torch_threads: int = 1,
) -> BaseAlgorithm:
    """A fresh, seeded agent on ``env`` (a gymnasium env or an SB3 VecEnv), on the CPU."""
    import numpy as np
    import torch

    torch.set_num_threads(torch_threads)
    params = hyperparameters(name, settings, overrides)
    if settings.action_mode == "discrete" and name not in ON_POLICY:
        raise ConfigurationError(
            f"QUANTDESK_RL__ACTION_MODE=discrete works with ppo and a2c only, not {name}"
        )
    sigma = float(params.pop(_NOISE_KEY, 0.1))
    if name in ("td3", "ddpg"):
        from stable_baselines3.common.noise import NormalActionNoise

        size = int(np.prod(np.asarray(env.action_space.shape, dtype=np.int64)))
        params["action_noise"] = NormalActionNoise(np.zeros(size), sigma * np.ones(size))
    policy_kwargs = {"net_arch": list(settings.net_arch)}
    try:
        return agent_class(name)(
            "MlpPolicy",
            env,
            seed=seed,
            device="cpu",
            verbose=0,
            policy_kwargs=policy_kwargs,
            **params,
        )
    except TypeError as exc:
        raise ConfigurationError(
            f"QUANTDESK_RL__HYPERPARAMETERS for {name} is not accepted by stable-baselines3: {exc}"
        ) from None


def train_agent(
    name: str,
    env: gym.Env[Any, Any] | Any,
    settings: RLSettings,
    seed: int,
    timesteps: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> BaseAlgorithm:
    """Make and train an agent for ``timesteps`` (``settings.timesteps`` by default)."""
    agent = make_agent(name, env, settings, seed, overrides)
    agent.learn(total_timesteps=timesteps or settings.timesteps, progress_bar=False)
    return agent


def load_agent(name: str, path: Path) -> BaseAlgorithm:
    """An agent saved with ``agent.save(path)``, on the CPU."""
    if not path.exists():
        raise InvalidInputError(f"no saved {name} agent at {path}")
    return agent_class(name).load(str(path), device="cpu")
