"""Ray Tune sweep of the hybrid: architecture, window and learning rate, pruned by ASHA.

Each trial windows the same feature frame with its own window length and trains on the same
purged walk-forward folds; after every fold it reports the running mean *validation* IC (the
test windows are never looked at to choose), and ASHA stops trials that trail after a fold.
Local Ray by default (``settings.ray``: 2 CPUs, loopback only, no dashboard, a small object
store); a cluster when ``QUANTDESK_RAY__ADDRESS`` is set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import pandas as pd

from quantdesk.config import ModelSettings, Settings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.features.datasets import LabelArrays
from quantdesk.features.splits import WalkForwardSpec
from quantdesk.models.training import TrainingConfig
from quantdesk.ray_runtime import start_ray

METRIC = "validation_score"
CONV_CHOICES: dict[str, tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]] = {
    # name: (channels, kernel sizes, dilations)
    "c8": ((8,), (3,), (1,)),
    "c16x16": ((16, 16), (3, 3), (1, 2)),
    "c16x16x16": ((16, 16, 16), (3, 3, 3), (1, 2, 4)),
}


@dataclass(frozen=True, slots=True)
class TuneSpace:
    """The searched values; ``learning_rate`` is sampled log-uniformly in its bounds."""

    windows: tuple[int, ...] = (8, 16, 32)
    convs: tuple[str, ...] = ("c8", "c16x16", "c16x16x16")
    lstm_hidden: tuple[int, ...] = (8, 16, 32)
    learning_rate: tuple[float, float] = (3e-4, 3e-3)
    dropout: tuple[float, ...] = (0.0, 0.1, 0.3)

    def __post_init__(self) -> None:
        unknown = set(self.convs) - set(CONV_CHOICES)
        if unknown:
            raise InvalidInputError(
                f"unknown conv choices {sorted(unknown)}; have {sorted(CONV_CHOICES)}"
            )
        lo, hi = self.learning_rate
        if not 0 < lo <= hi:
            raise InvalidInputError("learning_rate bounds must satisfy 0 < low <= high")


@dataclass(frozen=True, slots=True)
class TrialOutcome:
    config: Mapping[str, Any]
    validation_score: float
    folds_completed: int


@dataclass(frozen=True, slots=True)
class TuneResult:
    trials: tuple[TrialOutcome, ...]
    best: TrialOutcome

    def best_overrides(self) -> dict[str, Any]:
        """The best trial as ``ModelSettings`` field overrides (for ``train_hybrid``)."""
        return trial_overrides(self.best.config)


def trial_overrides(config: Mapping[str, Any]) -> dict[str, Any]:
    channels, kernels, dilations = CONV_CHOICES[str(config["conv"])]
    return {
        "window": int(config["window"]),
        "conv_channels": channels,
        "kernel_sizes": kernels,
        "dilations": dilations,
        "lstm_hidden": int(config["lstm_hidden"]),
        "learning_rate": float(config["learning_rate"]),
        "dropout": float(config["dropout"]),
    }


def _trainable(
    config: dict[str, Any],
    frame: pd.DataFrame,
    labels: LabelArrays,
    features: tuple[str, ...],
    time_column: str,
    spec: WalkForwardSpec,
    training: TrainingConfig,
    models: ModelSettings,
    cost_rates: dict[str, float],
) -> None:
    """One trial: window the frame, train fold by fold, report the running validation IC."""
    from ray import tune

    from quantdesk.features.datasets import WindowConfig, build_windows
    from quantdesk.models.architecture import HybridArchitecture
    from quantdesk.models.training import FoldOutcome, train_walk_forward

    chosen = models.model_copy(update=trial_overrides(config))
    dataset = build_windows(
        frame, labels, WindowConfig(chosen.window, features, time_column=time_column)
    )
    architecture = HybridArchitecture.from_settings(chosen, len(features))
    scores: list[float] = []

    def report(outcome: FoldOutcome) -> None:
        scores.append(outcome.validation_ic)
        tune.report({METRIC: sum(scores) / len(scores), "folds": len(scores),
                     "test_ic_not_for_selection": outcome.report.ic})  # fmt: skip

    train_walk_forward(dataset, spec, architecture,
                       replace(training, learning_rate=chosen.learning_rate), cost_rates,
                       on_fold=report)  # fmt: skip


def tune_hybrid_search(
    settings: Settings,
    frame: pd.DataFrame,
    labels: LabelArrays,
    features: tuple[str, ...],
    spec: WalkForwardSpec,
    cost_rates: Mapping[str, float],
    *,
    trials: int,
    space: TuneSpace | None = None,
    time_column: str = "open_time",
) -> TuneResult:
    """Run ``trials`` trials (parallel on the Ray CPUs, one CPU each) and return them all."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search import BasicVariantGenerator

    if trials < 1:
        raise InvalidInputError(f"trials must be >= 1, got {trials}")
    s = space or TuneSpace()
    start_ray(settings)
    training = replace(TrainingConfig.from_settings(settings), threads=1)
    trainable = tune.with_resources(
        tune.with_parameters(
            _trainable, frame=frame, labels=labels, features=features, time_column=time_column,
            spec=spec, training=training, models=settings.models, cost_rates=dict(cost_rates),
        ),
        {"cpu": 1},
    )  # fmt: skip
    param_space = {
        "window": tune.choice(list(s.windows)),
        "conv": tune.choice(list(s.convs)),
        "lstm_hidden": tune.choice(list(s.lstm_hidden)),
        "learning_rate": tune.loguniform(*s.learning_rate),
        "dropout": tune.choice(list(s.dropout)),
    }
    tuner = tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric=METRIC, mode="max", num_samples=trials,
            scheduler=ASHAScheduler(max_t=spec.n_folds, grace_period=1, reduction_factor=2),
            search_alg=BasicVariantGenerator(random_state=settings.seed),
        ),
        run_config=tune.RunConfig(
            name="tune-hybrid", storage_path=str((settings.home / "ray_results").resolve()),
            verbose=0,
        ),
    )  # fmt: skip
    grid = tuner.fit()
    results = [grid[i] for i in range(len(grid))]
    outcomes: list[TrialOutcome] = []
    for result in results:
        metrics = result.metrics or {}
        score = float(metrics.get(METRIC, float("nan")))
        outcomes.append(
            TrialOutcome(dict(result.config or {}), score, int(metrics.get("folds", 0)))
        )
    finished = [o for o in outcomes if math.isfinite(o.validation_score)]
    if not finished:
        errors = [str(r.error) for r in results if r.error is not None]
        raise InvalidInputError("no tuning trial finished: " + "; ".join(errors[:3]))
    # Rank by score among trials that ran every fold; pruned ones only scored early folds.
    complete = [o for o in finished if o.folds_completed == spec.n_folds] or finished
    best = max(complete, key=lambda o: o.validation_score)
    return TuneResult(tuple(outcomes), best)


def trials_table(result: TuneResult) -> dict[str, list[Any]]:
    """Column-wise trial table for MLflow (``log_table``)."""
    rows = [{**asdict(o), **{f"config.{k}": v for k, v in o.config.items()}} for o in result.trials]
    for row in rows:
        row.pop("config")
    return {key: [row.get(key) for row in rows] for key in rows[0]} if rows else {}
