"""The aggregator: merge, de-duplicate, align to calendars, and score each series."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from quantdesk.data.aggregator import (
    DataAggregator,
    DuplicatePolicy,
    IssueCode,
    QualityThresholds,
    SymbolQuality,
)
from quantdesk.data.calendars import expected_open_times
from quantdesk.domain import (
    AssetClass,
    Granularity,
    InvalidInputError,
    TradingCalendar,
    Venue,
)
from tests.unit.data.bar_frames import (
    bars_at,
    calendar_bars,
    scale_prices,
    set_bar,
    set_flat_price,
)

H1 = Granularity.H1
D1 = Granularity.D1
SAT_JAN_6 = datetime(2024, 1, 6, tzinfo=UTC)  # a Saturday
JAN_1 = datetime(2024, 1, 1, tzinfo=UTC)


def crypto_hours(hours: int = 48, seed: int = 11) -> pd.DataFrame:
    return calendar_bars("BTC-USD", H1, JAN_1, JAN_1 + timedelta(hours=hours), seed=seed)


def only(report_series: tuple[SymbolQuality, ...]) -> SymbolQuality:
    assert len(report_series) == 1
    return report_series[0]


def nyse_daily_open(day: datetime) -> datetime:
    """The open time our NYSE calendar gives the daily bar of ``day`` (a trading day)."""
    times = expected_open_times(TradingCalendar.NYSE, D1, day, day + timedelta(days=1))
    assert len(times) == 1, f"{day:%Y-%m-%d} should be one NYSE session"
    return times[0].to_pydatetime()


def nyse_days(days: list[datetime]) -> list[datetime]:
    """Daily open times for ``days``, at the time of day the calendar uses."""
    offset = nyse_daily_open(datetime(2024, 7, 1, tzinfo=UTC)) - datetime(2024, 7, 1, tzinfo=UTC)
    return [d + offset for d in days]


def test_aggregate_clean_series_scores_one_without_issues() -> None:
    result = DataAggregator().aggregate([crypto_hours()])

    series = only(result.report.series)
    assert series.score == 1.0
    assert series.issues == ()
    assert (series.rows, series.expected_bars, series.missing_bars) == (48, 48, 0)
    assert series.asset_class is AssetClass.CRYPTO
    assert len(result.frame) == 48


def test_aggregate_duplicate_latest_available_at_wins_by_default() -> None:
    original = crypto_hours()
    correction = original.iloc[[3]].copy().reset_index(drop=True)
    correction.loc[0, "available_at"] = original.available_at[3] + pd.Timedelta(hours=5)
    correction.loc[0, "high"] = correction.loc[0, "high"] * 1.001
    correction.loc[0, "venue"] = Venue.SYNTHETIC.value

    result = DataAggregator().aggregate([original, correction])

    kept = result.frame[result.frame.open_time == original.open_time[3]]
    assert len(kept) == 1
    assert kept.available_at.iloc[0] == correction.available_at[0]
    assert kept.venue.iloc[0] == Venue.SYNTHETIC.value
    series = only(result.report.series)
    assert series.duplicates_removed == 1
    assert IssueCode.DUPLICATES_REMOVED in series.issue_codes
    assert len(result.frame) == 48


def test_aggregate_duplicate_venue_priority_prefers_ranked_venue() -> None:
    native = crypto_hours()
    later_synthetic = native.iloc[[3]].copy().reset_index(drop=True)
    later_synthetic["venue"] = Venue.SYNTHETIC.value
    later_synthetic["available_at"] = later_synthetic["available_at"] + pd.Timedelta(hours=5)
    aggregator = DataAggregator(duplicate_policy=DuplicatePolicy.VENUE_PRIORITY)

    result = aggregator.aggregate([later_synthetic, native])

    kept = result.frame[result.frame.open_time == native.open_time[3]]
    assert kept.venue.tolist() == [Venue.COINBASE.value]
    assert only(result.report.series).duplicates_removed == 1


def test_aggregate_saturday_equity_bar_dropped_and_counted() -> None:
    weekdays = [datetime(2024, 7, d, tzinfo=UTC) for d in (1, 2, 3, 5, 8, 9, 10, 11, 12)]
    saturday = datetime(2024, 7, 6, tzinfo=UTC)
    times = nyse_days([*weekdays[:4], saturday, *weekdays[4:]])
    frame = bars_at("AAPL", D1, times)

    result = DataAggregator().aggregate([frame])

    series = only(result.report.series)
    assert series.off_calendar == 1
    assert series.rows == len(weekdays)
    assert IssueCode.OFF_CALENDAR in series.issue_codes
    assert not (result.frame.open_time.dt.dayofweek >= 5).any()
    assert series.score < 1.0


def test_aggregate_weekday_gap_is_missing_but_weekend_and_holiday_are_not() -> None:
    # 1-12 July 2024: two weekends and Independence Day (Thursday 4 July) are not sessions.
    sessions = [datetime(2024, 7, d, tzinfo=UTC) for d in (1, 2, 3, 5, 8, 9, 10, 11, 12)]
    complete = bars_at("AAPL", D1, nyse_days(sessions))
    with_gap = complete.drop(index=5).reset_index(drop=True)  # Tuesday 9 July

    full = only(DataAggregator().aggregate([complete]).report.series)
    gapped = only(DataAggregator().aggregate([with_gap]).report.series)

    assert (full.expected_bars, full.missing_bars, full.off_calendar) == (9, 0, 0)
    assert full.issues == ()
    assert gapped.missing_bars == 1
    missing = next(i for i in gapped.issues if i.code is IssueCode.MISSING_BARS)
    assert missing.examples[0].startswith("2024-07-09")


def test_aggregate_crypto_weekend_gap_is_missing() -> None:
    frame = calendar_bars("BTC-USD", H1, SAT_JAN_6, SAT_JAN_6 + timedelta(hours=24))
    gapped = frame.drop(index=[10, 11]).reset_index(drop=True)

    series = only(DataAggregator().aggregate([gapped]).report.series)

    assert (series.expected_bars, series.missing_bars) == (24, 2)


def test_aggregate_window_counts_bars_missing_at_its_edges() -> None:
    frame = crypto_hours(48).iloc[2:46].reset_index(drop=True)

    result = DataAggregator().aggregate([frame], start=JAN_1, end=JAN_1 + timedelta(hours=48))

    assert only(result.report.series).missing_bars == 4


def test_aggregate_stale_run_detected_short_run_ignored() -> None:
    base = crypto_hours()
    frame = set_flat_price(base, range(10, 17), base.close[10])  # 7 identical closes
    frame = set_flat_price(frame, range(30, 33), base.close[30])  # 3: below the threshold of 5

    series = only(DataAggregator().aggregate([frame]).report.series)

    assert (series.stale_runs, series.stale_bars) == (1, 6)
    stale = next(i for i in series.issues if i.code is IssueCode.STALE_PRICES)
    assert stale.examples == (frame.open_time[10].isoformat(),)


def test_aggregate_ohlc_violation_flagged_and_kept() -> None:
    bad = crypto_hours()
    bad = set_bar(bad, 7, high=bad.low[7] * 0.99)

    result = DataAggregator().aggregate([bad])

    series = only(result.report.series)
    assert series.ohlc_violations == 1
    assert IssueCode.OHLC_VIOLATION in series.issue_codes
    assert len(result.frame) == 48  # flagged for the gate, not silently dropped


def test_aggregate_negative_volume_counted() -> None:
    series = only(
        DataAggregator().aggregate([set_bar(crypto_hours(), 4, volume=-3.0)]).report.series
    )

    assert series.negative_volume == 1
    assert IssueCode.NEGATIVE_VOLUME in series.issue_codes


def test_aggregate_non_monotonic_input_detected_output_sorted() -> None:
    frame = crypto_hours()
    shuffled = frame.iloc[[0, 1, 3, 2, *range(4, 48)]].reset_index(drop=True)

    ordered = only(DataAggregator().aggregate([frame]).report.series)
    result = DataAggregator().aggregate([shuffled])

    assert ordered.non_monotonic == 0
    assert only(result.report.series).non_monotonic == 1
    assert result.frame.open_time.is_monotonic_increasing


def test_aggregate_robust_z_flags_jump_but_not_normal_bars() -> None:
    jump = scale_prices(crypto_hours(), range(30, 48), 1.25)  # a 25% jump that stays
    spike = scale_prices(crypto_hours(), [20], 1.3)  # one bar out, then back

    jump_q = only(DataAggregator().aggregate([jump]).report.series)
    spike_result = DataAggregator().aggregate([spike])
    normal_q = only(DataAggregator().aggregate([crypto_hours()]).report.series)

    assert jump_q.outliers == 1
    outlier = next(i for i in jump_q.issues if i.code is IssueCode.OUTLIER_RETURN)
    assert outlier.examples == (jump.open_time[30].isoformat(),)
    spike_q = only(spike_result.report.series)
    assert spike_q.outliers == 1
    spike_issue = next(i for i in spike_q.issues if i.code is IssueCode.OUTLIER_RETURN)
    assert spike_issue.examples == (spike.open_time[20].isoformat(),)
    assert normal_q.outliers == 0


def test_aggregate_outlier_threshold_is_configurable() -> None:
    jump = scale_prices(crypto_hours(), range(30, 48), 1.25)

    lenient = DataAggregator(QualityThresholds(outlier_z=1_000.0)).aggregate([jump])

    assert only(lenient.report.series).outliers == 0


@pytest.mark.parametrize("problem", ["ohlc", "missing", "stale"])
def test_aggregate_score_falls_as_problems_grow(problem: str) -> None:
    scores = []
    for count in (0, 1, 3, 6):
        frame = crypto_hours()
        rows = list(range(5, 5 + count))
        if problem == "ohlc":
            for row in rows:
                frame = set_bar(frame, row, low=frame.high[row] * 1.01)
        elif problem == "missing":
            frame = frame.drop(index=rows).reset_index(drop=True)
        elif count:
            frame = set_flat_price(frame, range(5, 10 + count), frame.close[5])
        scores.append(only(DataAggregator().aggregate([frame]).report.series).score)

    assert scores[0] == 1.0
    assert all(a > b for a, b in itertools.pairwise(scores)), scores
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_aggregate_report_per_symbol_serializes_to_json() -> None:
    equity = bars_at("AAPL", D1, nyse_days([datetime(2024, 7, d, tzinfo=UTC) for d in (1, 2)]))
    crypto = set_bar(crypto_hours(), 4, volume=-1.0)

    report = DataAggregator().aggregate([equity, crypto]).report
    data = json.loads(json.dumps(report.to_dict()))

    assert [s["symbol"] for s in data["series"]] == ["AAPL", "BTC-USD"]
    assert data["series"][1]["issues"][0]["code"] == "negative_volume"
    assert data["series"][1]["ratios"]["negative_volume"] == pytest.approx(1 / 48)
    assert report.asset_classes == (AssetClass.CRYPTO, AssetClass.EQUITY)
    assert report.for_asset_class(AssetClass.EQUITY).score == 1.0
    assert report.score == report.for_symbol("BTC-USD")[0].score < 1.0


def test_aggregate_row_without_symbol_is_rejected() -> None:
    frame = crypto_hours(4)
    frame["symbol"] = frame["symbol"].astype("object")
    frame.loc[1, "symbol"] = None

    with pytest.raises(InvalidInputError, match="no symbol"):
        DataAggregator().aggregate([frame])


def test_aggregate_no_frames_gives_empty_result() -> None:
    result = DataAggregator().aggregate([])

    assert result.frame.empty
    assert result.report.series == ()
    assert result.report.score == 1.0
