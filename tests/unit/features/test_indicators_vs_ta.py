"""Standard indicators agree with the ``ta`` package (0.11.0) wherever ``ta`` gives a value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ta.momentum import RSIIndicator, StochasticOscillator
from ta.trend import MACD, SMAIndicator
from ta.volatility import AverageTrueRange, BollingerBands
from ta.volume import OnBalanceVolumeIndicator

from quantdesk.features import indicators
from quantdesk.features.engineer import compute_features
from quantdesk.features.panel import build_panel
from tests.unit.features.feature_markets import market

N = 300


@pytest.fixture(scope="module")
def aapl() -> tuple[pd.DataFrame, pd.DataFrame]:
    """AAPL bars and our features of them (one symbol among three)."""
    bars = market(21, n=N)
    features = compute_features(bars, "SPX")
    mask = bars["symbol"] == "AAPL"
    return bars[mask].reset_index(drop=True), features[mask.to_numpy()].reset_index(drop=True)


def assert_matches(ours: pd.Series, theirs: pd.Series, start: int) -> None:
    np.testing.assert_allclose(
        ours.to_numpy()[start:], theirs.to_numpy()[start:], rtol=1e-9, atol=1e-9
    )


def test_rsi_14_matches_ta(aapl: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    bars, ours = aapl

    theirs = RSIIndicator(bars["close"], window=14).rsi()

    assert_matches(ours["rsi_14"], theirs, start=13)
    assert ours["rsi_14"].iloc[:13].isna().all()


def test_macd_line_signal_hist_match_ta(aapl: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    bars, ours = aapl

    ta_macd = MACD(bars["close"], window_slow=26, window_fast=12, window_sign=9)

    assert_matches(ours["macd"], ta_macd.macd(), start=25)
    assert_matches(ours["macd_signal"], ta_macd.macd_signal(), start=33)
    assert_matches(ours["macd_hist"], ta_macd.macd_diff(), start=33)


def test_bollinger_pctb_and_width_match_ta(aapl: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    bars, ours = aapl

    bands = BollingerBands(bars["close"], window=20, window_dev=2)

    assert_matches(ours["bb_pctb_20"], bands.bollinger_pband(), start=19)
    assert_matches(ours["bb_width_20"], bands.bollinger_wband() / 100.0, start=19)


def test_atr_14_matches_ta_as_fraction_of_close(aapl: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    bars, ours = aapl

    theirs = AverageTrueRange(bars["high"], bars["low"], bars["close"], window=14)

    assert_matches(ours["atr_14"], theirs.average_true_range() / bars["close"], start=13)


def test_stochastic_k_and_d_match_ta(aapl: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    bars, ours = aapl

    stoch = StochasticOscillator(
        bars["high"], bars["low"], bars["close"], window=14, smooth_window=3
    )

    assert_matches(ours["stoch_k_14"], stoch.stoch(), start=13)
    assert_matches(ours["stoch_d_3"], stoch.stoch_signal(), start=15)


def test_ma_ratio_matches_ta_sma(aapl: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    bars, ours = aapl

    sma50 = SMAIndicator(bars["close"], window=50).sma_indicator()

    assert_matches(ours["ma_ratio_50"], bars["close"] / sma50 - 1.0, start=49)


def test_raw_obv_matches_ta_up_to_where_history_starts(
    aapl: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    bars, _ = aapl
    panel = build_panel(bars, None)

    ours = pd.Series(panel.flatten(indicators.on_balance_volume(panel)))
    theirs = OnBalanceVolumeIndicator(bars["close"], bars["volume"]).on_balance_volume()

    # ta starts at +volume[0], we at 0: the level is an artefact of where history starts.
    assert_matches(ours, theirs - bars["volume"].iloc[0], start=0)
