"""Technical indicators and volatility estimators on a :class:`Panel`, all symbols at once.

Conventions (each a choice a reader should not have to guess):

- Returns are simple (``close / close[t-k] - 1``) except ``logret_1``; MA ratios are
  ``close / SMA - 1`` so 0 means "at the average".
- RSI, MACD and ATR follow the ``ta`` package's initialisation so the values can be checked
  against it: RSI smooths gains and losses with Wilder's ``alpha = 1/14`` from the first bar;
  MACD uses ``span`` EMAs seeded by the first close, the signal line seeded by the first MACD
  value; ATR is seeded with the mean of the first 14 true ranges, then Wilder's recursion.
  These are *recursive*: every earlier bar still weighs a little, so a value depends slightly
  on where history starts (the build reads a warm-up period first for that reason).
- ``atr_14`` is the ATR as a fraction of the close, so it compares across price levels.
- ``bb_width_20`` is (upper - lower) / middle band as a fraction (``ta`` reports it x100).
- Raw OBV is a running sum, so its level depends on where history starts; ``obv_z_20`` is its
  rolling z-score, in which that offset cancels: it depends only on the last 20 bars. Our raw
  OBV counts an unchanged close as 0 and starts at 0 (``ta`` counts it as up and starts at the
  first volume).
- Volatilities are per bar (not annualised): realized = standard deviation of log returns
  (ddof 1); Parkinson and Garman-Klass from the high/low (and open/close) ranges.
"""

from __future__ import annotations

import math

import numpy as np

from quantdesk.features.panel import FloatArray, Panel
from quantdesk.features.windows import (
    ewm_mean,
    lag,
    rolling_max,
    rolling_mean,
    rolling_min,
    rolling_std,
    rolling_zscore,
    safe_divide,
)

RSI_WINDOW = 14
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
BB_WINDOW, BB_STDS = 20, 2.0
ATR_WINDOW = 14
STOCH_WINDOW, STOCH_SMOOTH = 14, 3
Z_WINDOW = 20
VOL_WINDOW = 20


def simple_return(panel: Panel, bars: int) -> FloatArray:
    close = panel.close
    return safe_divide(close, lag(close, bars)) - 1.0


def log_return(panel: Panel) -> FloatArray:
    def compute() -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            out: FloatArray = np.log(safe_divide(panel.close, lag(panel.close, 1)))
        return out

    result: FloatArray = panel.cached("logret_1", compute)
    return result


def ma_ratio(panel: Panel, window: int) -> FloatArray:
    return safe_divide(panel.close, rolling_mean(panel.close, window)) - 1.0


def rsi(panel: Panel, window: int = RSI_WINDOW) -> FloatArray:
    """Wilder's RSI in [0, 100]; 100 when there was no loss in the smoothing memory."""
    change = panel.close - lag(panel.close, 1)
    change[0] = 0.0
    gain = np.where(np.isnan(change), np.nan, np.maximum(change, 0.0))
    loss = np.where(np.isnan(change), np.nan, np.maximum(-change, 0.0))
    avg_gain = ewm_mean(gain, 1.0 / window, min_periods=window)
    avg_loss = ewm_mean(loss, 1.0 / window, min_periods=window)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(
            avg_loss == 0, 100.0, 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
        )
    out[np.isnan(avg_loss)] = np.nan
    return out


def macd(panel: Panel) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(MACD line, signal line, histogram) of the close, 12/26/9 EMAs."""

    def compute() -> tuple[FloatArray, FloatArray, FloatArray]:
        fast = ewm_mean(panel.close, 2.0 / (MACD_FAST + 1), min_periods=MACD_FAST)
        slow = ewm_mean(panel.close, 2.0 / (MACD_SLOW + 1), min_periods=MACD_SLOW)
        line = fast - slow
        signal = ewm_mean(
            line, 2.0 / (MACD_SIGNAL + 1), start=MACD_SLOW - 1, min_periods=MACD_SIGNAL
        )
        return line, signal, line - signal

    result: tuple[FloatArray, FloatArray, FloatArray] = panel.cached("macd", compute)
    return result


def bollinger(panel: Panel) -> tuple[FloatArray, FloatArray]:
    """(%b, width) of 20-bar bands at 2 population standard deviations."""

    def compute() -> tuple[FloatArray, FloatArray]:
        middle = rolling_mean(panel.close, BB_WINDOW)
        spread = BB_STDS * rolling_std(panel.close, BB_WINDOW, ddof=0)
        upper, lower = middle + spread, middle - spread
        return safe_divide(panel.close - lower, upper - lower), safe_divide(upper - lower, middle)

    result: tuple[FloatArray, FloatArray] = panel.cached("bollinger", compute)
    return result


def true_range(panel: Panel) -> FloatArray:
    """max(high - low, |high - previous close|, |low - previous close|); high - low first."""
    previous = lag(panel.close, 1)
    span = panel.high - panel.low
    with np.errstate(invalid="ignore"):
        gaps = np.fmax(np.abs(panel.high - previous), np.abs(panel.low - previous))
    out: FloatArray = np.fmax(span, gaps)
    out[np.isnan(span)] = np.nan
    return out


def average_true_range(panel: Panel, window: int = ATR_WINDOW) -> FloatArray:
    """Wilder's ATR in price units, seeded with the mean of the first ``window`` true ranges."""
    tr = true_range(panel)
    seeded = np.full_like(tr, np.nan)
    if tr.shape[0] >= window:
        seeded[window - 1] = rolling_mean(tr[:window], window)[window - 1]
        seeded[window:] = tr[window:]
    return ewm_mean(seeded, 1.0 / window, start=window - 1)


def atr_fraction(panel: Panel) -> FloatArray:
    return safe_divide(average_true_range(panel), panel.close)


def stochastic(panel: Panel) -> tuple[FloatArray, FloatArray]:
    """(%K over 14 bars, %D = 3-bar mean of %K), in [0, 100]."""

    def compute() -> tuple[FloatArray, FloatArray]:
        lowest = rolling_min(panel.low, STOCH_WINDOW)
        highest = rolling_max(panel.high, STOCH_WINDOW)
        k = 100.0 * safe_divide(panel.close - lowest, highest - lowest)
        return k, rolling_mean(k, STOCH_SMOOTH)

    result: tuple[FloatArray, FloatArray] = panel.cached("stochastic", compute)
    return result


def on_balance_volume(panel: Panel) -> FloatArray:
    """Raw OBV from 0 at each symbol's first bar: its level depends on where history starts."""
    direction = np.sign(panel.close - lag(panel.close, 1))
    signed = np.nan_to_num(direction * panel.volume, nan=0.0)
    out: FloatArray = np.cumsum(signed, axis=0)
    out[np.isnan(panel.close)] = np.nan
    return out


def obv_zscore(panel: Panel) -> FloatArray:
    return rolling_zscore(on_balance_volume(panel), Z_WINDOW)


def volume_zscore(panel: Panel) -> FloatArray:
    return rolling_zscore(panel.volume, Z_WINDOW)


def realized_volatility(panel: Panel) -> FloatArray:
    return rolling_std(log_return(panel), VOL_WINDOW, ddof=1)


def _log_ranges(panel: Panel) -> tuple[FloatArray, FloatArray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(panel.high / panel.low), np.log(panel.close / panel.open)


def parkinson_volatility(panel: Panel) -> FloatArray:
    """sqrt(mean(ln(H/L)^2) / (4 ln 2)): uses the range, ~5x more efficient than closes."""
    hl, _ = _log_ranges(panel)
    result: FloatArray = np.sqrt(rolling_mean(hl**2, VOL_WINDOW) / (4.0 * math.log(2.0)))
    return result


def garman_klass_volatility(panel: Panel) -> FloatArray:
    """sqrt(mean(0.5 ln(H/L)^2 - (2 ln 2 - 1) ln(C/O)^2)); never negative for valid bars."""
    hl, co = _log_ranges(panel)
    terms = 0.5 * hl**2 - (2.0 * math.log(2.0) - 1.0) * co**2
    result: FloatArray = np.sqrt(np.clip(rolling_mean(terms, VOL_WINDOW), 0.0, None))
    return result
