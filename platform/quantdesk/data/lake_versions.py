"""Bitemporal bar versions: how a delivery merges into what a partition already holds.

A bar version is identified by (symbol, granularity, open_time, available_at). Merging is
pure (frames in, frame out) so the rules can be tested without files:

- the same version with the same values again: unchanged (re-delivery is a no-op);
- the same version with other values: replaced (the later delivery of the same knowledge wins);
- a version with a new ``available_at``: stored beside the old ones, so a point-in-time read
  as of any moment sees exactly what was known then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from quantdesk.data.bars import BAR_COLUMNS
from quantdesk.domain import InvalidInputError

VERSION_KEY: tuple[str, ...] = ("symbol", "granularity", "open_time", "available_at")
VALUE_COLUMNS: tuple[str, ...] = ("venue", "open", "high", "low", "close", "volume")
STORED_COLUMNS: tuple[str, ...] = (*BAR_COLUMNS, "ingested_at")

_UTC_US = pa.timestamp("us", tz="UTC")
STORED_SCHEMA = pa.schema(
    [
        ("symbol", pa.string()),
        ("venue", pa.string()),
        ("granularity", pa.string()),
        ("open_time", _UTC_US),
        ("open", pa.float64()),
        ("high", pa.float64()),
        ("low", pa.float64()),
        ("close", pa.float64()),
        ("volume", pa.float64()),
        ("available_at", _UTC_US),
        ("ingested_at", _UTC_US),
    ]
)


@dataclass(frozen=True, slots=True)
class MergeResult:
    frame: pd.DataFrame
    new: int
    replaced: int
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.new or self.replaced)


def check_keys_present(frame: pd.DataFrame) -> None:
    """Refuse rows without a full version key: they could never be found or merged again."""
    for column in VERSION_KEY:
        if frame[column].isna().any():
            raise InvalidInputError(f"bar frame has empty {column!r} values; the lake needs them")


def check_microseconds(frame: pd.DataFrame) -> None:
    """Refuse sub-microsecond times instead of truncating them silently.

    Parquet files here and DuckDB keep microseconds; a truncated time would make a
    re-delivery look like a different version.
    """
    for column in ("open_time", "available_at"):
        if (frame[column].dt.nanosecond.fillna(0) != 0).any():
            raise InvalidInputError(f"bar frame column {column!r} has sub-microsecond times")


def dedupe_batch(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop exact repeats inside one delivery; refuse two different values for one version."""
    unique = frame.drop_duplicates(subset=list(BAR_COLUMNS), keep="last")
    clashes = unique.duplicated(subset=list(VERSION_KEY), keep=False)
    if clashes.any():
        first = unique.loc[clashes].iloc[0]
        raise InvalidInputError(
            f"bar frame holds {int(clashes.sum())} rows that give different values for the "
            f"same version, e.g. {first['symbol']} {first['granularity']} "
            f"open_time={first['open_time']} available_at={first['available_at']}"
        )
    return unique


def _values_equal(both: pd.DataFrame, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Whether rows ``left[i]`` and ``right[i]`` of ``both`` hold the same values (NaN == NaN)."""
    same = np.ones(len(left), dtype=bool)
    for column in VALUE_COLUMNS:
        if column == "venue":
            codes, _ = pd.factorize(both[column])  # missing -> -1 on both sides: equal
            same &= codes[left] == codes[right]
        else:
            number = both[column].to_numpy(dtype="float64")
            a, b = number[left], number[right]
            same &= (a == b) | (np.isnan(a) & np.isnan(b))
    return same


def merge_versions(existing: pd.DataFrame | None, incoming: pd.DataFrame) -> MergeResult:
    """Merge ``incoming`` (deduped, with ``ingested_at``) into a partition's ``existing`` rows.

    Vectorized on integer keys: both sides are stacked, sorted by version key, and a version
    present on both sides shows up as two adjacent rows (old first). That is far faster than
    aligning pandas MultiIndexes of strings and time-zone-aware timestamps, which matters
    because every write merges every partition it touches.
    """
    if existing is None or existing.empty:
        return MergeResult(sort_stored(incoming), len(incoming), 0, 0)
    both = pd.concat(
        [existing.loc[:, list(STORED_COLUMNS)], incoming.loc[:, list(STORED_COLUMNS)]],
        ignore_index=True,
    )
    source = np.r_[np.zeros(len(existing), dtype=np.int64), np.ones(len(incoming), dtype=np.int64)]
    symbol, _ = pd.factorize(both["symbol"], sort=True)
    granularity, _ = pd.factorize(both["granularity"], sort=True)
    opened = both["open_time"].to_numpy(dtype="datetime64[ns]").view("int64")
    known = both["available_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    order = np.lexsort((source, known, opened, granularity, symbol))
    keys = np.stack([symbol, granularity, opened, known])[:, order]
    # A pair (old, new) of one version sits at positions (i, i + 1) of the sorted order.
    pair = np.flatnonzero((keys[:, 1:] == keys[:, :-1]).all(axis=0))
    old_rows, new_rows = order[pair], order[pair + 1]
    same = _values_equal(both, old_rows, new_rows)
    fresh, replaced, unchanged = len(incoming) - len(pair), int((~same).sum()), int(same.sum())
    if not fresh and not replaced:
        return MergeResult(existing, 0, 0, unchanged)
    drop = np.concatenate([old_rows[~same], new_rows[same]])  # replaced olds, redundant news
    merged = both.iloc[order[~np.isin(order, drop)]].reset_index(drop=True)
    return MergeResult(merged, fresh, replaced, unchanged)


def sort_stored(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.loc[:, list(STORED_COLUMNS)]
    return out.sort_values(list(VERSION_KEY), kind="stable").reset_index(drop=True)


def with_ingested_at(frame: pd.DataFrame, ingested_at: datetime) -> pd.DataFrame:
    out = frame.copy()
    out["ingested_at"] = pd.Timestamp(ingested_at).tz_convert("UTC")
    out["ingested_at"] = out["ingested_at"].astype("datetime64[ns, UTC]")
    return out


def to_table(frame: pd.DataFrame) -> pa.Table:
    """Stored rows as an Arrow table with the fixed schema and no pandas metadata.

    Without per-write metadata, the same rows always serialize to the same bytes.
    """
    table = pa.Table.from_pandas(frame.loc[:, list(STORED_COLUMNS)], preserve_index=False)
    return table.cast(STORED_SCHEMA).replace_schema_metadata(None)


def from_table(table: pa.Table) -> pd.DataFrame:
    """Stored rows back as pandas with the canonical dtypes (ns UTC times, string keys)."""
    frame: pd.DataFrame = table.select(list(STORED_COLUMNS)).to_pandas(
        coerce_temporal_nanoseconds=True, types_mapper={pa.string(): pd.StringDtype()}.get
    )
    return frame
