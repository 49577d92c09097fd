"""The Feast store over real offline files: no train/serve skew, no look-ahead, idempotent runs.

One store is opened, applied and materialized per module (``import feast`` costs seconds); the
tests that change what the store holds get their own home.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.config import Settings, load_settings
from quantdesk.domain.errors import InvalidInputError, NotFoundError, UnknownSymbolError
from quantdesk.features import names
from quantdesk.features.feast_store import FeastStore, MaterializedWindow, open_feature_store
from quantdesk.features.offline_store import write_offline_store
from tests.unit.features.feast_frames import (
    COMPUTED_AT,
    CORRECTION_AT,
    END,
    ORIGIN,
    PUBLISH_DELAY,
    SYMBOLS,
    entity_rows,
    expected_as_of,
    feature_frame,
    hours_since_origin,
    known_at_hours,
    read_offline,
)


@dataclass(frozen=True)
class Served:
    settings: Settings
    store: FeastStore
    window: MaterializedWindow
    offline: pd.DataFrame


def build_store(home: Path, frame: pd.DataFrame, end: datetime = END) -> Served:
    settings = load_settings(home=home)
    write_offline_store(frame, settings.offline_features_dir, COMPUTED_AT)
    store = open_feature_store(settings)
    store.apply()
    window = store.materialize_incremental(end)
    return Served(settings, store, window, read_offline(settings.offline_features_dir))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    return build_store(tmp_path_factory.mktemp("feast-home"), feature_frame())


@pytest.mark.parametrize("service", sorted(names.FEATURE_SERVICES))
def test_online_features_after_materialize_equal_point_in_time_vector_at_end(
    served: Served, service: str
) -> None:
    # Arrange
    at_end = entity_rows(*[(symbol, END) for symbol in SYMBOLS])

    # Act
    online = served.store.online_features(list(SYMBOLS), service, as_of=END)
    historical = served.store.historical_features(at_end, service)

    # Assert: the vector a model is served is the one it would have been trained on.
    features = list(names.FEATURE_SERVICES[service])
    assert list(online.columns) == [names.ENTITY_JOIN_KEY, *features]
    assert online[names.ENTITY_JOIN_KEY].tolist() == list(SYMBOLS)
    pd.testing.assert_frame_equal(online[features], historical[features])
    for row, symbol in enumerate(SYMBOLS):
        expected = expected_as_of(served.offline, symbol, END)
        assert expected is not None
        assert online.loc[row, features].tolist() == expected[features].tolist()


def test_historical_features_never_return_a_value_known_after_the_entity_time(
    served: Served,
) -> None:
    # Arrange: around the late correction of AAPL, at exact event times, in shuffled order.
    second = timedelta(seconds=1)
    pairs = [
        ("AAPL", CORRECTION_AT - second),
        ("AAPL", CORRECTION_AT),
        ("AAPL", CORRECTION_AT + timedelta(hours=1)),
        ("AAPL", CORRECTION_AT + timedelta(hours=7)),  # the next regular row is newer
        ("BTC-USD", ORIGIN + timedelta(days=10) + PUBLISH_DELAY - second),
        ("BTC-USD", ORIGIN + timedelta(days=10) + PUBLISH_DELAY),
        ("EUR-USD", ORIGIN + timedelta(days=20, hours=12)),
        ("SPX", END),
    ]
    order = np.random.default_rng(7).permutation(len(pairs))
    entities = entity_rows(*[pairs[i] for i in order])

    # Act
    joined = served.store.historical_features(entities, "hybrid_v1")

    # Assert
    assert joined[names.ENTITY_JOIN_KEY].tolist() == entities[names.ENTITY_JOIN_KEY].tolist()
    for _, row in joined.iterrows():
        at = row[names.EVENT_TIMESTAMP].to_pydatetime()
        expected = expected_as_of(served.offline, row[names.ENTITY_JOIN_KEY], at)
        assert expected is not None
        for index, feature in enumerate(names.ALL_FEATURES):
            assert known_at_hours(row[feature], index) <= hours_since_origin(at) + 1e-6
            assert row[feature] == expected[feature]
    by_time = joined[joined[names.ENTITY_JOIN_KEY] == "AAPL"].set_index(names.EVENT_TIMESTAMP)
    ret_1 = names.ALL_FEATURES.index(names.RET_1)
    before = known_at_hours(by_time.loc[CORRECTION_AT - second, names.RET_1], ret_1)
    after = known_at_hours(by_time.loc[CORRECTION_AT, names.RET_1], ret_1)
    assert before < hours_since_origin(CORRECTION_AT) - 1
    assert after == pytest.approx(hours_since_origin(CORRECTION_AT))


def test_historical_features_before_any_row_or_past_ttl_are_nan(served: Served) -> None:
    entities = entity_rows(("AAPL", ORIGIN), ("AAPL", END + timedelta(days=8)))

    joined = served.store.historical_features(entities, "rl_v1")

    assert joined[list(names.FEATURE_SERVICES["rl_v1"])].isna().all().all()


def test_online_features_unknown_symbol_gets_nan_row(served: Served) -> None:
    online = served.store.online_features(["MSFT", "AAPL"], "rl_v1", as_of=END)

    assert online.loc[0, list(names.FEATURE_SERVICES["rl_v1"])].isna().all()
    assert online.loc[1, list(names.FEATURE_SERVICES["rl_v1"])].notna().all()


def test_online_features_older_than_the_view_ttl_are_nan(served: Served) -> None:
    rl = list(names.FEATURE_SERVICES["rl_v1"])

    within = served.store.online_features(["AAPL"], "rl_v1", as_of=END + timedelta(days=6))
    stale = served.store.online_features(["AAPL"], "rl_v1", as_of=END + timedelta(days=8))
    now = served.store.online_features(["AAPL"], "rl_v1")  # the data ends in February 2026

    assert within[rl].notna().all().all()
    assert stale[rl].isna().all().all()
    assert now[rl].isna().all().all()


def test_feature_reads_bad_input_raise_one_clear_error(served: Served) -> None:
    with pytest.raises(InvalidInputError, match="unknown feature service 'nope_v9'"):
        served.store.online_features(["AAPL"], "nope_v9", as_of=END)
    with pytest.raises(UnknownSymbolError):
        served.store.online_features(["aapl"], "rl_v1", as_of=END)
    with pytest.raises(InvalidInputError, match="as_of must be time-zone aware"):
        served.store.online_features(["AAPL"], "rl_v1", as_of=datetime(2026, 2, 1))
    with pytest.raises(InvalidInputError, match="event_timestamp"):
        served.store.historical_features(pd.DataFrame({"symbol": ["AAPL"]}), "rl_v1")
    naive = pd.DataFrame({"symbol": ["AAPL"], "event_timestamp": [pd.Timestamp("2026-01-05")]})
    with pytest.raises(InvalidInputError, match="time-zone aware"):
        served.store.historical_features(naive, "rl_v1")
    with pytest.raises(InvalidInputError, match="time-zone aware"):
        served.store.materialize_incremental(datetime(2026, 1, 5))


def test_materialize_rerun_with_earlier_end_keeps_the_newer_online_values(
    served: Served,
) -> None:
    # Arrange
    before = served.store.online_features(list(SYMBOLS), "hybrid_v1", as_of=END)

    # Act: a rerun of an older interval (a DAG backfill) after the store went further.
    window = served.store.materialize_incremental(END - timedelta(days=5))

    # Assert
    assert window.end == END
    pd.testing.assert_frame_equal(
        served.store.online_features(list(SYMBOLS), "hybrid_v1", as_of=END), before
    )


def test_materialize_serves_rows_written_after_the_previous_run_with_older_event_times(
    tmp_path: Path,
) -> None:
    # Arrange: MSFT is backfilled after the store was materialized up to END; every MSFT row
    # is older than END, so an incremental run starting at the previous end would skip them.
    served = build_store(tmp_path, feature_frame(symbols=("AAPL", "SPX")))
    backfill = feature_frame(symbols=("SPX",), correction=False).assign(symbol="MSFT")
    write_offline_store(backfill, served.settings.offline_features_dir, COMPUTED_AT)

    # Act
    window = served.store.materialize_incremental(END)
    online = served.store.online_features(["MSFT"], "rl_v1", as_of=END)

    # Assert
    assert window.end == END
    assert online[list(names.FEATURE_SERVICES["rl_v1"])].notna().all().all()


def test_materialize_without_offline_files_names_the_missing_files(tmp_path: Path) -> None:
    store = open_feature_store(load_settings(home=tmp_path))
    store.apply()

    with pytest.raises(NotFoundError, match=r"daily_technical\.parquet"):
        store.materialize_incremental(END)
