"""The daily compliance export: one folder per UTC day, CSV and Parquet, with checksums.

``<export_dir>/<YYYY-MM-DD>/`` holds, for each table (decisions, orders, limit_breaches,
model_versions), ``<table>.csv`` and ``<table>.parquet`` with fixed columns (even when empty),
plus ``manifest.json`` (row counts and SHA-256 of every file) and ``SHA256SUMS``
(``sha256sum -c`` format).

Idempotent: the same day and the same data give byte-identical files (no run timestamps, a
stable row order, canonical JSON), and a rerun that would change nothing touches nothing.
Atomic: on a local disk the folder is built aside and renamed into place, so a reader sees the
old export or the new one, never a mix; on object storage (any fsspec URL) each object put is
atomic and ``manifest.json`` is written last, so a complete manifest means a complete export.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from quantdesk.config import Settings
from quantdesk.data.atomic_files import TEMP_SUFFIX, fsync_dir
from quantdesk.domain.errors import InvalidInputError, StorageError
from quantdesk.governance.compliance_records import (
    DayWindow,
    Row,
    mlflow_registry_exists,
    read_model_versions,
    read_store_records,
)
from quantdesk.store.operational_store import OperationalStore
from quantdesk.structured_logging import get_logger

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHECKSUMS = "SHA256SUMS"

_log = get_logger(__name__)

# Column name -> type, per table, in file order. Types: str, float, int, timestamp.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "decisions": (
        ("decision_id", "str"), ("symbol", "str"), ("as_of", "timestamp"),
        ("target_weight", "float"), ("reasons", "str"), ("contributions", "str"),
        ("model_versions", "str"), ("feature_hash", "str"), ("created_at", "timestamp"),
    ),
    "orders": (
        ("client_order_id", "str"), ("symbol", "str"), ("side", "str"), ("quantity", "float"),
        ("order_type", "str"), ("limit_price", "float"), ("time_in_force", "str"),
        ("decision_id", "str"), ("status", "str"), ("created_at", "timestamp"),
    ),
    "limit_breaches": (
        ("sequence", "int"), ("occurred_at", "timestamp"), ("actor", "str"), ("action", "str"),
        ("subject", "str"), ("payload", "str"), ("prev_hash", "str"), ("hash", "str"),
    ),
    "model_versions": (
        ("name", "str"), ("version", "str"), ("created_at", "timestamp"),
        ("last_updated_at", "timestamp"), ("stage", "str"), ("status", "str"), ("source", "str"),
        ("run_id", "str"), ("user_id", "str"), ("description", "str"), ("aliases", "str"),
        ("tags", "str"),
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ComplianceExportSummary:
    """Where one day's export went, how many rows each table had, and whether files changed."""

    day: date
    location: str
    rows: Mapping[str, int]
    files: tuple[str, ...]
    changed: bool
    mlflow_registry_found: bool


def parse_day(value: date | str) -> date:
    """A ``date`` or ``YYYY-MM-DD``; anything else is refused with one clear error."""
    if isinstance(value, datetime):
        raise InvalidInputError(f"expected a calendar day, got a datetime {value!r}")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInputError(f"day must be YYYY-MM-DD, got {value!r}") from None


def export_root(settings: Settings) -> str:
    """The configured export folder or URL (default ``<home>/exports/compliance``)."""
    configured = settings.compliance.export_dir
    return configured if configured else str(settings.home / "exports" / "compliance")


def export_day(
    settings: Settings, day: date | str, destination: str | Path | None = None
) -> ComplianceExportSummary:
    """Export ``day`` (UTC) to ``<destination or export_root>/<day>/``; see the module doc."""
    the_day = parse_day(day)
    window = DayWindow(the_day)
    with OperationalStore.from_settings(settings) as store:
        tables = read_store_records(store, window, settings.compliance.breach_action_keywords)
    mlflow_uri = settings.resolved_mlflow_tracking_uri
    registry_found = mlflow_registry_exists(mlflow_uri)
    tables["model_versions"] = read_model_versions(mlflow_uri, window) if registry_found else []
    files = render_files(the_day, tables, mlflow_registry_found=registry_found)
    root = str(destination) if destination is not None else export_root(settings)
    location, changed = publish(root, the_day.isoformat(), files)
    summary = ComplianceExportSummary(
        the_day, location, {name: len(rows) for name, rows in tables.items()},
        tuple(sorted(files)), changed, registry_found,
    )  # fmt: skip
    _log.info("compliance.exported", day=the_day.isoformat(), location=location,
              changed=changed, **{f"rows_{k}": v for k, v in summary.rows.items()})  # fmt: skip
    return summary


# -- rendering (pure) --------------------------------------------------------------------------


def render_files(
    day: date, tables: Mapping[str, list[Row]], *, mlflow_registry_found: bool
) -> dict[str, bytes]:
    """Every file of the export as bytes, the manifest and checksum list included."""
    files: dict[str, bytes] = {}
    for name, columns in TABLES.items():
        rows = tables.get(name, [])
        files[f"{name}.csv"] = render_csv(columns, rows)
        files[f"{name}.parquet"] = render_parquet(columns, rows)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    manifest = {
        "format": FORMAT_VERSION,
        "day": day.isoformat(),
        "timezone": "UTC",
        "mlflow_registry_found": mlflow_registry_found,
        "tables": {name: {"rows": len(tables.get(name, []))} for name in TABLES},
        "files": {
            name: {"sha256": digests[name], "bytes": len(files[name])} for name in sorted(files)
        },
    }
    files[CHECKSUMS] = "".join(f"{h}  {n}\n" for n, h in digests.items()).encode()
    files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    return files


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def render_csv(columns: tuple[tuple[str, str], ...], rows: list[Row]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _ in columns])
    for row in rows:
        writer.writerow([_csv_value(row.get(name)) for name, _ in columns])
    return buffer.getvalue().encode("utf-8")


def render_parquet(columns: tuple[tuple[str, str], ...], rows: list[Row]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {
        "str": pa.string(),
        "float": pa.float64(),
        "int": pa.int64(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    schema = pa.schema([pa.field(name, types[kind]) for name, kind in columns])
    table = pa.Table.from_pylist(
        [{name: row.get(name) for name, _ in columns} for row in rows], schema=schema
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


# -- publishing (IO) ---------------------------------------------------------------------------


def _filesystem(location: str) -> tuple[Any, str]:
    import fsspec

    fs, path = fsspec.core.url_to_fs(location)
    return fs, str(path).rstrip("/")


def _is_local(fs: Any) -> bool:
    protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocols or "local" in protocols


def _already_published(fs: Any, folder: str, files: Mapping[str, bytes]) -> bool:
    """True when ``folder`` holds exactly ``files`` (checked by the manifest, then each hash)."""
    manifest = f"{folder}/{MANIFEST}"
    if not fs.exists(manifest) or fs.cat_file(manifest) != files[MANIFEST]:
        return False
    return all(
        fs.exists(f"{folder}/{name}") and fs.cat_file(f"{folder}/{name}") == data
        for name, data in files.items()
    )


def publish(root: str, name: str, files: Mapping[str, bytes]) -> tuple[str, bool]:
    """Put ``files`` in ``<root>/<name>/`` atomically; returns (location, whether it changed)."""
    fs, base = _filesystem(root)
    folder = f"{base}/{name}"
    location = f"{root.rstrip('/')}/{name}" if "://" in root else folder
    try:
        if _already_published(fs, folder, files):
            return location, False
        if _is_local(fs):
            _swap_local_folder(Path(base), name, files)
        else:
            fs.makedirs(folder, exist_ok=True)
            for file_name in sorted(set(files) - {MANIFEST}):
                fs.pipe_file(f"{folder}/{file_name}", files[file_name])
            fs.pipe_file(f"{folder}/{MANIFEST}", files[MANIFEST])
    except OSError as exc:
        raise StorageError(f"could not write the compliance export to {location}: {exc}") from exc
    return location, True


def _swap_local_folder(base: Path, name: str, files: Mapping[str, bytes]) -> None:
    """Write every file into a hidden sibling folder, then rename it over ``base/name``."""
    import os
    import shutil

    base.mkdir(parents=True, exist_ok=True)
    final = base / name
    staging = base / f".{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    old = base / f".{name}.{secrets.token_hex(4)}.old{TEMP_SUFFIX}"
    try:
        staging.mkdir()
        for file_name, data in files.items():
            with (staging / file_name).open("xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        fsync_dir(staging)
        if final.exists():
            final.rename(old)
        try:
            staging.rename(final)
        except OSError:
            if old.exists():
                old.rename(final)
            raise
        fsync_dir(base)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
