"""The rolling-window ensemble: train every agent, validate, trade the next window with the best.

For each purged walk-forward fold (``quantdesk.features.splits``), with a rolling training
window of ``train_size`` bars:

1. every agent trains on the training window (random episodes, seeded);
2. each plays the validation window after it, deterministically; its Sharpe is its score;
3. the trade window after that is played by the agent of best validation Sharpe
   (``ensemble_best``) and by the Sharpe-weighted blend of the members' target mixes
   (``ensemble_blend``: weights proportional to positive Sharpes, equal if none is positive).

Every trade window starts from cash and pays its entry costs (conservative), and every
strategy, baselines included (buy-and-hold, equal weight, a seeded random agent), trades the
same environment. The turbulence threshold of a fold is a quantile of the turbulence seen in
its training window, never later. Results over several seeds are reported as mean ± std.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from quantdesk.backtest.costs import CostModel
from quantdesk.config import RLSettings
from quantdesk.features.splits import WalkForwardFold, WalkForwardSpec, walk_forward_splits
from quantdesk.rl.agents import train_agent
from quantdesk.rl.env import EnvConfig, PortfolioEnv
from quantdesk.rl.market_tensor import MarketTensor
from quantdesk.rl.rollout import (
    Decider,
    PerformanceMetrics,
    agent_decider,
    blend_decider,
    buy_and_hold_decider,
    equal_weight_decider,
    mean_and_std,
    performance,
    random_decider,
    run_episode,
)
from quantdesk.rl.turbulence import turbulence_index, turbulence_threshold
from quantdesk.rl.vector import close_training_env, training_env

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

FloatArray = npt.NDArray[np.float64]
BEST, BLEND = "ensemble_best", "ensemble_blend"
BASELINES: tuple[str, ...] = ("buy_and_hold", "equal_weight", "random")


@dataclass(frozen=True, slots=True)
class FoldOutcome:
    """What one fold chose and how each strategy traded its trade window."""

    fold: int
    validation_sharpe: dict[str, float]
    selected: str
    blend_weights: dict[str, float]
    turbulence_threshold: float | None
    trade_returns: dict[str, FloatArray]


@dataclass(frozen=True, slots=True)
class EnsembleRun:
    """One seed: every fold, the out-of-sample metrics, and the last fold's trained members."""

    seed: int
    folds: tuple[FoldOutcome, ...]
    metrics: dict[str, PerformanceMetrics]
    members: dict[str, BaseAlgorithm] = field(repr=False)
    env_config: EnvConfig

    @property
    def selected(self) -> str:
        return self.folds[-1].selected

    @property
    def blend_weights(self) -> dict[str, float]:
        return self.folds[-1].blend_weights


@dataclass(frozen=True, slots=True)
class EnsembleReport:
    """Runs over several seeds and their mean ± std per strategy and metric."""

    runs: tuple[EnsembleRun, ...]
    periods_per_year: int
    folds_key: str

    def fold_scores(self, strategy: str) -> tuple[float, ...]:
        """Out-of-sample Sharpe of ``strategy`` per trade window, averaged over seeds: the
        scores the promotion gate compares (on the folds named by ``folds_key``)."""
        folds = len(self.runs[0].folds)
        return tuple(
            float(
                np.mean(
                    [
                        performance(
                            run.folds[k].trade_returns[strategy], self.periods_per_year
                        ).sharpe
                        for run in self.runs
                    ]
                )
            )
            for k in range(folds)
        )

    def summary(self) -> dict[str, dict[str, tuple[float, float]]]:
        strategies = self.runs[0].metrics.keys()
        return {
            name: {
                metric: mean_and_std([run.metrics[name].as_dict()[metric] for run in self.runs])
                for metric in self.runs[0].metrics[name].as_dict()
            }
            for name in strategies
        }

    def best_run(self) -> EnsembleRun:
        """The seed to deploy: best validation Sharpe of its last fold's selected member.

        Chosen on validation, never on the trade windows, so the reported out-of-sample
        figures are not the result of picking the luckiest seed.
        """
        return max(self.runs, key=lambda run: run.folds[-1].validation_sharpe[run.selected])


def fold_spec(settings: RLSettings) -> WalkForwardSpec:
    """Rolling folds: ``train_size`` bars, then validation, then the trade window."""
    return WalkForwardSpec(
        n_folds=settings.folds,
        test_size=settings.trade_size,
        validation_size=settings.validation_size,
        min_train_size=settings.train_size,
        max_train_size=settings.train_size,
        label_horizon=1,
        embargo=settings.embargo,
    )


def env_config(settings: RLSettings, threshold: float | None, episode: bool) -> EnvConfig:
    """The environment of a segment: random training episodes or one whole evaluation run."""
    return EnvConfig(
        window=settings.window,
        episode_length=settings.episode_length if episode else None,
        action_mode=settings.action_mode,
        action_scale=settings.action_scale,
        risk_penalty=settings.risk_penalty,
        risk_aversion=settings.risk_aversion,
        turbulence_lookback=settings.turbulence_lookback,
        turbulence_threshold=threshold,
        reward_scale=settings.reward_scale,
    )


def blend_weights(sharpes: Mapping[str, float]) -> dict[str, float]:
    """Weights proportional to positive validation Sharpes; equal when none is positive."""
    positive = {name: max(0.0, s) for name, s in sharpes.items()}
    total = sum(positive.values())
    if total <= 0:
        return {name: 1.0 / len(sharpes) for name in sharpes}
    return {name: value / total for name, value in positive.items()}


class _Segments:
    """Environments over row ranges of one tensor, sharing its (causal) turbulence index."""

    def __init__(self, market: MarketTensor, costs: CostModel, settings: RLSettings) -> None:
        self.market, self.costs, self.settings = market, costs, settings
        self.turbulence = turbulence_index(market.prices, settings.turbulence_lookback)

    def threshold(self, train: range) -> float | None:
        quantile = self.settings.turbulence_quantile
        if quantile is None:
            return None
        return turbulence_threshold(self.turbulence[train.start : train.stop], quantile)

    def training(self, lo: int, hi: int, threshold: float | None) -> PortfolioEnv:
        steps = hi - lo - 1 - (self.settings.window - 1)
        config = env_config(self.settings, threshold, episode=True)
        if config.episode_length is not None and config.episode_length > steps:
            config = env_config(
                self.settings.model_copy(update={"episode_length": steps}), threshold, True
            )
        return self._env(lo, hi, config)

    def evaluation(self, lo: int, hi: int, threshold: float | None) -> PortfolioEnv:
        """Decisions on rows ``lo .. hi - 1`` (the last one's reward needs the close of row
        ``hi``, absent at the end of the data); the feature window before ``lo`` is past data."""
        start = max(0, lo - self.settings.window + 1)
        stop = min(hi + 1, len(self.market))
        return self._env(start, stop, env_config(self.settings, threshold, episode=False))

    def _env(self, lo: int, hi: int, config: EnvConfig) -> PortfolioEnv:
        return PortfolioEnv(self.market.rows(lo, hi), self.costs, config, self.turbulence[lo:hi])


def run_ensemble(
    market: MarketTensor,
    costs: CostModel,
    settings: RLSettings,
    agents: Sequence[str],
    seed: int,
    timesteps: int | None = None,
) -> EnsembleRun:
    """Walk forward over ``market`` with one seed (see the module docstring)."""
    segments = _Segments(market, costs, settings)
    outcomes: list[FoldOutcome] = []
    members: dict[str, BaseAlgorithm] = {}
    config = env_config(settings, None, episode=False)
    for fold in walk_forward_splits(len(market), fold_spec(settings)):
        outcome, members, config = _run_fold(segments, fold, agents, seed, timesteps)
        outcomes.append(outcome)
    names = outcomes[0].trade_returns.keys()
    metrics = {
        name: performance(
            np.concatenate([o.trade_returns[name] for o in outcomes]), settings.periods_per_year
        )
        for name in names
    }
    return EnsembleRun(seed, tuple(outcomes), metrics, members, config)


def _run_fold(
    segments: _Segments,
    fold: WalkForwardFold,
    agents: Sequence[str],
    seed: int,
    timesteps: int | None,
) -> tuple[FoldOutcome, dict[str, BaseAlgorithm], EnvConfig]:
    train = range(fold.train.start, fold.train.stop)
    threshold = segments.threshold(train)
    members: dict[str, BaseAlgorithm] = {}
    sharpes: dict[str, float] = {}
    periods = segments.settings.periods_per_year
    for name in agents:
        env = training_env(
            lambda: segments.training(fold.train.start, fold.train.stop, threshold),
            segments.settings.n_envs,
            segments.settings.subprocess_envs,
        )
        try:
            members[name] = train_agent(name, env, segments.settings, seed, timesteps)
        finally:
            close_training_env(env)
        validation = segments.evaluation(fold.validation.start, fold.validation.stop, threshold)
        result = run_episode(validation, agent_decider(members[name]))
        sharpes[name] = performance(result.log_returns, periods).sharpe
    selected = max(sharpes, key=lambda n: sharpes[n])
    weights = blend_weights(sharpes)
    deciders: dict[str, Decider] = {
        BEST: agent_decider(members[selected]),
        BLEND: blend_decider(members, weights),
        **{name: agent_decider(agent) for name, agent in members.items()},
        "buy_and_hold": buy_and_hold_decider(),
        "equal_weight": equal_weight_decider(),
        "random": random_decider(seed * 1_000 + fold.index),
    }
    trade = segments.evaluation(fold.test.start, fold.test.stop, threshold)
    returns = {name: run_episode(trade, decide).log_returns for name, decide in deciders.items()}
    outcome = FoldOutcome(fold.index, sharpes, selected, weights, threshold, returns)
    return outcome, members, trade.config


def evaluate_ensemble(
    market: MarketTensor,
    costs: CostModel,
    settings: RLSettings,
    agents: Sequence[str] | None = None,
    seeds: Sequence[int] | None = None,
    timesteps: int | None = None,
) -> EnsembleReport:
    """:func:`run_ensemble` for every seed (``settings.seeds`` by default, at least one)."""
    names = tuple(agents or settings.agents)
    runs = tuple(
        run_ensemble(market, costs, settings, names, seed, timesteps)
        for seed in (seeds or settings.seeds)
    )
    return EnsembleReport(runs, settings.periods_per_year, folds_key(market, costs, settings))


def folds_key(market: MarketTensor, costs: CostModel, settings: RLSettings) -> str:
    """Names the evaluation: same symbols, features, trade windows and costs, same key. Two
    ensembles are comparable by the promotion gate only when their keys match."""
    folds = walk_forward_splits(len(market), fold_spec(settings))
    document = {
        "symbols": list(market.symbols),
        "features": list(market.feature_names),
        "trade_windows": [
            [str(market.times[f.test.start]), str(market.times[f.test.stop - 1])] for f in folds
        ],
        "cost_rates": [float(r) for r in costs.linear_rate],
        "periods_per_year": settings.periods_per_year,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def summary_rows(report: EnsembleReport) -> list[dict[str, Any]]:
    """One row per strategy: ``metric_mean`` and ``metric_std`` columns (for tables and logs)."""
    rows = []
    for name, metrics in report.summary().items():
        row: dict[str, Any] = {"strategy": name}
        for metric, (mean, std) in metrics.items():
            row[f"{metric}_mean"], row[f"{metric}_std"] = mean, std
        rows.append(row)
    return rows
