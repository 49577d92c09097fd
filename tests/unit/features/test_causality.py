"""Causality: every feature computed on history cut at t equals its value from full history.

Also: the same check catches a deliberately leaky (centered) feature, and every feature's
declared look-back is honest (first value exactly there; windowed ones use nothing older).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.features.causality import truncation_mismatches
from quantdesk.features.engineer import compute_features
from quantdesk.features.names import ALL_FEATURES, EVENT_TIMESTAMP
from quantdesk.features.registry import FEATURE_SPECS
from tests.unit.features.feature_markets import BENCHMARK, market

CASES = settings(max_examples=6, deadline=None, derandomize=True)


def _features(names: list[str]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def compute(bars: pd.DataFrame) -> pd.DataFrame:
        return compute_features(bars, BENCHMARK, features=names)

    return compute


@pytest.mark.parametrize("name", ALL_FEATURES)
@CASES
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(100, 140),
    cut_share=st.floats(0.75, 1.0),
    late_rate=st.sampled_from([0.0, 0.05]),
)
def test_feature_history_cut_at_t_gives_same_value_at_t(
    name: str, seed: int, n: int, cut_share: float, late_rate: float
) -> None:
    bars = market(seed, n=n, late_rate=late_rate)
    times = bars["available_at"].sort_values()
    cut = times.iloc[int(cut_share * (len(times) - 1))]

    mismatches = truncation_mismatches(_features([name]), bars, cut, [name])

    assert mismatches == {}
    known = compute_features(bars[bars["available_at"] <= cut], BENCHMARK, features=[name])
    assert np.isfinite(known[name]).any()  # the comparison covered real values


def _centered_mean(bars: pd.DataFrame) -> pd.DataFrame:
    """A leaky feature: a 5-bar moving average centered on t reads two bars of the future."""
    out = bars[["symbol", "open_time"]].copy()
    out[EVENT_TIMESTAMP] = bars.groupby("symbol")["available_at"].cummax()
    out["leaky"] = bars.groupby("symbol")["close"].transform(
        lambda c: c.rolling(5, center=True).mean()
    )
    return out


def test_truncation_check_centered_window_is_caught() -> None:
    bars = market(3, n=80)
    cut = bars["available_at"].sort_values().iloc[len(bars) // 2]

    mismatches = truncation_mismatches(_centered_mean, bars, cut, ["leaky"])

    assert mismatches.get("leaky", 0) > 0


@pytest.mark.parametrize("name", ALL_FEATURES)
def test_feature_first_value_is_at_declared_lookback(name: str) -> None:
    bars = market(11, n=90)
    spec = FEATURE_SPECS[name]

    values = compute_features(bars, BENCHMARK, features=[name])
    spx = values.loc[values["symbol"] == BENCHMARK, name].to_numpy()

    assert np.isnan(spx[: spec.lookback - 1]).all()
    assert np.isfinite(spx[spec.lookback - 1])


@pytest.mark.parametrize("name", [n for n in ALL_FEATURES if not FEATURE_SPECS[n].recursive])
def test_windowed_feature_uses_only_its_declared_lookback(name: str) -> None:
    bars = market(5, n=100)
    spec = FEATURE_SPECS[name]
    aapl = bars[bars["symbol"] == "AAPL"]
    recent = pd.concat([bars[bars["symbol"] != "AAPL"], aapl.tail(spec.lookback)])

    full = compute_features(bars, BENCHMARK, features=[name])
    short = compute_features(recent, BENCHMARK, features=[name])

    def last(frame: pd.DataFrame) -> float:
        return float(frame.loc[frame["symbol"] == "AAPL", name].iloc[-1])

    assert last(short) == pytest.approx(last(full), rel=1e-9, abs=1e-12)
