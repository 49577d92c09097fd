"""Batch step: today's risk-checked target weights for the universe, every decision recorded.

Signals come from the CHAMPION hybrid (MC-dropout mean probabilities and forecast, its
spread as the signal's uncertainty) and target weights from the champion RL ensemble, when
those exist; without a champion hybrid the SMA crossover signal stands in, and the summary
says so. Features are computed point in time from the clean lake at ``as_of`` (default: the
close of the newest clean daily bar), exactly as in training. The desk's context (kill switch,
restricted list) and the :class:`~quantdesk.decisions.engine.DecisionEngine` decide; the
targets then face the pre-trade checks (:func:`~quantdesk.risk.weight_gate.gate_target_weights`).

Idempotent: decision ids are content hashes, so a rerun at the same ``as_of`` records nothing
new (``written == 0``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quantdesk.config import Settings
from quantdesk.data.lake import Lake
from quantdesk.domain import Granularity, InvalidInputError, NotFoundError, require_utc, utc_now
from quantdesk.domain.trading import Decision, Signal
from quantdesk.structured_logging import get_logger

if TYPE_CHECKING:
    from quantdesk.decisions.rules import DecisionContext
    from quantdesk.models.registry import LoadedHybrid

_log = get_logger(__name__)
_TICK = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HISTORY_DAYS = 200  # calendar days of bars beyond the feature warm-up (windows, SMA, vol)

SIGNAL_CHAMPION = "champion_hybrid"
SIGNAL_SMA = "sma_fallback"


@dataclass(frozen=True, slots=True)
class DecideSummary:
    """What a decision run decided, recorded, and was allowed to trade."""

    as_of: datetime
    trading_state: str
    signal_source: str  # champion_hybrid or sma_fallback
    decisions: int
    written: int
    already_stored: int
    targets: dict[str, float]  # the engine's target weights
    approved: dict[str, float]  # after the pre-trade checks
    denied: tuple[str, ...]
    model_versions: dict[str, str]
    reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = field(default_factory=tuple)


def make_decisions(
    settings: Settings,
    as_of: datetime | None = None,
    symbols: Sequence[str] | None = None,
    *,
    current_weights: Mapping[str, float] | None = None,
) -> DecideSummary:
    """Decide, check and record target weights for ``symbols`` (default: the universe).

    ``current_weights`` is the book now (default: flat); held weights are what the kill
    switch and the reduce-only state protect.
    """
    from quantdesk.decisions.engine import DecisionEngine, DecisionInputs
    from quantdesk.decisions.recorder import record_decisions
    from quantdesk.decisions.rules import DecisionContext
    from quantdesk.store.operational_store import OperationalStore

    names = tuple(dict.fromkeys(symbols or settings.universe))
    if not names:
        raise InvalidInputError("decide needs at least one symbol")
    current = {s: float((current_weights or {}).get(s, 0.0)) for s in names}
    lake = Lake(settings.lake_dir)
    moment = decision_time(lake, names, as_of)
    start = moment - timedelta(days=settings.features.warmup_days + _HISTORY_DAYS)
    benchmark = settings.features.benchmark_symbol
    to_read = tuple(dict.fromkeys((*names, benchmark)))
    bars = lake.read_bars(to_read, start, moment + _TICK, moment, Granularity.D1)
    bars = bars[pd.to_datetime(bars["available_at"], utc=True) <= pd.Timestamp(moment)]
    missing = sorted(set(names) - set(bars["symbol"].astype(str)))
    if missing:
        raise NotFoundError(f"no clean daily bars known at {moment} for {', '.join(missing)}")
    closes = (
        bars[bars["symbol"].isin(list(names))]
        .pivot(index="open_time", columns="symbol", values="close")
        .astype(np.float64)
    )

    notes: list[str] = []
    champion = _champion_hybrid(settings)
    if champion is not None:
        signals = _hybrid_signals(settings, champion, bars, names, moment)
        source = SIGNAL_CHAMPION
    else:
        notes.append("no champion hybrid in the registry: SMA crossover signals used instead")
        signals = _sma_signals(settings, closes, names, moment)
        source = SIGNAL_SMA
    rl_weights, rl_version = _champion_rl(settings, names, moment, current, notes)

    context = DecisionContext.from_settings(settings)
    engine = DecisionEngine(settings.decisions)
    decisions: list[Decision] = []
    for symbol in names:
        volatility = _bar_volatility(closes[symbol])
        if volatility is None:
            notes.append(f"{symbol}: too little history to size, no decision")
            continue
        decisions.append(
            engine.decide(
                DecisionInputs(
                    symbol=symbol,
                    as_of=moment,
                    bar_volatility=volatility,
                    current_weight=current[symbol],
                    signal=signals.get(symbol),
                    rl_target_weight=rl_weights.get(symbol),
                    rl_model_version=rl_version,
                ),
                context,
            )
        )
    store = OperationalStore.from_settings(settings)
    store.upgrade()
    recorded = record_decisions(store, decisions, actor="decide")
    targets = {d.symbol: d.target_weight for d in decisions}
    approved, denied = _pretrade(settings, context, targets, current, closes, moment)
    versions: dict[str, str] = {}
    for decision in decisions:
        versions.update(decision.model_versions)
    summary = DecideSummary(
        as_of=moment,
        trading_state=context.trading_state.value,
        signal_source=source,
        decisions=len(decisions),
        written=recorded.written,
        already_stored=recorded.already_stored,
        targets=targets,
        approved=approved,
        denied=denied,
        model_versions=versions,
        reasons={d.symbol: d.reasons for d in decisions},
        notes=tuple(notes),
    )
    _log.info("decide.done", as_of=moment.isoformat(), source=source, written=recorded.written,
              denied=list(denied))  # fmt: skip
    return summary


def decision_time(lake: Lake, names: Sequence[str], as_of: datetime | None) -> datetime:
    """``as_of`` (UTC), or the close of the newest clean daily bar of ``names``."""
    if as_of is not None:
        return require_utc(as_of, "as_of")
    bars = lake.read_bars(tuple(names), _EPOCH, utc_now() + timedelta(days=2))
    if bars.empty:
        raise NotFoundError(f"no clean daily bars in the lake for {', '.join(names)}")
    newest = pd.to_datetime(bars["available_at"], utc=True).max()
    return require_utc(newest.to_pydatetime(), "newest bar")


def _bar_volatility(closes: pd.Series, window: int = 20) -> float | None:
    values = closes.dropna().to_numpy(dtype=np.float64)[-(window + 1) :]
    if len(values) <= window or not np.all(values > 0):
        return None
    value = float(np.std(np.diff(np.log(values)), ddof=1))
    return value if math.isfinite(value) and value > 0 else None


def _champion_hybrid(settings: Settings) -> LoadedHybrid | None:
    from quantdesk.models.registry import CHAMPION, load_hybrid

    try:
        return load_hybrid(settings, settings.models.registered_name, CHAMPION)
    except NotFoundError:
        return None


def _hybrid_signals(
    settings: Settings,
    champion: LoadedHybrid,
    bars: pd.DataFrame,
    names: Sequence[str],
    moment: datetime,
) -> dict[str, Signal]:
    """The champion's MC-dropout signal on each symbol's latest complete window."""
    from quantdesk.backtest.model_strategies import latest_windows, mc_dropout_signals
    from quantdesk.features.engineer import compute_features
    from quantdesk.features.names import ENTITY_JOIN_KEY

    model = champion.model
    benchmark = settings.features.benchmark_symbol
    has_benchmark = benchmark in set(bars["symbol"].astype(str))
    frame = compute_features(bars, benchmark if has_benchmark else None, list(model.features))
    frame = frame.rename(columns={ENTITY_JOIN_KEY: "symbol"})
    frame = frame[frame["symbol"].astype(str).isin(list(names))]
    x, keys = latest_windows(frame[["symbol", "open_time", *model.features]], model.features,
                             model.window)  # fmt: skip
    last: dict[str, int] = {}
    for k, (symbol, _) in enumerate(keys):
        last[symbol] = k  # windows come sorted by time: the last one per symbol is the newest
    chosen = sorted(last.values())
    found = mc_dropout_signals(
        model,
        x[chosen],
        [(keys[k][0], moment) for k in chosen],
        passes=settings.models.mc_samples,
        seed=settings.seed,
        model_version=str(champion.version),
        horizon_bars=settings.features.labels.horizon,
    )
    return {s.symbol: s for s in found}


def _sma_signals(
    settings: Settings, closes: pd.DataFrame, names: Sequence[str], moment: datetime
) -> dict[str, Signal]:
    from quantdesk.decisions.simple_signals import sma_crossover_signal

    fast, slow = settings.backtest.sma_fast, settings.backtest.sma_slow
    out: dict[str, Signal] = {}
    for symbol in names:
        series = closes[symbol].dropna()
        if len(series) > slow:
            out[symbol] = sma_crossover_signal(symbol, series, moment, fast=fast, slow=slow)
    return out


def _champion_rl(
    settings: Settings,
    names: Sequence[str],
    moment: datetime,
    current: Mapping[str, float],
    notes: list[str],
) -> tuple[dict[str, float], str | None]:
    """The champion ensemble's target weight per symbol, or nothing when none applies."""
    from quantdesk.models.registry import ModelRegistry
    from quantdesk.rl.registry import CHAMPION, load_ensemble

    try:
        info = ModelRegistry(settings).by_alias(settings.rl.model_name, CHAMPION)
        bundle = load_ensemble(settings, CHAMPION)
    except NotFoundError:
        notes.append("no champion RL ensemble: the decision uses the model signal alone")
        return {}, None
    if not set(bundle.symbols) <= set(names):
        notes.append("the champion RL ensemble trades other symbols: not used")
        return {}, None
    from quantdesk.rl.lake_tensor import lake_tensor

    start = moment - timedelta(days=_HISTORY_DAYS)
    tensor = lake_tensor(settings, bundle.symbols, start, moment + _TICK, moment)
    tensor = tensor.select_features(bundle.feature_names)
    window = bundle.env_config.window
    if len(tensor) < window:
        notes.append("too few rows for the RL ensemble's window: not used")
        return {}, None
    held = np.array([current.get(s, 0.0) for s in bundle.symbols])
    mix = np.concatenate([[max(0.0, 1.0 - held.sum())], held]).astype(np.float32)
    flat = tensor.features[-window:].reshape(-1).astype(np.float32)
    weights = bundle.target_weights(np.concatenate([flat, mix]))[0]
    return dict(zip(bundle.symbols, weights[1:].tolist(), strict=True)), str(info.version)


def _pretrade(
    settings: Settings,
    context: DecisionContext,
    targets: Mapping[str, float],
    current: Mapping[str, float],
    closes: pd.DataFrame,
    moment: datetime,
) -> tuple[dict[str, float], tuple[str, ...]]:
    """Targets through the live pre-trade checks on an account of ``initial_equity``."""
    from quantdesk.risk.limits import RiskLimits
    from quantdesk.risk.pretrade import AccountState
    from quantdesk.risk.weight_gate import gate_target_weights

    equity = settings.backtest.initial_equity
    prices = {s: float(closes[s].dropna().iloc[-1]) for s in targets}
    state = AccountState(
        equity=equity,
        start_of_day_equity=equity,
        peak_equity=equity,
        positions={
            s: current.get(s, 0.0) * equity / p for s, p in prices.items() if current.get(s)
        },
        last_prices=prices,
        trading_state=context.trading_state,
    )
    gated = gate_target_weights(
        dict(targets), state, RiskLimits.from_settings(settings.risk), moment,
        f"decide-{moment:%Y%m%dT%H%M%S}",
    )  # fmt: skip
    approved = {s: float(gated.weights.get(s, 0.0)) for s in targets}
    return approved, gated.denied
