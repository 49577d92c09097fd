"""Offline store writer: the files Feast reads, atomic, merged by key, idempotent on reruns."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from quantdesk.domain import InvalidInputError
from quantdesk.features.names import ALL_FEATURES, FEATURE_VIEWS
from quantdesk.features.offline_store import offline_path, read_view, write_offline_store

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T1 = datetime(2024, 6, 1, tzinfo=UTC)


def feature_frame(
    n: int = 5, symbols: tuple[str, ...] = ("AAPL", "SPX"), seed: int = 0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for symbol in symbols:
        open_time = pd.date_range("2024-01-02", periods=n, freq="D", tz="UTC")
        part = pd.DataFrame(
            {
                "symbol": symbol,
                "open_time": open_time,
                "event_timestamp": open_time + pd.Timedelta(days=1),
            }
        )
        for name in ALL_FEATURES:
            part[name] = rng.normal(size=n)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def test_write_offline_store_new_dir_writes_one_file_per_view_with_documented_schema(
    tmp_path: Path,
) -> None:
    frame = feature_frame()

    summaries = write_offline_store(frame, tmp_path, T0)

    assert set(summaries) == set(FEATURE_VIEWS)
    for view, names in FEATURE_VIEWS.items():
        table = pq.read_table(offline_path(tmp_path, view))
        assert table.column_names == ["symbol", "event_timestamp", "created_timestamp", *names]
        assert str(table.schema.field("event_timestamp").type) == "timestamp[us, tz=UTC]"
        assert all(str(table.schema.field(n).type) == "double" for n in names)
        assert table.num_rows == 10
        assert summaries[view].new == 10


def test_write_offline_store_rerun_same_input_leaves_files_byte_identical(tmp_path: Path) -> None:
    frame = feature_frame()
    write_offline_store(frame, tmp_path, T0)
    before = {v: offline_path(tmp_path, v).read_bytes() for v in FEATURE_VIEWS}

    summaries = write_offline_store(frame, tmp_path, T1)

    after = {v: offline_path(tmp_path, v).read_bytes() for v in FEATURE_VIEWS}
    assert before == after
    assert all(not s.written and s.unchanged == 10 and s.new == 0 for s in summaries.values())


def test_write_offline_store_changed_row_replaces_it_with_new_created_time(tmp_path: Path) -> None:
    frame = feature_frame()
    write_offline_store(frame, tmp_path, T0)
    changed = frame.copy()
    changed.loc[0, "rsi_14"] = 99.0

    summary = write_offline_store(changed, tmp_path, T1)["daily_technical"]

    stored = read_view(tmp_path, "daily_technical")
    assert (summary.rows, summary.replaced, summary.unchanged) == (10, 1, 9)
    row = stored[(stored["symbol"] == "AAPL") & (stored["rsi_14"] == 99.0)]
    assert len(row) == 1
    assert row["created_timestamp"].iloc[0] == pd.Timestamp(T1)
    assert (stored["created_timestamp"] == pd.Timestamp(T0)).sum() == 9


def test_write_offline_store_later_rows_are_appended_and_earlier_kept(tmp_path: Path) -> None:
    frame = feature_frame(n=8)
    write_offline_store(frame.groupby("symbol").head(5), tmp_path, T0)

    summary = write_offline_store(frame.groupby("symbol").tail(4), tmp_path, T1)["daily_volatility"]

    assert (summary.rows, summary.new, summary.unchanged) == (16, 6, 2)
    stored = read_view(tmp_path, "daily_volatility")
    assert not stored.duplicated(["symbol", "event_timestamp"]).any()


def test_write_offline_store_shared_event_time_keeps_newest_bar(tmp_path: Path) -> None:
    frame = feature_frame(n=3, symbols=("AAPL",))
    frame["event_timestamp"] = frame[
        "event_timestamp"
    ].max()  # a late correction: all known at once

    write_offline_store(frame, tmp_path, T0)

    stored = read_view(tmp_path, "daily_spectral")
    assert len(stored) == 1
    assert stored["wavelet_energy_l1"].iloc[0] == frame["wavelet_energy_l1"].iloc[-1]


def test_write_offline_store_all_nan_warmup_rows_are_skipped(tmp_path: Path) -> None:
    frame = feature_frame(n=4, symbols=("AAPL",))
    frame.loc[:1, list(FEATURE_VIEWS["daily_cross_asset"])] = np.nan

    write_offline_store(frame, tmp_path, T0)

    assert len(read_view(tmp_path, "daily_cross_asset")) == 2
    assert len(read_view(tmp_path, "daily_technical")) == 4


def test_write_offline_store_missing_feature_column_raises_naming_it(tmp_path: Path) -> None:
    frame = feature_frame().drop(columns="atr_14")

    with pytest.raises(InvalidInputError, match="atr_14"):
        write_offline_store(frame, tmp_path, T0)

    assert not list(tmp_path.glob("*.parquet"))
