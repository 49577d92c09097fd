"""Real history shipped in packages: what it holds, how it is labelled, and its errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from quantdesk.config import load_settings
from quantdesk.data.sources.bundled import DATASETS, BundledSource
from quantdesk.data.sources.embedded import EmbeddedSource
from quantdesk.data.sources.source_factory import make_source
from quantdesk.domain import (
    Granularity,
    InvalidDateRangeError,
    InvalidInputError,
    UnknownGranularityError,
    UnknownSymbolError,
    Venue,
)

ALL_TIME = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(("symbol", "granularity"), sorted(DATASETS))
def test_fetch_bars_every_dataset_is_canonical_sorted_and_known_at_bar_close(
    symbol: str, granularity: Granularity
) -> None:
    bars = BundledSource().fetch_bars(symbol, granularity, *ALL_TIME)

    assert len(bars) > 2000
    assert bars["open_time"].is_monotonic_increasing and bars["open_time"].is_unique
    assert (bars["venue"] == Venue.BUNDLED.value).all()
    assert (bars["available_at"] > bars["open_time"]).all()
    assert (bars[["open", "high", "low", "close"]] > 0).all().all()


def test_fetch_bars_sp500_holds_the_real_1999_to_2018_history() -> None:
    bars = BundledSource().fetch_bars("SPX", Granularity.D1, *ALL_TIME)

    assert len(bars) == 5031
    assert bars["open_time"].iloc[0] == pd.Timestamp("1999-01-04", tz=UTC)
    assert bars["open_time"].iloc[-1] == pd.Timestamp("2018-12-31", tz=UTC)
    # A winter session closes 16:00 New York = 21:00 UTC; a summer one at 20:00 UTC.
    assert bars["available_at"].iloc[0] == pd.Timestamp("1999-01-04 21:00", tz=UTC)
    july = bars[bars["open_time"] == pd.Timestamp("2008-07-01", tz=UTC)]
    assert july["available_at"].iloc[0] == pd.Timestamp("2008-07-01 20:00", tz=UTC)


def test_fetch_bars_equities_are_split_adjusted() -> None:
    # AAPL split 2:1 on 2005-02-28: raw closes halve overnight, adjusted ones do not.
    bars = BundledSource().fetch_bars(
        "AAPL", "1d", datetime(2005, 2, 24, tzinfo=UTC), datetime(2005, 3, 3, tzinfo=UTC)
    )

    step = bars["close"].pct_change().abs().max()

    assert step < 0.1


def test_fetch_bars_window_is_half_open_and_may_be_empty() -> None:
    source = BundledSource()
    start, end = datetime(2010, 1, 4, tzinfo=UTC), datetime(2010, 1, 8, tzinfo=UTC)

    bars = source.fetch_bars("SPX", "1d", start, end)
    nothing = source.fetch_bars("SPX", "1d", datetime(2025, 1, 1, tzinfo=UTC), ALL_TIME[1])

    assert list(bars["open_time"].dt.day) == [4, 5, 6, 7]
    assert nothing.empty and list(nothing.columns) == list(bars.columns)


@pytest.mark.parametrize(
    ("symbol", "granularity", "start", "error", "named"),
    [
        ("BTC-USD", "1d", ALL_TIME[0], UnknownSymbolError, "BTC-USD"),
        ("NOPE", "1d", ALL_TIME[0], UnknownSymbolError, "NOPE"),
        ("SPX", "1h", ALL_TIME[0], UnknownGranularityError, "1h"),
        ("SPX", "1d", ALL_TIME[1], InvalidDateRangeError, "reversed"),
    ],
)
def test_fetch_bars_bad_input_raises_naming_it(
    symbol: str, granularity: str, start: datetime, error: type[InvalidInputError], named: str
) -> None:
    with pytest.raises(error, match=named):
        BundledSource().fetch_bars(symbol, granularity, start, ALL_TIME[1])


def test_embedded_source_serves_real_history_where_shipped_and_synthetic_elsewhere() -> None:
    source = make_source("embedded", load_settings(home="/tmp/unused-home"))
    start, end = datetime(2010, 1, 1, tzinfo=UTC), datetime(2010, 3, 1, tzinfo=UTC)

    equity = source.fetch_bars("SPX", "1d", start, end)
    crypto = source.fetch_bars("BTC-USD", "1d", start, end)

    assert isinstance(source, EmbeddedSource)
    assert set(equity["venue"]) == {Venue.BUNDLED.value}
    assert set(crypto["venue"]) == {Venue.SYNTHETIC.value}
    assert len(crypto) == 59  # crypto trades every day of January and February 2010
