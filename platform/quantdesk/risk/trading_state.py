"""The desk-wide trading state the kill switch sets and every order check reads."""

from __future__ import annotations

from enum import StrEnum


class TradingState(StrEnum):
    """ACTIVE trades freely; REDUCING only shrinks exposure; HALTED sends nothing new."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    def worst(self, other: TradingState) -> TradingState:
        """The stricter of two states (a breach can tighten the state, never loosen it)."""
        return self if self.severity >= other.severity else other


_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
