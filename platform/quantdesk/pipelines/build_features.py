"""Batch step: daily bars of the clean lake -> causal features -> the offline feature store.

Idempotent: the same lake (and the same ``as_of``) gives the same rows, and the store's merge
leaves files untouched when nothing changed. ``warmup_days`` of history before ``start`` are
read so windows are full and the exponential filters settled by the first row written;
recursive features (RSI, MACD, ATR) still depend faintly on where that read starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from quantdesk.config import Settings
from quantdesk.data.lake import Lake
from quantdesk.domain import Granularity, InvalidDateRangeError, NotFoundError, require_utc, utc_now
from quantdesk.features.engineer import compute_features
from quantdesk.features.offline_store import ViewWriteSummary, write_offline_store
from quantdesk.structured_logging import get_logger

__all__ = ["BuildFeaturesSummary", "build_features"]

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class BuildFeaturesSummary:
    """What a build read and wrote. ``missing`` lists requested symbols without bars."""

    symbols: tuple[str, ...]
    missing: tuple[str, ...]
    benchmark_symbol: str
    benchmark_found: bool
    bars_read: int
    rows: int
    first_open_time: datetime | None
    last_open_time: datetime | None
    as_of: datetime | None
    views: tuple[ViewWriteSummary, ...]


def build_features(
    settings: Settings,
    symbols: tuple[str, ...] | list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    as_of: datetime | None = None,
) -> BuildFeaturesSummary:
    """Compute features of daily bars opening in ``[start, end)`` and merge them into the store.

    ``symbols`` defaults to the universe; the benchmark is always read for the cross-asset
    features. ``as_of`` reads the lake as it was then (point in time); ``end`` defaults to
    ``as_of`` or now.
    """
    chosen = tuple(dict.fromkeys(symbols if symbols is not None else settings.universe))
    benchmark = settings.features.benchmark_symbol
    as_of = require_utc(as_of, "as_of") if as_of is not None else None
    start = require_utc(start, "start") if start is not None else EARLIEST
    end = require_utc(end, "end") if end is not None else (as_of or utc_now())
    if start >= end:
        raise InvalidDateRangeError(f"empty or reversed range: start {start} >= end {end}")
    read_from = max(EARLIEST, start - timedelta(days=settings.features.warmup_days))
    to_read = tuple(dict.fromkeys((*chosen, benchmark)))
    bars = Lake(settings.lake_dir).read_bars(to_read, read_from, end, as_of, Granularity.D1)
    found = set(bars["symbol"].unique())
    missing = tuple(s for s in chosen if s not in found)
    if not found & set(chosen):
        raise NotFoundError(
            f"no daily bars in the clean lake for {', '.join(chosen)} in [{start}, {end})"
        )
    has_benchmark = benchmark in found
    if not has_benchmark:
        _log.warning("features.no_benchmark", benchmark=benchmark)
    features = compute_features(bars, benchmark if has_benchmark else None)
    keep = features["symbol"].isin(chosen) & (features["open_time"] >= start)
    features = features[keep.to_numpy()].reset_index(drop=True)
    written = write_offline_store(features, settings.offline_features_dir, created_at=utc_now())
    opens = features["open_time"]
    summary = BuildFeaturesSummary(
        symbols=tuple(s for s in chosen if s in found),
        missing=missing,
        benchmark_symbol=benchmark,
        benchmark_found=has_benchmark,
        bars_read=len(bars),
        rows=len(features),
        first_open_time=opens.min().to_pydatetime() if len(opens) else None,
        last_open_time=opens.max().to_pydatetime() if len(opens) else None,
        as_of=as_of,
        views=tuple(written.values()),
    )
    _log.info(
        "features.built", symbols=len(summary.symbols), rows=summary.rows,
        missing=list(missing), written=[v.view for v in summary.views if v.written],
    )  # fmt: skip
    return summary
