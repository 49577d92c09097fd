"""Every feature with its declared look-back: the registry the builder and the tests walk.

``lookback`` is the number of bars, the current one included, that the first valid value
needs (row ``lookback - 1`` of a symbol is its first non-NaN value). A *windowed* feature
depends on exactly those last ``lookback`` bars; a *recursive* one (an exponential filter)
also remembers older bars with geometrically fading weight, so it converges rather than
being exact after ``lookback`` bars. The tests check both claims for every entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from quantdesk.features import correlation, indicators, names, spectral
from quantdesk.features.panel import FloatArray, Panel

__all__ = ["FEATURE_SPECS", "LABEL_PREFIX", "FeatureSpec"]

LABEL_PREFIX = "label_"
_SPECTRAL = spectral.SPECTRAL_WINDOW + 1
_CROSS = correlation.CROSS_WINDOW + 1


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One feature: its name (from ``names``), family, look-back and how to compute it."""

    name: str
    family: str
    lookback: int
    recursive: bool
    compute: Callable[[Panel], FloatArray]


def _spec(
    name: str,
    family: str,
    lookback: int,
    compute: Callable[[Panel], FloatArray],
    *,
    recursive: bool = False,
) -> FeatureSpec:
    return FeatureSpec(name, family, lookback, recursive, compute)


_SPECS: tuple[FeatureSpec, ...] = (
    _spec(names.RET_1, "returns", 2, lambda p: indicators.simple_return(p, 1)),
    _spec(names.RET_5, "returns", 6, lambda p: indicators.simple_return(p, 5)),
    _spec(names.RET_20, "returns", 21, lambda p: indicators.simple_return(p, 20)),
    _spec(names.LOGRET_1, "returns", 2, indicators.log_return),
    _spec(names.MA_RATIO_10, "trend", 10, lambda p: indicators.ma_ratio(p, 10)),
    _spec(names.MA_RATIO_50, "trend", 50, lambda p: indicators.ma_ratio(p, 50)),
    _spec(names.RSI_14, "momentum", 14, indicators.rsi, recursive=True),
    _spec(names.MACD, "macd", 26, lambda p: indicators.macd(p)[0], recursive=True),
    _spec(names.MACD_SIGNAL, "macd", 34, lambda p: indicators.macd(p)[1], recursive=True),
    _spec(names.MACD_HIST, "macd", 34, lambda p: indicators.macd(p)[2], recursive=True),
    _spec(names.BB_PCTB_20, "bollinger", 20, lambda p: indicators.bollinger(p)[0]),
    _spec(names.BB_WIDTH_20, "bollinger", 20, lambda p: indicators.bollinger(p)[1]),
    _spec(names.STOCH_K_14, "stochastic", 14, lambda p: indicators.stochastic(p)[0]),
    _spec(names.STOCH_D_3, "stochastic", 16, lambda p: indicators.stochastic(p)[1]),
    _spec(names.OBV_Z_20, "volume", 20, indicators.obv_zscore),
    _spec(names.VOLUME_Z_20, "volume", 20, indicators.volume_zscore),
    _spec(names.ATR_14, "volatility", 14, indicators.atr_fraction, recursive=True),
    _spec(names.REALIZED_VOL_20, "volatility", 21, indicators.realized_volatility),
    _spec(names.PARKINSON_VOL_20, "volatility", 20, indicators.parkinson_volatility),
    _spec(names.GARMAN_KLASS_VOL_20, "volatility", 20, indicators.garman_klass_volatility),
    _spec(names.WAVELET_ENERGY_L1, "wavelet", _SPECTRAL, lambda p: spectral.wavelet_energy(p)[0]),
    _spec(names.WAVELET_ENERGY_L2, "wavelet", _SPECTRAL, lambda p: spectral.wavelet_energy(p)[1]),
    _spec(names.WAVELET_ENERGY_L3, "wavelet", _SPECTRAL, lambda p: spectral.wavelet_energy(p)[2]),
    _spec(
        names.FOURIER_DOMINANT_PERIOD,
        "fourier",
        _SPECTRAL,
        lambda p: spectral.fourier_features(p)[0],
    ),
    _spec(
        names.FOURIER_SPECTRAL_ENTROPY,
        "fourier",
        _SPECTRAL,
        lambda p: spectral.fourier_features(p)[1],
    ),
    _spec(
        names.CORR_BENCHMARK_60,
        "cross_asset",
        _CROSS,
        lambda p: correlation.correlation_and_beta(p)[0],
    ),
    _spec(
        names.BETA_BENCHMARK_60,
        "cross_asset",
        _CROSS,
        lambda p: correlation.correlation_and_beta(p)[1],
    ),
)

FEATURE_SPECS: Mapping[str, FeatureSpec] = {spec.name: spec for spec in _SPECS}


def _check_registry() -> None:
    """The registry and the list of record agree, and no feature could pass for a label."""
    if tuple(FEATURE_SPECS) != names.ALL_FEATURES:
        raise RuntimeError("features.registry and features.names list different features")
    clash = [n for n in FEATURE_SPECS if n.startswith(LABEL_PREFIX)]
    if clash:
        raise RuntimeError(f"feature names must not start with {LABEL_PREFIX!r}: {clash}")


_check_registry()
