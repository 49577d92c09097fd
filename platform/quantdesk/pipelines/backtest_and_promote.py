"""Batch step: backtest the challenger strategies after costs, then run the promotion gate.

The walk-forward backtests (``hybrid``, ``rl``, ``ensemble``; see
:mod:`quantdesk.backtest.model_strategies`) retrain each family's configuration on every
fold's training bars, so no model is ever scored on bars it learned from; a registered
challenger, trained on the whole history, is never backtested over that history. Their
metrics (net of costs) are recorded on the registered challengers (version tags) and in the
audit log, then each challenger faces the existing gate (:meth:`ModelRegistry.promote` for
the hybrid, :func:`quantdesk.rl.registry.promote` for the RL ensemble) and becomes champion
only if it passes. Idempotent: backtest reports are overwritten in place and a challenger
that was promoted is no longer the challenger, so a rerun finds nothing to promote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from quantdesk.config import Settings
from quantdesk.domain import InvalidDateRangeError, InvalidInputError, NotFoundError, require_utc
from quantdesk.structured_logging import get_logger

if TYPE_CHECKING:
    from quantdesk.models.registry import ModelRegistry
    from quantdesk.store.operational_store import OperationalStore

_log = get_logger(__name__)

CHALLENGER_STRATEGIES: tuple[str, ...] = ("hybrid", "rl", "ensemble")
RECORDED_METRICS: tuple[str, ...] = (
    "sharpe",
    "deflated_sharpe",
    "total_return",
    "max_drawdown",
    "turnover",
    "costs_paid",
)
BACKTEST_TAG = "quantdesk.backtest."


@dataclass(frozen=True, slots=True)
class PromotionOutcome:
    """What the gate said about one registered family's challenger."""

    model: str
    version: int | None  # None: no challenger was registered
    promoted: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BacktestAndPromoteSummary:
    start: datetime
    end: datetime
    metrics: dict[str, dict[str, float | int]]  # strategy -> after-cost metrics
    promotions: tuple[PromotionOutcome, ...]

    @property
    def promoted(self) -> tuple[str, ...]:
        return tuple(p.model for p in self.promotions if p.promoted)


def backtest_and_promote(
    settings: Settings, start: datetime | None = None, end: datetime | None = None
) -> BacktestAndPromoteSummary:
    """Backtest every challenger strategy on ``[start, end)`` (default: the embedded
    window), record the metrics on the registered challengers, and run the gate."""
    from quantdesk.models.registry import ModelRegistry
    from quantdesk.pipelines.backtest import run_backtest
    from quantdesk.store.operational_store import OperationalStore

    first = require_utc(start, "start") if start else _midnight(settings.embedded.start)
    last = require_utc(end, "end") if end else _midnight(settings.embedded.end)
    if first >= last:
        raise InvalidDateRangeError(f"empty or reversed range: start {first} >= end {last}")
    metrics = {
        name: run_backtest(settings, first, last, strategy=name).metrics
        for name in CHALLENGER_STRATEGIES
    }
    store = OperationalStore.from_settings(settings)
    store.upgrade()
    registry = ModelRegistry(settings, store, actor="backtest_and_promote")
    families = (
        (settings.models.registered_name, "hybrid", _promote_hybrid),
        (settings.rl.model_name, "rl", _promote_rl),
    )
    promotions = []
    for name, strategy, gate in families:
        own = {"strategy": metrics[strategy], "ensemble": metrics["ensemble"]}
        promotions.append(gate(settings, registry, store, name, own))
    summary = BacktestAndPromoteSummary(first, last, metrics, tuple(promotions))
    _log.info("backtest_and_promote.done", promoted=list(summary.promoted),
              sharpe={k: v.get("sharpe") for k, v in metrics.items()})  # fmt: skip
    return summary


def _midnight(day: object) -> datetime:
    return datetime.fromisoformat(str(day)).replace(tzinfo=UTC)


def _challenger_version(registry: ModelRegistry, name: str) -> int | None:
    from quantdesk.models.registry import CHALLENGER

    try:
        return registry.by_alias(name, CHALLENGER).version
    except NotFoundError:
        return None


def _record(
    registry: ModelRegistry,
    store: OperationalStore,
    name: str,
    version: int,
    metrics: dict[str, dict[str, float | int]],
) -> None:
    """The backtest metrics as version tags and one audit event."""
    flat: dict[str, float] = {}
    for label, values in metrics.items():
        for metric in RECORDED_METRICS:
            value = float(values.get(metric, math.nan))
            flat[f"{label}.{metric}"] = value
            registry.client.set_model_version_tag(
                name, str(version), f"{BACKTEST_TAG}{label}.{metric}", repr(value)
            )
    payload = {k: (v if math.isfinite(v) else None) for k, v in flat.items()}
    store.append_audit_event(
        "backtest_and_promote",
        "model.backtest_recorded",
        f"model:{name}",
        {"version": version, **payload},
    )


def _promote_hybrid(
    settings: Settings,
    registry: ModelRegistry,
    store: OperationalStore,
    name: str,
    metrics: dict[str, dict[str, float | int]],
) -> PromotionOutcome:
    from quantdesk.models.promotion_gate import GateCriteria

    version = _challenger_version(registry, name)
    if version is None:
        return PromotionOutcome(name, None, False, ("no registered challenger",))
    _record(registry, store, name, version, metrics)
    m = settings.models
    criteria = GateCriteria("ic", m.promotion_margin, m.max_ece, floor=m.promotion_floor_ic)
    try:
        decision = registry.promote(name, criteria, version)
    except InvalidInputError as exc:
        return PromotionOutcome(name, version, False, (str(exc),))
    return PromotionOutcome(name, version, decision.promote, decision.reasons)


def _promote_rl(
    settings: Settings,
    registry: ModelRegistry,
    store: OperationalStore,
    name: str,
    metrics: dict[str, dict[str, float | int]],
) -> PromotionOutcome:
    from quantdesk.rl.registry import promote

    version = _challenger_version(registry, name)
    if version is None:
        return PromotionOutcome(name, None, False, ("no registered challenger",))
    _record(registry, store, name, version, metrics)
    try:
        decision = promote(settings, store)
    except InvalidInputError as exc:
        return PromotionOutcome(name, version, False, (str(exc),))
    return PromotionOutcome(name, version, decision.promote, decision.reasons)
