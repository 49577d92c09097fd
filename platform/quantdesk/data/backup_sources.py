"""What a backup contains: the platform's state under home, found from the Settings.

Included: the lake, the Feast folder, the MLflow artifacts folder, and the operational and
MLflow databases when they are SQLite files under home. Any SQLite file met on the way (the
Feast online store and registry are) is copied through SQLite's backup API, which gives a
consistent snapshot of a live database including what still sits in its write-ahead log; a raw
copy could catch a half-written page. Everything else is read as it is: the lake replaces files
by rename, so an open file is always a complete version.

Left out, on purpose, and listed in the manifest's ``skipped``: databases behind a server URL
(PostgreSQL is backed up with its own tools), SQLite files outside home (a restore could not
put them back under the new home), the backups folder itself, logs, and temp files.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from quantdesk.config import Settings
from quantdesk.data.atomic_files import is_temp_name

SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path  # absolute, on this machine
    relative: PurePosixPath  # relative to home: where a restore puts it
    sqlite: bool


@dataclass(frozen=True, slots=True)
class Skipped:
    what: str
    reason: str


def is_sqlite_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite SQLAlchemy URL; None for other databases or in-memory."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _is_companion(path: Path) -> bool:
    """``x.db-wal`` and friends: folded into the snapshot of ``x.db``, never copied raw."""
    for suffix in _SQLITE_COMPANIONS:
        if path.name.endswith(suffix) and is_sqlite_file(path.with_name(path.name[: -len(suffix)])):
            return True
    return False


def _walk(folder: Path, home: Path, exclude: Path) -> tuple[list[SourceFile], list[Skipped]]:
    files: list[SourceFile] = []
    skipped: list[Skipped] = []
    for current, dirnames, filenames in os.walk(folder):
        base = Path(current)
        dirnames[:] = sorted(
            d for d in dirnames if not is_temp_name(d) and not _inside(base / d, exclude)
        )
        for name in sorted(filenames):
            path = base / name
            if is_temp_name(name) or _is_companion(path):
                continue
            if path.is_symlink() or not path.is_file():
                skipped.append(Skipped(str(path), "not a regular file (links are not followed)"))
                continue
            relative = PurePosixPath(path.relative_to(home).as_posix())
            files.append(SourceFile(path, relative, is_sqlite_file(path)))
    return files, skipped


def collect_sources(settings: Settings) -> tuple[list[SourceFile], list[Skipped]]:
    """Every file to archive (sorted, no duplicates) and what was left out, with why."""
    home = settings.home
    found: dict[PurePosixPath, SourceFile] = {}
    skipped: list[Skipped] = []
    for folder in (settings.lake_dir, settings.feast_dir, settings.mlflow_artifacts_dir):
        if not folder.is_dir():
            continue
        files, left_out = _walk(folder, home, settings.backups_dir)
        skipped.extend(left_out)
        found.update((f.relative, f) for f in files)
    for label, url in (
        ("operational database", settings.resolved_database_url),
        ("MLflow database", settings.resolved_mlflow_tracking_uri),
    ):
        path = sqlite_path(url)
        if path is None:
            skipped.append(Skipped(label, "not a SQLite file: back it up with its server's tools"))
        elif not _inside(path, home):
            skipped.append(
                Skipped(label, f"{path} lies outside home; a restore could not place it")
            )
        elif not path.is_file():
            skipped.append(Skipped(label, f"{path} does not exist yet"))
        else:
            relative = PurePosixPath(path.relative_to(home).as_posix())
            found[relative] = SourceFile(path, relative, sqlite=True)
    return [found[key] for key in sorted(found)], skipped


def snapshot_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database, taken with SQLite's online backup API."""
    src = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
