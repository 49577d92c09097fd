"""The offline feature store: one Parquet file per feature view, read by Feast's file source.

Layout and columns are those of :mod:`quantdesk.features.names`: ``symbol`` (string),
``event_timestamp`` (UTC, when the value became known), ``created_timestamp`` (UTC, when it
was computed) and the view's features as float64, sorted by (symbol, event_timestamp).

Why it is written like this:

- **Atomic.** Each file is replaced by rename (``write_file_atomic``): Feast never reads a torn
  file. One writer at a time (an ``flock`` on ``.offline.lock`` beside the files).
- **Idempotent merge.** New rows are merged into the stored ones by (symbol, event_timestamp).
  A row whose features did not change keeps its stored ``created_timestamp``, so re-running a
  build on the same bars leaves every file byte for byte as it was (and is not rewritten);
  a row whose values changed replaces the stored one and carries the new computation time.
  Rows never duplicate.
- **One row per known time.** If two bars of a symbol share an ``event_timestamp`` (a late
  correction makes every later value known at once), only the newest bar's row is kept: at that
  instant it is the latest value known.
- **No empty rows.** Warm-up rows where every feature of the view is NaN are not written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from quantdesk.data.atomic_files import exclusive_lock, write_file_atomic
from quantdesk.domain import InvalidInputError, StorageError, require_utc
from quantdesk.features.names import (
    CREATED_TIMESTAMP,
    ENTITY_JOIN_KEY,
    EVENT_TIMESTAMP,
    FEATURE_VIEWS,
)

__all__ = ["LOCK_FILE", "ViewWriteSummary", "offline_path", "read_view", "write_offline_store"]

LOCK_FILE = ".offline.lock"
_KEY = [ENTITY_JOIN_KEY, EVENT_TIMESTAMP]
_TIME_TYPE = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True, slots=True)
class ViewWriteSummary:
    """What one view's merge did. ``rows`` is the file's row count afterwards."""

    view: str
    path: Path
    rows: int
    new: int
    replaced: int
    unchanged: int
    written: bool


def offline_path(offline_dir: Path, view: str) -> Path:
    """``<offline_dir>/<view>.parquet``; raises naming an unknown view."""
    if view not in FEATURE_VIEWS:
        raise InvalidInputError(f"unknown feature view {view!r}; known: {', '.join(FEATURE_VIEWS)}")
    return offline_dir / f"{view}.parquet"


def _schema(view: str) -> pa.Schema:
    fields = [
        pa.field(ENTITY_JOIN_KEY, pa.string(), nullable=False),
        pa.field(EVENT_TIMESTAMP, _TIME_TYPE, nullable=False),
        pa.field(CREATED_TIMESTAMP, _TIME_TYPE, nullable=False),
    ]
    fields += [pa.field(name, pa.float64()) for name in FEATURE_VIEWS[view]]
    return pa.schema(fields)


def _empty(view: str) -> pd.DataFrame:
    return _schema(view).empty_table().to_pandas()


def read_view(offline_dir: Path, view: str) -> pd.DataFrame:
    """The stored rows of ``view`` (an empty frame with the right columns when absent)."""
    path = offline_path(offline_dir, view)
    if not path.exists():
        return _conform(_empty(view), view)
    try:
        table = pq.read_table(path, schema=_schema(view))
    except (OSError, pa.ArrowException) as exc:
        raise StorageError(f"cannot read offline feature file {path}: {exc}") from exc
    return _conform(table.to_pandas(), view)


def _conform(frame: pd.DataFrame, view: str) -> pd.DataFrame:
    """The view's columns, in order, with the dtypes the merge compares on."""
    out = pd.DataFrame(
        {
            ENTITY_JOIN_KEY: frame[ENTITY_JOIN_KEY].astype("string"),
            EVENT_TIMESTAMP: pd.to_datetime(frame[EVENT_TIMESTAMP], utc=True).astype(
                "datetime64[us, UTC]"
            ),
            CREATED_TIMESTAMP: pd.to_datetime(frame[CREATED_TIMESTAMP], utc=True).astype(
                "datetime64[us, UTC]"
            ),
        }
    )
    for name in FEATURE_VIEWS[view]:
        out[name] = frame[name].to_numpy(dtype="float64")
    return out.reset_index(drop=True)


def _view_rows(features: pd.DataFrame, view: str, created_at: datetime) -> pd.DataFrame:
    """The rows of one view from a feature frame: known times, no warm-up, one per key."""
    names = list(FEATURE_VIEWS[view])
    rows = features.loc[:, [ENTITY_JOIN_KEY, "open_time", EVENT_TIMESTAMP, *names]]
    rows = rows[rows[names].notna().any(axis=1)]
    rows = rows.sort_values([ENTITY_JOIN_KEY, EVENT_TIMESTAMP, "open_time"], kind="stable")
    rows = rows.drop_duplicates(_KEY, keep="last").drop(columns="open_time")
    rows.insert(2, CREATED_TIMESTAMP, pd.Timestamp(created_at))
    return _conform(rows, view)


def _same_values(left: pd.DataFrame, right: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """Row-wise: every feature equal, NaN equal to NaN."""
    a = left[list(names)].to_numpy(dtype="float64")
    b = right[list(names)].to_numpy(dtype="float64")
    same: np.ndarray = ((a == b) | (np.isnan(a) & np.isnan(b))).all(axis=1)
    return same


def _merge(
    stored: pd.DataFrame, incoming: pd.DataFrame, view: str
) -> tuple[pd.DataFrame, int, int, int]:
    """Stored rows overlaid by incoming ones; unchanged rows keep their stored created time."""
    names = FEATURE_VIEWS[view]
    joined = incoming.merge(
        stored, on=_KEY, how="left", suffixes=("", "_stored"), indicator=True, sort=False
    )
    existed = (joined["_merge"] == "both").to_numpy()
    stored_view = joined[[f"{n}_stored" for n in names]].set_axis(list(names), axis=1)
    unchanged = existed & _same_values(joined, stored_view, names)
    keep_stored = pd.Series(unchanged, index=joined.index)
    joined[CREATED_TIMESTAMP] = joined[CREATED_TIMESTAMP].where(
        ~keep_stored, joined[f"{CREATED_TIMESTAMP}_stored"]
    )
    incoming = _conform(joined, view)
    untouched = stored.merge(incoming[_KEY], on=_KEY, how="left", indicator=True)
    untouched = stored[(untouched["_merge"] == "left_only").to_numpy()]
    merged = pd.concat([untouched, incoming], ignore_index=True)
    merged = merged.sort_values(_KEY, kind="stable").reset_index(drop=True)
    n_unchanged = int(unchanged.sum())
    n_replaced = int(existed.sum()) - n_unchanged
    n_new = len(incoming) - int(existed.sum())
    return merged, n_new, n_replaced, n_unchanged


def _writer(table: pa.Table) -> Callable[[BinaryIO], None]:
    def write(handle: BinaryIO) -> None:
        pq.write_table(table, handle, compression="zstd")

    return write


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    return len(a) == len(b) and a.reset_index(drop=True).equals(b.reset_index(drop=True))


def _check_features(features: pd.DataFrame, views: Sequence[str]) -> None:
    needed = [ENTITY_JOIN_KEY, "open_time", EVENT_TIMESTAMP]
    needed += [n for v in views for n in FEATURE_VIEWS[v]]
    missing = [c for c in needed if c not in features.columns]
    if missing:
        raise InvalidInputError(f"feature frame is missing columns: {', '.join(missing)}")
    if features[EVENT_TIMESTAMP].isna().any():
        raise InvalidInputError("feature frame has rows without an event_timestamp")


def write_offline_store(
    features: pd.DataFrame,
    offline_dir: Path,
    created_at: datetime,
    views: Sequence[str] | None = None,
) -> Mapping[str, ViewWriteSummary]:
    """Merge a feature frame (``engineer.compute_features``) into the offline files.

    ``created_at`` is the computation time stamped on new and changed rows. Returns one
    summary per view written.
    """
    created_at = require_utc(created_at, "created_at")
    chosen = list(FEATURE_VIEWS) if views is None else list(dict.fromkeys(views))
    for view in chosen:
        offline_path(offline_dir, view)
    _check_features(features, chosen)
    summaries: dict[str, ViewWriteSummary] = {}
    with exclusive_lock(offline_dir / LOCK_FILE):
        for view in chosen:
            path = offline_path(offline_dir, view)
            stored = read_view(offline_dir, view)
            incoming = _view_rows(features, view, created_at)
            merged, new, replaced, unchanged = _merge(stored, incoming, view)
            changed = not (path.exists() and _frames_equal(merged, stored))
            if changed:
                table = pa.Table.from_pandas(merged, schema=_schema(view), preserve_index=False)
                write_file_atomic(path, _writer(table))
            summaries[view] = ViewWriteSummary(
                view, path, len(merged), new, replaced, unchanged, changed
            )
    return summaries
