"""Labels: forward returns aligned to the right bar, vol-scaled classes, never feature inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.domain import InvalidInputError
from quantdesk.features.engineer import compute_features
from quantdesk.features.labels import (
    DOWN,
    FLAT,
    LABEL_AVAILABLE_AT,
    LABEL_CLASS,
    LABEL_COLUMNS,
    LABEL_END_TIME,
    LABEL_FWD_RETURN,
    UP,
    build_labels,
)
from quantdesk.features.names import ALL_FEATURES
from tests.unit.features.feature_markets import BENCHMARK, market


def test_build_labels_forward_return_reads_bar_t_plus_horizon_of_same_symbol() -> None:
    bars = market(1, n=40)

    labels = build_labels(bars, horizon=3, flat_k=0.5, vol_window=5).frame

    for symbol, own in bars.groupby("symbol"):
        mine = labels[labels["symbol"] == symbol].reset_index(drop=True)
        close = own["close"].to_numpy()
        expected = np.log(close[3:] / close[:-3])
        np.testing.assert_allclose(mine[LABEL_FWD_RETURN].to_numpy()[:-3], expected, rtol=1e-12)
        assert mine[LABEL_FWD_RETURN].iloc[-3:].isna().all()
        assert mine[LABEL_CLASS].iloc[-3:].isna().all()
        assert (
            mine[LABEL_END_TIME].iloc[:-3].to_numpy() == own["open_time"].iloc[3:].to_numpy()
        ).all()
        assert (
            mine[LABEL_AVAILABLE_AT].iloc[:-3].to_numpy() == own["available_at"].iloc[3:].to_numpy()
        ).all()


def test_build_labels_class_is_flat_inside_vol_scaled_band_else_sign() -> None:
    bars = market(2, n=80)

    labels = build_labels(bars, horizon=2, flat_k=0.7, vol_window=10).frame

    logret = np.log(bars["close"]).groupby(bars["symbol"]).diff()
    sigma = logret.groupby(bars["symbol"]).transform(lambda r: r.rolling(10).std())
    band = 0.7 * sigma * np.sqrt(2)
    fwd = labels[LABEL_FWD_RETURN]
    known = labels[LABEL_CLASS].notna()
    assert known.sum() > 100
    got = labels.loc[known, LABEL_CLASS].astype(int)
    assert ((got == FLAT) == (fwd[known].abs() < band[known])).all()
    assert (got[fwd[known] >= band[known]] == UP).all()
    assert (got[fwd[known] <= -band[known]] == DOWN).all()
    assert labels.loc[sigma.isna(), LABEL_CLASS].isna().all()  # no class before the vol is known


def test_build_labels_every_label_column_is_prefixed_and_no_feature_is() -> None:
    labels = build_labels(market(3, n=30))

    assert [c for c in labels.frame.columns if c not in ("symbol", "open_time")] == list(
        LABEL_COLUMNS
    )
    assert all(c.startswith("label_") for c in LABEL_COLUMNS)
    assert not any(f.startswith("label_") for f in ALL_FEATURES)


def test_compute_features_given_labels_object_refuses() -> None:
    labels = build_labels(market(4, n=30))

    with pytest.raises(InvalidInputError, match="labels are targets"):
        compute_features(labels, BENCHMARK)


def test_compute_features_given_bars_with_label_column_refuses_naming_it() -> None:
    bars = market(4, n=30)
    labels = build_labels(bars).frame
    leaky = bars.merge(
        labels[["symbol", "open_time", LABEL_FWD_RETURN]], on=["symbol", "open_time"]
    )

    with pytest.raises(InvalidInputError, match=LABEL_FWD_RETURN):
        compute_features(leaky, BENCHMARK)


@pytest.mark.parametrize(
    ("horizon", "flat_k", "vol_window"), [(0, 0.5, 20), (1, -1.0, 20), (1, 0.5, 1)]
)
def test_build_labels_bad_parameters_raise(horizon: int, flat_k: float, vol_window: int) -> None:
    with pytest.raises(InvalidInputError):
        build_labels(market(5, n=30), horizon=horizon, flat_k=flat_k, vol_window=vol_window)


def test_build_labels_output_is_not_a_dataframe() -> None:
    labels = build_labels(market(6, n=30))

    assert not isinstance(labels, pd.DataFrame)
    assert labels.horizon == 1
