"""Feature names and feature views shared by code and the Feast repo: the one list of record.

``feature_repo/`` declares exactly these views and fields, and a test checks both agree, so a
model never asks the online store for a feature that is not served. How each feature is
computed, and the look-back it declares, is in :mod:`quantdesk.features.registry`, which
refuses to load if it and this list disagree.

The offline store written by ``quantdesk features build`` holds one Parquet file per view at
``<home>/features/offline/<view>.parquet`` with the columns ``symbol`` (string),
``event_timestamp`` (UTC: when the value became known, i.e. the ``available_at`` of the newest
bar version it used), ``created_timestamp`` (UTC: when it was computed) and the view's features
(float64). A corrected bar yields a row with a later ``event_timestamp``, so a point-in-time
join at an earlier time still returns the value known then.
"""

from __future__ import annotations

from typing import Final

ENTITY_NAME: Final = "instrument"
ENTITY_JOIN_KEY: Final = "symbol"
EVENT_TIMESTAMP: Final = "event_timestamp"
CREATED_TIMESTAMP: Final = "created_timestamp"

# Returns and trend.
RET_1: Final = "ret_1"
RET_5: Final = "ret_5"
RET_20: Final = "ret_20"
LOGRET_1: Final = "logret_1"
MA_RATIO_10: Final = "ma_ratio_10"
MA_RATIO_50: Final = "ma_ratio_50"
RSI_14: Final = "rsi_14"
MACD: Final = "macd"
MACD_SIGNAL: Final = "macd_signal"
MACD_HIST: Final = "macd_hist"
BB_PCTB_20: Final = "bb_pctb_20"
BB_WIDTH_20: Final = "bb_width_20"
STOCH_K_14: Final = "stoch_k_14"
STOCH_D_3: Final = "stoch_d_3"
OBV_Z_20: Final = "obv_z_20"
VOLUME_Z_20: Final = "volume_z_20"

# Volatility.
ATR_14: Final = "atr_14"
REALIZED_VOL_20: Final = "realized_vol_20"
PARKINSON_VOL_20: Final = "parkinson_vol_20"
GARMAN_KLASS_VOL_20: Final = "garman_klass_vol_20"

# Spectral, over trailing windows only.
WAVELET_ENERGY_L1: Final = "wavelet_energy_l1"
WAVELET_ENERGY_L2: Final = "wavelet_energy_l2"
WAVELET_ENERGY_L3: Final = "wavelet_energy_l3"
FOURIER_DOMINANT_PERIOD: Final = "fourier_dominant_period"
FOURIER_SPECTRAL_ENTROPY: Final = "fourier_spectral_entropy"

# Cross-asset, against the benchmark (SPX by default).
CORR_BENCHMARK_60: Final = "corr_benchmark_60"
BETA_BENCHMARK_60: Final = "beta_benchmark_60"

# Feature views, named <grain>_<topic>.
FEATURE_VIEWS: Final[dict[str, tuple[str, ...]]] = {
    "daily_technical": (
        RET_1, RET_5, RET_20, LOGRET_1, MA_RATIO_10, MA_RATIO_50, RSI_14, MACD, MACD_SIGNAL,
        MACD_HIST, BB_PCTB_20, BB_WIDTH_20, STOCH_K_14, STOCH_D_3, OBV_Z_20, VOLUME_Z_20,
    ),
    "daily_volatility": (ATR_14, REALIZED_VOL_20, PARKINSON_VOL_20, GARMAN_KLASS_VOL_20),
    "daily_spectral": (
        WAVELET_ENERGY_L1, WAVELET_ENERGY_L2, WAVELET_ENERGY_L3, FOURIER_DOMINANT_PERIOD,
        FOURIER_SPECTRAL_ENTROPY,
    ),
    "daily_cross_asset": (CORR_BENCHMARK_60, BETA_BENCHMARK_60),
}  # fmt: skip

ALL_FEATURES: Final[tuple[str, ...]] = tuple(f for fs in FEATURE_VIEWS.values() for f in fs)

# Feature services, one per model family, named <model>_v<N>.
FEATURE_SERVICES: Final[dict[str, tuple[str, ...]]] = {
    "hybrid_v1": ALL_FEATURES,
    "rl_v1": (
        RET_1, RET_5, RET_20, RSI_14, MACD_HIST, BB_PCTB_20, REALIZED_VOL_20, ATR_14,
        CORR_BENCHMARK_60,
    ),
}  # fmt: skip


def view_of(feature: str) -> str:
    """The feature view that serves ``feature``; raises naming the unknown feature."""
    for view, features in FEATURE_VIEWS.items():
        if feature in features:
            return view
    raise KeyError(f"unknown feature {feature!r}; known: {', '.join(ALL_FEATURES)}")
