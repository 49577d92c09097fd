"""What the venue sources share once a venue's payload is parsed: catalogue checks and framing.

Every source turns its candles into the same canonical frame with the same point-in-time rule
(``available_at`` = close time: a bar is known once it has closed) and the same cut (bars in
``[start, end)`` that had closed by "now"), so the rule lives here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd

from quantdesk.data.bars import empty_bar_frame, normalize_bar_frame
from quantdesk.data.catalog import INSTRUMENTS, get_instrument
from quantdesk.domain import Granularity, Instrument, UnknownSymbolError, Venue


def venue_instruments(venue: Venue) -> list[Instrument]:
    """The catalogue's instruments that trade on ``venue``, by symbol."""
    return sorted((i for i in INSTRUMENTS.values() if i.venue is venue), key=lambda i: i.symbol)


def require_venue_instrument(symbol: str, venue: Venue) -> Instrument:
    """The catalogue entry for ``symbol``; raises unless it trades on ``venue``."""
    instrument = get_instrument(symbol)
    if instrument.venue is not venue:
        served = ", ".join(i.symbol for i in venue_instruments(venue))
        raise UnknownSymbolError(
            f"{symbol!r} is not served by {venue.value} (it comes from {instrument.venue.value}); "
            f"{venue.value} serves {served}"
        )
    return instrument


def as_granularity(value: Granularity | str) -> Granularity:
    """``value`` as a Granularity; user text such as ``"2h"`` raises UnknownGranularityError."""
    if isinstance(value, Granularity):
        return value
    return Granularity.parse(str(value))


def candles_to_frame(
    *,
    symbol: str,
    venue: Venue,
    granularity: Granularity,
    open_times: pd.DatetimeIndex,
    columns: dict[str, Sequence[float]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> pd.DataFrame:
    """Canonical frame of the candles that opened in ``[start, end)`` and closed by ``now``.

    ``open_times`` is time-zone aware; ``columns`` holds ``open``, ``high``, ``low``, ``close``
    and ``volume``. Duplicate open times (pages that overlap) keep the last copy.
    """
    if len(open_times) == 0:
        return empty_bar_frame()
    frame = pd.DataFrame({"open_time": open_times.tz_convert("UTC"), **columns})
    frame = frame.drop_duplicates("open_time", keep="last").sort_values("open_time")
    close_times = frame["open_time"] + granularity.duration
    keep = (
        (frame["open_time"] >= pd.Timestamp(start))
        & (frame["open_time"] < pd.Timestamp(end))
        & (close_times <= pd.Timestamp(now))
    )
    frame = frame.loc[keep].copy()
    if frame.empty:
        return empty_bar_frame()
    frame["available_at"] = frame["open_time"] + granularity.duration
    frame["symbol"] = symbol
    frame["venue"] = venue.value
    frame["granularity"] = granularity.value
    return normalize_bar_frame(frame)
