"""Robinhood: equity bars for the US stocks in the catalogue.

Direct HTTP (httpx) rather than robin-stocks, on purpose:

* robin-stocks keeps one module-level session, pickles tokens under ``~/.tokens``, asks for MFA
  codes with ``input()`` and reports many failures by printing instead of raising: none of that
  suits a library running inside DAG workers and an API process.
* We need two endpoints; through our own client they get the venue throttle, retries, the typed
  errors and secret masking that the other venues get, and the replay server can test them.
* It is not a dependency of ours (not in the lock).

Robinhood's API is unofficial. Login is ``POST /oauth2/token/`` (form: password grant with the
username, password and, when the account uses an authenticator app, a TOTP ``mfa_code``); the
answer's bearer token authorizes ``GET /quotes/historicals/?symbols=&interval=&span=&bounds=``,
which answers ``{"results": [{"symbol", "historicals": [{"begins_at", "open_price",
"close_price", "high_price", "low_price", "volume", "interpolated", "session"}]}]}``. There is no
start/end: a ``span`` reaches back from now, so we pick the shortest span covering the request
and cut the range locally; older history must come from the bundled data. Bars Robinhood marks
``interpolated`` (no trades, prices carried over) are dropped, as venues without trades publish
no candle.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from pydantic import SecretStr

from quantdesk.config import RobinhoodSettings, env_var_name, get_settings
from quantdesk.data.sources.http_client import HttpOptions, VenueHttpClient
from quantdesk.data.sources.venue_bars import (
    candles_to_frame,
)
from quantdesk.data.sources.venue_source import VenueSource
from quantdesk.domain import (
    AuthenticationError,
    Granularity,
    InvalidDateRangeError,
    MalformedResponseError,
    MissingCredentialsError,
    UnknownSymbolError,
    Venue,
    to_venue_symbol,
)
from quantdesk.structured_logging import get_logger

LOGIN_PATH = "/oauth2/token/"
HISTORICALS_PATH = "/quotes/historicals/"
# The client id of Robinhood's own web app, public and the same for every user: not a secret.
CLIENT_ID = "c82SH0WZOsabOXGP2sxqcj34FxkvfnWRZBKlBjFS"
USERNAME_ENV_VAR = env_var_name(("robinhood", "username"))
PASSWORD_ENV_VAR = env_var_name(("robinhood", "password"))
MFA_ENV_VAR = env_var_name(("robinhood", "mfa_secret"))
TOKEN_LIFETIME_S = 86400
TOKEN_REFRESH_MARGIN = timedelta(minutes=5)

INTERVALS: dict[Granularity, str] = {
    Granularity.M5: "5minute",
    Granularity.H1: "hour",
    Granularity.D1: "day",
}
# Spans each interval accepts, shortest first, with how far back each surely reaches (calendar
# lengths rounded down, so a span we choose never falls short of the requested start).
SPANS: dict[Granularity, tuple[tuple[str, timedelta], ...]] = {
    Granularity.M5: (("day", timedelta(days=1)), ("week", timedelta(days=7))),
    Granularity.H1: (
        ("week", timedelta(days=7)),
        ("month", timedelta(days=28)),
        ("3month", timedelta(days=89)),
    ),
    Granularity.D1: (
        ("month", timedelta(days=28)),
        ("3month", timedelta(days=89)),
        ("year", timedelta(days=365)),
        ("5year", timedelta(days=5 * 365)),
    ),
}
_PRICES = (
    ("open", "open_price"),
    ("high", "high_price"),
    ("low", "low_price"),
    ("close", "close_price"),
)

_log = get_logger(__name__)


def totp(secret_b32: str, at: datetime, *, step_s: int = 30, digits: int = 6) -> str:
    """RFC 6238 time-based one-time password (HMAC-SHA1), as authenticator apps compute it."""
    cleaned = secret_b32.replace(" ", "").upper()
    key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    counter = int(at.timestamp()) // step_s
    digest = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def choose_span(granularity: Granularity, start: datetime, now: datetime) -> str:
    """The shortest span of ``granularity`` bars that reaches back to ``start``."""
    spans = SPANS[granularity]
    for name, reach in spans:
        if now - reach <= start:
            return name
    oldest = now - spans[-1][1]
    raise InvalidDateRangeError(
        f"robinhood serves {INTERVALS[granularity]} bars back to about {oldest:%Y-%m-%d} only; "
        f"start {start:%Y-%m-%d %H:%M} is earlier (older history comes from the bundled data)"
    )


class RobinhoodSource(VenueSource):
    """Bars from Robinhood's market-data endpoints, logged in with the configured account."""

    venue = Venue.ROBINHOOD

    def __init__(
        self, settings: RobinhoodSettings | None = None, *, options: HttpOptions | None = None
    ) -> None:
        self.settings = settings or get_settings().robinhood
        self.options = options or HttpOptions()
        self._http = VenueHttpClient(self.venue, self.settings.base_url, self.options)
        for secret in (self.settings.username, self.settings.password, self.settings.mfa_secret):
            self._http.register_secret(secret)
        self._device_token = str(uuid.uuid4())
        self._authorization: str | None = None
        self._expires_at: datetime | None = None

    def __repr__(self) -> str:
        return f"RobinhoodSource(base_url={self._http.base_url!r})"

    def fetch_bars(
        self, symbol: str, granularity: Granularity | str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        granularity, start, end = self._checked_request(symbol, granularity, start, end, INTERVALS)
        now = self.options.clock.now()
        span = choose_span(granularity, start, now)
        credentials = self._credentials()
        params = {
            "symbols": to_venue_symbol(symbol, self.venue),
            "interval": INTERVALS[granularity],
            "span": span,
            "bounds": "regular",
        }
        headers = {"Authorization": self._login(credentials, now)}
        body = self._http.get_json(HISTORICALS_PATH, params=params, headers=headers)
        times, rows = _parse_historicals(body, symbol)
        return candles_to_frame(
            symbol=symbol,
            venue=self.venue,
            granularity=granularity,
            open_times=times,
            columns={name: [r[name] for r in rows] for name in (*dict(_PRICES), "volume")},
            start=start,
            end=end,
            now=now,
        )

    def _credentials(self) -> tuple[str, str, str | None]:
        """Username, password and MFA secret; raises naming every missing variable."""
        username = _reveal(self.settings.username)
        password = _reveal(self.settings.password)
        missing = [
            name
            for name, value in ((USERNAME_ENV_VAR, username), (PASSWORD_ENV_VAR, password))
            if not value.strip()
        ]
        if missing:
            raise MissingCredentialsError("Robinhood needs a login: set " + " and ".join(missing))
        return username, password, _reveal(self.settings.mfa_secret).strip() or None

    def _login(self, credentials: tuple[str, str, str | None], now: datetime) -> str:
        """The ``Authorization`` header value, logging in when we have no live token."""
        if self._authorization and self._expires_at and now < self._expires_at:
            return self._authorization
        username, password, mfa_secret = credentials
        form = {
            "grant_type": "password",
            "client_id": CLIENT_ID,
            "scope": "internal",
            "expires_in": str(TOKEN_LIFETIME_S),
            "device_token": self._device_token,
            "username": username,
            "password": password,
        }
        if mfa_secret:
            form["mfa_code"] = totp(mfa_secret, now)
        status, body = self._http.post_form(LOGIN_PATH, data=form, accept=(200, 400))
        if not isinstance(body, dict):
            raise MalformedResponseError("robinhood: login answer is not a JSON object")
        if status == 200:
            return self._accept_token(body, now)
        if body.get("mfa_required"):
            if mfa_secret:
                raise AuthenticationError("robinhood rejected the MFA code; check the TOTP secret")
            raise MissingCredentialsError(
                f"Robinhood asks for an MFA code: set {MFA_ENV_VAR} to the account's TOTP secret"
            )
        if "challenge" in body or "verification_workflow" in body:
            raise AuthenticationError(
                "robinhood wants interactive device verification; approve this device once "
                "in the Robinhood app, then retry"
            )
        detail = self._http.mask(str(body.get("detail", "")))[:200]
        raise AuthenticationError(f"robinhood refused the login (HTTP {status}) {detail}".strip())

    def _accept_token(self, body: dict[str, Any], now: datetime) -> str:
        token, kind = body.get("access_token"), body.get("token_type", "Bearer")
        if not isinstance(token, str) or not token or not isinstance(kind, str):
            raise MalformedResponseError("robinhood: login answer carries no access_token")
        self._http.register_secret(token)
        refresh = body.get("refresh_token")
        if isinstance(refresh, str):
            self._http.register_secret(refresh)
        try:
            lifetime = float(body.get("expires_in", TOKEN_LIFETIME_S))
        except (TypeError, ValueError):
            lifetime = float(TOKEN_LIFETIME_S)
        self._authorization = f"{kind} {token}"
        self._expires_at = now + timedelta(seconds=lifetime) - TOKEN_REFRESH_MARGIN
        _log.info("robinhood.login", expires_in_s=lifetime)
        return self._authorization


def _reveal(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _parse_historicals(body: Any, symbol: str) -> tuple[pd.DatetimeIndex, list[dict[str, Any]]]:
    """Open times and rows of the traded (not interpolated) bars of ``symbol``."""
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise MalformedResponseError("robinhood: historicals answer has no 'results' list")
    entries = [e for e in body["results"] if e is not None]
    entry = next((e for e in entries if isinstance(e, dict) and e.get("symbol") == symbol), None)
    if entry is None:
        raise UnknownSymbolError(f"robinhood has no historicals for {symbol!r}")
    bars = entry.get("historicals")
    if not isinstance(bars, list):
        raise MalformedResponseError(f"robinhood: {symbol} entry has no 'historicals' list")
    stamps: list[str] = []
    rows: list[dict[str, Any]] = []
    for index, bar in enumerate(bars):
        try:
            if bar.get("interpolated", False):
                continue
            row: dict[str, Any] = {name: float(bar[key]) for name, key in _PRICES}
            row["volume"] = float(bar["volume"])
            stamps.append(str(bar["begins_at"]))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"robinhood: bar {index} is malformed ({type(exc).__name__}: {exc})"
            ) from None
        rows.append(row)
    try:
        times = pd.DatetimeIndex(pd.to_datetime(stamps, utc=True, format="ISO8601"))
    except (TypeError, ValueError) as exc:
        raise MalformedResponseError(f"robinhood: unparseable begins_at ({exc})") from None
    return times, rows
