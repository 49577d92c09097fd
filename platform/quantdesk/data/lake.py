"""The Parquet lake: bitemporal bar storage with atomic partition writes and DuckDB reads.

Why it looks like this:

- **Bitemporal.** A bar version is (symbol, granularity, open_time, available_at). A correction
  arrives with a later ``available_at`` and is stored *beside* the bar it corrects, so
  ``read_bars(as_of=t)`` returns exactly what was known at ``t`` and backtests never peek at
  later fixes. Re-delivering what is already stored changes nothing (idempotent ingest).
- **Atomic per partition.** Each partition file is replaced by rename (``atomic_files``), so a
  crash leaves every partition either old or new, never torn; the merge is idempotent, so
  re-running the interrupted write completes it. One writer at a time (an ``flock`` on
  ``.lake.lock``); readers take no lock.
- **Pruned reads.** The layout (``lake_paths``) puts symbol, bar size and period in the path,
  so a read lists only the partitions that can overlap the request and DuckDB opens only those.
- **Local root today.** ``root`` is a local folder. Every relative path is built in
  ``lake_paths`` and joined to the root only in ``Lake._abs``/``_rel``; putting the lake on S3
  means swapping that join and the listing for an fsspec filesystem. Not built yet: the atomic
  rename this module relies on has no S3 equivalent, so S3 needs its own commit step (write
  then swap a pointer/manifest), which is a design choice for when it is needed.

Test hook: when the environment variable ``QUANTDESK_LAKE_TEST_PAUSE_S`` is set, the writer
sleeps that many seconds after each partition's temp file is durable and before it is
renamed into place. The crash test uses it to SIGKILL a real writer mid-write; never set it
in production.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from quantdesk.data import lake_quarantine, lake_query
from quantdesk.data.atomic_files import (
    exclusive_lock,
    remove_empty_parents,
    remove_tree_atomically,
    sweep_temp_files,
    write_file_atomic,
)
from quantdesk.data.bars import empty_bar_frame, normalize_bar_frame
from quantdesk.data.catalog import INSTRUMENTS, get_instrument
from quantdesk.data.lake_paths import (
    DATA_FILE,
    PartitionKey,
    Zone,
    day_bounds,
    hive_value,
    period_labels,
    series_dir,
    zone_dir,
)
from quantdesk.data.lake_quarantine import QuarantineBatch
from quantdesk.data.lake_versions import (
    check_keys_present,
    check_microseconds,
    dedupe_batch,
    from_table,
    merge_versions,
    to_table,
    with_ingested_at,
)
from quantdesk.domain import (
    AssetClass,
    Granularity,
    InvalidDateRangeError,
    InvalidInputError,
    StorageError,
    require_utc,
    utc_now,
)
from quantdesk.structured_logging import get_logger

__all__ = [
    "DEFAULT_RETENTION",
    "PAUSE_ENV",
    "Coverage",
    "Lake",
    "PartitionKey",
    "QuarantineBatch",
    "RetentionSummary",
    "WriteSummary",
    "Zone",
]

PAUSE_ENV = "QUANTDESK_LAKE_TEST_PAUSE_S"
LOCK_FILE = ".lake.lock"
# Raw deliveries are kept a month for debugging, rejected batches a quarter for review,
# clean history forever (it is what every model and backtest is rebuilt from).
DEFAULT_RETENTION: Mapping[Zone, timedelta | None] = {
    Zone.RAW: timedelta(days=30),
    Zone.CLEAN: None,
    Zone.QUARANTINE: timedelta(days=90),
}

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class WriteSummary:
    """What a write did. ``rows`` counts input rows; exact repeats inside the input are
    counted once in ``new + replaced + unchanged``. ``partitions`` lists files rewritten."""

    zone: Zone
    rows: int
    new: int
    replaced: int
    unchanged: int
    partitions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Coverage:
    """Per symbol and bar size: the span held, distinct bars and stored versions."""

    zone: Zone
    symbol: str
    asset_class: str | None  # None for quarantined symbols the catalogue does not know
    granularity: str
    first_open_time: datetime
    last_open_time: datetime
    bars: int
    versions: int


@dataclass(frozen=True, slots=True)
class RetentionSummary:
    dry_run: bool
    now: datetime
    cutoffs: dict[Zone, datetime]
    deleted: tuple[str, ...]  # partition (or quarantine day) folders, relative to the root


def _range_time(value: datetime, field: str) -> datetime:
    try:
        return require_utc(value, field)
    except InvalidInputError as exc:
        raise InvalidDateRangeError(str(exc)) from None


def _parquet_writer(frame: pd.DataFrame) -> Callable[[BinaryIO], object]:
    """A writer for ``write_file_atomic``: stored rows as zstd Parquet with open_time stats."""
    table = to_table(frame)

    def write(handle: BinaryIO) -> None:
        pq.write_table(table, handle, compression="zstd")

    return write


def _read_partition(path: Path) -> pd.DataFrame:
    """A partition's stored rows; a file that cannot be read stops the write (nothing lost)."""
    try:
        return from_table(pq.read_table(path, partitioning=None))
    except (OSError, pa.ArrowException) as exc:
        raise StorageError(f"cannot read lake partition {path}: {exc}") from exc


def _pause_hook() -> Callable[[], None] | None:
    """The documented crash-test pause (see module docstring), or None when unset."""
    text = os.environ.get(PAUSE_ENV, "").strip()
    if not text:
        return None
    seconds = float(text)

    def pause() -> None:
        time.sleep(seconds)

    return pause


class Lake:
    """Bars in Parquet under ``root``, one writer at a time, any number of readers."""

    def __init__(self, root: Path) -> None:
        self._root = Path(root)

    @property
    def root(self) -> Path:
        return self._root

    # -- the one place relative layout paths meet the root -------------------------------
    def _abs(self, relative: PurePosixPath) -> Path:
        return self._root.joinpath(*relative.parts)

    def _rel(self, path: Path) -> str:
        return path.relative_to(self._root).as_posix()

    # -- writing ---------------------------------------------------------------------------
    def write_bars(
        self,
        frame: pd.DataFrame,
        zone: Zone | str = Zone.CLEAN,
        ingested_at: datetime | None = None,
    ) -> WriteSummary:
        """Merge canonical bars into their partitions; see the module docstring for the rules.

        Everything is validated before the first file is touched, so bad input writes nothing.
        """
        zone = Zone.parse(zone)
        if zone is Zone.QUARANTINE:
            raise InvalidInputError("quarantined bars need a reason: use Lake.write_quarantine")
        stamp = require_utc(ingested_at, "ingested_at") if ingested_at is not None else utc_now()
        bars = normalize_bar_frame(frame)
        check_keys_present(bars)
        check_microseconds(bars)
        rows = len(bars)
        bars = with_ingested_at(dedupe_batch(bars), stamp)
        groups = self._partition_groups(zone, bars)

        new = replaced = unchanged = 0
        written: list[str] = []
        pause = _pause_hook()
        with exclusive_lock(self._root / LOCK_FILE):
            sweep_temp_files(self._abs(zone_dir(zone)))
            for key, incoming in groups:
                path = self._abs(key.file)
                existing = _read_partition(path) if path.is_file() else None
                result = merge_versions(existing, incoming)
                new, replaced = new + result.new, replaced + result.replaced
                unchanged += result.unchanged
                if not result.changed:
                    continue
                write_file_atomic(path, _parquet_writer(result.frame), before_commit=pause)
                written.append(key.file.as_posix())
        summary = WriteSummary(zone, rows, new, replaced, unchanged, tuple(written))
        _log.info(
            "lake.write", zone=zone.value, rows=rows, new=new, replaced=replaced,
            unchanged=unchanged, partitions=len(written),
        )  # fmt: skip
        return summary

    def _partition_groups(
        self, zone: Zone, bars: pd.DataFrame
    ) -> list[tuple[PartitionKey, pd.DataFrame]]:
        """Split validated bars by partition (raises on unknown symbols before any write)."""
        asset_classes = {s: get_instrument(str(s)).asset_class for s in bars["symbol"].unique()}
        periods = pd.Series("", index=bars.index, dtype="string")
        for value in bars["granularity"].unique():
            mask = bars["granularity"] == value
            periods[mask] = period_labels(bars.loc[mask, "open_time"], Granularity(str(value)))
        groups: list[tuple[PartitionKey, pd.DataFrame]] = []
        for (symbol, granularity, period), part in bars.groupby(
            [bars["symbol"], bars["granularity"], periods], sort=True
        ):
            key = PartitionKey(
                zone, asset_classes[symbol], str(symbol), Granularity(str(granularity)),
                str(period),
            )  # fmt: skip
            groups.append((key, part.reset_index(drop=True)))
        return groups

    def write_quarantine(
        self,
        frame: pd.DataFrame,
        reason: str,
        report: Mapping[str, Any],
        quarantined_at: datetime | None = None,
    ) -> QuarantineBatch:
        """Store a rejected batch as it was, with the reason and the validation result."""
        stamp = (
            require_utc(quarantined_at, "quarantined_at")
            if quarantined_at is not None
            else utc_now()
        )
        bars = normalize_bar_frame(frame)
        with exclusive_lock(self._root / LOCK_FILE):
            sweep_temp_files(self._abs(zone_dir(Zone.QUARANTINE)))
            batch = lake_quarantine.write_batch(self._root, bars, reason, report, stamp)
        _log.info("lake.quarantine", batch_id=batch.batch_id, rows=batch.rows, reason=reason)
        return batch

    def list_quarantine(self) -> list[QuarantineBatch]:
        return lake_quarantine.list_batches(self._root)

    def read_quarantine(self, batch_id: str) -> tuple[pd.DataFrame, dict[str, Any]]:
        """The bars of one quarantined batch and its sidecar (reason, report, counts)."""
        return lake_quarantine.read_batch(self._root, batch_id)

    # -- reading ---------------------------------------------------------------------------
    def read_bars(
        self,
        symbols: str | Iterable[str],
        start: datetime,
        end: datetime,
        as_of: datetime | None = None,
        granularity: Granularity | str = Granularity.D1,
        zone: Zone | str = Zone.CLEAN,
    ) -> pd.DataFrame:
        """Canonical bars with ``open_time`` in ``[start, end)``, one per bar.

        Without ``as_of`` each bar's latest version; with it, the latest version whose
        ``available_at <= as_of`` (a correction made later never shows up in the past).
        """
        zone = Zone.parse(zone)
        if zone is Zone.QUARANTINE:
            raise InvalidInputError("quarantined bars are read per batch: Lake.read_quarantine")
        bar_size = (
            granularity if isinstance(granularity, Granularity) else Granularity.parse(granularity)
        )
        start, end = _range_time(start, "start"), _range_time(end, "end")
        if start >= end:
            raise InvalidDateRangeError(f"empty or reversed range: start {start} >= end {end}")
        as_of = _range_time(as_of, "as_of") if as_of is not None else None
        names = [symbols] if isinstance(symbols, str) else list(dict.fromkeys(symbols))
        files: list[Path] = []
        for symbol in names:
            instrument = get_instrument(symbol)
            for key in self._series_partitions(zone, instrument.asset_class, symbol, bar_size):
                first, after = key.bounds
                if first < end and after > start:
                    files.append(self._abs(key.file))
        if not files:
            return empty_bar_frame()
        return normalize_bar_frame(lake_query.query_latest_bars(files, start, end, as_of))

    def partitions(self, zone: Zone | str = Zone.CLEAN) -> list[PartitionKey]:
        """Every partition file present in a bar zone (raw or clean), in layout order."""
        zone = Zone.parse(zone)
        if zone is Zone.QUARANTINE:
            raise InvalidInputError("the quarantine zone holds batches: Lake.list_quarantine")
        base = self._abs(zone_dir(zone))
        found: list[PartitionKey] = []
        if not base.is_dir():
            return found
        for path in sorted(base.glob(f"asset_class=*/symbol=*/granularity=*/period=*/{DATA_FILE}")):
            key = PartitionKey.from_directory(PurePosixPath(self._rel(path.parent)))
            if key is not None:
                found.append(key)
        return found

    def _series_partitions(
        self, zone: Zone, asset_class: AssetClass, symbol: str, granularity: Granularity
    ) -> list[PartitionKey]:
        folder = self._abs(series_dir(zone, asset_class, symbol, granularity))
        if not folder.is_dir():
            return []
        keys = []
        for child in sorted(folder.iterdir()):
            if hive_value(child.name, "period") is None or not (child / DATA_FILE).is_file():
                continue
            key = PartitionKey.from_directory(PurePosixPath(self._rel(child)))
            if key is not None:
                keys.append(key)
        return keys

    def _zone_files(self, zone: Zone) -> list[Path]:
        if zone is Zone.QUARANTINE:
            return lake_quarantine.batch_bar_files(self._root)
        return [self._abs(key.file) for key in self.partitions(zone)]

    def symbols(self, zone: Zone | str = Zone.CLEAN) -> list[str]:
        """Symbols with data in ``zone`` (from paths; quarantine reads its batch files)."""
        zone = Zone.parse(zone)
        if zone is Zone.QUARANTINE:
            files = self._zone_files(zone)
            return lake_query.query_symbols(files) if files else []
        return sorted({key.symbol for key in self.partitions(zone)})

    def coverage(self, zone: Zone | str = Zone.CLEAN) -> list[Coverage]:
        """Per symbol and bar size: first and last open_time, bars and versions held."""
        zone = Zone.parse(zone)
        files = self._zone_files(zone)
        if not files:
            return []
        out = []
        for symbol, granularity, first, last, bars, versions in lake_query.query_coverage(files):
            instrument = INSTRUMENTS.get(str(symbol))
            out.append(
                Coverage(
                    zone=zone,
                    symbol=str(symbol),
                    asset_class=instrument.asset_class.value if instrument else None,
                    granularity=str(granularity),
                    first_open_time=pd.Timestamp(first).to_pydatetime(),
                    last_open_time=pd.Timestamp(last).to_pydatetime(),
                    bars=int(bars),
                    versions=int(versions),
                )
            )
        return out

    # -- retention -------------------------------------------------------------------------
    def apply_retention(
        self,
        policy: Mapping[Zone, timedelta | None] | None = None,
        now: datetime | None = None,
        dry_run: bool = False,
    ) -> RetentionSummary:
        """Delete partitions whose period ended at or before ``now - keep`` for each zone.

        ``None`` (or a zone left out of ``policy``) keeps a zone forever. The period is the
        bars' own time (their partition), and for quarantine the day the batch was rejected;
        so a raw backfill of old history is pruned by the next run, by design.
        """
        policy = DEFAULT_RETENTION if policy is None else policy
        stamp = require_utc(now, "now") if now is not None else utc_now()
        cutoffs: dict[Zone, datetime] = {}
        for name, keep in policy.items():
            zone = Zone.parse(name)
            if keep is None:
                continue
            if keep < timedelta(0):
                raise InvalidInputError(f"retention for {zone.value} must not be negative")
            cutoffs[zone] = stamp - keep
        if dry_run:
            expired = self._all_expired(cutoffs)
        else:
            with exclusive_lock(self._root / LOCK_FILE):  # list and delete as one writer
                expired = self._all_expired(cutoffs)
                for path in expired:
                    remove_tree_atomically(path)
                    remove_empty_parents(path.parent, self._root)
        deleted = tuple(self._rel(path) for path in expired)
        _log.info("lake.retention", dry_run=dry_run, deleted=len(deleted))
        return RetentionSummary(dry_run, stamp, cutoffs, deleted)

    def _all_expired(self, cutoffs: Mapping[Zone, datetime]) -> list[Path]:
        return [path for zone, cutoff in cutoffs.items() for path in self._expired(zone, cutoff)]

    def _expired(self, zone: Zone, cutoff: datetime) -> list[Path]:
        if zone is not Zone.QUARANTINE:
            return [
                self._abs(key.directory) for key in self.partitions(zone) if key.bounds[1] <= cutoff
            ]
        base = self._abs(zone_dir(zone))
        expired: list[Path] = []
        for day in sorted(base.glob("date=*")) if base.is_dir() else []:
            try:
                _, day_end = day_bounds(hive_value(day.name, "date") or "")
            except InvalidInputError:
                continue  # not ours: never delete what the layout does not name
            if day_end <= cutoff:
                expired.append(day)
        return expired
