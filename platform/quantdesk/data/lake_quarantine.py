"""Quarantined batches: the bars a quality gate rejected, kept with the reason why.

Each batch is one folder ``zone=quarantine/date=<day>/batch=<id>/`` holding ``bars.parquet``
and ``report.json`` (reason, validation result, counts). The folder is built under a hidden
temp name and renamed into place, so a batch is visible complete or not at all; no merging
happens here because a batch is evidence, stored exactly as it was rejected.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from quantdesk.data.atomic_files import (
    fsync_dir,
    make_dirs,
    temp_path_for,
    write_file_atomic,
)
from quantdesk.data.lake_paths import (
    QUARANTINE_BARS_FILE,
    QUARANTINE_REPORT_FILE,
    Zone,
    hive_value,
    is_batch_id,
    new_batch_dir,
    zone_dir,
)
from quantdesk.data.lake_versions import (
    check_microseconds,
    from_table,
    sort_stored,
    to_table,
    with_ingested_at,
)
from quantdesk.domain import InvalidInputError, NotFoundError, StorageError


@dataclass(frozen=True, slots=True)
class QuarantineBatch:
    """What ``list_quarantine`` shows about one rejected batch."""

    batch_id: str
    reason: str
    quarantined_at: datetime
    rows: int
    symbols: tuple[str, ...]
    path: PurePosixPath  # relative to the lake root


def new_batch_id(quarantined_at: datetime) -> str:
    return f"{quarantined_at:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def write_batch(
    root: Path,
    frame: pd.DataFrame,
    reason: str,
    report: Mapping[str, Any],
    quarantined_at: datetime,
) -> QuarantineBatch:
    """Store ``frame`` (canonical, already validated for shape) with its reason and report."""
    if not reason.strip():
        raise InvalidInputError("a quarantined batch needs a non-empty reason")
    check_microseconds(frame)
    batch_id = new_batch_id(quarantined_at)
    relative = new_batch_dir(f"{quarantined_at:%Y-%m-%d}", batch_id)
    symbols = tuple(sorted(str(s) for s in frame["symbol"].dropna().unique()))
    sidecar = {
        "batch_id": batch_id,
        "reason": reason,
        "quarantined_at": quarantined_at.isoformat(),
        "rows": len(frame),
        "symbols": list(symbols),
        "report": dict(report),
    }
    try:
        # default=str: validation results carry timestamps and numpy scalars; the sidecar is
        # for people to read, so a readable string beats refusing the quarantine.
        report_bytes = json.dumps(sidecar, indent=2, sort_keys=True, default=str).encode()
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"quarantine report is not JSON-serializable: {exc}") from None
    buffer = io.BytesIO()
    pq.write_table(to_table(sort_stored(with_ingested_at(frame, quarantined_at))), buffer)

    final = root / relative
    staging = temp_path_for(final)
    make_dirs(staging)
    write_file_atomic(staging / QUARANTINE_BARS_FILE, lambda f: f.write(buffer.getvalue()))
    write_file_atomic(staging / QUARANTINE_REPORT_FILE, lambda f: f.write(report_bytes))
    try:
        staging.rename(final)
    except OSError as exc:
        raise StorageError(f"could not quarantine batch {batch_id}: {exc}") from exc
    fsync_dir(final.parent)
    return QuarantineBatch(batch_id, reason, quarantined_at, len(frame), symbols, relative)


def _batch_dirs(root: Path) -> list[Path]:
    base = root / zone_dir(Zone.QUARANTINE)
    if not base.is_dir():
        return []
    found: list[Path] = []
    for day in sorted(base.iterdir()):
        if hive_value(day.name, "date") is None or not day.is_dir():
            continue
        for batch in sorted(day.iterdir()):
            batch_id = hive_value(batch.name, "batch")
            if batch_id and is_batch_id(batch_id) and (batch / QUARANTINE_REPORT_FILE).is_file():
                found.append(batch)
    return found


def _read_sidecar(root: Path, folder: Path) -> QuarantineBatch:
    data = json.loads((folder / QUARANTINE_REPORT_FILE).read_text())
    return QuarantineBatch(
        batch_id=str(data["batch_id"]),
        reason=str(data["reason"]),
        quarantined_at=datetime.fromisoformat(data["quarantined_at"]),
        rows=int(data["rows"]),
        symbols=tuple(data["symbols"]),
        path=PurePosixPath(folder.relative_to(root).as_posix()),
    )


def list_batches(root: Path) -> list[QuarantineBatch]:
    """Every quarantined batch, oldest first."""
    batches = [_read_sidecar(root, folder) for folder in _batch_dirs(root)]
    return sorted(batches, key=lambda b: (b.quarantined_at, b.batch_id))


def batch_bar_files(root: Path) -> list[Path]:
    return [folder / QUARANTINE_BARS_FILE for folder in _batch_dirs(root)]


def find_batch(root: Path, batch_id: str) -> tuple[QuarantineBatch, Path]:
    for folder in _batch_dirs(root):
        if hive_value(folder.name, "batch") == batch_id:
            return _read_sidecar(root, folder), folder
    raise NotFoundError(f"no quarantined batch {batch_id!r}")


def read_batch(root: Path, batch_id: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The stored bars (with ``ingested_at`` = quarantine time) and the full sidecar."""
    _, folder = find_batch(root, batch_id)
    frame = from_table(pq.read_table(folder / QUARANTINE_BARS_FILE, partitioning=None))
    sidecar: dict[str, Any] = json.loads((folder / QUARANTINE_REPORT_FILE).read_text())
    return frame, sidecar
