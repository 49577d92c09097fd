"""Batch step: register the Feast declarations and bring the online store up to ``end``.

Idempotent: apply only changes what the repo changed, and materialization rewrites the latest
value per symbol known at ``end`` (it never moves the online store back in time), so a rerun of
the same interval leaves the online store as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from quantdesk.config import Settings
from quantdesk.domain.timeutil import require_utc, utc_now
from quantdesk.features.offline_store import read_view
from quantdesk.structured_logging import get_logger

log = get_logger("quantdesk.pipelines.materialize_features")


@dataclass(frozen=True, slots=True)
class MaterializeSummary:
    """What one run served: the window, the views, and how many offline rows and symbols it read."""

    project: str
    online_store: str
    feature_views: tuple[str, ...]
    feature_services: tuple[str, ...]
    deleted: tuple[str, ...]
    start: datetime
    end: datetime
    rows_in_window: int
    symbols: tuple[str, ...]
    seconds: float


def materialize_features(settings: Settings, end: datetime | None = None) -> MaterializeSummary:
    """Apply ``feature_repo`` and materialize every view up to ``end`` (default: now, UTC)."""
    from quantdesk.features.feast_store import open_feature_store

    until = utc_now() if end is None else require_utc(end, "end")
    started = time.perf_counter()
    store = open_feature_store(settings)
    applied = store.apply()
    window = store.materialize_incremental(until)
    rows, symbols = 0, set[str]()
    for view in window.feature_views:
        frame = read_view(settings.offline_features_dir, view)
        stamps = frame["event_timestamp"]
        in_window = frame[(stamps >= window.start) & (stamps <= window.end)]
        rows += len(in_window)
        symbols.update(in_window["symbol"].astype(str))
    summary = MaterializeSummary(
        project=settings.feast.project,
        online_store=store.online_store_kind,
        feature_views=applied.feature_views,
        feature_services=applied.feature_services,
        deleted=applied.deleted,
        start=window.start,
        end=window.end,
        rows_in_window=rows,
        symbols=tuple(sorted(symbols)),
        seconds=time.perf_counter() - started,
    )
    log.info(
        "features.materialized",
        project=summary.project,
        online_store=summary.online_store,
        start=summary.start.isoformat(),
        end=summary.end.isoformat(),
        rows=summary.rows_in_window,
        symbols=len(summary.symbols),
    )
    return summary
