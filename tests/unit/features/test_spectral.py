"""Spectral features mean what their docstrings say, window by window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pywt

from quantdesk.data.bars import normalize_bar_frame
from quantdesk.features.engineer import compute_features


def bars_from_log_returns(returns: np.ndarray) -> pd.DataFrame:
    """One symbol whose close-to-close log returns are exactly ``returns``."""
    close = 100.0 * np.exp(np.r_[0.0, np.cumsum(returns)])
    open_time = pd.date_range("2022-01-03", periods=len(close), freq="D", tz="UTC")
    return normalize_bar_frame(
        pd.DataFrame(
            {
                "symbol": "BTC-USD", "venue": "synthetic", "granularity": "1d",
                "open_time": open_time, "open": close, "high": close * 1.01,
                "low": close * 0.99, "close": close, "volume": 1.0,
                "available_at": open_time + pd.Timedelta(days=1),
            }
        )
    )  # fmt: skip


def test_fourier_pure_cycle_of_8_bars_has_period_8_and_low_entropy() -> None:
    returns = 0.01 * np.sin(2 * np.pi * np.arange(200) / 8.0)

    out = compute_features(bars_from_log_returns(returns), None).iloc[-1]

    assert out["fourier_dominant_period"] == 8.0
    assert out["fourier_spectral_entropy"] < 0.3


def test_fourier_white_noise_has_high_entropy() -> None:
    returns = np.random.default_rng(0).normal(0, 0.01, 200)

    out = compute_features(bars_from_log_returns(returns), None)

    assert out["fourier_spectral_entropy"].dropna().median() > 0.8


def test_wavelet_energy_shares_equal_pywt_on_the_trailing_window() -> None:
    returns = np.random.default_rng(1).normal(0, 0.01, 150)
    bars = bars_from_log_returns(returns)

    out = compute_features(
        bars, None, features=["wavelet_energy_l1", "wavelet_energy_l2", "wavelet_energy_l3"]
    )

    logret = np.diff(np.log(bars["close"].to_numpy()))
    window = logret[-64:]
    coeffs = pywt.wavedec(window, "db4", mode="periodization", level=3)
    total = sum(float(np.sum(c**2)) for c in coeffs)
    expected = [np.sum(coeffs[-j] ** 2) / total for j in (1, 2, 3)]
    got = out.iloc[-1][["wavelet_energy_l1", "wavelet_energy_l2", "wavelet_energy_l3"]].to_numpy(
        float
    )
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert abs(total - float(np.sum(window**2))) < 1e-12  # orthogonal: Parseval holds
