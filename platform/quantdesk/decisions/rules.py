"""The rule inputs of the decision engine: trading state, instrument lists, blackouts, overrides."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from quantdesk.config import Settings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.symbols import validate_canonical_symbol
from quantdesk.domain.timeutil import require_utc
from quantdesk.risk.kill_switch import KillSwitch
from quantdesk.risk.trading_state import TradingState


class DecisionReason(StrEnum):
    """Codes that start every reason string of a decision (``code`` or ``code: detail``)."""

    KILL_SWITCH_HALTED = "kill_switch_halted"
    INSTRUMENT_HALTED = "instrument_halted"
    INSTRUMENT_RESTRICTED = "instrument_restricted"
    BLACKOUT = "blackout"
    MANUAL_OVERRIDE = "manual_override"
    LOW_CONFIDENCE = "low_confidence"
    HIGH_UNCERTAINTY = "high_uncertainty"
    MODEL_SIGNAL = "model_signal"
    RL_TARGET = "rl_target"
    NO_USABLE_SIGNAL = "no_usable_signal"
    CAPPED_MAX_WEIGHT = "capped_max_weight"
    REDUCE_ONLY = "reduce_only"


@dataclass(frozen=True, slots=True)
class BlackoutWindow:
    """No new trades in ``[start, end)`` for ``symbols`` (all symbols when empty)."""

    start: datetime
    end: datetime
    reason: str
    symbols: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_utc(self.start, "start"))
        object.__setattr__(self, "end", require_utc(self.end, "end"))
        if self.start >= self.end:
            raise InvalidInputError(f"blackout {self.reason!r}: start must be before end")
        object.__setattr__(self, "symbols", frozenset(self.symbols))

    def covers(self, symbol: str, at: datetime) -> bool:
        return self.start <= at < self.end and (not self.symbols or symbol in self.symbols)


@dataclass(frozen=True, slots=True)
class ManualOverride:
    """A person's target weight for one symbol, with who and why, until ``expires_at``."""

    symbol: str
    target_weight: float
    actor: str
    reason: str
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        validate_canonical_symbol(self.symbol)
        if not math.isfinite(self.target_weight):
            raise InvalidInputError("override target_weight must be finite")
        if not self.actor.strip() or not self.reason.strip():
            raise InvalidInputError("a manual override needs an actor and a reason")
        if self.expires_at is not None:
            object.__setattr__(self, "expires_at", require_utc(self.expires_at, "expires_at"))

    def active_at(self, at: datetime) -> bool:
        return self.expires_at is None or at < self.expires_at


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """Everything rule-based that applies to a decision run."""

    trading_state: TradingState = TradingState.ACTIVE
    restricted_symbols: frozenset[str] = frozenset()
    halted_symbols: frozenset[str] = frozenset()
    blackouts: tuple[BlackoutWindow, ...] = ()
    overrides: Mapping[str, ManualOverride] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "trading_state", TradingState(self.trading_state))
        object.__setattr__(self, "restricted_symbols", frozenset(self.restricted_symbols))
        object.__setattr__(self, "halted_symbols", frozenset(self.halted_symbols))
        object.__setattr__(self, "blackouts", tuple(self.blackouts))
        for symbol, override in self.overrides.items():
            if override.symbol != symbol:
                raise InvalidInputError(f"override keyed {symbol} is for {override.symbol}")
        object.__setattr__(self, "overrides", MappingProxyType(dict(self.overrides)))

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        halted_symbols: frozenset[str] = frozenset(),
        blackouts: tuple[BlackoutWindow, ...] = (),
        overrides: Mapping[str, ManualOverride] | None = None,
    ) -> DecisionContext:
        """The desk's context: the kill switch's state and the configured restricted list."""
        return cls(
            trading_state=KillSwitch.from_settings(settings).state,
            restricted_symbols=frozenset(settings.risk.restricted_symbols),
            halted_symbols=halted_symbols,
            blackouts=blackouts,
            overrides=overrides or {},
        )

    def blackout_for(self, symbol: str, at: datetime) -> BlackoutWindow | None:
        return next((b for b in self.blackouts if b.covers(symbol, at)), None)
