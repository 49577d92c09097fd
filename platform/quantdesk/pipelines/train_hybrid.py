"""Batch step: train the CNN+LSTM hybrid on purged walk-forward folds, track it, register it.

Data: the offline feature store (or the same features computed from the lake) joined point
in time to labels from the lake's daily bars. Every run fits the hybrid and the baselines on
the same folds, logs everything to MLflow, registers the model as ``challenger`` with its
fold scores, and (with ``promote``) runs the audited promotion gate.

Idempotent: a run whose training key (data hash, window, architecture, training config and
folds) matches a registered version reuses it instead of registering a duplicate.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from quantdesk.config import ModelSettings, Settings
from quantdesk.domain import InvalidDateRangeError, InvalidInputError, require_utc, utc_now
from quantdesk.features.names import FEATURE_SERVICES
from quantdesk.structured_logging import get_logger

if TYPE_CHECKING:
    from quantdesk.features.splits import WalkForwardSpec
    from quantdesk.models.lake_training_data import FeatureSource, TrainingFrame
    from quantdesk.models.promotion_gate import CandidateScores
    from quantdesk.models.registry import ModelRegistry
    from quantdesk.models.training import TrainingConfig
    from quantdesk.store.operational_store import OperationalStore

__all__ = [
    "TrainHybridSummary",
    "TuneHybridSummary",
    "data_window",
    "trailing_window",
    "train_hybrid",
    "train_hybrid_step",
    "tune_hybrid",
    "tune_hybrid_step",
]

_log = get_logger(__name__)
TRAINING_KEY_TAG = "quantdesk.training_key"


@dataclass(frozen=True, slots=True)
class TrainHybridSummary:
    """What a training run did and scored (pooled out-of-sample unless named per fold)."""

    run_id: str
    version: int
    reused: bool
    source: str
    samples: int
    folds: int
    oos_ic: float
    oos_rank_ic: float
    oos_directional_accuracy: float
    oos_ece: float
    oos_sharpe_after_costs: float
    fold_ic: tuple[float, ...]
    baseline_ic: dict[str, float]
    promoted: bool | None
    reasons: tuple[str, ...]


def training_key(data_hash: str, window_hash: str, parts: dict[str, Any]) -> str:
    text = json.dumps({"data": data_hash, "window": window_hash, **parts}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def train_hybrid(
    settings: Settings,
    start: datetime,
    end: datetime,
    *,
    symbols: tuple[str, ...] | None = None,
    as_of: datetime | None = None,
    source: FeatureSource = "auto",
    promote: bool = False,
    overrides: dict[str, Any] | None = None,
) -> TrainHybridSummary:
    """Train, evaluate, log and register the hybrid on daily bars opening in ``[start, end)``.

    ``overrides`` replaces :class:`~quantdesk.config.ModelSettings` fields for this run
    (the tuner passes its best trial here).
    """
    from quantdesk.backtest.costs import CostModel
    from quantdesk.features.datasets import WindowConfig, build_windows_cached
    from quantdesk.models.architecture import HybridArchitecture
    from quantdesk.models.baselines import run_baselines
    from quantdesk.models.lake_training_data import load_training_frame
    from quantdesk.models.promotion_gate import CandidateScores
    from quantdesk.models.registry import ModelRegistry
    from quantdesk.models.tracking import TrainingRun
    from quantdesk.models.training import (
        TrainingConfig,
        train_walk_forward,
        walk_forward_spec_from_settings,
    )

    start, end = require_utc(start, "start"), require_utc(end, "end")
    if start >= end:
        raise InvalidDateRangeError(f"empty or reversed range: start {start} >= end {end}")
    if overrides:
        settings = settings.model_copy(
            update={"models": settings.models.model_copy(update=overrides)}
        )
    m = settings.models
    chosen = tuple(symbols or settings.universe)
    features = FEATURE_SERVICES["hybrid_v1"]
    data = load_training_frame(settings, chosen, start, end, features, as_of=as_of, source=source)
    window = WindowConfig(window=m.window, features=data.features, time_column="open_time")
    dataset = build_windows_cached(
        data.frame, data.labels, window, settings.home / "cache" / "datasets"
    )
    spec = walk_forward_spec_from_settings(settings)
    architecture = HybridArchitecture.from_settings(m, len(data.features))
    config = TrainingConfig.from_settings(settings)
    present = tuple(sorted(set(dataset.symbols.tolist())))
    cost_model = CostModel.from_settings(present, settings.costs)
    cost_rates = dict(zip(cost_model.symbols, cost_model.linear_rate.tolist(), strict=True))
    periods = float(settings.backtest.periods_per_year)
    key = training_key(
        dataset.data_hash,
        dataset.config_hash,
        {"arch": architecture.to_dict(), "train": asdict(config), "split": asdict(spec)},
    )
    folds_key = hashlib.sha256(f"{dataset.data_hash}|{asdict(spec)}".encode()).hexdigest()

    registry = ModelRegistry(settings, _audit_store(settings), "train_hybrid")
    existing = [
        v for v in registry.versions(m.registered_name) if v.tags.get(TRAINING_KEY_TAG) == key
    ]

    if existing:
        _log.info("train_hybrid.reused", version=existing[0].version)
        return _finish(
            registry,
            m,
            existing[0].version,
            existing[0].run_id,
            True,
            data.source,
            len(dataset),
            promote,
        )
    with TrainingRun(
        settings, m.experiment, f"hybrid-{utc_now():%Y%m%dT%H%M%S}", {"training_key": key}
    ) as run:
        checkpoints = settings.home / "models" / "checkpoints" / key[:16]
        result = train_walk_forward(
            dataset,
            spec,
            architecture,
            config,
            cost_rates,
            checkpoint_dir=checkpoints,
            on_epoch=run.on_epoch,
            periods_per_year=periods,
        )
        baselines = run_baselines(
            dataset,
            spec,
            cost_rates,
            seed=settings.seed,
            periods_per_year=periods,
            threads=settings.torch_threads,
        )
        for baseline in baselines:
            run.log_report(f"baseline.{baseline.name}", baseline.report)
        model_uri = run.log_training(result, dataset, spec, config)
    scores = CandidateScores("ic", result.fold_metric("ic"), folds_key, result.report.ece)
    version = registry.register(
        m.registered_name, model_uri, scores, {TRAINING_KEY_TAG: key, "run_id": run.run_id}
    )
    champion_scores = None
    if promote:
        champion_scores = _rescore_champion(
            settings, registry, data, spec, config, cost_rates, folds_key, periods
        )
    return _finish(
        registry, m, version, run.run_id, False, data.source, len(dataset), promote, champion_scores
    )


def _rescore_champion(
    settings: Settings,
    registry: ModelRegistry,
    data: TrainingFrame,
    spec: WalkForwardSpec,
    config: TrainingConfig,
    cost_rates: dict[str, float],
    folds_key: str,
    periods: float,
) -> CandidateScores | None:
    """The champion's configuration retrained on the challenger's folds, when its stored
    scores were made on other folds (older data): the gate then compares like with like.

    None when there is no champion, its scores already match, or its features differ (the
    gate then refuses as not comparable).
    """
    from dataclasses import replace

    from mlflow import MlflowClient

    from quantdesk.features.datasets import WindowConfig, build_windows_cached
    from quantdesk.models.promotion_gate import CandidateScores
    from quantdesk.models.registry import CHAMPION, load_hybrid
    from quantdesk.models.training import train_walk_forward

    name = settings.models.registered_name
    champion = next((v for v in registry.versions(name) if CHAMPION in v.aliases), None)
    if champion is None or champion.scores is None or champion.scores.folds_key == folds_key:
        return None
    loaded = load_hybrid(settings, name, CHAMPION)
    if loaded.model.features != data.features:
        return None
    run_id = champion.tags.get("run_id") or champion.run_id
    params = MlflowClient().get_run(run_id).data.params if run_id else {}
    learning_rate = float(params.get("train.learning_rate", config.learning_rate))
    window = WindowConfig(loaded.model.window, data.features, time_column="open_time")
    dataset = build_windows_cached(
        data.frame, data.labels, window, settings.home / "cache" / "datasets"
    )
    result = train_walk_forward(
        dataset,
        spec,
        loaded.model.architecture,
        replace(config, learning_rate=learning_rate),
        cost_rates,
        periods_per_year=periods,
    )
    _log.info("train_hybrid.champion_rescored", version=champion.version, ic=result.report.ic)
    return CandidateScores("ic", result.fold_metric("ic"), folds_key, result.report.ece)


def _finish(
    registry: ModelRegistry,
    m: ModelSettings,
    version: int,
    run_id: str,
    reused: bool,
    source: str,
    samples: int,
    promote: bool,
    champion_scores: CandidateScores | None = None,
) -> TrainHybridSummary:
    """Optionally run the gate, then summarise from what MLflow recorded for the run."""
    from mlflow import MlflowClient

    from quantdesk.models.promotion_gate import GateCriteria
    from quantdesk.models.registry import CHAMPION

    promoted: bool | None = None
    reasons: tuple[str, ...] = ()
    if promote:
        criteria = GateCriteria("ic", m.promotion_margin, m.max_ece, floor=m.promotion_floor_ic)
        if CHAMPION in registry.version(m.registered_name, version).aliases:
            promoted, reasons = True, ("already the champion",)
        else:
            decision = registry.promote(m.registered_name, criteria, version, champion_scores)
            promoted, reasons = decision.promote, decision.reasons
    metrics = MlflowClient().get_run(run_id).data.metrics
    info = registry.version(m.registered_name, version)
    fold_ic = info.scores.fold_scores if info.scores is not None else ()
    baseline_ic = {
        k.split(".")[1]: v
        for k, v in metrics.items()
        if k.startswith("baseline.") and k.endswith(".ic")
    }
    summary = TrainHybridSummary(
        run_id=run_id,
        version=version,
        reused=reused,
        source=source,
        samples=samples,
        folds=len(fold_ic),
        oos_ic=metrics.get("oos.ic", float("nan")),
        oos_rank_ic=metrics.get("oos.rank_ic", float("nan")),
        oos_directional_accuracy=metrics.get("oos.directional_accuracy", float("nan")),
        oos_ece=metrics.get("oos.ece", float("nan")),
        oos_sharpe_after_costs=metrics.get("oos.sharpe_after_costs", float("nan")),
        fold_ic=fold_ic,
        baseline_ic=baseline_ic,
        promoted=promoted,
        reasons=reasons,
    )
    _log.info("train_hybrid.done", version=version, oos_ic=summary.oos_ic, promoted=promoted)
    return summary


def _audit_store(settings: Settings) -> OperationalStore:
    """The operational store (migrated: upgrading is idempotent) that records gate decisions."""
    from quantdesk.store.operational_store import OperationalStore

    store = OperationalStore.from_settings(settings)
    store.upgrade()
    return store


@dataclass(frozen=True, slots=True)
class TuneHybridSummary:
    """A sweep: how many trials ran, how many ran every fold, and the best by validation."""

    run_id: str
    trials: int
    completed: int
    best_score: float
    best_config: dict[str, Any]


def tune_hybrid(
    settings: Settings,
    start: datetime,
    end: datetime,
    *,
    trials: int,
    symbols: tuple[str, ...] | None = None,
    as_of: datetime | None = None,
    source: FeatureSource = "auto",
) -> TuneHybridSummary:
    """Ray Tune (ASHA) sweep on the walk-forward validation score, tracked in MLflow.

    Pass ``best_config`` as ``overrides`` to :func:`train_hybrid` to train the winner.
    """
    import mlflow

    from quantdesk.backtest.costs import CostModel
    from quantdesk.models.lake_training_data import load_training_frame
    from quantdesk.models.tracking import TrainingRun, flat_params
    from quantdesk.models.training import walk_forward_spec_from_settings
    from quantdesk.models.tuning import TuneSpace, trials_table, tune_hybrid_search

    start, end = require_utc(start, "start"), require_utc(end, "end")
    if start >= end:
        raise InvalidDateRangeError(f"empty or reversed range: start {start} >= end {end}")
    chosen = tuple(symbols or settings.universe)
    data = load_training_frame(
        settings, chosen, start, end, FEATURE_SERVICES["hybrid_v1"], as_of=as_of, source=source
    )
    present = tuple(sorted(set(data.frame["symbol"])))
    cost_model = CostModel.from_settings(present, settings.costs)
    cost_rates = dict(zip(cost_model.symbols, cost_model.linear_rate.tolist(), strict=True))
    spec = walk_forward_spec_from_settings(settings)
    space = TuneSpace()
    with TrainingRun(
        settings, f"{settings.models.experiment}-tuning", f"tune-{utc_now():%Y%m%dT%H%M%S}"
    ) as run:
        result = tune_hybrid_search(
            settings,
            data.frame,
            data.labels,
            data.features,
            spec,
            cost_rates,
            trials=trials,
            space=space,
        )
        completed = sum(1 for t in result.trials if t.folds_completed == spec.n_folds)
        run.log_params(
            {
                "tune.trials": str(trials),
                "tune.scheduler": "ASHA",
                **flat_params("space", asdict(space)),
                **flat_params("split", asdict(spec)),
            }
        )
        mlflow.log_metrics(
            {
                "trial_count": len(result.trials),
                "trials_completed": completed,
                "best_validation_score": result.best.validation_score,
            }
        )
        mlflow.log_dict(result.best_overrides(), "best_overrides.json")
        mlflow.log_table(trials_table(result), "trials.json")
    _log.info("tune_hybrid.done", trials=len(result.trials), best=result.best.validation_score)
    return TuneHybridSummary(
        run.run_id,
        len(result.trials),
        completed,
        result.best.validation_score,
        result.best_overrides(),
    )


def trailing_window(end: datetime, lookback_days: int) -> tuple[datetime, datetime]:
    """``[end - lookback_days, end)``: the window a scheduled training run covers."""
    end = require_utc(end, "end")
    if lookback_days < 1:
        raise InvalidInputError(f"lookback_days must be at least 1, got {lookback_days}")
    return end - timedelta(days=lookback_days), end


STALE_AFTER = timedelta(days=7)


def data_window(settings: Settings, end: datetime, lookback_days: int) -> tuple[datetime, datetime]:
    """The trailing window a scheduled run trains on, ending at the newest clean daily bar.

    In production the lake is current and this is ``trailing_window(end, ...)``. When the lake
    ends earlier (the embedded history stops in 2013; a feed has stalled) the window ends where
    the data ends, so the run trains on the newest data it has instead of an empty window, and a
    lake older than :data:`STALE_AFTER` is logged as stale for an operator to see.
    """
    from quantdesk.data.lake import Lake, Zone

    start, end = trailing_window(end, lookback_days)
    lake = Lake(settings.lake_dir)
    closes = [
        c.last_open_time + timedelta(days=1)
        for c in (lake.coverage(Zone.CLEAN) if lake.root.exists() else [])
        if c.granularity == "1d" and c.symbol in settings.universe
    ]
    newest = min(max(closes), end) if closes else end
    if newest >= end:
        return start, end
    if end - newest > STALE_AFTER:
        _log.warning("training.stale_lake", newest=newest.isoformat(), run_end=end.isoformat())
    return trailing_window(newest, lookback_days)


def train_hybrid_step(
    settings: Settings, end: datetime, lookback_days: int, promote: bool = False
) -> TrainHybridSummary:
    """The scheduled form of :func:`train_hybrid`: plain parameters a DAG can render.

    Trains on the trailing ``lookback_days`` of data (see :func:`data_window`), reading the
    lake as it was known at ``end`` (the run's time), so a rerun of the same run trains on the
    same data (and the training key then reuses the registered version).
    """
    start, last = data_window(settings, end, lookback_days)
    return train_hybrid(settings, start, last, as_of=end, promote=promote)


def tune_hybrid_step(
    settings: Settings, end: datetime, lookback_days: int, trials: int | None = None
) -> TuneHybridSummary:
    """The scheduled form of :func:`tune_hybrid` over the same trailing window as training;
    ``trials`` defaults to ``QUANTDESK_MODELS__TUNE_TRIALS``."""
    start, last = data_window(settings, end, lookback_days)
    chosen = trials if trials is not None else settings.models.tune_trials
    return tune_hybrid(settings, start, last, trials=chosen, as_of=end)
