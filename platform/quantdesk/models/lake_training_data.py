"""Training rows from the platform's own stores: features (offline store) joined to labels.

Labels come from the lake's daily bars (:func:`quantdesk.features.labels.build_labels`).
Features come from the offline feature store written by ``quantdesk features build``, or,
when it holds nothing for the asked symbols, are computed from the same lake bars by the very
same function that fills the store (:func:`quantdesk.features.engineer.compute_features`).

The join is point in time: each labelled bar gets, per feature view, the latest row whose
``event_timestamp`` is at or before the bar's ``available_at`` (its close), exactly what a
live model would have had then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
import pandas as pd

from quantdesk.config import Settings
from quantdesk.data.lake import Lake
from quantdesk.domain import Granularity, NotFoundError
from quantdesk.features.datasets import LabelArrays
from quantdesk.features.engineer import compute_features
from quantdesk.features.labels import LABEL_CLASS, LABEL_FWD_RETURN, build_labels
from quantdesk.features.names import ENTITY_JOIN_KEY, EVENT_TIMESTAMP, FEATURE_VIEWS, view_of
from quantdesk.features.offline_store import read_view

FeatureSource = Literal["auto", "offline", "lake"]
TIME_COLUMN = "open_time"


@dataclass(frozen=True, slots=True, eq=False)
class TrainingFrame:
    frame: pd.DataFrame  # symbol, open_time, features
    labels: LabelArrays
    features: tuple[str, ...]
    source: str  # "offline" or "lake"


def load_training_frame(
    settings: Settings,
    symbols: Sequence[str],
    start: datetime,
    end: datetime,
    features: Sequence[str],
    *,
    as_of: datetime | None = None,
    source: FeatureSource = "auto",
) -> TrainingFrame:
    """Rows (symbol, open_time, features) of daily bars in ``[start, end)`` and their labels."""
    benchmark = settings.features.benchmark_symbol
    lake = Lake(settings.lake_dir)
    warmup = timedelta(days=settings.features.warmup_days)
    to_read = tuple(dict.fromkeys((*symbols, benchmark)))
    bars = lake.read_bars(to_read, start - warmup, end, as_of, Granularity.D1)
    mine = bars[bars["symbol"].isin(list(symbols))].reset_index(drop=True)
    if mine.empty:
        raise NotFoundError(f"no daily bars in the lake for {', '.join(symbols)} before {end}")
    spec = settings.features.labels
    labels = build_labels(mine, spec.horizon, spec.flat_k, spec.vol_window).frame
    rows = mine[["symbol", "open_time", "available_at"]].merge(labels, on=["symbol", "open_time"])
    rows = rows[rows["open_time"] >= pd.Timestamp(start)].reset_index(drop=True)

    stored = _offline_features(settings, features, set(symbols)) if source != "lake" else None
    if stored is None and source == "offline":
        raise NotFoundError("the offline feature store holds none of the asked features/symbols")
    used = "offline" if stored is not None else "lake"
    if stored is None:
        has_benchmark = benchmark in set(bars["symbol"])
        computed = compute_features(bars, benchmark if has_benchmark else None, list(features))
        stored = {"lake": computed[[ENTITY_JOIN_KEY, EVENT_TIMESTAMP, *features]]}
    joined = rows
    for part in stored.values():
        joined = _as_of_join(joined, part)
    frame = joined[["symbol", "open_time", *features]].copy()
    frame["symbol"] = frame["symbol"].astype(str)
    direction = joined[LABEL_CLASS].astype("float64").fillna(-1).to_numpy().astype(np.int64)
    forward = joined[LABEL_FWD_RETURN].astype("float64").to_numpy()
    return TrainingFrame(frame, LabelArrays(forward, direction), tuple(features), used)


def _offline_features(
    settings: Settings, features: Sequence[str], symbols: set[str]
) -> dict[str, pd.DataFrame] | None:
    views = dict.fromkeys(view_of(f) for f in features)
    parts: dict[str, pd.DataFrame] = {}
    for view in views:
        wanted = [f for f in features if f in FEATURE_VIEWS[view]]
        frame = read_view(settings.offline_features_dir, view)
        frame = frame[frame[ENTITY_JOIN_KEY].isin(list(symbols))]
        if frame.empty:
            return None
        parts[view] = frame[[ENTITY_JOIN_KEY, EVENT_TIMESTAMP, *wanted]]
    return parts


def _as_of_join(rows: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """Per symbol, the latest feature row known at each bar's close."""
    known = "datetime64[ns, UTC]"  # the store writes microseconds, the lake nanoseconds
    left = rows.assign(_known=pd.to_datetime(rows["available_at"], utc=True).astype(known))
    left["symbol"] = left["symbol"].astype(str)
    right = features.rename(columns={ENTITY_JOIN_KEY: "symbol"}).copy()
    right["symbol"] = right["symbol"].astype(str)
    right["_known"] = pd.to_datetime(right[EVENT_TIMESTAMP], utc=True).astype(known)
    right = right.drop(columns=[EVENT_TIMESTAMP]).sort_values("_known")
    merged = pd.merge_asof(left.sort_values("_known"), right, on="_known", by="symbol",
                           direction="backward")  # fmt: skip
    return (
        merged.drop(columns=["_known"]).sort_values(["symbol", "open_time"]).reset_index(drop=True)
    )
