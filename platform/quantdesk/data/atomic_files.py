"""Crash-safe file operations for the lake and backups: temp file, fsync, rename.

A reader must only ever see a complete old file or a complete new one. So every write goes to
a hidden temp file in the *same* folder (a rename is only atomic within one file system),
is fsynced, and then ``os.replace``\\ d over the final name; the folder is fsynced so the
rename itself survives a power cut. A crash leaves at most a hidden ``.<name>.<pid>.<rand>.tmp``
behind, which readers never match (they look for exact names) and the next writer sweeps.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from quantdesk.domain import StorageError

TEMP_SUFFIX = ".tmp"


def temp_path_for(final: Path) -> Path:
    """A unique hidden sibling of ``final`` that readers ignore and sweeps recognise."""
    return final.with_name(f".{final.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(path: Path) -> None:
    """``mkdir -p`` that fsyncs each parent it created, so a new partition survives a crash."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True)
        fsync_dir(folder.parent)


def write_file_atomic(
    final: Path,
    write: Callable[[BinaryIO], object],
    before_commit: Callable[[], None] | None = None,
) -> None:
    """Write ``final`` through ``write(fileobj)`` so readers see all of it or none of it.

    ``before_commit`` runs once the temp file is durable and before the rename; the lake uses
    it for its documented crash-test pause and nothing else.
    """
    make_dirs(final.parent)
    temp = temp_path_for(final)
    try:
        with temp.open("xb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if before_commit is not None:
            before_commit()
        temp.replace(final)
    except BaseException as exc:
        temp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StorageError(f"could not write {final}: {exc}") from exc
        raise
    fsync_dir(final.parent)


def remove_tree_atomically(path: Path) -> None:
    """Make ``path`` vanish for readers in one rename, then delete it at leisure.

    If the process dies during ``rmtree``, what is left is a hidden temp folder that the next
    sweep removes, never a half-deleted partition under its real name.
    """
    hidden = temp_path_for(path)
    path.replace(hidden)
    fsync_dir(path.parent)
    shutil.rmtree(hidden, ignore_errors=True)


def remove_empty_parents(path: Path, stop_at: Path) -> None:
    """Remove ``path`` and its parents while they are empty, never touching ``stop_at``."""
    current = path
    while current != stop_at and stop_at in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent


def sweep_temp_files(root: Path) -> list[Path]:
    """Delete temp files and folders left under ``root`` by writers that crashed.

    Only call this while holding the writer lock: a live writer's temp files look the same.
    """
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for folder, dirnames, filenames in os.walk(root):
        base = Path(folder)
        for name in [d for d in dirnames if is_temp_name(d)]:
            dirnames.remove(name)
            shutil.rmtree(base / name, ignore_errors=True)
            removed.append(base / name)
        for name in filenames:
            if is_temp_name(name):
                (base / name).unlink(missing_ok=True)
                removed.append(base / name)
    return removed


@contextmanager
def exclusive_lock(lock_file: Path) -> Iterator[None]:
    """Hold an advisory exclusive lock on ``lock_file`` (one writer at a time; readers never lock).

    ``flock`` is released by the kernel when the holder dies, so a SIGKILLed writer never
    leaves the lake locked.
    """
    import fcntl

    make_dirs(lock_file.parent)
    with lock_file.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
