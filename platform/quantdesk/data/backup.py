"""Backups of the platform's state: create, list, verify, restore and prune archives.

One archive holds everything a fresh machine needs to carry on (see ``backup_sources`` for
what is in and out, ``backup_archive`` for the format). Archives go to a folder or any fsspec
URL: local paths and ``file://`` work today; ``s3://bucket/prefix`` works by configuration once
``s3fs`` is installed, because every destination operation here goes through fsspec.

Each archive is written under a hidden temp name and moved to its final name when complete,
so ``list_backups`` never shows half an archive. A restore extracts into a temp folder beside
the target, checks every file against the manifest, and only then renames it into place: a
damaged archive leaves the target as it was.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quantdesk.config import Settings
from quantdesk.data.atomic_files import TEMP_SUFFIX, fsync_dir
from quantdesk.data.backup_archive import (
    FORMAT_VERSION,
    ArchiveWriter,
    compare_with_manifest,
    manifest_entries,
    scan_archive,
)
from quantdesk.data.backup_sources import Skipped, collect_sources, snapshot_sqlite
from quantdesk.domain import InvalidInputError, NotFoundError, StorageError, utc_now
from quantdesk.structured_logging import get_logger

ARCHIVE_PREFIX = "quantdesk-backup-"
ARCHIVE_SUFFIX = ".tar.gz"
_STAMP = "%Y%m%dT%H%M%S%fZ"
_ARCHIVE_NAME = re.compile(rf"^{ARCHIVE_PREFIX}(\d{{8}}T\d{{12}}Z){re.escape(ARCHIVE_SUFFIX)}$")
# Folders of an existing home that a forced restore carries over: they are not state the
# archive holds (Settings.backups_dir lives under home), and losing them would lose backups.
CARRIED_OVER = ("backups",)

_log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class BackupInfo:
    name: str
    location: str  # what verify/restore accept: a local path, or a URL for remote storage
    created_at: datetime
    size_bytes: int
    files: int | None = None  # known when just created; listing does not open archives


@dataclass(frozen=True, slots=True)
class VerifyReport:
    location: str
    ok: bool
    files_checked: int
    problems: tuple[str, ...]
    manifest: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class RestoreReport:
    location: str
    target_home: Path
    files: int
    bytes: int


def _filesystem(location: str | Path) -> tuple[Any, str]:
    """The fsspec filesystem and path of a local path or URL: the one place URLs are read."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(str(location))
    return fs, str(path)


def _is_local(fs: Any) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def _location(original: str | Path, fs: Any, path: str) -> str:
    """Give URLs back as URLs and local paths as paths, the way the caller named them."""
    return str(fs.unstrip_protocol(path)) if "://" in str(original) else path


def _archive_time(name: str) -> datetime | None:
    match = _ARCHIVE_NAME.match(name)
    return datetime.strptime(match[1], _STAMP).replace(tzinfo=UTC) if match else None


def _write_archive(raw: Any, settings: Settings, created_at: datetime, scratch: Path) -> int:
    """Stream every source file and then the manifest into ``raw``; returns the file count."""
    from quantdesk import __version__

    sources, skipped = collect_sources(settings)
    writer = ArchiveWriter(raw)
    for index, source in enumerate(sources):
        path = source.path
        if source.sqlite:
            path = scratch / f"{index}.sqlite"
            snapshot_sqlite(source.path, path)
        try:
            writer.add_file(source.relative, path)
        except FileNotFoundError:  # deleted since it was listed (retention, a compaction)
            skipped.append(Skipped(source.relative.as_posix(), "vanished during the backup"))
    writer.add_manifest(
        {
            "format": FORMAT_VERSION,
            "created_at": created_at.isoformat(),
            "quantdesk_version": __version__,
            "source_home": str(settings.home),
            "files": manifest_entries(
                writer.files, [s.relative.as_posix() for s in sources if s.sqlite]
            ),
            "skipped": [{"what": s.what, "reason": s.reason} for s in skipped],
        }
    )
    writer.close()
    return len(writer.files)


def create_backup(settings: Settings, destination: str | Path | None = None) -> BackupInfo:
    """Archive the state under ``settings.home`` into ``destination`` (default: backups_dir).

    Returns where the archive went; raises StorageError (and leaves no partial archive
    visible) if anything fails.
    """
    created_at = utc_now()
    target = destination if destination is not None else settings.backups_dir
    fs, folder = _filesystem(target)
    folder = folder.rstrip("/") or "/"
    name = f"{ARCHIVE_PREFIX}{created_at.strftime(_STAMP)}{ARCHIVE_SUFFIX}"
    final = f"{folder}/{name}"
    partial = f"{folder}/.{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        fs.makedirs(folder, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(prefix="quantdesk-backup-") as scratch,
            fs.open(partial, "wb") as raw,
        ):
            files = _write_archive(raw, settings, created_at, Path(scratch))
        if _is_local(fs):
            _fsync_file(partial)
        fs.mv(partial, final)
        if _is_local(fs):
            fsync_dir(Path(folder))
    except BaseException as exc:
        if fs.exists(partial):
            fs.rm(partial)
        if isinstance(exc, OSError | sqlite3.Error):
            raise StorageError(f"backup to {final} failed: {exc}") from exc
        raise
    size = int(fs.size(final))
    info = BackupInfo(name, _location(target, fs, final), created_at, size, files)
    _log.info("backup.created", location=info.location, files=files, bytes=size)
    return info


def list_backups(destination: str | Path) -> list[BackupInfo]:
    """Complete archives in ``destination``, newest first (temp files and others ignored)."""
    fs, folder = _filesystem(destination)
    if not fs.exists(folder):
        return []
    found: list[BackupInfo] = []
    for entry in fs.ls(folder, detail=True):
        name = str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
        created_at = _archive_time(name)
        if created_at is None or entry.get("type") != "file":
            continue
        location = _location(destination, fs, str(entry["name"]))
        found.append(BackupInfo(name, location, created_at, int(entry.get("size") or 0)))
    return sorted(found, key=lambda b: b.created_at, reverse=True)


def _open_existing(location: str | Path) -> tuple[Any, str]:
    fs, path = _filesystem(location)
    if not fs.isfile(path):
        raise NotFoundError(f"no backup archive at {location}")
    return fs, path


def verify_backup(location: str | Path) -> VerifyReport:
    """Re-hash every file in the archive and compare with its manifest; never raises on damage.

    Detects truncation (the gzip or tar stream ends early), altered bytes (checksum or size
    mismatch), files added or removed, and unsafe member names.
    """
    fs, path = _open_existing(location)
    with fs.open(path, "rb") as raw:
        scan = scan_archive(raw)
    problems = [*scan.problems, *compare_with_manifest(scan)]
    return VerifyReport(
        str(location), not problems, len(scan.files), tuple(problems), scan.manifest
    )


def _hidden_sibling(target: Path, tag: str) -> Path:
    return target.with_name(f".{target.name}.{tag}-{secrets.token_hex(4)}{TEMP_SUFFIX}")


def restore_backup(location: str | Path, target_home: Path, force: bool = False) -> RestoreReport:
    """Restore an archive into ``target_home``, which must be empty or absent unless ``force``.

    With ``force`` the previous contents are replaced (its ``backups`` folder is carried over).
    Nothing in the target changes unless every file matched the manifest.
    """
    target = Path(target_home).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise InvalidInputError(f"restore target {target} is not a folder")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise InvalidInputError(
            f"restore target {target} is not empty; restore into a fresh home or pass force=True"
        )
    fs, path = _open_existing(location)
    staging = _hidden_sibling(target, "restore")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        with fs.open(path, "rb") as raw:
            scan = scan_archive(raw, extract_to=staging)
        problems = [*scan.problems, *compare_with_manifest(scan)]
        if problems:
            shown = "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
            raise StorageError(f"backup {location} failed verification, nothing restored: {shown}")
        _swap_into_place(staging, target)
    except OSError as exc:
        raise StorageError(f"restore into {target} failed: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already when the swap succeeded
    total = sum(d.size for d in scan.files.values())
    _log.info("backup.restored", location=str(location), target=str(target), files=len(scan.files))
    return RestoreReport(str(location), target, len(scan.files), total)


def _swap_into_place(staging: Path, target: Path) -> None:
    """Rename the verified ``staging`` folder to ``target``, moving any old home aside first.

    The old home is deleted only after the new one is in place and the folders in
    ``CARRIED_OVER`` have moved across; if the swap fails, the old home is put back.
    """
    if not target.exists():
        staging.rename(target)
        fsync_dir(target.parent)
        return
    old = _hidden_sibling(target, "replaced")
    target.rename(old)
    try:
        staging.rename(target)
    except OSError:
        old.rename(target)
        raise
    fsync_dir(target.parent)
    for name in CARRIED_OVER:
        if (old / name).exists() and not (target / name).exists():
            (old / name).rename(target / name)
    shutil.rmtree(old, ignore_errors=True)


def prune_backups(destination: str | Path, keep: int) -> list[BackupInfo]:
    """Delete all but the ``keep`` newest archives; returns what was deleted.

    ``keep`` must be at least 1: pruning every backup is never what a schedule meant.
    """
    if keep < 1:
        raise InvalidInputError(f"keep must be at least 1, got {keep}")
    fs, _ = _filesystem(destination)
    doomed = list_backups(destination)[keep:]
    for backup in doomed:
        fs.rm(_filesystem(backup.location)[1])
    if doomed:
        _log.info("backup.pruned", deleted=len(doomed), kept=keep)
    return doomed


def _fsync_file(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
