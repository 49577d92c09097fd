"""Coinbase Advanced Trade: public market candles for the crypto pairs in the catalogue.

``GET /api/v3/brokerage/market/products/{product_id}/candles?start=&end=&granularity=`` needs no
key. It answers ``{"candles": [{"start": "<unix s>", "low", "high", "open", "close", "volume"}]}``
with every field a string, newest first, and refuses ranges of more than 350 candles, so long
ranges are paged. Whether ``end`` is inclusive is not documented: each page asks for at most
350 candles counted inclusively and the next page starts on the previous page's last slot, so
either reading yields every candle; the overlap is dropped when framing.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from quantdesk.config import CoinbaseSettings, get_settings
from quantdesk.data.sources.http_client import HttpOptions, VenueHttpClient
from quantdesk.data.sources.venue_bars import (
    candles_to_frame,
)
from quantdesk.data.sources.venue_source import VenueSource
from quantdesk.domain import Granularity, MalformedResponseError, Venue

MAX_CANDLES_PER_REQUEST = 350
CANDLES_PATH = "/api/v3/brokerage/market/products/{product_id}/candles"

GRANULARITIES: dict[Granularity, str] = {
    Granularity.M1: "ONE_MINUTE",
    Granularity.M5: "FIVE_MINUTE",
    Granularity.M15: "FIFTEEN_MINUTE",
    Granularity.H1: "ONE_HOUR",
    Granularity.H6: "SIX_HOUR",
    Granularity.D1: "ONE_DAY",
}
_FIELDS = ("open", "high", "low", "close", "volume")


class CoinbaseSource(VenueSource):
    """Bars from Coinbase Advanced Trade's public candles endpoint (no credentials needed)."""

    venue = Venue.COINBASE

    def __init__(
        self,
        settings: CoinbaseSettings | None = None,
        *,
        options: HttpOptions | None = None,
        max_candles_per_request: int = MAX_CANDLES_PER_REQUEST,
    ) -> None:
        if max_candles_per_request < 2:
            raise ValueError("max_candles_per_request must be >= 2 (pages overlap by one)")
        self.settings = settings or get_settings().coinbase
        self.options = options or HttpOptions()
        self.max_candles_per_request = max_candles_per_request
        self._http = VenueHttpClient(self.venue, self.settings.base_url, self.options)
        self._http.register_secret(self.settings.api_key)
        self._http.register_secret(self.settings.api_secret)

    def __repr__(self) -> str:
        return f"CoinbaseSource(base_url={self._http.base_url!r})"

    def fetch_bars(
        self, symbol: str, granularity: Granularity | str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        granularity, start, end = self._checked_request(
            symbol, granularity, start, end, GRANULARITIES
        )
        now = self.options.clock.now()
        step = int(granularity.duration.total_seconds())
        first = math.floor(start.timestamp() / step) * step  # candles are epoch-aligned
        last = min(math.ceil(end.timestamp()), math.floor(now.timestamp()))
        path = CANDLES_PATH.format(product_id=symbol)
        rows: list[dict[str, Any]] = []
        page_start = first
        while page_start < last:
            page_end = min(page_start + (self.max_candles_per_request - 1) * step, last)
            params = {
                "start": str(page_start),
                "end": str(page_end),
                "granularity": GRANULARITIES[granularity],
            }
            rows.extend(_parse_candles(self._http.get_json(path, params=params)))
            if page_end >= last:
                break
            page_start = page_end
        return candles_to_frame(
            symbol=symbol,
            venue=self.venue,
            granularity=granularity,
            open_times=pd.to_datetime([r["start"] for r in rows], unit="s", utc=True),
            columns={f: [r[f] for r in rows] for f in _FIELDS},
            start=start,
            end=end,
            now=now.astimezone(UTC),
        )


def _parse_candles(body: Any) -> list[dict[str, Any]]:
    """Numbers out of one page; raises on anything but the documented shape."""
    if not isinstance(body, dict) or not isinstance(body.get("candles"), list):
        raise MalformedResponseError("coinbase: candles answer has no 'candles' list")
    rows: list[dict[str, Any]] = []
    for index, candle in enumerate(body["candles"]):
        if not isinstance(candle, dict):
            raise MalformedResponseError(f"coinbase: candle {index} is not an object")
        try:
            row: dict[str, Any] = {"start": int(candle["start"])}
            row.update({f: float(candle[f]) for f in _FIELDS})
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"coinbase: candle {index} is malformed ({type(exc).__name__}: {exc})"
            ) from None
        rows.append(row)
    return rows
