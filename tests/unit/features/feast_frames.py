"""Feature frames for the Feast tests, written through the real offline writer.

Every value encodes when it became known: ``symbol rank * 1e6 + event time in hours since
2026-01-01 + feature index / 1000``. So a value served for time T that became known after T is
visible on its face, and the expected value at T is the latest row with event time <= T.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from quantdesk.features import names
from quantdesk.features.offline_store import read_view

ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)
SYMBOLS = ("AAPL", "BTC-USD", "EUR-USD", "SPX")
DAYS = 40
# A daily bar closes at the next midnight and is published five minutes later.
PUBLISH_DELAY = timedelta(days=1, minutes=5)
# The bar of day 30 of AAPL is corrected; the correction arrives 18 hours after the bar of
# day 32 was published, i.e. between two regular rows.
CORRECTED_DAY = 30
CORRECTION_AT = ORIGIN + timedelta(days=32) + PUBLISH_DELAY + timedelta(hours=18)
END = ORIGIN + timedelta(days=DAYS - 1) + PUBLISH_DELAY  # the newest regular row's event time
COMPUTED_AT = ORIGIN + timedelta(days=DAYS + 1)


def marker(symbol: str, known_at: datetime, feature_index: int) -> float:
    return SYMBOLS.index(symbol) * 1e6 + hours_since_origin(known_at) + feature_index / 1000


def hours_since_origin(at: datetime) -> float:
    return (at - ORIGIN).total_seconds() / 3600


def known_at_hours(value: float, feature_index: int) -> float:
    """The event time, in hours since ORIGIN, that a marker value encodes."""
    return round(value % 1e6 - feature_index / 1000, 6)


def feature_frame(
    symbols: tuple[str, ...] = SYMBOLS, days: int = DAYS, correction: bool = True
) -> pd.DataFrame:
    """Rows as ``write_offline_store`` takes them: symbol, open_time, event time, features."""
    rows = []
    for symbol in symbols:
        for day in range(days):
            open_time = ORIGIN + timedelta(days=day)
            rows.append(_row(symbol, open_time, open_time + PUBLISH_DELAY))
    if correction and "AAPL" in symbols:
        rows.append(_row("AAPL", ORIGIN + timedelta(days=CORRECTED_DAY), CORRECTION_AT))
    return pd.DataFrame(rows)


def _row(symbol: str, open_time: datetime, event_time: datetime) -> dict[str, object]:
    row: dict[str, object] = {
        names.ENTITY_JOIN_KEY: symbol,
        "open_time": pd.Timestamp(open_time),
        names.EVENT_TIMESTAMP: pd.Timestamp(event_time),
    }
    for index, feature in enumerate(names.ALL_FEATURES):
        row[feature] = marker(symbol, event_time, index)
    return row


def expected_as_of(
    offline: pd.DataFrame, symbol: str, at: datetime, ttl: timedelta = timedelta(days=7)
) -> pd.Series | None:
    """Oracle: the latest offline row of ``symbol`` with event time in [at - ttl, at]."""
    stamps = offline[names.EVENT_TIMESTAMP]
    hit = (offline[names.ENTITY_JOIN_KEY] == symbol) & (stamps <= at) & (stamps >= at - ttl)
    rows = offline[hit].sort_values([names.EVENT_TIMESTAMP, names.CREATED_TIMESTAMP])
    return None if rows.empty else rows.iloc[-1]


def read_offline(offline_dir: Path) -> pd.DataFrame:
    """Every view's offline file joined on (symbol, event_timestamp): what Feast reads."""
    frames = [read_view(offline_dir, view) for view in names.FEATURE_VIEWS]
    keys = [names.ENTITY_JOIN_KEY, names.EVENT_TIMESTAMP]
    joined = frames[0]
    for frame in frames[1:]:
        joined = joined.merge(frame.drop(columns=names.CREATED_TIMESTAMP), on=keys)
    return joined


def entity_rows(*pairs: tuple[str, datetime]) -> pd.DataFrame:
    """An entity frame for a point-in-time join: (symbol, UTC time) per row."""
    return pd.DataFrame(
        {
            names.ENTITY_JOIN_KEY: [symbol for symbol, _ in pairs],
            names.EVENT_TIMESTAMP: pd.to_datetime([at for _, at in pairs], utc=True),
        }
    )
