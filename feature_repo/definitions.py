"""Feast declarations of quantdesk: the `instrument` entity, one Parquet source and one feature
view per topic, and one feature service per model family.

Declarations only: Feast imports every ``.py`` here, so nothing in this file reads data or
imports quantdesk. The names repeat ``quantdesk.features.names`` (the list of record) and a test
checks both agree.

Source paths are relative: Feast resolves them against its ``repo_path``, which quantdesk sets
to ``QUANTDESK_HOME``, so ``features/offline/<view>.parquet`` is the file written by
``quantdesk features build`` and a home restored elsewhere keeps working.

Point-in-time: ``event_timestamp`` is when a value became known (a corrected bar yields a new
row with a later event time), and ``created_timestamp`` breaks ties between recomputations of
the same event time, the newest winning.
"""

from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, FileSource, ValueType
from feast.types import Float64

# Daily bars: a value older than a week (long weekend plus holidays, with slack) is stale and
# a point-in-time join returns null rather than carry it forward.
DAILY_TTL = timedelta(days=7)

instrument = Entity(
    name="instrument",
    join_keys=["symbol"],
    value_type=ValueType.STRING,
    description="A tradable instrument, keyed by its canonical symbol (AAPL, BTC-USD, EUR-USD).",
)


def _source(view: str) -> FileSource:
    return FileSource(
        name=f"{view}_source",
        path=f"features/offline/{view}.parquet",
        timestamp_field="event_timestamp",
        created_timestamp_column="created_timestamp",
        description=f"Offline Parquet of {view}, written by `quantdesk features build`.",
    )


def _view(name: str, features: list[str], description: str) -> FeatureView:
    return FeatureView(
        name=name,
        entities=[instrument],
        ttl=DAILY_TTL,
        schema=[Field(name=feature, dtype=Float64) for feature in features],
        source=_source(name),
        online=True,
        description=description,
    )


daily_technical = _view(
    "daily_technical",
    [
        "ret_1", "ret_5", "ret_20", "logret_1", "ma_ratio_10", "ma_ratio_50", "rsi_14", "macd",
        "macd_signal", "macd_hist", "bb_pctb_20", "bb_width_20", "stoch_k_14", "stoch_d_3",
        "obv_z_20", "volume_z_20",
    ],
    "Returns, trend and oscillators over trailing daily windows.",
)  # fmt: skip

daily_volatility = _view(
    "daily_volatility",
    ["atr_14", "realized_vol_20", "parkinson_vol_20", "garman_klass_vol_20"],
    "Range- and close-based volatility estimators over trailing daily windows.",
)

daily_spectral = _view(
    "daily_spectral",
    [
        "wavelet_energy_l1", "wavelet_energy_l2", "wavelet_energy_l3",
        "fourier_dominant_period", "fourier_spectral_entropy",
    ],
    "Wavelet and Fourier descriptors of trailing windows only.",
)  # fmt: skip

daily_cross_asset = _view(
    "daily_cross_asset",
    ["corr_benchmark_60", "beta_benchmark_60"],
    "Correlation and beta against the benchmark (SPX by default).",
)

hybrid_v1 = FeatureService(
    name="hybrid_v1",
    features=[daily_technical, daily_volatility, daily_spectral, daily_cross_asset],
    description="Every feature: the CNN-LSTM hybrid model, version 1.",
)

rl_v1 = FeatureService(
    name="rl_v1",
    features=[
        daily_technical[["ret_1", "ret_5", "ret_20", "rsi_14", "macd_hist", "bb_pctb_20"]],
        daily_volatility[["realized_vol_20", "atr_14"]],
        daily_cross_asset[["corr_benchmark_60"]],
    ],
    description="The compact observation of the RL agents, version 1.",
)
