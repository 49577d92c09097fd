"""Ray Tune hyperparameter search for one agent, trials in parallel, scored on validation.

Each trial trains the agent on the last walk-forward fold's training window and reports its
Sharpe on the validation window after it (never the trade window, which stays out of sample
for the ensemble). Local Ray is started the way STACK-NOTES says works on these machines:
loopback only, no dashboard, a small object store; ``QUANTDESK_RAY__ADDRESS`` joins a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quantdesk.backtest.costs import CostModel
from quantdesk.config import Settings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.features.splits import walk_forward_splits
from quantdesk.ray_runtime import start_ray
from quantdesk.rl.agents import parse_agents
from quantdesk.rl.market_tensor import MarketTensor


@dataclass(frozen=True, slots=True)
class TuningResult:
    agent: str
    best_config: dict[str, Any]
    best_sharpe: float
    trials: tuple[tuple[dict[str, Any], float], ...]


def search_space(agent: str) -> dict[str, Any]:
    """The hyperparameters searched for ``agent`` (Ray Tune sampling domains)."""
    from ray import tune

    space: dict[str, Any] = {
        "learning_rate": tune.loguniform(1e-5, 1e-3),
        "gamma": tune.choice([0.9, 0.95, 0.99]),
    }
    if agent == "ppo":
        space |= {"n_steps": tune.choice([128, 256, 512]), "ent_coef": tune.choice([0.0, 0.01])}
    elif agent == "a2c":
        space |= {"n_steps": tune.choice([5, 16, 32]), "ent_coef": tune.choice([0.0, 0.01])}
    else:
        space |= {"batch_size": tune.choice([64, 128, 256]), "tau": tune.choice([0.005, 0.02])}
    return space


def _trial(
    config: dict[str, Any],
    market: MarketTensor,
    costs: CostModel,
    settings_json: str,
    agent: str,
    timesteps: int,
    seed: int,
) -> dict[str, float]:
    """One trial (runs in a Ray worker): train on the fold's training window, score validation."""
    from ray import tune

    from quantdesk.config import RLSettings
    from quantdesk.rl.agents import train_agent
    from quantdesk.rl.ensemble import _Segments, fold_spec
    from quantdesk.rl.rollout import agent_decider, performance, run_episode

    settings = RLSettings.model_validate_json(settings_json)
    fold = walk_forward_splits(len(market), fold_spec(settings))[-1]
    segments = _Segments(market, costs, settings)
    threshold = segments.threshold(range(fold.train.start, fold.train.stop))
    env = segments.training(fold.train.start, fold.train.stop, threshold)
    overrides = dict(config)
    if agent == "ppo" and "n_steps" in overrides:
        overrides.setdefault("batch_size", min(64, int(overrides["n_steps"])))
    model = train_agent(agent, env, settings, seed, timesteps, overrides)
    validation = segments.evaluation(fold.validation.start, fold.validation.stop, threshold)
    result = run_episode(validation, agent_decider(model))
    sharpe = performance(result.log_returns, settings.periods_per_year).sharpe
    tune.report({"sharpe": sharpe})
    return {"sharpe": sharpe}


def tune_agent(
    settings: Settings,
    market: MarketTensor,
    costs: CostModel,
    agent: str | None = None,
    samples: int | None = None,
    timesteps: int | None = None,
) -> TuningResult:
    """Random search over :func:`search_space`, ``tune_concurrency`` trials at a time."""
    import ray
    from ray import tune
    from ray.tune.search import BasicVariantGenerator

    rl = settings.rl
    name = parse_agents([agent or rl.tune_agent])[0]
    if len(market) < fold_length(settings):
        raise InvalidInputError(
            f"tuning needs {fold_length(settings)} bars for one fold, got {len(market)}"
        )
    started_here = start_ray(settings)
    try:
        trainable = tune.with_resources(
            tune.with_parameters(
                _trial,
                market=market,
                costs=costs,
                settings_json=rl.model_dump_json(),
                agent=name,
                timesteps=timesteps or rl.tune_timesteps,
                seed=settings.seed,
            ),
            {"cpu": 1},
        )
        storage = settings.home / "ray_results"
        storage.mkdir(parents=True, exist_ok=True)
        tuner = tune.Tuner(
            trainable,
            param_space=search_space(name),
            tune_config=tune.TuneConfig(
                metric="sharpe",
                mode="max",
                num_samples=samples or rl.tune_samples,
                max_concurrent_trials=rl.tune_concurrency,
                search_alg=BasicVariantGenerator(random_state=settings.seed),
            ),
            run_config=tune.RunConfig(
                name=f"rl_{name}", storage_path=str(storage.resolve()), verbose=0
            ),
        )
        grid = tuner.fit()
    finally:
        if started_here:
            ray.shutdown()
    trials = tuple(
        (dict(r.config or {}), float((r.metrics or {}).get("sharpe", float("nan"))))
        for r in (grid[i] for i in range(len(grid)))
        if r.error is None
    )
    if not trials:
        raise InvalidInputError(f"every tuning trial of {name} failed; see {storage}")
    best_config, best = max(trials, key=lambda item: item[1])
    return TuningResult(name, best_config, best, trials)


def fold_length(settings: Settings) -> int:
    """Bars one walk-forward fold needs (the series' minimum length for tuning)."""
    from quantdesk.rl.ensemble import fold_spec

    return fold_spec(settings.rl).required_times()
