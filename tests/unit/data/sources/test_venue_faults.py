"""Failure handling that every venue source shares, run against each venue's replay endpoint.

Each test injects a fault into the replay server, fetches one page over real HTTP and asserts
what came back, how many requests the server saw, and how long the client (fake-)slept.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from quantdesk.data.replay_server import Fault, ReplayServer
from quantdesk.data.sources.base import BarSource
from quantdesk.domain import (
    AuthenticationError,
    Granularity,
    InvalidDateRangeError,
    MalformedResponseError,
    RateLimitedError,
    UnknownGranularityError,
    UnknownSymbolError,
    Venue,
    VenueUnavailableError,
)

VENUES = [Venue.COINBASE, Venue.OANDA, Venue.ROBINHOOD]
Page = dict[Venue, tuple[str, Granularity, datetime, datetime]]


def _data_requests(replay: ReplayServer, venue: Venue) -> int:
    """Market-data requests only (a Robinhood fetch also logs in first)."""
    return replay.request_count(venue) - replay.request_count(venue, path_contains="oauth2")


@pytest.mark.parametrize("venue", VENUES)
def test_source_is_a_bar_source(venue: Venue, make_source) -> None:
    source = make_source(venue)

    assert isinstance(source, BarSource)
    assert source.venue is venue
    assert source.list_instruments()
    assert all(i.venue is venue for i in source.list_instruments())


@pytest.mark.parametrize("venue", VENUES)
def test_fetch_bars_after_two_429s_honors_retry_after_then_succeeds(
    venue: Venue, make_source, replay: ReplayServer, clock, one_page: Page
) -> None:
    # Arrange
    replay.inject(venue, Fault.RATE_LIMIT, times=2, retry_after="2")
    source = make_source(venue)

    # Act
    bars = source.fetch_bars(*one_page[venue])

    # Assert
    assert len(bars) == 48
    assert _data_requests(replay, venue) == 3
    assert replay.request_count(venue, fault=Fault.RATE_LIMIT) == 2
    assert clock.sleeps == [2.0, 2.0]


@pytest.mark.parametrize("venue", VENUES)
def test_fetch_bars_with_retry_after_as_http_date_waits_until_that_date(
    venue: Venue, make_source, replay: ReplayServer, clock, one_page: Page
) -> None:
    when = clock.now() + timedelta(seconds=7)
    replay.inject(venue, Fault.RATE_LIMIT, retry_after=when.strftime("%a, %d %b %Y %H:%M:%S GMT"))

    bars = make_source(venue).fetch_bars(*one_page[venue])

    assert len(bars) == 48
    assert clock.sleeps == [7.0]


@pytest.mark.parametrize("venue", VENUES)
def test_fetch_bars_after_two_5xx_backs_off_with_jitter_then_succeeds(
    venue: Venue, make_source, replay: ReplayServer, clock, one_page: Page
) -> None:
    replay.inject(venue, Fault.SERVER_ERROR, times=2, status=502)

    bars = make_source(venue).fetch_bars(*one_page[venue])

    assert len(bars) == 48
    assert _data_requests(replay, venue) == 3
    first, second = clock.sleeps
    assert 0.0 <= first <= 0.5  # full jitter: uniform in [0, base * 2**0]
    assert 0.0 <= second <= 1.0  # then [0, base * 2**1]


@pytest.mark.parametrize("venue", VENUES)
def test_fetch_bars_when_5xx_persists_raises_venue_unavailable_after_max_attempts(
    venue: Venue, make_source, replay: ReplayServer, clock, one_page: Page
) -> None:
    replay.inject(venue, Fault.SERVER_ERROR, times=10)

    with pytest.raises(VenueUnavailableError, match="gave up after 4 attempt"):
        make_source(venue).fetch_bars(*one_page[venue])

    assert _data_requests(replay, venue) == 4  # TEST_RETRY.max_attempts
    assert len(clock.sleeps) == 3


@pytest.mark.parametrize("venue", VENUES)
def test_fetch_bars_when_retry_after_exceeds_wait_budget_raises_rate_limited_at_once(
    venue: Venue, make_source, replay: ReplayServer, clock, one_page: Page
) -> None:
    replay.inject(venue, Fault.RATE_LIMIT, times=5, retry_after="600")  # budget is 60 s

    with pytest.raises(RateLimitedError) as caught:
        make_source(venue).fetch_bars(*one_page[venue])

    assert caught.value.retry_after == 600.0
    assert _data_requests(replay, venue) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("venue", VENUES)
def test_fetch_bars_after_a_timeout_retries_then_succeeds(
    venue: Venue, make_source, replay: ReplayServer, clock, http_options, one_page: Page
) -> None:
    # Arrange: the first answer comes after 1 s; the client waits 0.2 s.
    replay.inject(venue, Fault.DELAY, delay_s=1.0)
    source = make_source(venue, options=replace(http_options, timeout_s=0.2))

    # Act
    bars = source.fetch_bars(*one_page[venue])

    # Assert
    assert len(bars) == 48
    assert _data_requests(replay, venue) == 2
    assert replay.request_count(venue, fault=Fault.DELAY) == 1
    assert len(clock.sleeps) == 1


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.parametrize("fault", [Fault.MALFORMED_JSON, Fault.MALFORMED_PAYLOAD])
def test_fetch_bars_on_malformed_answer_raises_without_retry(
    venue: Venue, fault: Fault, make_source, replay: ReplayServer, clock, one_page: Page
) -> None:
    replay.inject(venue, fault)

    with pytest.raises(MalformedResponseError):
        make_source(venue).fetch_bars(*one_page[venue])

    assert _data_requests(replay, venue) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("venue", VENUES)
def test_fetch_bars_on_401_raises_authentication_error_without_retry(
    venue: Venue, make_source, replay: ReplayServer, clock, one_page: Page
) -> None:
    replay.inject(venue, Fault.UNAUTHORIZED, times=3)

    with pytest.raises(AuthenticationError):
        make_source(venue).fetch_bars(*one_page[venue])

    assert _data_requests(replay, venue) == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"symbol": "DOGE-USD"}, UnknownSymbolError),  # not in the catalogue
        ({"symbol": "SPX"}, UnknownSymbolError),  # in the catalogue, on no venue of ours
        ({"granularity": "2h"}, UnknownGranularityError),
        ({"swap": True}, InvalidDateRangeError),
        ({"naive": True}, InvalidDateRangeError),
    ],
)
def test_fetch_bars_with_invalid_input_raises_before_any_request(
    venue: Venue, change: dict[str, object], error: type[Exception], make_source, replay, one_page
) -> None:
    symbol, granularity, start, end = one_page[venue]
    symbol = str(change.get("symbol", symbol))
    granularity = change.get("granularity", granularity)  # type: ignore[assignment]
    if change.get("swap"):
        start, end = end, start
    if change.get("naive"):
        start = start.replace(tzinfo=None)

    with pytest.raises(error):
        make_source(venue).fetch_bars(symbol, granularity, start, end)

    assert replay.request_count() == 0


@pytest.mark.parametrize(
    ("venue", "symbol"),
    [(Venue.COINBASE, "AAPL"), (Venue.OANDA, "BTC-USD"), (Venue.ROBINHOOD, "EUR-USD")],
)
def test_fetch_bars_for_another_venues_symbol_raises_unknown_symbol(
    venue: Venue, symbol: str, make_source, replay, one_page: Page
) -> None:
    _, granularity, start, end = one_page[venue]

    with pytest.raises(UnknownSymbolError, match=venue.value):
        make_source(venue).fetch_bars(symbol, granularity, start, end)

    assert replay.request_count() == 0
