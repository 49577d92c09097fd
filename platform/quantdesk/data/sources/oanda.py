"""OANDA v20: FX candles for the pairs in the catalogue.

``GET /v3/instruments/{EUR_USD}/candles`` with ``Authorization: Bearer <token>`` answers
``{"instrument", "granularity", "candles": [{"time", "volume", "complete", "mid": {"o", "h",
"l", "c"}}]}`` with prices as strings and RFC 3339 times carrying nanoseconds. A request returns at
most 5000 candles, so we page with ``from`` + ``count`` and continue from the last candle with
``includeFirst=false`` (OANDA rejects ``count`` together with both ``from`` and ``to``). The
still-forming candle comes back with ``complete: false`` and is dropped.

We store one price series per bar: mid by default, bid or ask when configured. Daily and 6-hour
candles are aligned to 00:00 UTC (OANDA's default is 17:00 New York) so they line up with the
other venues' bars.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

import pandas as pd

from quantdesk.config import OandaSettings, env_var_name, get_settings
from quantdesk.data.sources.http_client import HttpOptions, VenueHttpClient
from quantdesk.data.sources.venue_bars import (
    candles_to_frame,
)
from quantdesk.data.sources.venue_source import VenueSource
from quantdesk.domain import (
    Granularity,
    MalformedResponseError,
    MissingCredentialsError,
    Venue,
    to_venue_symbol,
)

MAX_CANDLES_PER_REQUEST = 5000
CANDLES_PATH = "/v3/instruments/{instrument}/candles"
TOKEN_ENV_VAR = env_var_name(("oanda", "token"))

PriceComponent = Literal["M", "B", "A"]
PRICE_KEYS: dict[str, str] = {"M": "mid", "B": "bid", "A": "ask"}

GRANULARITIES: dict[Granularity, str] = {
    Granularity.M1: "M1",
    Granularity.M5: "M5",
    Granularity.M15: "M15",
    Granularity.H1: "H1",
    Granularity.H6: "H6",
    Granularity.D1: "D",
}
_OHLC = (("open", "o"), ("high", "h"), ("low", "l"), ("close", "c"))


def rfc3339(moment: datetime) -> str:
    """``2024-01-02T03:04:05.000000Z`` (UTC), the form OANDA accepts for ``from``/``to``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class OandaSource(VenueSource):
    """Bars from the OANDA v20 REST API (practice or live host from settings)."""

    venue = Venue.OANDA

    def __init__(
        self,
        settings: OandaSettings | None = None,
        *,
        options: HttpOptions | None = None,
        price: PriceComponent = "M",
        max_candles_per_request: int = MAX_CANDLES_PER_REQUEST,
    ) -> None:
        if price not in PRICE_KEYS:
            raise ValueError(f"price must be one of {', '.join(PRICE_KEYS)}, got {price!r}")
        if not 1 <= max_candles_per_request <= MAX_CANDLES_PER_REQUEST:
            raise ValueError(f"max_candles_per_request must be in 1..{MAX_CANDLES_PER_REQUEST}")
        self.settings = settings or get_settings().oanda
        self.options = options or HttpOptions()
        self.price = price
        self.max_candles_per_request = max_candles_per_request
        self._http = VenueHttpClient(self.venue, self.settings.resolved_base_url, self.options)
        self._http.register_secret(self.settings.token)
        self._http.register_secret(self.settings.account_id)

    def __repr__(self) -> str:
        return f"OandaSource(base_url={self._http.base_url!r}, price={self.price!r})"

    @property
    def base_url(self) -> str:
        return self._http.base_url

    def fetch_bars(
        self, symbol: str, granularity: Granularity | str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        granularity, start, end = self._checked_request(
            symbol, granularity, start, end, GRANULARITIES
        )
        headers = {
            "Authorization": f"Bearer {self._token()}",
            "Accept-Datetime-Format": "RFC3339",
        }
        now = self.options.clock.now()
        path = CANDLES_PATH.format(instrument=to_venue_symbol(symbol, self.venue))
        step = granularity.duration
        rows: list[dict[str, Any]] = []
        cursor, include_first = start, True
        while cursor < min(end, now):
            first_slot = cursor if include_first else cursor + step
            count = min(self.max_candles_per_request, math.ceil((end - first_slot) / step))
            if count <= 0:
                break
            params = {
                "price": self.price,
                "granularity": GRANULARITIES[granularity],
                "from": rfc3339(cursor),
                "count": str(count),
                "includeFirst": "true" if include_first else "false",
                "dailyAlignment": "0",
                "alignmentTimezone": "UTC",
            }
            body = self._http.get_json(path, params=params, headers=headers)
            times, page = _parse_candles(body, PRICE_KEYS[self.price], GRANULARITIES[granularity])
            rows.extend(page)
            if len(times) < count:
                break  # reached the present
            last = times[-1].to_pydatetime()
            if last <= cursor and not include_first:
                raise MalformedResponseError("oanda: candle paging did not advance")
            cursor, include_first = last, False
        return candles_to_frame(
            symbol=symbol,
            venue=self.venue,
            granularity=granularity,
            open_times=pd.DatetimeIndex([r["time"] for r in rows]),
            columns={name: [r[name] for r in rows] for name in (*dict(_OHLC), "volume")},
            start=start,
            end=end,
            now=now,
        )

    def _token(self) -> str:
        token = self.settings.token.get_secret_value() if self.settings.token else ""
        if not token.strip():
            raise MissingCredentialsError(f"OANDA needs an API token: set {TOKEN_ENV_VAR}")
        return token


def _parse_candles(
    body: Any, price_key: str, granularity: str
) -> tuple[pd.DatetimeIndex, list[dict[str, Any]]]:
    """Times of every candle in one page (they drive paging) and rows of the complete ones."""
    if not isinstance(body, dict) or not isinstance(body.get("candles"), list):
        raise MalformedResponseError("oanda: candles answer has no 'candles' list")
    if body.get("granularity", granularity) != granularity:
        raise MalformedResponseError(
            f"oanda: asked for {granularity} candles, got {body.get('granularity')!r}"
        )
    candles = body["candles"]
    try:
        times = pd.DatetimeIndex(
            pd.to_datetime([c["time"] for c in candles], utc=True, format="ISO8601")
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedResponseError(f"oanda: unparseable candle time ({exc})") from None
    rows: list[dict[str, Any]] = []
    for index, (stamp, candle) in enumerate(zip(times, candles, strict=True)):
        try:
            complete = candle["complete"]
            if not isinstance(complete, bool):
                raise TypeError(f"'complete' is {complete!r}, not a boolean")
            if not complete:
                continue
            prices = candle[price_key]
            row: dict[str, Any] = {name: float(prices[key]) for name, key in _OHLC}
            row["volume"] = float(int(candle["volume"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"oanda: candle {index} is malformed ({type(exc).__name__}: {exc})"
            ) from None
        row["time"] = stamp
        rows.append(row)
    return times, rows
