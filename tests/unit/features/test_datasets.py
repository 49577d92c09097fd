"""Windowing a feature frame: causal windows, time positions, train-only scaling, the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from quantdesk.domain.errors import InvalidInputError
from quantdesk.features.datasets import (
    FeatureScaler,
    LabelArrays,
    WindowConfig,
    build_windows,
    build_windows_cached,
)


def _frame(
    n: int = 10, symbols: tuple[str, ...] = ("AAA", "BBB")
) -> tuple[pd.DataFrame, LabelArrays]:
    times = pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC")
    rows = []
    for k, symbol in enumerate(symbols):
        for i, t in enumerate(times):
            rows.append({"symbol": symbol, "timestamp": t, "a": 100 * k + i, "b": -(100 * k + i)})
    frame = pd.DataFrame(rows).sample(frac=1.0, random_state=3).reset_index(drop=True)
    ret = (frame["a"] % 100).to_numpy(dtype=float) / 10.0
    direction = np.where(ret > 0.5, 2, 0).astype(np.int64)
    return frame, LabelArrays(ret, direction)


CONFIG = WindowConfig(window=3, features=("a", "b"))


def test_build_windows_each_window_ends_at_its_own_row_and_is_causal() -> None:
    # Arrange
    frame, labels = _frame()

    # Act
    data = build_windows(frame, labels, CONFIG)

    # Assert: 2 symbols x (10 - 3 + 1) windows; the window is rows t-2, t-1, t of one symbol.
    assert data.x.shape == (16, 3, 2)
    for i in range(len(data)):
        a = data.x[i, :, 0]
        assert np.all(np.diff(a) == 1)
        assert data.forward_return[i] == pytest.approx((a[-1] % 100) / 10.0)


def test_build_windows_samples_are_time_ordered_with_shared_time_positions() -> None:
    # Arrange
    frame, labels = _frame()

    # Act
    data = build_windows(frame, labels, CONFIG)

    # Assert
    assert np.all(np.diff(data.time_positions) >= 0)
    assert data.n_times == 10
    assert data.time_positions[:2].tolist() == [2, 2]
    assert sorted(data.symbols[:2].tolist()) == ["AAA", "BBB"]


def test_build_windows_skips_windows_touching_missing_values_or_labels() -> None:
    # Arrange
    frame, labels = _frame(symbols=("AAA",))
    frame.loc[frame["a"] == 5, "b"] = np.nan
    direction = labels.direction.copy()
    direction[(frame["a"] == 9).to_numpy()] = -1

    # Act
    data = build_windows(frame, LabelArrays(labels.forward_return, direction), CONFIG)

    # Assert: windows ending at 5, 6, 7 contain the NaN; 9 has no label.
    assert sorted(data.x[:, -1, 0].astype(int).tolist()) == [2, 3, 4, 8]


def test_build_windows_missing_column_or_misaligned_labels_raise() -> None:
    frame, labels = _frame()
    with pytest.raises(InvalidInputError, match="lacks column"):
        build_windows(frame.drop(columns="b"), labels, CONFIG)
    with pytest.raises(InvalidInputError, match="labels have"):
        build_windows(frame.iloc[:-1], labels, CONFIG)


def test_feature_scaler_fitted_on_train_only_ignores_later_values() -> None:
    # Arrange
    frame, labels = _frame(symbols=("AAA",))
    data = build_windows(frame, labels, CONFIG)
    train = data.subset(np.flatnonzero(data.time_positions < 6))

    # Act
    scaler = FeatureScaler.fit(train.x, CONFIG.features)
    roundtrip = FeatureScaler.from_dict(scaler.to_dict())

    # Assert: only rows 0..5 inform the mean.
    assert scaler.mean[0] == pytest.approx(train.x[:, -1, 0].mean())  # rows 2..5
    assert scaler.mean[0] < 5
    np.testing.assert_allclose(roundtrip.transform(data.x), scaler.transform(data.x))


def test_build_windows_cached_reuses_and_keys_on_data_and_config(tmp_path: Path) -> None:
    # Arrange
    frame, labels = _frame()

    # Act
    first = build_windows_cached(frame, labels, CONFIG, tmp_path)
    again = build_windows_cached(frame, labels, CONFIG, tmp_path)
    other = build_windows_cached(
        frame, labels, WindowConfig(window=2, features=("a", "b")), tmp_path
    )
    changed = frame.copy()
    changed.loc[0, "a"] = 1e6
    build_windows_cached(changed, labels, CONFIG, tmp_path)

    # Assert
    assert len(list(tmp_path.glob("windows-*.npz"))) == 3
    np.testing.assert_array_equal(first.x, again.x)
    np.testing.assert_array_equal(first.times, again.times)
    assert first.data_hash == again.data_hash and other.x.shape[1] == 2
