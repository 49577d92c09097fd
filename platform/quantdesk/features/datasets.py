"""Model-ready windows from a feature frame: (samples, time, features) arrays plus labels.

A *feature frame* has one row per (symbol, time) with a symbol column, a time column and
float feature columns; *labels* are arrays aligned with its rows (a forward return and a
down/flat/up class, NaN / -1 where unknown). :func:`build_windows` turns them into sliding
windows per symbol, each ending at the sample's own time (causal: a window never contains a
row later than the label's start). Samples are ordered by time, then symbol, and carry their
*time position* so :mod:`quantdesk.features.splits` can split on time, not rows.

Scaling is fitted on the training part only (:meth:`FeatureScaler.fit`); building windows is
cached on disk keyed by the hash of the input data and of the configuration.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from quantdesk.data.atomic_files import write_file_atomic
from quantdesk.domain.errors import InvalidInputError
from quantdesk.features.labels import DOWN, FLAT, UP

__all__ = [
    "DOWN",
    "FLAT",
    "UP",
    "FeatureScaler",
    "LabelArrays",
    "WindowConfig",
    "WindowedDataset",
    "build_windows",
    "build_windows_cached",
    "config_hash",
    "data_hash",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_CACHE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class WindowConfig:
    """What a window is: its length, the features (in order) and the frame's key columns."""

    window: int
    features: tuple[str, ...]
    symbol_column: str = "symbol"
    time_column: str = "timestamp"

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        if self.window < 1:
            raise InvalidInputError(f"window must be >= 1, got {self.window}")
        if not self.features:
            raise InvalidInputError("a window config needs at least one feature")
        if len(set(self.features)) != len(self.features):
            raise InvalidInputError(f"a feature is listed twice: {self.features}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["features"] = list(self.features)
        return data


@dataclass(frozen=True, slots=True, eq=False)
class LabelArrays:
    """Labels aligned with the feature frame's rows: forward return and down/flat/up class."""

    forward_return: FloatArray
    direction: IntArray

    def __post_init__(self) -> None:
        ret = np.asarray(self.forward_return, dtype=np.float64)
        cls = np.asarray(self.direction, dtype=np.int64)
        if ret.ndim != 1 or cls.shape != ret.shape:
            raise InvalidInputError("forward_return and direction must be 1-D and equally long")
        if np.any((cls < -1) | (cls > UP)):
            raise InvalidInputError("direction must be -1 (unknown), 0 (down), 1 (flat) or 2 (up)")
        object.__setattr__(self, "forward_return", ret)
        object.__setattr__(self, "direction", cls)

    def __len__(self) -> int:
        return len(self.forward_return)


@dataclass(frozen=True, slots=True, eq=False)
class WindowedDataset:
    """Windows ``x`` (samples, window, features, float32) and their labels and keys.

    ``times`` are naive ``datetime64[ns]`` in UTC; ``time_positions`` index the sorted
    distinct times of the whole frame (``n_times`` of them), the axis splits cut.
    """

    x: npt.NDArray[np.float32]
    forward_return: FloatArray
    direction: IntArray
    symbols: npt.NDArray[np.str_]
    times: npt.NDArray[np.datetime64]
    time_positions: IntArray
    n_times: int
    config: WindowConfig
    data_hash: str

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.config.features

    @property
    def config_hash(self) -> str:
        return config_hash(self.config)

    def subset(self, indices: npt.ArrayLike) -> WindowedDataset:
        """The samples at ``indices`` (same config, time axis and data hash)."""
        idx = np.asarray(indices, dtype=np.int64)
        return WindowedDataset(
            x=self.x[idx],
            forward_return=self.forward_return[idx],
            direction=self.direction[idx],
            symbols=self.symbols[idx],
            times=self.times[idx],
            time_positions=self.time_positions[idx],
            n_times=self.n_times,
            config=self.config,
            data_hash=self.data_hash,
        )


@dataclass(frozen=True, slots=True, eq=False)
class FeatureScaler:
    """Per-feature standardisation, fitted on training windows only and stored with a model."""

    features: tuple[str, ...]
    mean: FloatArray
    std: FloatArray

    @classmethod
    def fit(cls, x: npt.NDArray[np.floating[Any]], features: tuple[str, ...]) -> FeatureScaler:
        """Mean and std of each feature over the rows the training windows end at.

        Overlapping windows repeat every row ``window`` times; the last step of each window
        counts each training row once, which is the same statistic at a fraction of the cost.
        """
        if x.ndim != 3 or x.shape[2] != len(features) or x.shape[0] == 0:
            raise InvalidInputError(
                f"fit needs non-empty (samples, time, {len(features)}) windows; got {x.shape}"
            )
        rows = x[:, -1, :].astype(np.float64)
        std = rows.std(axis=0)
        return cls(tuple(features), rows.mean(axis=0), np.where(std > 1e-12, std, 1.0))

    def transform(self, x: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float32]:
        if x.shape[-1] != len(self.features):
            raise InvalidInputError(f"expected {len(self.features)} features, got {x.shape[-1]}")
        mean, std = self.mean.astype(np.float32), self.std.astype(np.float32)
        return np.asarray((x.astype(np.float32, copy=False) - mean) / std, dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureScaler:
        return cls(
            tuple(data["features"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["std"], dtype=np.float64),
        )


def data_hash(frame: pd.DataFrame, labels: LabelArrays) -> str:
    """SHA-256 of the frame's columns and values and of the labels (row order matters)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(np.ascontiguousarray(labels.forward_return).tobytes())
    digest.update(np.ascontiguousarray(labels.direction).tobytes())
    return digest.hexdigest()


def config_hash(config: WindowConfig) -> str:
    """SHA-256 of the window configuration (stable JSON)."""
    text = json.dumps(config.to_dict(), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def build_windows(
    frame: pd.DataFrame, labels: LabelArrays, config: WindowConfig
) -> WindowedDataset:
    """Sliding windows of ``config.window`` rows per symbol, ending at each labelled row.

    A sample is kept only when its whole window and its labels are finite. Raises
    :class:`InvalidInputError` naming missing columns, misaligned labels or duplicate keys.
    """
    _check_frame(frame, labels, config)
    sym_col, time_col = config.symbol_column, config.time_column
    stamps = pd.to_datetime(frame[time_col], utc=True).dt.tz_convert(None)
    times_all = stamps.to_numpy(dtype="datetime64[ns]")
    unique_times = np.unique(times_all)
    order = np.lexsort((times_all, frame[sym_col].to_numpy()))
    values = frame[list(config.features)].to_numpy(dtype=np.float64)[order]
    symbols = frame[sym_col].to_numpy().astype(str)[order]
    times = times_all[order]
    ret = labels.forward_return[order]
    cls = labels.direction[order]

    w = config.window
    finite_row = np.isfinite(values).all(axis=1)
    # Rows [r - w + 1, r] must share the symbol and all be finite.
    bad = np.concatenate([[0], np.cumsum(~finite_row)])
    starts = np.arange(len(values)) - w + 1
    valid_start = starts >= 0
    safe_starts = np.where(valid_start, starts, 0)
    same_symbol = valid_start & (symbols[safe_starts] == symbols)
    window_clean = (bad[np.arange(len(values)) + 1] - bad[safe_starts]) == 0
    keep = same_symbol & window_clean & np.isfinite(ret) & (cls >= 0)
    ends = np.flatnonzero(keep)

    positions = np.searchsorted(unique_times, times[ends]).astype(np.int64)
    by_time = np.lexsort((symbols[ends], positions))
    ends, positions = ends[by_time], positions[by_time]
    if len(ends):
        steps = ends[:, None] + np.arange(-w + 1, 1)[None, :]
        x = values[steps].astype(np.float32)
    else:
        x = np.zeros((0, w, len(config.features)), dtype=np.float32)
    return WindowedDataset(
        x=x,
        forward_return=ret[ends],
        direction=cls[ends],
        symbols=symbols[ends],
        times=times[ends],
        time_positions=positions,
        n_times=len(unique_times),
        config=config,
        data_hash=data_hash(frame, labels),
    )


def build_windows_cached(
    frame: pd.DataFrame, labels: LabelArrays, config: WindowConfig, cache_dir: Path
) -> WindowedDataset:
    """:func:`build_windows`, reusing ``cache_dir/<data hash>-<config hash>.npz`` when present."""
    digest = data_hash(frame, labels)
    path = cache_dir / f"windows-{digest[:24]}-{config_hash(config)[:16]}.npz"
    if path.exists():
        return _load(path, config, digest)
    dataset = build_windows(frame, labels, config)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        format=np.array(_CACHE_FORMAT),
        x=dataset.x,
        forward_return=dataset.forward_return,
        direction=dataset.direction,
        symbols=dataset.symbols,
        times=dataset.times.astype(np.int64),
        time_positions=dataset.time_positions,
        n_times=np.array(dataset.n_times),
    )
    payload = buffer.getvalue()
    write_file_atomic(path, lambda handle: handle.write(payload))
    return dataset


def _load(path: Path, config: WindowConfig, digest: str) -> WindowedDataset:
    with np.load(path, allow_pickle=False) as data:
        return WindowedDataset(
            x=data["x"],
            forward_return=data["forward_return"],
            direction=data["direction"],
            symbols=data["symbols"],
            times=data["times"].astype("datetime64[ns]"),
            time_positions=data["time_positions"],
            n_times=int(data["n_times"]),
            config=config,
            data_hash=digest,
        )


def _check_frame(frame: pd.DataFrame, labels: LabelArrays, config: WindowConfig) -> None:
    needed = [config.symbol_column, config.time_column, *config.features]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InvalidInputError(f"feature frame lacks column(s): {', '.join(missing)}")
    if len(labels) != len(frame):
        raise InvalidInputError(
            f"labels have {len(labels)} rows but the feature frame has {len(frame)}"
        )
    if frame.duplicated([config.symbol_column, config.time_column]).any():
        raise InvalidInputError("feature frame has duplicate (symbol, time) rows")
