"""Batch step: back up the platform's state, verify the archive, then prune old archives.

Pruning runs only after the new archive verified, so a damaged backup never pushes a good
one out of the kept set. Each run makes a new timestamped archive; a rerun is safe (the
keep-N prune bounds the count).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from quantdesk.config import Settings
from quantdesk.domain.errors import StorageError


@dataclass(frozen=True, slots=True)
class BackupCreated:
    location: str
    created_at: datetime
    files: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class BackupVerified:
    location: str
    files_verified: int
    pruned: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BackupPlatformSummary:
    location: str
    created_at: datetime
    files: int
    size_bytes: int
    files_verified: int
    pruned: tuple[str, ...]


def _destination(settings: Settings, destination: str | Path | None) -> str | Path:
    return destination if destination is not None else settings.backups_dir


def create_platform_backup(
    settings: Settings, destination: str | Path | None = None
) -> BackupCreated:
    """Write one archive (default ``<home>/backups``)."""
    from quantdesk.data.backup import create_backup

    info = create_backup(settings, _destination(settings, destination))
    return BackupCreated(info.location, info.created_at, info.files or 0, info.size_bytes)


def verify_and_prune(
    settings: Settings, location: str, destination: str | Path | None = None
) -> BackupVerified:
    """Re-hash ``location`` against its manifest; raise if damaged, else keep the newest N."""
    from quantdesk.data.backup import prune_backups, verify_backup

    report = verify_backup(location)
    if not report.ok:
        shown = "; ".join(report.problems[:5])
        raise StorageError(f"backup {location} failed verification: {shown}")
    pruned = prune_backups(_destination(settings, destination), settings.retention.backups_keep)
    return BackupVerified(location, report.files_checked, tuple(b.location for b in pruned))


def backup_platform(
    settings: Settings, destination: str | Path | None = None
) -> BackupPlatformSummary:
    """Create, verify, prune: the whole step in one call (the CLI and tests use this)."""
    created = create_platform_backup(settings, destination)
    summary = verify_and_prune(settings, created.location, destination)
    return BackupPlatformSummary(
        created.location, created.created_at, created.files, created.size_bytes,
        summary.files_verified, summary.pruned,
    )  # fmt: skip
