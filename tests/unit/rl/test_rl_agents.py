"""Agent construction from Settings.rl: names, hyperparameters, clear configuration errors."""

from __future__ import annotations

import numpy as np
import pytest

from quantdesk.backtest.costs import CostModel
from quantdesk.config import RLSettings
from quantdesk.domain.errors import ConfigurationError, InvalidInputError
from quantdesk.rl.agents import AGENTS, make_agent, parse_agents
from quantdesk.rl.env import EnvConfig, PortfolioEnv


def test_parse_agents_comma_list_keeps_order() -> None:
    assert parse_agents("sac, ppo,TD3") == ("sac", "ppo", "td3")


@pytest.mark.parametrize("text", ["dqn", "", "ppo,ppo"])
def test_parse_agents_unknown_empty_or_repeated_raises_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_agents(text)


@pytest.mark.parametrize("name", AGENTS)
def test_make_agent_each_agent_uses_settings_hyperparameters(make_market, name: str) -> None:
    market = make_market(rows=60)
    env = PortfolioEnv(market, CostModel.free(market.symbols), EnvConfig(episode_length=20))
    params: dict[str, float | int | str] = {"learning_rate": 1.25e-4, "gamma": 0.9}
    if name not in ("ppo", "a2c"):
        params["buffer_size"] = 1_000  # replay buffers allocate up front
    settings = RLSettings(net_arch=(8,), hyperparameters={name: params})

    agent = make_agent(name, env, settings, seed=3)

    assert agent.learning_rate == pytest.approx(1.25e-4)
    assert agent.gamma == pytest.approx(0.9)
    action, _ = agent.predict(env.reset(seed=0)[0], deterministic=True)
    assert np.shape(action) == (4,)


def test_make_agent_unknown_hyperparameter_raises_configuration_error(make_market) -> None:
    market = make_market(rows=60)
    env = PortfolioEnv(market, CostModel.free(market.symbols))
    settings = RLSettings(hyperparameters={"a2c": {"batch_size": 64}})

    with pytest.raises(ConfigurationError, match="QUANTDESK_RL__HYPERPARAMETERS"):
        make_agent("a2c", env, settings, seed=0)


def test_make_agent_discrete_actions_with_sac_raises_configuration_error(make_market) -> None:
    market = make_market(rows=60)
    config = EnvConfig(action_mode="discrete")
    env = PortfolioEnv(market, CostModel.free(market.symbols), config)

    with pytest.raises(ConfigurationError, match="discrete"):
        make_agent("sac", env, RLSettings(action_mode="discrete"), seed=0)
