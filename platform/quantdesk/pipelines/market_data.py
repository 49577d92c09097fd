"""Ingest and validate market data for one data interval: the first two batch steps.

``ingest_market_data`` fetches every requested series first and only then writes the raw zone,
so a bad symbol, missing credentials or a venue answering garbage write nothing. Both steps are
keyed on their interval and idempotent: the lake merges bar versions (a repeat delivery is
"unchanged"), and a quarantined batch is stored once per distinct content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from quantdesk.config import Settings
from quantdesk.data.bars import normalize_bar_frame
from quantdesk.data.catalog import get_instruments
from quantdesk.data.lake import Lake, Zone
from quantdesk.data.quality import QualityGate, results_dir, save_validation_result
from quantdesk.data.sources.base import check_range
from quantdesk.data.sources.http_client import HttpOptions
from quantdesk.data.sources.source_factory import SourceName, make_source
from quantdesk.domain import Granularity
from quantdesk.structured_logging import get_logger

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class IngestSummary:
    source: str
    granularity: str
    start: datetime
    end: datetime
    rows_by_symbol: dict[str, int]
    new: int
    replaced: int
    unchanged: int

    @property
    def rows(self) -> int:
        return sum(self.rows_by_symbol.values())


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    batch_id: str
    asset_class: str
    passed: bool
    reason: str
    rows: int
    symbols: tuple[str, ...]
    quarantine_id: str | None  # set when the batch went (or already was) in quarantine


@dataclass(frozen=True, slots=True)
class ValidationSummary:
    granularity: str
    start: datetime
    end: datetime
    batches: tuple[BatchOutcome, ...]
    clean_new: int
    clean_unchanged: int

    @property
    def passed(self) -> bool:
        return all(b.passed for b in self.batches)

    @property
    def failed(self) -> tuple[BatchOutcome, ...]:
        return tuple(b for b in self.batches if not b.passed)


def ingest_market_data(
    settings: Settings,
    *,
    source: SourceName | str,
    symbols: Sequence[str] | None = None,
    granularity: Granularity | str = Granularity.D1,
    start: datetime,
    end: datetime,
    options: HttpOptions | None = None,
    ingested_at: datetime | None = None,
) -> IngestSummary:
    """Fetch ``symbols`` (default: the universe) for ``[start, end)`` into the raw zone."""
    names = list(dict.fromkeys(symbols or settings.universe))
    get_instruments(names)  # unknown symbols fail before any request
    bar_size = Granularity.parse(granularity) if isinstance(granularity, str) else granularity
    start, end = check_range(start, end)
    feed = make_source(source, settings, options)
    try:
        frames = [feed.fetch_bars(symbol, bar_size, start, end) for symbol in names]
    finally:
        close = getattr(feed, "close", None)
        if callable(close):
            close()
    rows = {symbol: len(frame) for symbol, frame in zip(names, frames, strict=True)}
    batch = normalize_bar_frame(pd.concat(frames, ignore_index=True))
    written = Lake(settings.lake_dir).write_bars(batch, Zone.RAW, ingested_at=ingested_at)
    _log.info("ingest.done", source=str(source), granularity=bar_size.value, rows=len(batch))
    return IngestSummary(
        source=str(SourceName.parse(str(source))),
        granularity=bar_size.value,
        start=start,
        end=end,
        rows_by_symbol=rows,
        new=written.new,
        replaced=written.replaced,
        unchanged=written.unchanged,
    )


def content_fingerprint(frame: pd.DataFrame) -> str:
    """A stable hash of a bar batch's content, so an identical rejected batch is stored once."""
    canonical = normalize_bar_frame(frame)
    hashed = pd.util.hash_pandas_object(canonical, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def validate_market_data(
    settings: Settings,
    *,
    symbols: Sequence[str] | None = None,
    granularity: Granularity | str = Granularity.D1,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
) -> ValidationSummary:
    """Gate the raw bars of ``[start, end)``: passing batches to clean, failing to quarantine.

    Nothing of a failing asset-class batch reaches the clean zone (and so nothing reaches
    features); its bars, reason and full validation report are kept in quarantine and the
    JSON result under ``<home>/quality/results`` for the consoles and Data Docs.
    """
    names = list(dict.fromkeys(symbols or settings.universe))
    bar_size = Granularity.parse(granularity) if isinstance(granularity, str) else granularity
    start, end = check_range(start, end)
    lake = Lake(settings.lake_dir)
    raw = lake.read_bars(names, start, end, granularity=bar_size, zone=Zone.RAW)
    gate = QualityGate(min_score=settings.quality.min_score).gate(
        raw, start=start, end=end, now=now
    )
    known = _quarantined_fingerprints(lake)
    outcomes: list[BatchOutcome] = []
    clean_new = clean_unchanged = 0
    for verdict in gate.verdicts:
        report = verdict.report()
        save_validation_result(report, results_dir(settings))
        quarantine_id: str | None = None
        if verdict.passed:
            written = lake.write_bars(verdict.frame, Zone.CLEAN)
            clean_new += written.new + written.replaced
            clean_unchanged += written.unchanged
        else:
            fingerprint = content_fingerprint(verdict.input_frame)
            quarantine_id = known.get(fingerprint)
            if quarantine_id is None:
                stored = lake.write_quarantine(
                    verdict.input_frame, verdict.reason, {**report, "fingerprint": fingerprint}
                )
                quarantine_id = stored.batch_id
            _log.warning("validate.quarantined", batch=quarantine_id, reason=verdict.reason)
        outcomes.append(
            BatchOutcome(
                batch_id=verdict.batch_id,
                asset_class=verdict.asset_class.value,
                passed=verdict.passed,
                reason=verdict.reason,
                rows=len(verdict.input_frame),
                symbols=verdict.symbols,
                quarantine_id=quarantine_id,
            )
        )
    return ValidationSummary(
        granularity=bar_size.value,
        start=start,
        end=end,
        batches=tuple(outcomes),
        clean_new=clean_new,
        clean_unchanged=clean_unchanged,
    )


def _quarantined_fingerprints(lake: Lake) -> dict[str, str]:
    found: dict[str, str] = {}
    for batch in lake.list_quarantine():
        _, sidecar = lake.read_quarantine(batch.batch_id)
        fingerprint = sidecar.get("report", {}).get("fingerprint")
        if isinstance(fingerprint, str):
            found[fingerprint] = batch.batch_id
    return found
