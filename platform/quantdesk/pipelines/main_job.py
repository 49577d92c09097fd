"""The main job: every batch step once, in order, on the embedded defaults (``make demo``).

It calls the same step functions the DAGs call, over the embedded window
(``settings.embedded``), and stops at the first failure: a batch that fails the quality gate
stops everything after it, exactly as the asset-triggered DAGs would. Each step reports one
line saying what it produced and where, so a new user sees every output of the platform.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from quantdesk.config import Settings
from quantdesk.domain import DataQualityError
from quantdesk.structured_logging import get_logger

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StepOutcome:
    name: str
    seconds: float
    produced: str  # one line: what was made and where


@dataclass(frozen=True, slots=True)
class MainJobReport:
    steps: tuple[StepOutcome, ...]

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)


StepFunction = Callable[[Settings], str]


def _window(settings: Settings) -> tuple[datetime, datetime]:
    def midnight(day: object) -> datetime:
        return datetime.fromisoformat(str(day)).replace(tzinfo=UTC)

    return midnight(settings.embedded.start), midnight(settings.embedded.end)


def _ingest(settings: Settings) -> str:
    from quantdesk.pipelines.market_data import ingest_market_data

    start, end = _window(settings)
    summary = ingest_market_data(settings, source="embedded", start=start, end=end)
    return (
        f"{summary.rows} daily bars of {len(summary.rows_by_symbol)} symbols "
        f"({summary.new} new) in the raw zone under {settings.lake_dir}"
    )


def _validate(settings: Settings) -> str:
    from quantdesk.data.quality import results_dir
    from quantdesk.pipelines.market_data import validate_market_data

    start, end = _window(settings)
    result = validate_market_data(settings, start=start, end=end)
    if not result.passed:
        reasons = "; ".join(f"{b.asset_class}: {b.reason}" for b in result.failed)
        raise DataQualityError(f"quality gate failed, batches quarantined: {reasons}")
    classes = ", ".join(b.asset_class for b in result.batches)
    return f"{classes} passed the gate into the clean zone; results in {results_dir(settings)}"


def _features(settings: Settings) -> str:
    from quantdesk.pipelines.build_features import build_features

    summary = build_features(settings)
    return (
        f"{summary.rows} feature rows x {len(summary.views)} views for "
        f"{len(summary.symbols)} symbols in {settings.offline_features_dir}"
    )


def _materialize(settings: Settings) -> str:
    from quantdesk.pipelines.materialize_features import materialize_features

    _, end = _window(settings)
    summary = materialize_features(settings, end=end)
    return (
        f"Feast online store ({summary.online_store}) serves {len(summary.symbols)} symbols "
        f"as of {end:%Y-%m-%d}, registry under {settings.feast_dir}"
    )


# The demo trains small so the whole job fits in minutes on two cores; the DAGs train with the
# full settings (QUANTDESK_RL__*). Two fast on-policy agents, three seeds for mean ± std.
DEMO_RL_AGENTS = ("ppo", "a2c")
DEMO_RL_TIMESTEPS = 5_000


def _train_hybrid(settings: Settings) -> str:
    from quantdesk.pipelines.train_hybrid import train_hybrid

    start, end = _window(settings)
    s = train_hybrid(settings, start, end, promote=True)
    best = max(s.baseline_ic.items(), key=lambda kv: kv[1])
    verdict = "champion" if s.promoted else "not promoted: " + "; ".join(s.reasons)
    return (
        f"hybrid v{s.version} ({s.folds} walk-forward folds, {s.samples} samples): "
        f"out-of-sample IC {s.oos_ic:.3f} vs best baseline {best[0]} {best[1]:.3f}, "
        f"ECE {s.oos_ece:.3f}; {verdict}; MLflow at {settings.resolved_mlflow_tracking_uri}"
    )


def _train_rl(settings: Settings) -> str:
    from quantdesk.pipelines.train_rl import train_rl

    start, end = _window(settings)
    s = train_rl(settings, start, end, agents=DEMO_RL_AGENTS, timesteps=DEMO_RL_TIMESTEPS)
    sharpe = ", ".join(f"{k} {m:+.2f}±{sd:.2f}" for k, (m, sd) in s.sharpe.items())
    return f"RL ensemble v{s.model_version} (selected {s.selected}); Sharpe {sharpe}"


def _backtest_and_promote(settings: Settings) -> str:
    from quantdesk.pipelines.backtest import run_backtest
    from quantdesk.pipelines.backtest_and_promote import backtest_and_promote

    start, end = _window(settings)
    reference = run_backtest(settings, start, end, strategy="sma")
    summary = backtest_and_promote(settings, start, end)
    results = {"sma": reference.metrics, **summary.metrics}
    sharpe = ", ".join(f"{k} {_sharpe_text(m)}" for k, m in results.items())
    promoted = ", ".join(
        f"{p.model} {'promoted' if p.promoted else 'kept'}" for p in summary.promotions
    )
    return (
        f"walk-forward Sharpe after costs: {sharpe}; {promoted}; "
        f"tearsheets in {reference.report_path.parent}"
    )


def _sharpe_text(metrics: dict[str, float | int]) -> str:
    value = float(metrics.get("sharpe", float("nan")))
    return "n/a (took no position)" if math.isnan(value) else f"{value:.2f}"


def _decide(settings: Settings) -> str:
    from quantdesk.pipelines.decide import make_decisions

    s = make_decisions(settings)
    held = ", ".join(f"{k} {v:+.2f}" for k, v in s.approved.items() if abs(v) > 1e-9) or "none"
    return (
        f"{s.decisions} decisions as of {s.as_of:%Y-%m-%d} from {s.signal_source} "
        f"({s.written} new) recorded in {settings.resolved_database_url}; positions: {held}"
    )


def _backup(settings: Settings) -> str:
    from quantdesk.pipelines.backup_platform import backup_platform

    summary = backup_platform(settings)
    return f"verified archive of {summary.files} files at {summary.location}"


def _compliance(settings: Settings) -> str:
    from quantdesk.data.lake import Lake
    from quantdesk.pipelines.decide import decision_time
    from quantdesk.pipelines.export_compliance import export_compliance

    # The day the decide step traded: the embedded data ends in the past, not today.
    day = decision_time(Lake(settings.lake_dir), settings.universe, None).date()
    summary = export_compliance(settings, day)
    rows = ", ".join(f"{table} {count}" for table, count in summary.rows.items())
    return f"export of {summary.day} ({rows}) with SHA-256 manifest at {summary.location}"


def main_job_steps() -> list[tuple[str, StepFunction]]:
    """The steps in order; each returns the line it prints."""
    return [
        ("ingest", _ingest),
        ("validate", _validate),
        ("build features", _features),
        ("materialize features", _materialize),
        ("train hybrid", _train_hybrid),
        ("train RL ensemble", _train_rl),
        ("backtest and promote", _backtest_and_promote),
        ("decide", _decide),
        ("backup", _backup),
        ("compliance export", _compliance),
    ]


def run_main_job(
    settings: Settings, on_step: Callable[[str, StepOutcome | None], None] | None = None
) -> MainJobReport:
    """Run every step; ``on_step(name, None)`` before and ``on_step(name, outcome)`` after each."""
    settings.home.mkdir(parents=True, exist_ok=True)
    from quantdesk.store.migrations_runner import upgrade

    upgrade(settings.resolved_database_url)
    outcomes: list[StepOutcome] = []
    for name, step in main_job_steps():
        if on_step is not None:
            on_step(name, None)
        started = time.perf_counter()
        produced = step(settings)
        outcome = StepOutcome(name, time.perf_counter() - started, produced)
        _log.info("main_job.step", step=name, seconds=round(outcome.seconds, 2))
        outcomes.append(outcome)
        if on_step is not None:
            on_step(name, outcome)
    return MainJobReport(tuple(outcomes))
