"""Wavelet and Fourier features of log returns over TRAILING windows only.

Both look at the last ``SPECTRAL_WINDOW`` = 64 log returns up to and including bar ``t`` (65
closes). The windows are strided views of the (time x symbol) return array
(``sliding_window_view``), transformed in blocks along the last axis: no loop per bar, and a
window never reaches past ``t``. A centered or forward window would leak the future; the
truncation test in ``tests/unit/features`` would catch it.

Choices:

- **Wavelet**: Daubechies-4 (``db4``, 8 taps, smooth enough for price noise yet short enough
  for a 64-sample window to reach level 3), ``periodization`` mode so the transform is
  orthogonal and the level energies add up to the window's energy (Parseval).
  ``wavelet_energy_l{j}`` is the share of that energy in detail level ``j``: level 1 holds
  moves over ~2 bars, level 2 ~4 bars, level 3 ~8 bars; the rest sits in the approximation.
  Shares are scale free, so they compare across assets of different volatility.
- **Fourier**: the window is demeaned and tapered with a periodic Hann window (less leakage
  between bins), then ``fourier_dominant_period`` is 64 / k of the strongest non-zero
  frequency bin ``k``, in bars, and ``fourier_spectral_entropy`` is the Shannon entropy of
  the normalised power spectrum divided by log(32), in [0, 1]: 1 for white noise, near 0
  for a pure cycle.
- A window with no variation (zero energy) gives NaN.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from quantdesk.features.indicators import log_return
from quantdesk.features.panel import FloatArray, Panel

SPECTRAL_WINDOW = 64
WAVELET = "db4"
WAVELET_LEVELS = 3
_BLOCK_VALUES = 1 << 21  # transform this many window samples at a time (~16 MB)

BlockTransform = Callable[[FloatArray], list[FloatArray]]


def _trailing_transform(
    values: FloatArray, outputs: int, transform: BlockTransform
) -> list[FloatArray]:
    """Apply ``transform`` to every trailing window; row ``t`` gets the window ending at ``t``."""
    rows, cols = values.shape
    results = [np.full((rows, cols), np.nan) for _ in range(outputs)]
    if rows < SPECTRAL_WINDOW:
        return results
    windows = sliding_window_view(values, SPECTRAL_WINDOW, axis=0)  # (rows - w + 1, cols, w)
    step = max(1, _BLOCK_VALUES // max(1, cols * SPECTRAL_WINDOW))
    for first in range(0, windows.shape[0], step):
        block = windows[first : first + step]
        for result, part in zip(results, transform(block), strict=True):
            start = first + SPECTRAL_WINDOW - 1
            result[start : start + block.shape[0]] = part
    return results


def _wavelet_shares(block: FloatArray) -> list[FloatArray]:
    import pywt

    coefficients = pywt.wavedec(block, WAVELET, mode="periodization", level=WAVELET_LEVELS, axis=-1)
    energies = [np.sum(c**2, axis=-1) for c in coefficients]  # [approx, d3, d2, d1]
    total = np.sum(energies, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        details = [np.where(total > 0, e / total, np.nan) for e in energies[:0:-1]]  # d1, d2, d3
    return details


_HANN = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(SPECTRAL_WINDOW) / SPECTRAL_WINDOW)


def _fourier_shape(block: FloatArray) -> list[FloatArray]:
    # Demeaning only moves bin 1 of a periodic-Hann spectrum (the taper's own spectrum is
    # n/2 at bin 0, -n/4 at bin 1, 0 above), so it is applied there instead of on every sample.
    spectrum = np.fft.rfft(block * _HANN, axis=-1)[..., 1:]
    spectrum[..., 0] += block.mean(axis=-1) * (SPECTRAL_WINDOW / 4.0)
    power = spectrum.real**2 + spectrum.imag**2
    total = power.sum(axis=-1)
    valid = total > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        share = power / total[..., None]
        entropy = -np.sum(share * np.log(np.where(share > 0, share, 1.0)), axis=-1)
    entropy = np.where(valid, entropy / np.log(power.shape[-1]), np.nan)
    period = np.where(valid, SPECTRAL_WINDOW / (np.argmax(power, axis=-1) + 1.0), np.nan)
    return [period, entropy]


def wavelet_energy(panel: Panel) -> list[FloatArray]:
    """Energy shares of detail levels 1..3 of the trailing 64 log returns."""
    result: list[FloatArray] = panel.cached(
        "wavelet", lambda: _trailing_transform(log_return(panel), WAVELET_LEVELS, _wavelet_shares)
    )
    return result


def fourier_features(panel: Panel) -> list[FloatArray]:
    """(dominant period in bars, normalised spectral entropy) of the trailing 64 log returns."""
    result: list[FloatArray] = panel.cached(
        "fourier", lambda: _trailing_transform(log_return(panel), 2, _fourier_shape)
    )
    return result
