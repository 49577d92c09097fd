"""Fixtures for the venue sources: a deterministic bar frame, a replay server, a fake clock.

Every source test runs the real client over real HTTP against ``replay_server``; only time is
faked (``FakeClock``), so backoff, ``Retry-After`` and pacing cost no wall time.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import SecretStr

from quantdesk.config import CoinbaseSettings, OandaSettings, RobinhoodSettings
from quantdesk.data.replay_server import ReplayServer, start_replay_server
from quantdesk.data.sources.coinbase import CoinbaseSource
from quantdesk.data.sources.http_client import HttpOptions
from quantdesk.data.sources.oanda import OandaSource
from quantdesk.data.sources.retry import RetryPolicy
from quantdesk.data.sources.robinhood import RobinhoodSource
from quantdesk.data.sources.throttle import TokenBucket
from quantdesk.domain import Granularity, Venue

END = datetime(2024, 3, 1, tzinfo=UTC)  # every replayed series ends here: the replay's "now"
TEST_RETRY = RetryPolicy(max_attempts=4, base_delay_s=0.5, max_delay_s=8.0, max_total_wait_s=60.0)

# (symbol, granularity, bars): Coinbase crypto, OANDA FX, Robinhood equities.
SERIES: tuple[tuple[str, Granularity, int], ...] = (
    *(("BTC-USD", g, 1000 if g is Granularity.H1 else 120) for g in Granularity),
    *(("EUR-USD", g, 12000 if g is Granularity.M5 else 120) for g in Granularity),
    ("AAPL", Granularity.M5, 300),
    ("AAPL", Granularity.H1, 300),
    ("AAPL", Granularity.D1, 300),
)


def walk_bars(
    symbol: str, granularity: Granularity, n: int, end: datetime = END, seed: int = 0
) -> pd.DataFrame:
    """``n`` bars of a seeded geometric random walk ending at ``end`` (canonical columns)."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.002, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.002, n))
    open_time = pd.date_range(end=end - granularity.duration, periods=n, freq=granularity.duration)
    return pd.DataFrame(
        {
            "symbol": symbol,
            "venue": Venue.SYNTHETIC.value,
            "granularity": granularity.value,
            "open_time": open_time,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": rng.integers(1, 10_000, n).astype("float64"),
            "available_at": open_time + granularity.duration,
        }
    )


class FakeClock:
    """A fixed wall clock and a monotonic clock that only ``sleep`` moves; sleeps recorded."""

    def __init__(self, now: datetime) -> None:
        self._now = now
        self._monotonic = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._now

    def set_now(self, now: datetime) -> None:
        self._now = now

    def monotonic(self) -> float:
        return self._monotonic

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._monotonic += max(0.0, seconds)


@pytest.fixture(scope="session")
def replay_bars() -> pd.DataFrame:
    frames = [walk_bars(s, g, n, seed=i) for i, (s, g, n) in enumerate(SERIES)]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="session")
def _session_server(replay_bars: pd.DataFrame) -> Iterator[ReplayServer]:
    with start_replay_server(replay_bars) as server:
        yield server


@pytest.fixture
def replay(_session_server: ReplayServer) -> ReplayServer:
    """The shared replay server with no pending faults and an empty request log."""
    _session_server.clear_faults()
    _session_server.reset_log()
    return _session_server


@pytest.fixture
def clock(replay: ReplayServer) -> FakeClock:
    return FakeClock(replay.now)


@pytest.fixture
def http_options(clock: FakeClock) -> HttpOptions:
    """Fake time, an unlimited bucket (pacing has its own tests), seeded jitter, short timeout."""
    return HttpOptions(
        timeout_s=2.0,
        retry=TEST_RETRY,
        clock=clock,
        rng=random.Random(7),
        throttle=TokenBucket(1e9, 1e9, clock),
    )


SourceFactory = Callable[..., Any]


@pytest.fixture
def make_source(replay: ReplayServer, http_options: HttpOptions) -> Iterator[SourceFactory]:
    """``make_source(venue, options=None, server=None, **settings)`` -> a source on the replay."""
    made: list[Any] = []

    def factory(
        venue: Venue,
        options: HttpOptions | None = None,
        server: ReplayServer | None = None,
        **settings: Any,
    ) -> Any:
        target = server or replay
        opts = options or http_options
        creds = target.credentials
        source: Any
        if venue is Venue.COINBASE:
            source = CoinbaseSource(CoinbaseSettings(base_url=target.base_url), options=opts)
        elif venue is Venue.OANDA:
            values = {"base_url": target.base_url, "token": SecretStr(creds.oanda_token)}
            source = OandaSource(OandaSettings(**{**values, **settings}), options=opts)
        else:
            values = {
                "base_url": target.base_url,
                "username": SecretStr(creds.robinhood_username),
                "password": SecretStr(creds.robinhood_password),
            }
            source = RobinhoodSource(RobinhoodSettings(**{**values, **settings}), options=opts)
        made.append(source)
        return source

    yield factory
    for source in made:
        source.close()


# One single-request fetch per venue, for the tests that are the same at every venue.
ONE_PAGE: dict[Venue, tuple[str, Granularity, datetime, datetime]] = {
    Venue.COINBASE: ("BTC-USD", Granularity.H1, END - timedelta(hours=48), END),
    Venue.OANDA: ("EUR-USD", Granularity.H1, END - timedelta(hours=48), END),
    Venue.ROBINHOOD: ("AAPL", Granularity.H1, END - timedelta(hours=48), END),
}


@pytest.fixture
def one_page() -> dict[Venue, tuple[str, Granularity, datetime, datetime]]:
    return ONE_PAGE


BarsCheck = Callable[[pd.DataFrame, str, Granularity, datetime, datetime], None]


@pytest.fixture
def assert_replayed_bars(replay_bars: pd.DataFrame) -> BarsCheck:
    """Assert a fetched frame holds exactly the replayed bars of ``symbol`` in [start, end)."""

    def check(
        fetched: pd.DataFrame, symbol: str, granularity: Granularity, start: datetime, end: datetime
    ) -> None:
        rows = replay_bars[
            (replay_bars["symbol"] == symbol)
            & (replay_bars["granularity"] == granularity.value)
            & (replay_bars["open_time"] >= start)
            & (replay_bars["open_time"] < end)
        ]
        expected = rows.sort_values("open_time").reset_index(drop=True)
        assert fetched["open_time"].is_unique
        assert fetched["open_time"].is_monotonic_increasing
        assert (fetched["symbol"] == symbol).all()
        assert (fetched["granularity"] == granularity.value).all()
        columns = ["open_time", "open", "high", "low", "close", "volume", "available_at"]
        pd.testing.assert_frame_equal(
            fetched[columns].reset_index(drop=True), expected[columns], check_exact=True
        )

    return check
