from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from quantdesk.domain import Bar, Granularity, InvalidInputError, UnknownGranularityError

T0 = datetime(2024, 3, 1, 14, tzinfo=UTC)


def make_bar(**changes: object) -> Bar:
    fields: dict[str, object] = {
        "symbol": "BTC-USD",
        "venue": "coinbase",
        "granularity": Granularity.H1,
        "open_time": T0,
        "open": 100.0,
        "high": 105.0,
        "low": 99.0,
        "close": 104.0,
        "volume": 12.5,
        "available_at": T0 + timedelta(hours=1),
    }
    fields.update(changes)
    return Bar(**fields)  # type: ignore[arg-type]


def test_bar_times_are_converted_to_utc() -> None:
    tokyo = timezone(timedelta(hours=9))

    bar = make_bar(
        open_time=T0.astimezone(tokyo), available_at=(T0 + timedelta(hours=2)).astimezone(tokyo)
    )

    assert bar.open_time == T0
    assert bar.open_time.tzinfo is UTC
    assert bar.close_time == T0 + timedelta(hours=1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"open_time": datetime(2024, 3, 1, 14)}, "naive"),
        ({"high": 103.0}, "OHLC inconsistent"),
        ({"low": 104.5}, "OHLC inconsistent"),
        ({"close": -1.0}, "prices must be > 0"),
        ({"open": float("nan")}, "prices must be > 0"),
        ({"volume": -0.1}, "volume"),
        ({"available_at": T0 + timedelta(minutes=30)}, "before the bar closed"),
        ({"symbol": "btc"}, "canonical"),
    ],
)
def test_invalid_bar_is_rejected_with_reason(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        make_bar(**changes)


@pytest.mark.parametrize(
    ("text", "expected"), [("1h", Granularity.H1), ("D1", Granularity.D1), ("daily", "1d")]
)
def test_granularity_parse_accepts_aliases(text: str, expected: str) -> None:
    assert Granularity.parse(text) == expected


def test_granularity_parse_names_bad_value_and_choices() -> None:
    with pytest.raises(UnknownGranularityError, match=r"'7m'.*1m, 5m"):
        Granularity.parse("7m")


def test_durations_are_increasing() -> None:
    durations = [g.duration for g in Granularity]
    assert durations == sorted(durations)
    assert Granularity.D1.duration == timedelta(days=1)
