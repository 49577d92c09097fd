"""The decision engine: model signal + RL target + rules -> one audited target weight.

Precedence, highest first (the first rule that fires decides, later ones only tighten):

1. Kill switch HALTED: hold the current weight (nothing new is sent).
2. Instrument halted by its venue, or on the restricted list: hold the current weight.
3. A blackout window covering the symbol: hold the current weight.
4. A live manual override: its weight replaces the models' (steps 5-6 are skipped).
5. Models. The hybrid model's signal is dropped if its confidence (largest class
   probability) is below ``min_confidence`` or its uncertainty above ``max_uncertainty``;
   otherwise it is sized (below). The RL ensemble's target weight is taken as given. Both
   present: ``ml_blend·ml + (1−ml_blend)·rl``; one present: that one; none: flat (0), since
   exposure without a usable view is unpaid risk.
6. (models only) Sizing of the signal: direction from the most likely class; size
   ``min(vol_target · uncertainty_scale, kelly)`` where ``vol_target = target_vol /
   annual_vol``, ``uncertainty_scale = 1 − uncertainty / max_uncertainty`` and ``kelly =
   kelly_fraction · max(0, direction·E[r]) / horizon variance`` (so a signal whose expected
   return disagrees with its direction gets no size).
7. Cap: ``|weight| <= max_abs_weight`` (applies to overrides too).
8. Trading state REDUCING: the weight is clamped between 0 and the current weight, so
   exposure can only shrink.

Inputs are plain values, so a simple rule signal (see :mod:`quantdesk.decisions.simple_signals`)
works the same as the trained model. The engine is pure; persistence is in ``recorder``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from quantdesk.config import DecisionSettings
from quantdesk.decisions.feature_hash import feature_vector_hash
from quantdesk.decisions.rules import DecisionContext, DecisionReason
from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.symbols import validate_canonical_symbol
from quantdesk.domain.timeutil import require_utc
from quantdesk.domain.trading import Decision, Direction, Signal
from quantdesk.risk.trading_state import TradingState

RL_MODEL_KEY = "rl_ensemble"
_DIRECTION_SIGN = {Direction.UP: 1.0, Direction.DOWN: -1.0, Direction.FLAT: 0.0}


@dataclass(frozen=True, slots=True)
class DecisionInputs:
    """What the engine needs about one symbol at one time, as plain values.

    ``bar_volatility`` is the standard deviation of one bar's return (the signal's bar size);
    ``features`` is the vector the signal was computed from (only its hash is kept).
    """

    symbol: str
    as_of: datetime
    bar_volatility: float
    current_weight: float = 0.0
    signal: Signal | None = None
    rl_target_weight: float | None = None
    rl_model_version: str | None = None
    features: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_canonical_symbol(self.symbol)
        object.__setattr__(self, "as_of", require_utc(self.as_of, "as_of"))
        if not (math.isfinite(self.bar_volatility) and self.bar_volatility > 0):
            raise InvalidInputError(f"{self.symbol}: bar_volatility must be > 0")
        if not math.isfinite(self.current_weight):
            raise InvalidInputError(f"{self.symbol}: current_weight must be finite")
        if self.rl_target_weight is not None and not math.isfinite(self.rl_target_weight):
            raise InvalidInputError(f"{self.symbol}: rl_target_weight must be finite")
        if self.signal is not None and self.signal.symbol != self.symbol:
            raise InvalidInputError(f"signal for {self.signal.symbol} given for {self.symbol}")
        object.__setattr__(self, "features", MappingProxyType(dict(self.features)))


@dataclass(frozen=True, slots=True)
class _Sized:
    weight: float
    contributions: dict[str, float]
    reasons: list[str]


class DecisionEngine:
    """Applies the documented precedence; the same engine serves backtests and live."""

    def __init__(self, settings: DecisionSettings) -> None:
        self.settings = settings

    def decide_all(
        self, inputs: Iterable[DecisionInputs], context: DecisionContext
    ) -> list[Decision]:
        return [self.decide(item, context) for item in inputs]

    def decide(self, inputs: DecisionInputs, context: DecisionContext) -> Decision:
        current = inputs.current_weight
        hold = self._hold_reason(inputs, context)
        if hold is not None:
            return self._decision(inputs, current, [hold], {"current": current})

        override = context.overrides.get(inputs.symbol)
        if override is not None and override.active_at(inputs.as_of):
            sized = _Sized(
                override.target_weight,
                {"manual": override.target_weight},
                [
                    f"{DecisionReason.MANUAL_OVERRIDE}: {override.target_weight:+.4f} by "
                    f"{override.actor} ({override.reason})"
                ],
            )
        else:
            sized = self._from_models(inputs)

        weight, reasons, contributions = sized.weight, sized.reasons, sized.contributions
        cap = self.settings.max_abs_weight
        if abs(weight) > cap:
            reasons.append(f"{DecisionReason.CAPPED_MAX_WEIGHT}: {weight:+.4f} -> ±{cap:.4f}")
            weight = math.copysign(cap, weight)
        if context.trading_state is TradingState.REDUCING:
            clamped = _clamp_towards_zero(weight, current)
            if clamped != weight:
                reasons.append(f"{DecisionReason.REDUCE_ONLY}: {weight:+.4f} -> {clamped:+.4f}")
                weight = clamped
        contributions["current"] = current
        return self._decision(inputs, weight, reasons, contributions)

    # -- steps ----------------------------------------------------------------------------

    def _hold_reason(self, inputs: DecisionInputs, context: DecisionContext) -> str | None:
        symbol = inputs.symbol
        if context.trading_state is TradingState.HALTED:
            return f"{DecisionReason.KILL_SWITCH_HALTED}: holding {inputs.current_weight:+.4f}"
        if symbol in context.halted_symbols:
            return f"{DecisionReason.INSTRUMENT_HALTED}: {symbol} is halted"
        if symbol in context.restricted_symbols:
            return f"{DecisionReason.INSTRUMENT_RESTRICTED}: {symbol} is restricted"
        blackout = context.blackout_for(symbol, inputs.as_of)
        if blackout is not None:
            return f"{DecisionReason.BLACKOUT}: {blackout.reason} until {blackout.end.isoformat()}"
        return None

    def _from_models(self, inputs: DecisionInputs) -> _Sized:
        s = self.settings
        reasons: list[str] = []
        contributions: dict[str, float] = {}
        ml = self._size_signal(inputs, reasons, contributions)
        rl = inputs.rl_target_weight
        if rl is not None:
            reasons.append(f"{DecisionReason.RL_TARGET}: {rl:+.4f}")
        if ml is not None and rl is not None:
            parts = {"ml": s.ml_blend * ml, "rl": (1.0 - s.ml_blend) * rl}
        elif ml is not None:
            parts = {"ml": ml}
        elif rl is not None:
            parts = {"rl": rl}
        else:
            reasons.append(f"{DecisionReason.NO_USABLE_SIGNAL}: going flat")
            parts = {}
        contributions.update(parts)
        return _Sized(sum(parts.values()), contributions, reasons)

    def _size_signal(
        self, inputs: DecisionInputs, reasons: list[str], contributions: dict[str, float]
    ) -> float | None:
        signal, s = inputs.signal, self.settings
        if signal is None:
            return None
        if signal.confidence < s.min_confidence:
            reasons.append(
                f"{DecisionReason.LOW_CONFIDENCE}: {signal.confidence:.3f} < {s.min_confidence}"
            )
            return None
        if signal.uncertainty > s.max_uncertainty:
            reasons.append(
                f"{DecisionReason.HIGH_UNCERTAINTY}: {signal.uncertainty:.3f} > {s.max_uncertainty}"
            )
            return None
        direction = _DIRECTION_SIGN[signal.direction]
        annual_vol = inputs.bar_volatility * math.sqrt(s.bars_per_year)
        vol_target = s.target_volatility / annual_vol
        uncertainty_scale = max(0.0, 1.0 - signal.uncertainty / s.max_uncertainty)
        horizon_variance = inputs.bar_volatility**2 * signal.horizon_bars
        kelly = s.kelly_fraction * max(0.0, direction * signal.expected_return) / horizon_variance
        size = min(vol_target * uncertainty_scale, kelly)
        contributions.update(
            {"vol_target": vol_target, "uncertainty_scale": uncertainty_scale, "kelly": kelly}
        )
        reasons.append(
            f"{DecisionReason.MODEL_SIGNAL}: {signal.direction.value} p={signal.confidence:.3f} "
            f"E[r]={signal.expected_return:+.5f} size={size:.4f}"
            + (" (kelly-capped)" if kelly < vol_target * uncertainty_scale else "")
        )
        return direction * size

    def _decision(
        self,
        inputs: DecisionInputs,
        weight: float,
        reasons: list[str],
        contributions: Mapping[str, float],
    ) -> Decision:
        versions: dict[str, str] = {}
        if inputs.signal is not None:
            versions[inputs.signal.model_name] = inputs.signal.model_version
        if inputs.rl_target_weight is not None:
            versions[RL_MODEL_KEY] = inputs.rl_model_version or "unversioned"
        features = feature_vector_hash(inputs.features)
        payload = {
            "symbol": inputs.symbol,
            "as_of": inputs.as_of.isoformat(),
            "target_weight": float(weight).hex(),
            "reasons": reasons,
            "contributions": {k: float(v).hex() for k, v in sorted(contributions.items())},
            "model_versions": dict(sorted(versions.items())),
            "feature_hash": features,
        }
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()
        return Decision(
            decision_id=f"dec-{digest[:32]}",
            symbol=inputs.symbol,
            as_of=inputs.as_of,
            target_weight=float(weight),
            reasons=tuple(reasons),
            contributions=dict(contributions),
            model_versions=versions,
            feature_hash=features,
        )


def _clamp_towards_zero(weight: float, current: float) -> float:
    """The weight nearest ``weight`` that lies between 0 and ``current``."""
    low, high = min(0.0, current), max(0.0, current)
    return min(max(weight, low), high)
