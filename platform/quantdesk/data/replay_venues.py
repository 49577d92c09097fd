"""The three venues' market-data endpoints, answered from a canonical bar frame.

Pure request -> reply functions used by ``replay_server``: each speaks its venue's real wire
format (field names, string-typed numbers, ordering, paging parameters and caps, error shapes)
so the venue sources can be tested end to end over real HTTP without the internet.

The venue rules here (granularity names, caps, spans, paging semantics) are written out again
rather than imported from ``quantdesk.data.sources``: the emulation must not share a mistake
with the client it checks. Only TOTP is shared; it is checked against RFC 6238's vectors.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from quantdesk.data.bars import normalize_bar_frame
from quantdesk.data.sources.robinhood import totp  # an RFC 6238 function, tested on its own
from quantdesk.domain import Granularity

COINBASE_MAX_CANDLES = 350
OANDA_MAX_COUNT = 5000
OANDA_DEFAULT_COUNT = 500
OANDA_HALF_SPREAD = 0.00005  # bid/ask = mid -/+ this fraction of the candle's open

_COINBASE_SECONDS = {
    "ONE_MINUTE": 60, "FIVE_MINUTE": 300, "FIFTEEN_MINUTE": 900, "THIRTY_MINUTE": 1800,
    "ONE_HOUR": 3600, "TWO_HOUR": 7200, "SIX_HOUR": 21600, "ONE_DAY": 86400,
}  # fmt: skip
_OANDA_SECONDS = {
    "S5": 5, "S10": 10, "S15": 15, "S30": 30, "M1": 60, "M2": 120, "M4": 240, "M5": 300,
    "M10": 600, "M15": 900, "M30": 1800, "H1": 3600, "H2": 7200, "H3": 10800, "H4": 14400,
    "H6": 21600, "H8": 28800, "H12": 43200, "D": 86400, "W": 604800,
}  # fmt: skip
_ROBINHOOD_INTERVAL_SECONDS = {
    "5minute": 300, "10minute": 600, "hour": 3600, "day": 86400, "week": 604800,
}  # fmt: skip
_ROBINHOOD_SPANS = {
    "day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=31),
    "3month": timedelta(days=92), "year": timedelta(days=366),
    "5year": timedelta(days=5 * 366), "all": timedelta(days=365 * 100),
}  # fmt: skip
_BY_SECONDS = {int(g.duration.total_seconds()): g for g in Granularity}


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReplayCredentials:
    """What the emulated venues accept. Test values only; never real credentials."""

    oanda_token: str = "replay-oanda-token"
    robinhood_username: str = "replay-user@example.com"
    robinhood_password: str = "replay-password"
    robinhood_mfa_secret: str | None = None


@dataclass(frozen=True, slots=True)
class _Series:
    """One symbol at one granularity: open times (epoch seconds) and OHLCV, ascending."""

    times: np.ndarray
    ohlcv: np.ndarray  # shape (n, 5)


class BarStore:
    """The replayed bars, indexed by (symbol, granularity), as of a replay ``now``."""

    def __init__(self, bars: pd.DataFrame, now: datetime | None = None) -> None:
        frame = normalize_bar_frame(bars).drop_duplicates(
            ["symbol", "granularity", "open_time"], keep="last"
        )
        self._series: dict[tuple[str, Granularity], _Series] = {}
        for (symbol, granularity), group in frame.groupby(["symbol", "granularity"], sort=False):
            group = group.sort_values("open_time")
            times = group["open_time"].astype("int64").to_numpy() // 1_000_000_000
            ohlcv = group[["open", "high", "low", "close", "volume"]].to_numpy(dtype="float64")
            self._series[(str(symbol), Granularity(str(granularity)))] = _Series(times, ohlcv)
        if now is None:
            closes = [
                int(s.times[-1]) + int(g.duration.total_seconds())
                for (_, g), s in self._series.items()
                if len(s.times)
            ]
            now = datetime.fromtimestamp(max(closes), UTC) if closes else datetime.now(UTC)
        self.now = now.astimezone(UTC)
        self.now_s = int(self.now.timestamp())

    def symbols(self) -> set[str]:
        return {symbol for symbol, _ in self._series}

    def window(
        self, symbol: str, seconds: int, lo: float, hi: float, *, hi_inclusive: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bars opened in ``[lo, hi)`` (``[lo, hi]`` if inclusive) and before ``now``."""
        granularity = _BY_SECONDS.get(seconds)
        series = self._series.get((symbol, granularity)) if granularity else None
        if series is None:
            return np.empty(0, dtype="int64"), np.empty((0, 5))
        a = int(np.searchsorted(series.times, lo, side="left"))
        b = int(np.searchsorted(series.times, hi, side="right" if hi_inclusive else "left"))
        b = min(b, int(np.searchsorted(series.times, self.now_s, side="left")))
        return series.times[a:b], series.ohlcv[a:b]

    def is_complete(self, open_s: int, seconds: int) -> bool:
        return open_s + seconds <= self.now_s


class TokenBook:
    """Bearer tokens the emulated Robinhood issued (thread-safe)."""

    def __init__(self) -> None:
        self._tokens: set[str] = set()
        self._lock = threading.Lock()

    def issue(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens.add(token)
        return token

    def issued(self) -> list[str]:
        with self._lock:
            return sorted(self._tokens)

    def valid(self, token: str) -> bool:
        with self._lock:
            return token in self._tokens


def _num(value: float) -> str:
    """Shortest string that reads back as the same float, as the venues send numbers."""
    return repr(float(value))


def _rfc3339_ns(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.000000000Z")


def _parse_time(text: str) -> float:
    """RFC 3339 (any fraction) or UNIX seconds, as OANDA accepts them."""
    try:
        return float(text)
    except ValueError:
        return float(
            pd.Timestamp(text).tz_convert("UTC").timestamp()
        )  # naive input raises TypeError


# --- Coinbase Advanced Trade ---------------------------------------------------------------


def _coinbase_error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error": code, "error_details": message, "message": message})


def coinbase_candles(store: BarStore, product_id: str, query: Mapping[str, str]) -> Reply:
    """``GET /api/v3/brokerage/market/products/{product_id}/candles``: newest first."""
    if product_id not in store.symbols() or "-" not in product_id:
        return _coinbase_error(404, "NOT_FOUND", f"product {product_id} not found")
    seconds = _COINBASE_SECONDS.get(query.get("granularity", ""))
    if seconds is None:
        return _coinbase_error(400, "INVALID_ARGUMENT", "invalid granularity")
    try:
        start, end = int(query["start"]), int(query["end"])
    except (KeyError, ValueError):
        return _coinbase_error(400, "INVALID_ARGUMENT", "start and end must be unix seconds")
    if end < start:
        return _coinbase_error(400, "INVALID_ARGUMENT", "end must not be before start")
    if (end - start) // seconds + 1 > COINBASE_MAX_CANDLES:
        return _coinbase_error(
            400,
            "INVALID_ARGUMENT",
            f"start and end argument is invalid - number of candles requested should be at most "
            f"{COINBASE_MAX_CANDLES}",
        )
    times, ohlcv = store.window(product_id, seconds, start, end, hi_inclusive=True)
    candles = [
        {
            "start": str(int(t)),
            "low": _num(row[2]),
            "high": _num(row[1]),
            "open": _num(row[0]),
            "close": _num(row[3]),
            "volume": _num(row[4]),
        }
        for t, row in zip(times[::-1], ohlcv[::-1], strict=True)
    ]
    return Reply(200, {"candles": candles})


# --- OANDA v20 ------------------------------------------------------------------------------


def _oanda_error(status: int, message: str) -> Reply:
    return Reply(status, {"errorMessage": message})


def oanda_candles(
    store: BarStore,
    instrument: str,
    query: Mapping[str, str],
    authorization: str | None,
    credentials: ReplayCredentials,
) -> Reply:
    """``GET /v3/instruments/{instrument}/candles`` (bearer token required)."""
    if authorization != f"Bearer {credentials.oanda_token}":
        return _oanda_error(401, "Insufficient authorization to perform request.")
    parts = instrument.split("_")
    symbol = "-".join(parts)
    if len(parts) != 2 or symbol not in store.symbols():
        return _oanda_error(400, "Invalid value specified for 'instrument'")
    granularity = query.get("granularity", "S5")
    seconds = _OANDA_SECONDS.get(granularity)
    price = query.get("price", "M")
    if seconds is None or not price or set(price) - set("MBA"):
        return _oanda_error(400, "Invalid value specified for 'granularity' or 'price'")
    try:
        count = int(query["count"]) if "count" in query else None
        lo = _parse_time(query["from"]) if "from" in query else None
        hi = _parse_time(query["to"]) if "to" in query else None
    except (TypeError, ValueError):
        return _oanda_error(400, "Invalid value specified for 'count', 'from' or 'to'")
    if count is not None and lo is not None and hi is not None:
        return _oanda_error(400, "'count' cannot be specified with both 'from' and 'to'")
    if count is not None and not 1 <= count <= OANDA_MAX_COUNT:
        return _oanda_error(400, "Maximum value for 'count' exceeded")
    include_first = query.get("includeFirst", "true").lower() != "false"
    if lo is not None:
        # includeFirst keeps the candle covering `from`; without it only later candles.
        lo = lo - seconds + 1 if include_first else lo + 1
    times, ohlcv = store.window(
        symbol, seconds, lo if lo is not None else 0.0, hi if hi is not None else np.inf
    )
    if lo is not None and hi is not None:
        if len(times) > OANDA_MAX_COUNT:
            return _oanda_error(400, "Maximum value for 'count' exceeded")
    elif lo is not None:
        times, ohlcv = times[: count or OANDA_DEFAULT_COUNT], ohlcv[: count or OANDA_DEFAULT_COUNT]
    else:
        n = count or OANDA_DEFAULT_COUNT
        times, ohlcv = times[-n:], ohlcv[-n:]
    candles = [
        _oanda_candle(int(t), row, seconds, price, store)
        for t, row in zip(times, ohlcv, strict=True)
    ]
    return Reply(200, {"instrument": instrument, "granularity": granularity, "candles": candles})


def _oanda_candle(
    open_s: int, row: np.ndarray, seconds: int, price: str, store: BarStore
) -> dict[str, Any]:
    candle: dict[str, Any] = {
        "complete": store.is_complete(open_s, seconds),
        "volume": round(float(row[4])),
        "time": _rfc3339_ns(open_s),
    }
    spread = float(row[0]) * OANDA_HALF_SPREAD
    for letter, key, shift in (("B", "bid", -spread), ("M", "mid", 0.0), ("A", "ask", spread)):
        if letter in price:
            candle[key] = {k: _num(v + shift) for k, v in zip("ohlc", row[:4], strict=True)}
    return candle


# --- Robinhood ------------------------------------------------------------------------------


def robinhood_login(
    form: Mapping[str, str],
    credentials: ReplayCredentials,
    tokens: TokenBook,
    now: datetime,
) -> Reply:
    """``POST /oauth2/token/``: the password grant, with a TOTP ``mfa_code`` when configured."""
    if form.get("grant_type") != "password" or not form.get("client_id"):
        return Reply(400, {"detail": "unsupported grant"})
    if (form.get("username"), form.get("password")) != (
        credentials.robinhood_username,
        credentials.robinhood_password,
    ):
        return Reply(400, {"detail": "Unable to log in with provided credentials."})
    if credentials.robinhood_mfa_secret:
        code = form.get("mfa_code")
        if not code:
            return Reply(400, {"mfa_required": True, "mfa_type": "app"})
        accepted = {
            totp(credentials.robinhood_mfa_secret, now + timedelta(seconds=30 * k))
            for k in (-1, 0, 1)
        }
        if code not in accepted:
            return Reply(400, {"detail": "Please enter a valid code."})
    body = {
        "access_token": tokens.issue(),
        "refresh_token": secrets.token_urlsafe(24),
        "token_type": "Bearer",
        "expires_in": 86400,
        "scope": "internal",
        "backup_code": None,
    }
    return Reply(200, body)


def robinhood_historicals(
    store: BarStore, query: Mapping[str, str], authorization: str | None, tokens: TokenBook
) -> Reply:
    """``GET /quotes/historicals/?symbols=&interval=&span=&bounds=`` (bearer token required)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != "Bearer" or not tokens.valid(token):
        return Reply(401, {"detail": "Authentication credentials were not provided."})
    interval, span = query.get("interval", "day"), query.get("span", "year")
    bounds = query.get("bounds", "regular")
    seconds, reach = _ROBINHOOD_INTERVAL_SECONDS.get(interval), _ROBINHOOD_SPANS.get(span)
    if seconds is None or reach is None or bounds not in ("regular", "extended", "trading"):
        return Reply(400, {"detail": "Invalid interval, span or bounds."})
    if bounds != "regular" and span != "day":
        return Reply(400, {"detail": "extended and trading bounds need span=day"})
    symbols = [s.strip().upper() for s in query.get("symbols", "").split(",") if s.strip()]
    if not symbols:
        return Reply(400, {"detail": "symbols is required"})
    results: list[dict[str, Any] | None] = []
    for symbol in symbols:
        if symbol not in store.symbols() or "-" in symbol:
            results.append(None)
            continue
        lo = (store.now - reach).timestamp()
        times, ohlcv = store.window(symbol, seconds, lo, np.inf)
        bars = [
            {
                "begins_at": datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "open_price": _num(row[0]),
                "close_price": _num(row[3]),
                "high_price": _num(row[1]),
                "low_price": _num(row[2]),
                "volume": round(float(row[4])),
                "session": "reg",
                "interpolated": False,
            }
            for t, row in zip(times, ohlcv, strict=True)
        ]
        results.append(
            {"symbol": symbol, "interval": interval, "span": span, "bounds": bounds,
             "historicals": bars}
        )  # fmt: skip
    return Reply(200, {"results": results})
