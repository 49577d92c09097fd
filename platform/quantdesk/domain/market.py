"""Market data values: bar sizes and OHLCV bars with their point-in-time availability."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from quantdesk.domain.errors import InvalidInputError, UnknownGranularityError
from quantdesk.domain.symbols import Venue, validate_canonical_symbol
from quantdesk.domain.timeutil import require_utc


class Granularity(StrEnum):
    M1 = "1m"
    M5 = "5m"
    M15 = "15m"
    H1 = "1h"
    H6 = "6h"
    D1 = "1d"

    @property
    def duration(self) -> timedelta:
        return _DURATIONS[self]

    @classmethod
    def parse(cls, text: str) -> Granularity:
        """Parse user input such as ``1h`` or ``D1``; raise naming the bad value."""
        normalized = text.strip().lower()
        aliases = {"d": "1d", "daily": "1d", "h": "1h", "hourly": "1h", "d1": "1d", "h1": "1h"}
        try:
            return cls(aliases.get(normalized, normalized))
        except ValueError:
            choices = ", ".join(g.value for g in cls)
            raise UnknownGranularityError(
                f"unknown granularity {text!r}; choose one of {choices}"
            ) from None


_DURATIONS = {
    Granularity.M1: timedelta(minutes=1),
    Granularity.M5: timedelta(minutes=5),
    Granularity.M15: timedelta(minutes=15),
    Granularity.H1: timedelta(hours=1),
    Granularity.H6: timedelta(hours=6),
    Granularity.D1: timedelta(days=1),
}


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLCV bar. ``open_time`` starts the interval; ``available_at`` is when we knew it.

    ``available_at`` is what point-in-time reads filter on, so a later correction of a bar
    never leaks into a view of the past.
    """

    symbol: str
    venue: Venue
    granularity: Granularity
    open_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    available_at: datetime

    def __post_init__(self) -> None:
        validate_canonical_symbol(self.symbol)
        object.__setattr__(self, "venue", Venue(self.venue))
        object.__setattr__(self, "granularity", Granularity(self.granularity))
        object.__setattr__(self, "open_time", require_utc(self.open_time, "open_time"))
        object.__setattr__(self, "available_at", require_utc(self.available_at, "available_at"))
        prices = (self.open, self.high, self.low, self.close)
        if not all(math.isfinite(p) and p > 0 for p in prices):
            raise InvalidInputError(f"{self.symbol} {self.open_time}: prices must be > 0")
        if self.high < max(self.open, self.close, self.low) or self.low > min(
            self.open, self.close
        ):
            raise InvalidInputError(
                f"{self.symbol} {self.open_time}: OHLC inconsistent "
                f"(o={self.open}, h={self.high}, l={self.low}, c={self.close})"
            )
        if not math.isfinite(self.volume) or self.volume < 0:
            raise InvalidInputError(f"{self.symbol} {self.open_time}: volume must be >= 0")
        if self.available_at < self.close_time:
            raise InvalidInputError(
                f"{self.symbol} {self.open_time}: available_at {self.available_at} is before "
                f"the bar closed at {self.close_time}"
            )

    @property
    def close_time(self) -> datetime:
        return self.open_time + self.granularity.duration
