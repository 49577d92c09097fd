"""What every venue client shares, so each venue module states only its quirks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from quantdesk.data.sources.base import check_granularity, check_range
from quantdesk.data.sources.http_client import VenueHttpClient
from quantdesk.data.sources.venue_bars import (
    as_granularity,
    require_venue_instrument,
    venue_instruments,
)
from quantdesk.domain import Granularity, Instrument, Venue


class VenueSource:
    """Base of the venue clients: one pooled HTTP client, the venue's catalogue, input checks."""

    venue: Venue
    _http: VenueHttpClient

    def close(self) -> None:
        self._http.close()

    def list_instruments(self) -> list[Instrument]:
        return venue_instruments(self.venue)

    def _checked_request(
        self,
        symbol: str,
        granularity: Granularity | str,
        start: datetime,
        end: datetime,
        served: Iterable[Granularity],
    ) -> tuple[Granularity, datetime, datetime]:
        """Validate a fetch before any request: symbol on this venue, bar size, UTC range."""
        require_venue_instrument(symbol, self.venue)
        bar_size = as_granularity(granularity)
        check_granularity(bar_size, frozenset(served), self.venue.value)
        first, last = check_range(start, end)
        return bar_size, first, last
