"""Lake -> ``features build`` -> ``materialize_features`` -> online and point-in-time reads.

Real computed features of a synthetic lake, and a late bar correction going through the whole
chain: the model is served what it would be trained on, and the past stays as it was known.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from quantdesk.config import load_settings
from quantdesk.data.lake import Lake
from quantdesk.data.sources.synthetic import SyntheticConfig, SyntheticSource
from quantdesk.domain import Granularity
from quantdesk.features import names
from quantdesk.features.feast_store import open_feature_store
from quantdesk.features.offline_store import read_view
from quantdesk.pipelines.build_features import build_features
from quantdesk.pipelines.materialize_features import materialize_features

SYMBOLS = ("SPX", "AAPL", "BTC-USD")
START, END = datetime(2019, 1, 1, tzinfo=UTC), datetime(2019, 6, 1, tzinfo=UTC)
FEATURES = list(names.ALL_FEATURES)

pytestmark = pytest.mark.slow


def at(symbols: tuple[str, ...], when: datetime) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": list(symbols),
            "event_timestamp": pd.to_datetime([when] * len(symbols), utc=True),
        }
    )


def test_served_vectors_equal_training_vectors_before_and_after_a_late_correction(
    tmp_path: Path,
) -> None:
    # Arrange: five months of synthetic daily bars, features built, store materialized.
    settings = load_settings(home=tmp_path, universe=SYMBOLS)
    lake = Lake(settings.lake_dir)
    source = SyntheticSource(SyntheticConfig(symbols=SYMBOLS, first_year=2019))
    for symbol in SYMBOLS:
        lake.write_bars(source.fetch_bars(symbol, Granularity.D1, START, END))
    build_features(settings, end=END)
    known = read_view(settings.offline_features_dir, "daily_technical")["event_timestamp"].max()
    first = materialize_features(settings, known.to_pydatetime())
    store = open_feature_store(settings)
    served_before = store.online_features(list(SYMBOLS), "hybrid_v1", as_of=first.end)

    # Act: AAPL's bar of six days before the end is corrected, published a day after the last
    # bar; features are rebuilt and the store materialized up to the correction.
    bars = lake.read_bars("AAPL", START, END)
    corrected_at = bars["available_at"].max() + timedelta(days=1)
    fix = bars.iloc[[-6]].copy()
    fix[["close", "high"]] = fix[["close", "high"]] * 1.2
    fix["available_at"] = corrected_at
    lake.write_bars(fix)
    build_features(settings, end=END)
    second = materialize_features(settings, corrected_at.to_pydatetime())
    served_after = store.online_features(list(SYMBOLS), "hybrid_v1", as_of=second.end)
    trained_before = store.historical_features(
        at(SYMBOLS, corrected_at - timedelta(seconds=1)), "hybrid_v1"
    )
    trained_after = store.historical_features(at(SYMBOLS, corrected_at), "hybrid_v1")

    # Assert
    assert first.symbols == tuple(sorted(SYMBOLS))
    assert served_before[FEATURES].notna().all().all()
    pd.testing.assert_frame_equal(served_before[FEATURES], trained_before[FEATURES])
    pd.testing.assert_frame_equal(served_after[FEATURES], trained_after[FEATURES])
    aapl = SYMBOLS.index("AAPL")
    changed = served_after.loc[aapl, FEATURES] != served_before.loc[aapl, FEATURES]
    assert changed[names.RET_5] and changed[names.MA_RATIO_10]
    others = [i for i, s in enumerate(SYMBOLS) if s != "AAPL"]
    pd.testing.assert_frame_equal(
        served_after.loc[others, FEATURES], served_before.loc[others, FEATURES]
    )
