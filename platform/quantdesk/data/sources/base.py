"""The one small interface every bar source implements, and the range checks they share."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from quantdesk.domain import (
    Granularity,
    Instrument,
    InvalidDateRangeError,
    UnknownGranularityError,
    Venue,
    require_utc,
)

if TYPE_CHECKING:
    import pandas as pd


@runtime_checkable
class BarSource(Protocol):
    """Where bars come from: a venue API, a package's bundled history, or the synthetic market.

    ``fetch_bars`` returns a canonical bar frame (see ``quantdesk.data.bars``) holding the bars
    whose ``open_time`` lies in ``[start, end)``, with UTC times and ``available_at`` set to when
    the bar could first have been known.
    """

    venue: Venue

    def list_instruments(self) -> list[Instrument]: ...

    def fetch_bars(
        self, symbol: str, granularity: Granularity, start: datetime, end: datetime
    ) -> pd.DataFrame: ...


def check_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """UTC versions of a half-open range; raises naming the problem."""
    try:
        start_utc = require_utc(start, "start")
        end_utc = require_utc(end, "end")
    except ValueError as exc:
        raise InvalidDateRangeError(str(exc)) from None
    if end_utc <= start_utc:
        raise InvalidDateRangeError(f"empty or reversed range: start {start_utc} >= end {end_utc}")
    return start_utc, end_utc


def check_granularity(
    granularity: Granularity, supported: frozenset[Granularity], source: str
) -> None:
    if granularity not in supported:
        choices = ", ".join(sorted(g.value for g in supported))
        raise UnknownGranularityError(
            f"{source} does not serve {granularity.value} bars; it serves {choices}"
        )
