"""Batch step: train the RL ensemble walk-forward, report it, register it as challenger.

The market comes from the clean lake through the feature pipeline (``source="lake"``), or from
the seeded synthetic market with its planted signal (``source="synthetic"``, the embedded demo
that needs no data). Reruns with the same inputs and seeds train the same agents; the report
file is rewritten atomically and each run registers a new model version (a registry keeps
history; promotion is a separate, gated step: :func:`promote_rl`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from quantdesk.config import Settings
from quantdesk.data.atomic_files import write_file_atomic
from quantdesk.domain import InvalidDateRangeError, require_utc
from quantdesk.structured_logging import get_logger

if TYPE_CHECKING:
    from quantdesk.rl.ensemble import EnsembleReport
    from quantdesk.rl.market_tensor import MarketTensor
    from quantdesk.store.operational_store import OperationalStore

__all__ = ["PromoteRLSummary", "TrainRLSummary", "promote_rl", "train_rl", "train_rl_step"]

SYNTHETIC_SYMBOLS: tuple[str, ...] = ("BTC-USD", "ETH-USD", "SOL-USD")
_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class TrainRLSummary:
    """What was trained and how it traded out of sample (mean ± std over seeds)."""

    symbols: tuple[str, ...]
    rows: int
    agents: tuple[str, ...]
    seeds: tuple[int, ...]
    selected: str
    blend_weights: dict[str, float]
    sharpe: dict[str, tuple[float, float]]
    total_return: dict[str, tuple[float, float]]
    model_version: int | None
    report_path: str


@dataclass(frozen=True, slots=True)
class PromoteRLSummary:
    promoted: bool
    reasons: tuple[str, ...]


def train_rl(
    settings: Settings,
    start: datetime,
    end: datetime,
    *,
    agents: tuple[str, ...] | None = None,
    seeds: tuple[int, ...] | None = None,
    timesteps: int | None = None,
    source: Literal["lake", "synthetic"] = "lake",
    signal_strength: float = 0.3,
    symbols: tuple[str, ...] | None = None,
    as_of: datetime | None = None,
    register: bool = True,
) -> TrainRLSummary:
    """Walk-forward ensemble over ``[start, end)``; see the module docstring."""
    from quantdesk.backtest.costs import CostModel
    from quantdesk.rl.agents import parse_agents
    from quantdesk.rl.ensemble import evaluate_ensemble, summary_rows

    start, end = require_utc(start, "start"), require_utc(end, "end")
    if start >= end:
        raise InvalidDateRangeError(f"empty or reversed range: start {start} >= end {end}")
    names = parse_agents(agents or settings.rl.agents)
    settings = _annualized(settings, source)
    market = _market(settings, start, end, source, signal_strength, symbols, as_of)
    costs = CostModel.from_settings(market.symbols, settings.costs)
    report = evaluate_ensemble(market, costs, settings.rl, names, seeds, timesteps)
    summary = report.summary()
    run = report.best_run()
    metrics = {
        f"{strategy}.{metric}_{stat}": value
        for strategy, values in summary.items()
        for metric, pair in values.items()
        for stat, value in zip(("mean", "std"), pair, strict=True)
    }
    version = None
    if register:
        version = _register(settings, report, market, metrics, source)
    path = settings.reports_dir / "rl" / f"ensemble_{start:%Y%m%d}_{end:%Y%m%d}_{source}.json"
    document = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "source": source,
        "symbols": list(market.symbols),
        "features": list(market.feature_names),
        "rows": len(market),
        "agents": list(names),
        "seeds": [r.seed for r in report.runs],
        "strategies": summary_rows(report),
        "folds": [
            {"seed": r.seed, "fold": f.fold, "selected": f.selected,
             "validation_sharpe": f.validation_sharpe, "blend_weights": f.blend_weights,
             "turbulence_threshold": f.turbulence_threshold}
            for r in report.runs for f in r.folds
        ],
        "model_version": version,
    }  # fmt: skip
    text = json.dumps(document, indent=2, sort_keys=True, default=float)
    write_file_atomic(path, lambda handle: handle.write(text.encode()))
    _log.info("rl.trained", rows=len(market), selected=run.selected, version=version)
    return TrainRLSummary(
        symbols=market.symbols,
        rows=len(market),
        agents=names,
        seeds=tuple(r.seed for r in report.runs),
        selected=run.selected,
        blend_weights=run.blend_weights,
        sharpe={name: values["sharpe"] for name, values in summary.items()},
        total_return={name: values["total_return"] for name, values in summary.items()},
        model_version=version,
        report_path=str(path),
    )


def train_rl_step(settings: Settings, end: datetime, lookback_days: int) -> TrainRLSummary:
    """The scheduled form of :func:`train_rl`: the trailing ``lookback_days`` of data (see
    :func:`~quantdesk.pipelines.train_hybrid.data_window`) of the lake as known at ``end`` (the
    run's time), so a rerun trains on the same data."""
    from quantdesk.pipelines.train_hybrid import data_window

    start, last = data_window(settings, end, lookback_days)
    return train_rl(settings, start, last, as_of=end)


def promote_rl(settings: Settings) -> PromoteRLSummary:
    """Run the shared promotion gate: ``champion`` moves to the challenger only if it passes."""
    from quantdesk.rl.registry import promote

    decision = promote(settings, _audit_store(settings))
    _log.info("rl.promotion", promoted=decision.promote, reasons=list(decision.reasons))
    return PromoteRLSummary(decision.promote, decision.reasons)


def _annualized(settings: Settings, source: str) -> Settings:
    """The synthetic demo trades crypto every day of the year: annualize with 365 periods."""
    if source != "synthetic":
        return settings
    rl = settings.rl.model_copy(update={"periods_per_year": 365})
    return settings.model_copy(update={"rl": rl})


def _market(
    settings: Settings,
    start: datetime,
    end: datetime,
    source: str,
    signal_strength: float,
    symbols: tuple[str, ...] | None,
    as_of: datetime | None,
) -> MarketTensor:
    if source == "synthetic":
        from quantdesk.data.sources.synthetic import SyntheticConfig
        from quantdesk.rl.synthetic_tensor import synthetic_tensor

        config = SyntheticConfig(
            seed=settings.seed,
            symbols=symbols or SYNTHETIC_SYMBOLS,
            signal_strength=signal_strength,
            first_year=min(start.astimezone(UTC).year, SyntheticConfig().first_year),
        )
        return synthetic_tensor(config, start.astimezone(UTC), end.astimezone(UTC))
    from quantdesk.rl.lake_tensor import lake_tensor

    return lake_tensor(settings, symbols or settings.universe, start, end, as_of)


def _register(
    settings: Settings,
    report: EnsembleReport,
    market: MarketTensor,
    metrics: dict[str, float],
    source: str,
) -> int:
    from quantdesk.models.promotion_gate import CandidateScores
    from quantdesk.rl.bundle import EnsembleBundle
    from quantdesk.rl.ensemble import BLEND
    from quantdesk.rl.registry import METRIC, register_ensemble

    run = report.best_run()
    bundle = EnsembleBundle(
        members=run.members,
        blend_weights=run.blend_weights,
        selected=run.selected,
        env_config=run.env_config,
        symbols=market.symbols,
        feature_names=market.feature_names,
        metrics=metrics,
        mode="blend",
    )
    scores = CandidateScores(METRIC, report.fold_scores(BLEND), report.folds_key)
    registered = register_ensemble(
        settings,
        bundle,
        scores,
        {"source": source, "seed": run.seed, "rows": len(market)},
        _audit_store(settings),
    )
    return registered.version


def _audit_store(settings: Settings) -> OperationalStore:
    """The operational store (migrated; idempotent) that records registry decisions."""
    from quantdesk.store.operational_store import OperationalStore

    store = OperationalStore.from_settings(settings)
    store.upgrade()
    return store


@dataclass(frozen=True, slots=True)
class TuneRLSummary:
    agent: str
    best_config: dict[str, object]
    best_sharpe: float
    trials: int
    report_path: str


def tune_rl(
    settings: Settings,
    start: datetime,
    end: datetime,
    *,
    agent: str | None = None,
    samples: int | None = None,
    timesteps: int | None = None,
    source: Literal["lake", "synthetic"] = "lake",
    signal_strength: float = 0.3,
    symbols: tuple[str, ...] | None = None,
    as_of: datetime | None = None,
) -> TuneRLSummary:
    """Ray Tune search for one agent on the last fold's validation window; writes the best
    configuration to the reports folder (copy it into ``QUANTDESK_RL__HYPERPARAMETERS``)."""
    from quantdesk.backtest.costs import CostModel
    from quantdesk.rl.tuning import tune_agent

    start, end = require_utc(start, "start"), require_utc(end, "end")
    if start >= end:
        raise InvalidDateRangeError(f"empty or reversed range: start {start} >= end {end}")
    settings = _annualized(settings, source)
    market = _market(settings, start, end, source, signal_strength, symbols, as_of)
    costs = CostModel.from_settings(market.symbols, settings.costs)
    result = tune_agent(settings, market, costs, agent, samples, timesteps)
    path = settings.reports_dir / "rl" / f"tune_{result.agent}_{start:%Y%m%d}_{end:%Y%m%d}.json"
    document = {
        "agent": result.agent,
        "best_config": result.best_config,
        "best_validation_sharpe": result.best_sharpe,
        "trials": [{"config": c, "validation_sharpe": s} for c, s in result.trials],
    }
    text = json.dumps(document, indent=2, sort_keys=True, default=float)
    write_file_atomic(path, lambda handle: handle.write(text.encode()))
    return TuneRLSummary(
        result.agent, result.best_config, result.best_sharpe, len(result.trials), str(path)
    )
