"""Feature build for many symbols at once against the ``ta`` package, symbol by symbol.

Ours computes the WHOLE feature set (27 features, wavelet/Fourier and cross-asset included)
for every symbol in one vectorized pass over a (time x symbol) panel. The peer is ``ta``
0.11.0 computing only the indicators it has (RSI, MACD line/signal/hist, Bollinger %b and
width, ATR, stochastic %K/%D, OBV, SMA 10/50) one symbol at a time, as a per-symbol pipeline
would. A second row compares the same ta-covered subset on both sides. Values are checked
equal (after each indicator's warm-up) before any timing is reported.

Two shapes with the same number of bars, fixed before measuring: a long history (50 symbols x
10 years) and a wide universe (500 symbols x 1 year). ta's cost is per symbol, ours per bar,
so the wide shape is where computing all symbols at once pays most.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from ta.momentum import RSIIndicator, StochasticOscillator
from ta.trend import MACD, SMAIndicator
from ta.volatility import AverageTrueRange, BollingerBands
from ta.volume import OnBalanceVolumeIndicator

from bench.measure import Measurement, best_of
from quantdesk.data.bars import normalize_bar_frame
from quantdesk.features.engineer import compute_features

SHAPES = ((50, 2520), (500, 252))  # (symbols, daily bars): 10 years, or 1 year of a universe
BENCHMARK = "SPX"
TA_COVERED = (
    "rsi_14", "macd", "macd_signal", "macd_hist", "bb_pctb_20", "bb_width_20", "atr_14",
    "stoch_k_14", "stoch_d_3", "ma_ratio_10", "ma_ratio_50",
)  # fmt: skip
WARMUP = 50


def _bars(symbols: int, bars: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    open_time = pd.date_range("2015-01-02", periods=bars, freq="B", tz="UTC")
    parts = []
    for i in range(symbols):
        symbol = BENCHMARK if i == 0 else f"S{i:03d}"
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.015, bars)))
        open_ = np.r_[100.0, close[:-1]]
        parts.append(
            pd.DataFrame(
                {
                    "symbol": symbol, "venue": "synthetic", "granularity": "1d",
                    "open_time": open_time, "open": open_,
                    "high": np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, bars)),
                    "low": np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, bars)),
                    "close": close, "volume": rng.lognormal(12, 0.5, bars),
                    "available_at": open_time + pd.Timedelta(hours=21),
                }
            )
        )  # fmt: skip
    return normalize_bar_frame(pd.concat(parts, ignore_index=True))


def _with_ta(bars: pd.DataFrame) -> pd.DataFrame:
    """The peer: ta's indicators, one symbol at a time, in our units."""
    parts = []
    for _, one in bars.groupby("symbol", sort=True):
        high, low, close, volume = one["high"], one["low"], one["close"], one["volume"]
        macd = MACD(close, window_slow=26, window_fast=12, window_sign=9)
        bands = BollingerBands(close, window=20, window_dev=2)
        stoch = StochasticOscillator(high, low, close, window=14, smooth_window=3)
        atr = AverageTrueRange(high, low, close, window=14).average_true_range()
        parts.append(
            pd.DataFrame(
                {
                    "rsi_14": RSIIndicator(close, window=14).rsi(),
                    "macd": macd.macd(), "macd_signal": macd.macd_signal(),
                    "macd_hist": macd.macd_diff(),
                    "bb_pctb_20": bands.bollinger_pband(),
                    "bb_width_20": bands.bollinger_wband() / 100.0,
                    "atr_14": atr / close,
                    "stoch_k_14": stoch.stoch(), "stoch_d_3": stoch.stoch_signal(),
                    "ma_ratio_10": close / SMAIndicator(close, 10).sma_indicator() - 1,
                    "ma_ratio_50": close / SMAIndicator(close, 50).sma_indicator() - 1,
                    "obv": OnBalanceVolumeIndicator(close, volume).on_balance_volume(),
                }
            )
        )  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _check_equal(ours: pd.DataFrame, theirs: pd.DataFrame) -> float:
    """Largest absolute difference over the ta-covered indicators after warm-up."""
    position = ours.groupby("symbol").cumcount().to_numpy()
    settled = position >= WARMUP
    worst = 0.0
    for name in TA_COVERED:
        a = ours[name].to_numpy()[settled]
        b = theirs[name].to_numpy()[settled]
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-8, err_msg=name)
        worst = max(worst, float(np.max(np.abs(a - b))))
    return worst


def run() -> list[Measurement]:
    results = []
    for symbols, count in SHAPES:
        bars = _bars(symbols, count)
        worst = _check_equal(compute_features(bars, BENCHMARK), _with_ta(bars))
        print(f"   {symbols} x {count}: equal to ta within {worst:.1e} on {len(TA_COVERED)} series")
        cells = symbols * count
        ours_all = best_of(lambda b=bars: compute_features(b, BENCHMARK), repeat=5)
        ours_subset = best_of(lambda b=bars: compute_features(b, BENCHMARK, TA_COVERED), repeat=5)
        peer = best_of(lambda b=bars: _with_ta(b), repeat=3)
        shape = f"{symbols} sym x {count} bars"
        results += [
            Measurement(
                f"all 27 features, {shape}", ours_all, peer, "ta (its 12 only)", cells, "bars"
            ),
            Measurement(
                f"ta-covered 11, {shape}", ours_subset, peer, "ta per symbol", cells, "bars"
            ),
        ]
    return results
