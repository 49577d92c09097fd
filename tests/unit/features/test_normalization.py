"""Rolling z-score normalisation of a feature frame: per symbol, trailing, causal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.domain import InvalidInputError
from quantdesk.features.engineer import compute_features
from quantdesk.features.normalization import rolling_zscore_frame
from tests.unit.features.feature_markets import BENCHMARK, market


def test_rolling_zscore_frame_equals_per_symbol_pandas_rolling_zscore() -> None:
    features = compute_features(market(30, n=80), BENCHMARK, features=["rsi_14", "ret_1"])

    out = rolling_zscore_frame(features, ["rsi_14", "ret_1"], window=10)

    for _, own in features.groupby("symbol"):
        for column in ("rsi_14", "ret_1"):
            rolling = own[column].rolling(10)
            expected = (own[column] - rolling.mean()) / rolling.std(ddof=0)
            np.testing.assert_allclose(out.loc[own.index, column], expected, rtol=1e-9, atol=1e-12)


def test_rolling_zscore_frame_value_does_not_change_when_later_rows_are_dropped() -> None:
    features = compute_features(market(31, n=80), BENCHMARK, features=["ret_1"])
    early = features.groupby("symbol").head(50).reset_index(drop=True)

    full = rolling_zscore_frame(features, ["ret_1"], window=20)
    cut = rolling_zscore_frame(early, ["ret_1"], window=20)

    merged = cut.merge(full, on=["symbol", "open_time"], suffixes=("_cut", "_full"))
    np.testing.assert_allclose(merged["ret_1_cut"], merged["ret_1_full"], rtol=1e-12)


def test_rolling_zscore_frame_unsorted_frame_raises() -> None:
    features = compute_features(market(32, n=30), BENCHMARK, features=["ret_1"])
    shuffled = pd.concat([features.iloc[40:], features.iloc[:40]], ignore_index=True)

    with pytest.raises(InvalidInputError, match="sorted by symbol"):
        rolling_zscore_frame(shuffled, ["ret_1"], window=5)
