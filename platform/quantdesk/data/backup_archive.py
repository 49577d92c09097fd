"""The backup archive format: a streamed ``.tar.gz`` whose last member is ``manifest.json``.

Layout: ``home/<path relative to home>`` for every file, then ``manifest.json`` with the
SHA-256 and size of each file, computed from the very bytes written into the archive (one
read per file, so a file changing during the backup cannot make the manifest lie). Streaming
(``w|gz``/``r|gz``) means neither side needs to seek, so the same code writes to and reads from
an fsspec file on object storage.

Reading is defensive because an archive is untrusted input: only regular files under ``home/``
with normalised relative names are accepted (no absolute paths, no ``..``, no links or device
files), and files are written by this module itself rather than by ``tarfile.extract``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

from quantdesk.domain import StorageError

MANIFEST_NAME = "manifest.json"
HOME_PREFIX = "home"
FORMAT_VERSION = 1
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class FileDigest:
    sha256: str
    size: int


class _HashingReader:
    """Hands bytes to ``tarfile`` while hashing exactly what it hands over."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._hash.update(data)
        self.size += len(data)
        return data

    def digest(self) -> FileDigest:
        return FileDigest(self._hash.hexdigest(), self.size)


def member_name(relative: PurePosixPath) -> str:
    return f"{HOME_PREFIX}/{relative.as_posix()}"


def safe_relative(name: str) -> PurePosixPath | None:
    """The home-relative path of an archive member, or None if the name could escape.

    The name must already be in normal form (``home/a/b``): anything ``PurePosixPath`` would
    have to tidy (``//``, ``./``) or ``..`` anywhere is refused rather than interpreted.
    """
    if not name or "\\" in name or "\x00" in name:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or str(path) != name or ".." in path.parts:
        return None
    if len(path.parts) < 2 or path.parts[0] != HOME_PREFIX:
        return None
    return PurePosixPath(*path.parts[1:])


class ArchiveWriter:
    """Streams files into a gzipped tar and remembers the digest of each."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._tar = tarfile.open(fileobj=raw, mode="w|gz")  # noqa: SIM115 - closed in close()
        self.files: dict[str, FileDigest] = {}

    def add_file(self, relative: PurePosixPath, source: Path) -> FileDigest:
        """Archive ``source`` as ``home/<relative>``; raise FileNotFoundError if it vanished."""
        with source.open("rb") as handle:
            stat = os.fstat(handle.fileno())
            info = tarfile.TarInfo(member_name(relative))
            info.size, info.mtime, info.mode = stat.st_size, int(stat.st_mtime), 0o644
            reader = _HashingReader(handle)
            try:
                self._tar.addfile(info, reader)
            except OSError as exc:
                raise StorageError(f"could not archive {source}: {exc}") from exc
        digest = reader.digest()
        self.files[relative.as_posix()] = digest
        return digest

    def add_manifest(self, manifest: Mapping[str, Any]) -> None:
        data = json.dumps(manifest, indent=2, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST_NAME)
        info.size, info.mode = len(data), 0o644
        self._tar.addfile(info, io.BytesIO(data))

    def close(self) -> None:
        self._tar.close()


@dataclass
class ArchiveScan:
    """What reading an archive found: its manifest, each file's digest, and every problem."""

    manifest: dict[str, Any] | None = None
    files: dict[str, FileDigest] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _consume(stream: IO[bytes], destination: Path | None) -> FileDigest:
    """Hash a member's bytes, writing them to ``destination`` when restoring.

    Read errors propagate as archive damage; write errors (disk full, permissions) are ours,
    raised as StorageError so they are never mistaken for a corrupt archive.
    """
    digest = hashlib.sha256()
    size = 0
    out: BinaryIO | None = None
    try:
        if destination is not None:
            try:
                destination.parent.mkdir(parents=True, exist_ok=True)
                out = destination.open("xb")  # x: never write through something already there
            except OSError as exc:
                raise StorageError(f"cannot restore {destination}: {exc}") from exc
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if out is not None:
                _write(out, chunk, destination)
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    finally:
        if out is not None:
            out.close()
    return FileDigest(digest.hexdigest(), size)


def _write(out: BinaryIO, chunk: bytes, destination: Path | None) -> None:
    try:
        out.write(chunk)
    except OSError as exc:
        raise StorageError(f"could not write {destination}: {exc}") from exc


def scan_archive(raw: IO[bytes], extract_to: Path | None = None) -> ArchiveScan:
    """Read every member once, hashing it; with ``extract_to``, also write safe files there.

    Never raises for a damaged or hostile archive: it reports problems, and the caller
    decides (``verify`` reports them, ``restore`` refuses and discards what it extracted).
    """
    scan = ArchiveScan()
    try:
        with tarfile.open(fileobj=raw, mode="r|gz") as tar:
            for member in tar:
                _scan_member(tar, member, scan, extract_to)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        scan.problems.append(f"archive is unreadable (truncated or corrupt?): {exc}")
    return scan


def _scan_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, scan: ArchiveScan, extract_to: Path | None
) -> None:
    if member.name == MANIFEST_NAME and member.isfile():
        stream = tar.extractfile(member)
        try:
            scan.manifest = json.loads(stream.read()) if stream else None
        except ValueError:
            scan.problems.append("manifest.json is not valid JSON")
        return
    relative = safe_relative(member.name)
    if relative is None or not member.isfile():
        kind = "a regular file" if member.isfile() else "not a regular file"
        scan.problems.append(f"refused archive member {member.name!r} ({kind} outside home/)")
        return
    key = relative.as_posix()
    if key in scan.files:
        scan.problems.append(f"archive lists {key} twice")
        return
    stream = tar.extractfile(member)
    if stream is None:  # pragma: no cover - isfile() members always have data
        return
    destination = extract_to.joinpath(*relative.parts) if extract_to is not None else None
    scan.files[key] = _consume(stream, destination)


def compare_with_manifest(scan: ArchiveScan) -> list[str]:
    """Problems between what the archive holds and what its manifest promises."""
    manifest = scan.manifest
    if manifest is None:
        return ["archive has no manifest.json"]
    if manifest.get("format") != FORMAT_VERSION:
        return [f"unsupported backup format {manifest.get('format')!r}"]
    problems: list[str] = []
    promised: dict[str, Mapping[str, Any]] = {e["path"]: e for e in manifest.get("files", [])}
    for path, entry in sorted(promised.items()):
        found = scan.files.get(path)
        if found is None:
            problems.append(f"missing from archive: {path}")
        elif found.size != entry["size"]:
            problems.append(f"size mismatch: {path} ({found.size} != {entry['size']})")
        elif found.sha256 != entry["sha256"]:
            problems.append(f"checksum mismatch: {path}")
    problems.extend(f"not in manifest: {path}" for path in sorted(set(scan.files) - set(promised)))
    return problems


def manifest_entries(
    files: Mapping[str, FileDigest], sqlite_paths: Sequence[str]
) -> list[dict[str, Any]]:
    sqlite = set(sqlite_paths)
    return [
        {
            "path": path,
            "size": digest.size,
            "sha256": digest.sha256,
            "kind": "sqlite" if path in sqlite else "file",
        }
        for path, digest in sorted(files.items())
    ]
