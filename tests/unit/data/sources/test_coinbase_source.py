"""Coinbase Advanced Trade candles over real HTTP against the replay server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from quantdesk.config import CoinbaseSettings
from quantdesk.data.replay_server import ReplayServer, start_replay_server
from quantdesk.data.sources.coinbase import CoinbaseSource
from quantdesk.domain import Granularity, Venue

END = datetime(2024, 3, 1, tzinfo=UTC)
WIRE_NAMES = {
    Granularity.M1: "ONE_MINUTE",
    Granularity.M5: "FIVE_MINUTE",
    Granularity.M15: "FIFTEEN_MINUTE",
    Granularity.H1: "ONE_HOUR",
    Granularity.H6: "SIX_HOUR",
    Granularity.D1: "ONE_DAY",
}


def test_fetch_bars_across_the_350_candle_cap_returns_every_bar_once_in_order(
    make_source, replay: ReplayServer, assert_replayed_bars
) -> None:
    # Arrange: 1000 hourly bars need three pages of at most 350 candles.
    start = END - timedelta(hours=1000)
    source = make_source(Venue.COINBASE)

    # Act
    bars = source.fetch_bars("BTC-USD", Granularity.H1, start, END)

    # Assert
    assert_replayed_bars(bars, "BTC-USD", Granularity.H1, start, END)
    assert len(bars) == 1000
    windows = [r.query for r in replay.requests]
    assert len(windows) == 3
    assert all((int(q["end"]) - int(q["start"])) // 3600 + 1 <= 350 for q in windows)
    assert (bars["venue"] == "coinbase").all()
    assert ((bars["available_at"] - bars["open_time"]) == timedelta(hours=1)).all()


@pytest.mark.parametrize(("granularity", "wire"), list(WIRE_NAMES.items()))
def test_fetch_bars_maps_granularity_to_its_wire_name(
    granularity: Granularity, wire: str, make_source, replay: ReplayServer, assert_replayed_bars
) -> None:
    start = END - 100 * granularity.duration

    bars = make_source(Venue.COINBASE).fetch_bars("BTC-USD", granularity, start, END)

    assert [r.query["granularity"] for r in replay.requests] == [wire]
    assert_replayed_bars(bars, "BTC-USD", granularity, start, END)
    assert len(bars) == 100


def test_fetch_bars_drops_the_candle_still_open_at_now(
    make_source, replay_bars, clock, http_options
) -> None:
    # Arrange: replay "now" half-way through the last hourly candle; Coinbase serves it.
    now = END - timedelta(minutes=30)
    btc = replay_bars[replay_bars["symbol"] == "BTC-USD"]
    with start_replay_server(btc, now=now) as server:
        raw = httpx.get(
            f"{server.base_url}/api/v3/brokerage/market/products/BTC-USD/candles",
            params={
                "start": str(int((END - timedelta(hours=5)).timestamp())),
                "end": str(int(END.timestamp())),
                "granularity": "ONE_HOUR",
            },
        ).json()
        clock.set_now(now)
        source = make_source(Venue.COINBASE, server=server)

        # Act
        bars = source.fetch_bars("BTC-USD", Granularity.H1, END - timedelta(hours=5), END)

    # Assert: the wire had the open candle (newest first), the frame does not.
    newest = datetime.fromtimestamp(int(raw["candles"][0]["start"]), UTC)
    assert newest == END - timedelta(hours=1)
    assert bars["open_time"].max() == END - timedelta(hours=2)
    assert len(bars) == 4


def test_fetch_bars_for_a_range_after_now_returns_nothing_without_a_request(
    make_source, replay: ReplayServer
) -> None:
    bars = make_source(Venue.COINBASE).fetch_bars(
        "BTC-USD", Granularity.H1, END + timedelta(days=1), END + timedelta(days=2)
    )

    assert bars.empty
    assert list(bars.columns)[:3] == ["symbol", "venue", "granularity"]
    assert replay.request_count() == 0


def test_fetch_bars_over_many_pages_is_paced_by_the_venue_bucket(
    replay: ReplayServer, clock, http_options
) -> None:
    # Arrange: the documented 10 req/s with a burst of 10, on the fake clock; 10-candle pages.
    options = replace(http_options, throttle=None)
    source = CoinbaseSource(
        CoinbaseSettings(base_url=replay.base_url), options=options, max_candles_per_request=10
    )

    # Act
    bars = source.fetch_bars("BTC-USD", Granularity.H1, END - timedelta(hours=180), END)
    source.close()

    # Assert: requests beyond the burst waited 0.1 s each.
    requests = replay.request_count(Venue.COINBASE)
    assert len(bars) == 180
    assert requests == 20  # 9 new candles per page (pages overlap by one)
    assert clock.monotonic() == pytest.approx((requests - 10) / 10.0)


def test_source_repr_shows_no_credentials(replay: ReplayServer, http_options) -> None:
    settings = CoinbaseSettings(
        base_url=replay.base_url, api_key=SecretStr("cb-key-4417"), api_secret=SecretStr("cb-s-9")
    )
    source = CoinbaseSource(settings, options=http_options)

    text = repr(source) + repr(source._http)
    source.close()

    assert "cb-key-4417" not in text and "cb-s-9" not in text
