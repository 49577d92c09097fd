"""The scheduled ingest and gate: which bars an interval covers, and what a failure does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from quantdesk.config import Settings, load_settings
from quantdesk.data.calendars import expected_open_times
from quantdesk.data.lake import Lake, Zone
from quantdesk.domain import (
    AssetClass,
    DataQualityError,
    Granularity,
    InvalidInputError,
    TradingCalendar,
)
from quantdesk.pipelines.market_data import (
    due_window,
    ingest_due_bars,
    ingest_market_data,
    validate_recent_market_data,
)

UTC_HOUR = timedelta(hours=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("asset_class", "granularity", "start", "expected"),
    [
        # The crypto bar opening 14:00 closes at 15:00: due in the 15:00-16:00 run.
        (AssetClass.CRYPTO, Granularity.H1, "2024-03-06 15:00",
         ("2024-03-06 14:00", "2024-03-06 15:00")),
        # The crypto daily bar of 5 March is known at midnight.
        (AssetClass.CRYPTO, Granularity.D1, "2024-03-06 00:00",
         ("2024-03-05 00:00", "2024-03-06 00:00")),
        (AssetClass.CRYPTO, Granularity.D1, "2024-03-06 01:00", None),
        # NYSE closes 16:00 New York = 21:00 UTC in winter (March 6th, before DST).
        (AssetClass.EQUITY, Granularity.D1, "2024-03-06 21:00",
         ("2024-03-06 00:00", "2024-03-07 00:00")),
        (AssetClass.EQUITY, Granularity.D1, "2024-03-06 20:00", None),
        (AssetClass.EQUITY, Granularity.D1, "2024-03-09 21:00", None),  # a Saturday
        (AssetClass.FX, Granularity.H1, "2024-03-09 12:00", None),  # FX weekend
        (AssetClass.FX, Granularity.H1, "2024-03-06 12:00",
         ("2024-03-06 11:00", "2024-03-06 12:00")),
    ],
)  # fmt: skip
def test_due_window_covers_exactly_the_bars_completed_in_the_interval(
    asset_class: AssetClass,
    granularity: Granularity,
    start: str,
    expected: tuple[str, str] | None,
) -> None:
    window = due_window(asset_class, granularity, at(start), at(start) + UTC_HOUR)

    assert window == (None if expected is None else (at(expected[0]), at(expected[1])))


def test_due_windows_of_consecutive_intervals_tile_a_week_without_gaps_or_overlaps() -> None:
    hours = [at("2024-03-04 00:00") + i * UTC_HOUR for i in range(24 * 7)]

    windows = [due_window(AssetClass.FX, Granularity.H1, h, h + UTC_HOUR) for h in hours]
    covered = [w for w in windows if w is not None]

    opens = [w[0] + i * UTC_HOUR for w in covered for i in range((w[1] - w[0]) // UTC_HOUR)]
    expected = expected_open_times(
        TradingCalendar.FX_24_5, Granularity.H1, opens[0], hours[-1] + UTC_HOUR
    )

    assert opens == sorted(set(opens))  # no bar twice
    assert opens == [t.to_pydatetime() for t in expected if t < opens[-1] + UTC_HOUR]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path / "home", universe=["SPX", "BTC-USD", "ETH-USD"])


def test_ingest_due_bars_writes_the_hour_of_crypto_and_a_rerun_changes_nothing(
    settings: Settings,
) -> None:
    start = at("2012-06-05 00:00")

    first = ingest_due_bars(
        settings, asset_class="crypto", interval_start=start, interval_end=start + UTC_HOUR
    )
    again = ingest_due_bars(
        settings, asset_class="crypto", interval_start=start, interval_end=start + UTC_HOUR
    )

    assert first.symbols == ("BTC-USD", "ETH-USD")
    assert [r.granularity for r in first.runs] == ["1h", "1d"]  # midnight: the daily bar too
    assert first.rows == 4 and [r.new for r in first.runs] == [2, 2]
    assert [r.unchanged for r in again.runs] == [2, 2] and [r.new for r in again.runs] == [0, 0]


def test_ingest_due_bars_refuses_a_symbol_of_another_asset_class(settings: Settings) -> None:
    with pytest.raises(InvalidInputError, match="SPX is not a crypto"):
        ingest_due_bars(
            settings, asset_class="crypto", symbols=["SPX"],
            interval_start=at("2012-06-05 00:00"), interval_end=at("2012-06-05 01:00"),
        )  # fmt: skip


def test_validate_recent_on_a_young_lake_passes_without_counting_time_before_it(
    settings: Settings,
) -> None:
    # Arrange: the lake's first three hours of crypto (a new deployment).
    start = at("2012-06-05 10:00")
    for hour in range(3):
        begin = start + hour * UTC_HOUR
        ingest_due_bars(
            settings, asset_class="crypto", interval_start=begin, interval_end=begin + UTC_HOUR
        )

    # Act
    results = validate_recent_market_data(settings, end=start + 3 * UTC_HOUR)

    # Assert
    assert all(r.passed for r in results)
    clean = Lake(settings.lake_dir).read_bars(
        ["BTC-USD", "ETH-USD"], start - UTC_HOUR, start + 3 * UTC_HOUR, granularity="1h"
    )
    assert len(clean) == 6


def test_validate_recent_quarantines_alerts_and_raises_on_a_bad_batch(settings: Settings) -> None:
    # Arrange: a week of good daily crypto bars, then a corrupt delivery of one day.
    end = at("2012-06-08 00:00")
    ingest_market_data(
        settings, source="embedded", symbols=["BTC-USD", "ETH-USD"],
        start=end - timedelta(days=7), end=end,
    )  # fmt: skip
    lake = Lake(settings.lake_dir)
    raw = lake.read_bars(["BTC-USD"], end - timedelta(days=7), end, zone=Zone.RAW)
    bad = raw.tail(1).assign(low=raw["high"].tail(1) * 2, available_at=pd.Timestamp(end))
    lake.write_bars(bad, Zone.RAW)

    # Act
    with pytest.raises(DataQualityError, match="quarantined"):
        validate_recent_market_data(settings, end=end + UTC_HOUR)

    # Assert: quarantined, alerted, and the clean zone got nothing of that batch.
    assert len(lake.list_quarantine()) == 1
    outbox = (settings.home / "alerts" / "alerts.jsonl").read_text().splitlines()
    alert = json.loads(outbox[-1])["alert"]
    assert alert["severity"] == "critical" and "quality gate" in alert["title"]
    assert lake.read_bars(["BTC-USD"], end - timedelta(days=7), end).empty
