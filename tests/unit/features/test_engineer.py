"""The builder: vectorized over symbols, keyed and timed point-in-time, clear on bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quantdesk.domain import InvalidInputError
from quantdesk.features.correlation import benchmark_log_return
from quantdesk.features.engineer import compute_features
from quantdesk.features.names import ALL_FEATURES
from quantdesk.features.panel import build_panel
from tests.unit.features.feature_markets import BENCHMARK, market


def test_compute_features_many_symbols_equal_each_symbol_alone() -> None:
    bars = market(8, n=120)

    together = compute_features(bars, BENCHMARK)

    for symbol in ("AAPL", "BTC-USD", BENCHMARK):
        alone_bars = bars[bars["symbol"].isin([symbol, BENCHMARK])]
        alone = compute_features(alone_bars, BENCHMARK)
        left = together[together["symbol"] == symbol].reset_index(drop=True)
        right = alone[alone["symbol"] == symbol].reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right, rtol=1e-12, atol=1e-14)


def test_compute_features_output_is_keyed_and_float64_in_names_order() -> None:
    bars = market(9, n=70)

    out = compute_features(bars, BENCHMARK)

    assert list(out.columns) == ["symbol", "open_time", "event_timestamp", *ALL_FEATURES]
    assert len(out) == len(bars)
    assert not out.duplicated(["symbol", "open_time"]).any()
    assert all(out[f].dtype == np.float64 for f in ALL_FEATURES)
    assert str(out["event_timestamp"].dtype) == "datetime64[ns, UTC]"


def test_compute_features_event_time_is_when_all_inputs_were_known() -> None:
    bars = market(10, n=30)
    late = (bars["symbol"] == "AAPL") & (bars["open_time"] == bars["open_time"].iloc[5])
    bars.loc[late, "available_at"] += pd.Timedelta(days=10)

    out = compute_features(bars, BENCHMARK)

    aapl = out[out["symbol"] == "AAPL"].reset_index(drop=True)
    own = bars[bars["symbol"] == "AAPL"].reset_index(drop=True)
    assert (aapl["event_timestamp"].iloc[:5] == own["available_at"].iloc[:5]).all()
    late_at = own["available_at"].iloc[5]
    assert (aapl["event_timestamp"].iloc[5:] >= late_at).all()
    assert aapl["event_timestamp"].is_monotonic_increasing


def test_benchmark_alignment_weekend_crypto_sees_friday_close_and_no_later() -> None:
    bars = market(12, n=40)
    panel = build_panel(bars, BENCHMARK)
    btc = bars[bars["symbol"] == "BTC-USD"].reset_index(drop=True)
    spx = bars[bars["symbol"] == BENCHMARK].set_index("open_time")["close"]
    assert panel.benchmark_close is not None
    aligned = panel.benchmark_close[: len(btc), panel.symbols.index("BTC-USD")]
    bench_ret = benchmark_log_return(panel)[: len(btc), panel.symbols.index("BTC-USD")]

    for i, row in btc.iterrows():
        known = spx[
            bars.loc[bars["symbol"] == BENCHMARK].set_index("open_time")["available_at"]
            <= row["available_at"]
        ]
        expected = known.iloc[-1] if len(known) else np.nan
        assert aligned[i] == pytest.approx(expected, nan_ok=True)
    weekend = (btc["open_time"].dt.dayofweek >= 5).to_numpy()
    monday = (btc["open_time"].dt.dayofweek == 0).to_numpy()
    assert np.all(bench_ret[weekend & (np.arange(len(btc)) > 3)] == 0.0)
    assert np.all(bench_ret[monday & (np.arange(len(btc)) > 3)] != 0.0)


def test_compute_features_weekend_crypto_has_cross_asset_values() -> None:
    bars = market(12, n=140)

    out = compute_features(bars, BENCHMARK, features=["logret_1", "corr_benchmark_60"])

    btc = out[out["symbol"] == "BTC-USD"]
    weekend = btc["open_time"].dt.dayofweek >= 5
    assert btc.loc[weekend, "corr_benchmark_60"].notna().any()
    spx = out[out["symbol"] == BENCHMARK]
    assert np.allclose(spx["corr_benchmark_60"].dropna(), 1.0)


def test_compute_features_missing_benchmark_raises_naming_it() -> None:
    bars = market(13, n=30)

    with pytest.raises(InvalidInputError, match="NDX"):
        compute_features(bars, "NDX")


def test_compute_features_without_benchmark_leaves_cross_asset_nan() -> None:
    bars = market(13, n=80)

    out = compute_features(bars, None)

    assert out["corr_benchmark_60"].isna().all()
    assert out["rsi_14"].notna().any()


def test_compute_features_two_bar_sizes_raise() -> None:
    bars = market(14, n=30)
    bars.loc[bars["symbol"] == "AAPL", "granularity"] = "1h"

    with pytest.raises(InvalidInputError, match="one bar size"):
        compute_features(bars, BENCHMARK)


def test_compute_features_unknown_feature_raises_naming_it() -> None:
    with pytest.raises(InvalidInputError, match="rsi_99"):
        compute_features(market(15, n=30), BENCHMARK, features=["rsi_99"])
