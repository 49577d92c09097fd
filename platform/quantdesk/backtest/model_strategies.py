"""Learned strategies for the walk-forward backtest: ``hybrid``, ``rl`` and ``ensemble``.

Honesty first: each fold's model is trained here, on that fold's TRAINING bars only, with
the very training code of the platform (:func:`quantdesk.models.training.train_walk_forward`
for the hybrid, :func:`quantdesk.rl.ensemble.run_ensemble` for the RL ensemble). A champion
from the registry is never loaded into a backtest: it was trained on the whole history, so
backtesting it over that history would be look-ahead.

Both strategies read the bars they need from the clean lake, bounded by the panel they are
given (nothing opening after the panel's last bar is read; history before its first bar is
past data and warms the features up). Weights are produced only for bars after the fold's
training end (earlier bars are in-sample, and the walk-forward runner keeps the test window
only), and they go through the live :class:`~quantdesk.decisions.engine.DecisionEngine`:
the hybrid's MC-dropout signal is sized by the engine (confidence and uncertainty filters,
vol target scaled down by uncertainty, Kelly cap, weight cap), the RL ensemble's target
weights are taken as given, and ``ensemble`` is the engine's documented blend of both.
Settings (epochs, MC passes, RL timesteps, agents) come from ``Settings.backtest``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantdesk.backtest.market_panel import MarketPanel
from quantdesk.config import Settings
from quantdesk.decisions.engine import DecisionEngine, DecisionInputs
from quantdesk.decisions.rules import DecisionContext
from quantdesk.domain import InvalidInputError
from quantdesk.domain.trading import Signal
from quantdesk.features.names import BETA_BENCHMARK_60, CORR_BENCHMARK_60, FEATURE_SERVICES

if TYPE_CHECKING:
    from quantdesk.models.training import FittedHybrid
    from quantdesk.rl.bundle import EnsembleBundle
    from quantdesk.rl.market_tensor import MarketTensor

FloatArray = npt.NDArray[np.float64]
HYBRID_MODEL_NAME = "hybrid"
VOL_WINDOW = 20
_CROSS_ASSET = (CORR_BENCHMARK_60, BETA_BENCHMARK_60)
_ONE_TICK = pd.Timedelta(1, "us")


# -- shared pieces (also used by the live ``decide`` step) ------------------------------------


def trailing_bar_volatility(close: pd.DataFrame, window: int = VOL_WINDOW) -> pd.DataFrame:
    """Std of the last ``window`` log returns up to each bar (NaN before a full window)."""
    log_returns = np.log(close.astype(np.float64)).diff()
    return log_returns.rolling(window, min_periods=window).std(ddof=1)


def mc_dropout_signals(
    model: FittedHybrid,
    x_raw: npt.NDArray[np.float32],
    keys: Sequence[tuple[str, datetime]],
    *,
    passes: int,
    seed: int,
    model_version: str,
    horizon_bars: int,
) -> list[Signal]:
    """One :class:`Signal` per raw window: MC-dropout mean probabilities and forecast.

    The uncertainty is the MC-dropout spread (std across passes) of the most likely class's
    probability: the model's epistemic doubt about the very call the engine acts on.
    """
    from quantdesk.models.uncertainty import mc_dropout_predict

    if len(x_raw) != len(keys):
        raise InvalidInputError("one (symbol, time) key is needed per window")
    if len(x_raw) == 0:
        return []
    prediction = mc_dropout_predict(
        model.network,
        model.scaler.transform(x_raw),
        passes,
        seed=seed,
        temperature=model.temperature,
    )
    probs = prediction.probabilities / prediction.probabilities.sum(axis=1, keepdims=True)
    chosen = probs.argmax(axis=1)
    spread = prediction.probability_std[np.arange(len(probs)), chosen]
    expected = prediction.forecast_mean * model.target_scale
    return [
        Signal(
            symbol=symbol,
            as_of=at,
            model_name=HYBRID_MODEL_NAME,
            model_version=model_version,
            horizon_bars=horizon_bars,
            prob_down=float(probs[k, 0]),
            prob_flat=float(probs[k, 1]),
            prob_up=float(probs[k, 2]),
            expected_return=float(expected[k]),
            uncertainty=float(spread[k]),
        )
        for k, (symbol, at) in enumerate(keys)
    ]


def hybrid_features(settings: Settings, has_benchmark: bool) -> tuple[str, ...]:
    """The hybrid's feature service, without the cross-asset ones when no benchmark exists."""
    features = FEATURE_SERVICES["hybrid_v1"]
    return tuple(f for f in features if has_benchmark or f not in _CROSS_ASSET)


def latest_windows(
    frame: pd.DataFrame, features: Sequence[str], window: int, after: pd.Timestamp | None = None
) -> tuple[npt.NDArray[np.float32], list[tuple[str, datetime]]]:
    """Every complete, finite window of ``features`` per symbol ending after ``after``.

    ``frame`` has ``symbol``, ``open_time`` and the features, one row per bar.
    """
    from quantdesk.features.datasets import LabelArrays, WindowConfig, build_windows

    n = len(frame)
    dummy = LabelArrays(np.zeros(n), np.ones(n, dtype=np.int64))  # windows only, no labels
    config = WindowConfig(window=window, features=tuple(features), time_column="open_time")
    dataset = build_windows(frame.reset_index(drop=True), dummy, config)
    times = pd.DatetimeIndex(dataset.times).tz_localize("UTC")
    keep = np.ones(len(times), dtype=bool) if after is None else np.asarray(times > after)
    keys = [
        (str(s), t.to_pydatetime()) for s, t in zip(dataset.symbols[keep], times[keep], strict=True)
    ]
    return dataset.x[keep], keys


def engine_weights(
    settings: Settings,
    panel: MarketPanel,
    after: pd.Timestamp,
    signals: Mapping[tuple[str, pd.Timestamp], Signal] | None = None,
    rl_weights: pd.DataFrame | None = None,
    rl_version: str | None = None,
) -> pd.DataFrame:
    """Target weights the live decision engine gives each bar after ``after``.

    Backtests run with an open desk (no kill switch, no restricted list): the rules the
    backtest measures are the models' and the sizing's. Bars without a trailing volatility
    get no position; earlier bars (in-sample) are zero. A symbol's latest signal stays its
    view on the panel's rows where it has no new bar (an equity over a crypto weekend), so
    a closed market does not churn the position.
    """
    engine = DecisionEngine(settings.decisions)
    context = DecisionContext()
    volatility = trailing_bar_volatility(panel.close)
    out = pd.DataFrame(0.0, index=panel.index, columns=panel.close.columns)
    rows = np.flatnonzero(np.asarray(panel.index > after))
    for symbol in panel.symbols:
        latest: Signal | None = None
        for row in rows:
            at = panel.index[row]
            if signals is not None:
                latest = signals.get((symbol, at), latest)
            signal = latest
            vol = float(volatility.iloc[row][symbol])
            if not (math.isfinite(vol) and vol > 0):
                continue
            rl = None
            if rl_weights is not None:
                value = float(rl_weights.iloc[row][symbol])
                rl = value if math.isfinite(value) else None
            if signal is None and rl is None:
                continue
            decision = engine.decide(
                DecisionInputs(
                    symbol=symbol,
                    as_of=at.to_pydatetime(),
                    bar_volatility=vol,
                    signal=signal,
                    rl_target_weight=rl,
                    rl_model_version=rl_version,
                ),
                context,
            )
            out.iloc[row, out.columns.get_loc(symbol)] = decision.target_weight
    return out


def _bounds(panel: MarketPanel) -> tuple[datetime, datetime]:
    """The lake range of a panel: its first bar's open to just after its last bar's open."""
    first, last = panel.index[0], panel.index[-1]
    return first.to_pydatetime(), (last + _ONE_TICK).to_pydatetime()


def _has_benchmark(settings: Settings, start: datetime, end: datetime) -> bool:
    from quantdesk.data.lake import Lake
    from quantdesk.domain import Granularity

    benchmark = settings.features.benchmark_symbol
    lake = Lake(settings.lake_dir)
    if benchmark not in lake.symbols():
        return False
    return not lake.read_bars(benchmark, start, end, granularity=Granularity.D1).empty


# -- hybrid -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class HybridStrategy:
    """The CNN+LSTM hybrid, retrained on each fold's training bars, sized by the engine."""

    settings: Settings
    model: FittedHybrid | None = None
    trained_until: pd.Timestamp | None = None
    features: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return HYBRID_MODEL_NAME

    @property
    def trials(self) -> int:
        return 1

    def fit(self, train: MarketPanel) -> HybridStrategy:
        """One hybrid trained on ``train``'s bars only (its last bars validate it)."""
        from quantdesk.backtest.costs import CostModel
        from quantdesk.features.datasets import WindowConfig, build_windows
        from quantdesk.features.splits import WalkForwardSpec
        from quantdesk.models.architecture import HybridArchitecture
        from quantdesk.models.lake_training_data import load_training_frame
        from quantdesk.models.training import TrainingConfig, train_walk_forward

        s, b = self.settings, self.settings.backtest
        start, end = _bounds(train)
        features = hybrid_features(s, _has_benchmark(s, start, end))
        # Labels come from these bars only: the last ``horizon`` bars of the fold get none.
        data = load_training_frame(s, train.symbols, start, end, features, source="lake")
        window = WindowConfig(window=s.models.window, features=features, time_column="open_time")
        dataset = build_windows(data.frame, data.labels, window)
        horizon = s.features.labels.horizon
        holdout = max(2, b.model_validation_bars // 4)
        spec = WalkForwardSpec(
            n_folds=1,
            test_size=holdout,
            validation_size=b.model_validation_bars,
            min_train_size=max(1, dataset.n_times - holdout - b.model_validation_bars
                               - 2 * (horizon + s.models.embargo)),
            label_horizon=horizon,
            embargo=s.models.embargo,
        )  # fmt: skip
        config = replace(
            TrainingConfig.from_settings(s),
            max_epochs=b.model_epochs,
            patience=max(1, min(s.models.patience, b.model_epochs)),
        )
        costs = CostModel.from_settings(train.symbols, s.costs)
        rates = dict(zip(costs.symbols, costs.linear_rate.tolist(), strict=True))
        result = train_walk_forward(
            dataset,
            spec,
            HybridArchitecture.from_settings(s.models, len(features)),
            config,
            rates,
            periods_per_year=float(b.periods_per_year),
        )
        return replace(self, model=result.model, trained_until=train.index[-1], features=features)

    def signals(self, panel: MarketPanel) -> dict[tuple[str, pd.Timestamp], Signal]:
        """MC-dropout signals for the panel's bars after the training end."""
        from quantdesk.models.lake_training_data import load_training_frame

        if self.model is None or self.trained_until is None:
            raise InvalidInputError("hybrid must be fitted on training bars before trading")
        s = self.settings
        start, end = _bounds(panel)
        data = load_training_frame(s, panel.symbols, start, end, self.features, source="lake")
        x, keys = latest_windows(data.frame, self.features, self.model.window, self.trained_until)
        version = f"fold-until-{self.trained_until:%Y%m%d}"
        found = mc_dropout_signals(
            self.model,
            x,
            keys,
            passes=s.backtest.model_mc_passes,
            seed=s.seed,
            model_version=version,
            horizon_bars=s.features.labels.horizon,
        )
        return {(sig.symbol, pd.Timestamp(sig.as_of)): sig for sig in found}

    def target_weights(self, panel: MarketPanel) -> pd.DataFrame:
        if self.trained_until is None:
            raise InvalidInputError("hybrid must be fitted on training bars before trading")
        return engine_weights(self.settings, panel, self.trained_until, self.signals(panel))


# -- RL ensemble ------------------------------------------------------------------------------


def _backtest_rl_settings(settings: Settings, rows: int) -> Settings:
    """``Settings.rl`` shrunk to one fold inside ``rows`` training rows (backtest sizes)."""
    b = settings.backtest
    validation = max(5, min(63, rows // 5))
    trade = max(2, min(21, rows // 10))
    train = rows - validation - trade - 2 * settings.rl.embargo - 2
    if train < settings.rl.window + 3:
        raise InvalidInputError(
            f"{rows} training rows are too few for the RL ensemble after feature warm-up"
        )
    rl = settings.rl.model_copy(
        update={
            "folds": 1,
            "train_size": train,
            "validation_size": validation,
            "trade_size": trade,
            "normalize_window": b.rl_normalize_window,
            "agents": tuple(b.rl_agents),
            "timesteps": b.rl_timesteps,
            "seeds": (settings.seed,),
            "n_envs": 1,
            "subprocess_envs": False,
        }
    )
    return settings.model_copy(update={"rl": rl})


def _rl_tensor(settings: Settings, panel: MarketPanel) -> MarketTensor:
    from quantdesk.rl.lake_tensor import lake_tensor

    start, end = _bounds(panel)
    rl = settings.rl.model_copy(update={"normalize_window": settings.backtest.rl_normalize_window})
    return lake_tensor(settings.model_copy(update={"rl": rl}), panel.symbols, start, end)


def rl_target_frame(bundle: EnsembleBundle, tensor: MarketTensor, index: pd.Index) -> pd.DataFrame:
    """The ensemble's asset weights at each tensor row, aligned on ``index`` (bars x symbols).

    Rows are decided in order, each observation carrying the previous decision's weights (the
    drift within a bar is ignored). Bars the tensor lacks (a symbol did not trade, features
    still warming up) keep the previous weight; NaN before the first decision.
    """
    w = bundle.env_config.window
    n, f = len(tensor.symbols), len(tensor.feature_names)
    flat = tensor.features.reshape(len(tensor), n * f).astype(np.float32)
    current = np.zeros(n + 1)
    current[0] = 1.0
    rows: list[FloatArray] = []
    times: list[np.datetime64] = []
    for t in range(w - 1, len(tensor)):
        obs = np.concatenate([flat[t - w + 1 : t + 1].ravel(), current.astype(np.float32)])
        mix = bundle.target_weights(obs)[0]
        current = mix
        rows.append(mix[1:])
        times.append(tensor.times[t])
    days = pd.DatetimeIndex(pd.to_datetime(index, utc=True)).floor("D").tz_localize(None)
    decided = pd.DataFrame(rows, index=pd.DatetimeIndex(times), columns=list(tensor.symbols))
    aligned = decided.reindex(decided.index.union(days)).ffill().reindex(days)
    return pd.DataFrame(aligned.to_numpy(), index=index, columns=list(tensor.symbols))


@dataclass(frozen=True, slots=True, eq=False)
class RlStrategy:
    """The RL ensemble (rolling-window selection and blend), retrained on each fold's bars."""

    settings: Settings
    bundle: EnsembleBundle | None = None
    trained_until: pd.Timestamp | None = None

    @property
    def name(self) -> str:
        return "rl"

    @property
    def trials(self) -> int:
        return 1

    def fit(self, train: MarketPanel) -> RlStrategy:
        """Members trained and validated on ``train``'s bars only (one fold inside them)."""
        from quantdesk.backtest.costs import CostModel
        from quantdesk.rl.bundle import EnsembleBundle
        from quantdesk.rl.ensemble import run_ensemble

        tensor = _rl_tensor(self.settings, train)
        small = _backtest_rl_settings(self.settings, len(tensor))
        costs = CostModel.from_settings(tensor.symbols, small.costs)
        run = run_ensemble(tensor, costs, small.rl, small.rl.agents, self.settings.seed)
        bundle = EnsembleBundle(
            members=run.members,
            blend_weights=run.blend_weights,
            selected=run.selected,
            env_config=run.env_config,
            symbols=tensor.symbols,
            feature_names=tensor.feature_names,
        )
        return replace(self, bundle=bundle, trained_until=train.index[-1])

    def rl_weights(self, panel: MarketPanel) -> pd.DataFrame:
        if self.bundle is None:
            raise InvalidInputError("rl must be fitted on training bars before trading")
        tensor = _rl_tensor(self.settings, panel).select_features(self.bundle.feature_names)
        return rl_target_frame(self.bundle, tensor, panel.index).reindex(
            columns=list(panel.symbols)
        )

    def target_weights(self, panel: MarketPanel) -> pd.DataFrame:
        if self.trained_until is None:
            raise InvalidInputError("rl must be fitted on training bars before trading")
        return engine_weights(
            self.settings,
            panel,
            self.trained_until,
            rl_weights=self.rl_weights(panel),
            rl_version=f"fold-until-{self.trained_until:%Y%m%d}",
        )


# -- ensemble ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class ModelEnsembleStrategy:
    """Hybrid signal and RL target blended by the decision engine (``ml_blend``)."""

    hybrid: HybridStrategy
    rl: RlStrategy

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelEnsembleStrategy:
        return cls(HybridStrategy(settings), RlStrategy(settings))

    @property
    def name(self) -> str:
        return "ensemble"

    @property
    def trials(self) -> int:
        return 1

    def fit(self, train: MarketPanel) -> ModelEnsembleStrategy:
        return ModelEnsembleStrategy(self.hybrid.fit(train), self.rl.fit(train))

    def target_weights(self, panel: MarketPanel) -> pd.DataFrame:
        until = self.hybrid.trained_until
        if until is None or self.rl.trained_until is None:
            raise InvalidInputError("ensemble must be fitted on training bars before trading")
        return engine_weights(
            self.hybrid.settings,
            panel,
            until,
            signals=self.hybrid.signals(panel),
            rl_weights=self.rl.rl_weights(panel),
            rl_version=f"fold-until-{until:%Y%m%d}",
        )
