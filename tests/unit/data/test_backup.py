"""Backups: a restore drill, tamper and truncation detection, pruning and hostile archives."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

import quantdesk
from quantdesk.config import Settings, load_settings
from quantdesk.data.backup import (
    create_backup,
    list_backups,
    prune_backups,
    restore_backup,
    verify_backup,
)
from quantdesk.data.bars import normalize_bar_frame
from quantdesk.data.lake import Lake
from quantdesk.domain import InvalidInputError, NotFoundError, StorageError

JAN = datetime(2024, 1, 1, tzinfo=UTC)


def make_bars(symbol: str, periods: int, seed: int) -> pd.DataFrame:
    """A seeded random walk of hourly crypto bars in the canonical shape."""
    rng = np.random.default_rng(seed)
    open_time = pd.date_range(start=JAN, periods=periods, freq="1h")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, periods)))
    return normalize_bar_frame(
        pd.DataFrame(
            {
                "symbol": symbol, "venue": "coinbase", "granularity": "1h",
                "open_time": open_time, "open": close, "high": close * 1.01,
                "low": close * 0.99, "close": close, "volume": rng.uniform(1, 5, periods),
                "available_at": open_time + pd.Timedelta(hours=1),
            }
        )
    )  # fmt: skip


@dataclass
class LiveHome:
    settings: Settings
    db: sqlite3.Connection  # kept open: the backup runs against a live database


def build_home(home: Path) -> LiveHome:
    """A home with a lake, a live SQLite DB (WAL, connection kept open), MLflow and Feast."""
    settings = load_settings(home=home)
    lake = Lake(settings.lake_dir)
    lake.write_bars(pd.concat([make_bars("BTC-USD", 24 * 45, 1), make_bars("ETH-USD", 24 * 45, 2)]))
    db = sqlite3.connect(settings.home / "quantdesk.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE decisions (id INTEGER PRIMARY KEY, symbol TEXT, target REAL)")
    db.executemany(
        "INSERT INTO decisions (symbol, target) VALUES (?, ?)",
        [("BTC-USD", i / 10) for i in range(50)],
    )
    db.commit()
    settings.mlflow_artifacts_dir.joinpath("1", "model").mkdir(parents=True)
    settings.mlflow_artifacts_dir.joinpath("1", "model", "weights.bin").write_bytes(
        b"\x00\x01" * 500
    )
    mlflow_db = sqlite3.connect(settings.home / "mlflow" / "mlflow.db")
    mlflow_db.execute("CREATE TABLE runs (run_id TEXT)")
    mlflow_db.execute("INSERT INTO runs VALUES ('abc')")
    mlflow_db.commit()
    mlflow_db.close()
    settings.feast_dir.mkdir()
    settings.feast_dir.joinpath("feature_store.yaml").write_text("project: quantdesk\n")
    return LiveHome(settings, db)


def lake_answer(lake_dir: Path) -> list[tuple[Any, ...]]:
    query = f"""
        SELECT symbol, count(*), round(sum(close), 6), min(open_time), max(open_time)
        FROM read_parquet('{lake_dir}/zone=clean/**/part.parquet', hive_partitioning = true)
        GROUP BY symbol ORDER BY symbol
    """
    return duckdb.connect().execute(query).fetchall()


def db_answer(home: Path) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(home / "quantdesk.db")
    try:
        return db.execute("SELECT id, symbol, target FROM decisions ORDER BY id").fetchall()
    finally:
        db.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rewrite_archive(
    source: Path,
    target: Path,
    change: Callable[[tarfile.TarInfo, bytes], bytes] = lambda _, data: data,
    extra: tuple[tuple[tarfile.TarInfo, bytes], ...] = (),
) -> None:
    """Copy an archive member by member, letting a test alter contents or smuggle members in."""
    with tarfile.open(source, "r:gz") as src, tarfile.open(target, "w:gz") as dst:
        for member in src.getmembers():
            stream = src.extractfile(member)
            data = change(member, stream.read() if stream else b"")
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
        for member, data in extra:
            dst.addfile(member, io.BytesIO(data))


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveHome]:
    live_home = build_home(tmp_path / "home")
    yield live_home
    live_home.db.close()


@pytest.fixture
def home(live: LiveHome) -> Settings:
    return live.settings


def test_restore_drill_wiped_home_comes_back_with_the_same_answers(
    live: LiveHome, tmp_path: Path
) -> None:
    # Arrange
    home = live.settings
    lake_before, db_before = lake_answer(home.lake_dir), db_answer(home.home)
    bars_before = Lake(home.lake_dir).read_bars(
        ["BTC-USD", "ETH-USD"], JAN, JAN + timedelta(days=60), granularity="1h"
    )
    backup = create_backup(home, tmp_path / "offsite")
    live.db.close()
    shutil.rmtree(home.home)

    # Act
    report = restore_backup(backup.location, home.home)

    # Assert: every file matches its manifest checksum...
    manifest = verify_backup(backup.location).manifest
    assert manifest is not None
    for entry in manifest["files"]:
        restored = home.home / entry["path"]
        assert (sha256(restored), restored.stat().st_size) == (entry["sha256"], entry["size"])
    assert report.files == len(manifest["files"]) == backup.files
    assert {e["path"] for e in manifest["files"]} >= {
        "quantdesk.db", "mlflow/mlflow.db", "mlflow/artifacts/1/model/weights.bin",
        "feast/feature_store.yaml",
    }  # fmt: skip
    # ...and the restored lake and database answer exactly as before.
    assert lake_answer(home.lake_dir) == lake_before
    assert db_answer(home.home) == db_before
    pd.testing.assert_frame_equal(
        Lake(home.lake_dir).read_bars(
            ["BTC-USD", "ETH-USD"], JAN, JAN + timedelta(days=60), granularity="1h"
        ),
        bars_before,
    )


def test_create_backup_manifest_records_metadata_and_live_wal_rows(
    live: LiveHome, tmp_path: Path
) -> None:
    # Arrange: rows still in the WAL of a connection that stays open (no checkpoint yet).
    home = live.settings
    live.db.execute("INSERT INTO decisions (symbol, target) VALUES ('ETH-USD', 9.5)")
    live.db.commit()
    assert (home.home / "quantdesk.db-wal").stat().st_size > 0

    # Act
    backup = create_backup(home, tmp_path / "offsite")
    restore_backup(backup.location, tmp_path / "restored")

    # Assert
    manifest = verify_backup(backup.location).manifest
    assert manifest is not None
    assert manifest["quantdesk_version"] == quantdesk.__version__
    assert manifest["source_home"] == str(home.home)
    assert datetime.fromisoformat(manifest["created_at"]) == backup.created_at
    kinds = {e["path"]: e["kind"] for e in manifest["files"]}
    assert kinds["quantdesk.db"] == "sqlite" and kinds["feast/feature_store.yaml"] == "file"
    assert not any(path.endswith("-wal") for path in kinds)
    assert db_answer(tmp_path / "restored")[-1] == (51, "ETH-USD", 9.5)


def test_create_backup_default_and_file_url_destinations_list_and_verify(
    home: Settings, tmp_path: Path
) -> None:
    # Arrange
    url = (tmp_path / "by-url").as_uri()

    # Act
    local = create_backup(home)
    remote = create_backup(home, url)

    # Assert
    assert Path(local.location).parent == home.backups_dir
    assert remote.location.startswith("file://")
    assert [b.name for b in list_backups(home.backups_dir)] == [local.name]
    assert [b.location for b in list_backups(url)] == [remote.location]
    assert verify_backup(local.location).ok and verify_backup(remote.location).ok
    manifest = verify_backup(remote.location).manifest
    assert manifest is not None
    assert not any(e["path"].startswith("backups/") for e in manifest["files"])


def test_verify_backup_tampered_file_reports_checksum_mismatch_and_restore_refuses(
    home: Settings, tmp_path: Path
) -> None:
    # Arrange: flip one byte of the MLflow artifact, keep its size and the original manifest.
    backup = create_backup(home, tmp_path / "offsite")
    tampered = tmp_path / "tampered.tar.gz"

    def flip(member: tarfile.TarInfo, data: bytes) -> bytes:
        if member.name.endswith("weights.bin"):
            return b"\xff" + data[1:]
        return data

    rewrite_archive(Path(backup.location), tampered, flip)

    # Act
    report = verify_backup(tampered)

    # Assert
    assert not report.ok
    assert report.problems == ("checksum mismatch: mlflow/artifacts/1/model/weights.bin",)
    with pytest.raises(StorageError, match="checksum mismatch"):
        restore_backup(tampered, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_verify_backup_truncated_archive_is_reported_unreadable(
    home: Settings, tmp_path: Path
) -> None:
    # Arrange
    backup = create_backup(home, tmp_path / "offsite")
    truncated = tmp_path / "truncated.tar.gz"
    data = Path(backup.location).read_bytes()
    truncated.write_bytes(data[: len(data) // 2])

    # Act
    report = verify_backup(truncated)

    # Assert
    assert not report.ok
    assert any("unreadable" in p for p in report.problems)
    assert any("no manifest" in p or "missing from archive" in p for p in report.problems)


def test_verify_backup_extra_or_missing_files_are_reported(home: Settings, tmp_path: Path) -> None:
    # Arrange
    backup = create_backup(home, tmp_path / "offsite")
    edited = tmp_path / "edited.tar.gz"
    smuggled = tarfile.TarInfo("home/lake/extra.txt")

    def drop_feast(member: tarfile.TarInfo, data: bytes) -> bytes:
        if member.name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"].append({"path": "feast/gone.yaml", "size": 1, "sha256": "0" * 64})
            return json.dumps(manifest).encode()
        return data

    smuggled.size = 3
    rewrite_archive(Path(backup.location), edited, drop_feast, extra=((smuggled, b"abc"),))

    # Act
    report = verify_backup(edited)

    # Assert
    assert set(report.problems) == {
        "missing from archive: feast/gone.yaml",
        "not in manifest: lake/extra.txt",
    }


@pytest.mark.parametrize(
    "evil_name", ["home/../../evil.txt", "../evil.txt", "/tmp/evil.txt", "home/./x/../../evil.txt"]
)
def test_restore_backup_path_traversal_member_is_refused_and_nothing_written(
    home: Settings, tmp_path: Path, evil_name: str
) -> None:
    # Arrange: the manifest even vouches for the hostile member.
    backup = create_backup(home, tmp_path / "offsite")
    hostile = tmp_path / "hostile.tar.gz"
    payload = b"pwned"
    evil = tarfile.TarInfo(evil_name)
    evil.size = len(payload)

    def vouch(member: tarfile.TarInfo, data: bytes) -> bytes:
        if member.name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["files"].append(
            {"path": "../evil.txt", "size": 5, "sha256": hashlib.sha256(payload).hexdigest()}
        )
        return json.dumps(manifest).encode()

    rewrite_archive(Path(backup.location), hostile, vouch, extra=((evil, payload),))
    target = tmp_path / "a" / "home"

    # Act / Assert
    with pytest.raises(StorageError, match="refused archive member"):
        restore_backup(hostile, target)
    assert not verify_backup(hostile).ok
    assert not list(tmp_path.rglob("evil.txt"))
    assert not target.exists()
    assert list((tmp_path / "a").iterdir()) == []


def test_restore_backup_symlink_member_is_refused(home: Settings, tmp_path: Path) -> None:
    # Arrange
    backup = create_backup(home, tmp_path / "offsite")
    hostile = tmp_path / "hostile.tar.gz"
    link = tarfile.TarInfo("home/lake/passwd")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    rewrite_archive(Path(backup.location), hostile, extra=((link, b""),))

    # Act / Assert
    with pytest.raises(StorageError, match="not a regular file"):
        restore_backup(hostile, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


def test_restore_backup_non_empty_target_refused_unless_forced(
    home: Settings, tmp_path: Path
) -> None:
    # Arrange
    backup = create_backup(home, tmp_path / "offsite")
    target = tmp_path / "busy"
    (target / "backups").mkdir(parents=True)
    (target / "backups" / "keep.tar.gz").write_bytes(b"older backup")
    (target / "stale.txt").write_text("old state")

    # Act / Assert: refused, untouched...
    with pytest.raises(InvalidInputError, match="not empty"):
        restore_backup(backup.location, target)
    assert (target / "stale.txt").exists()

    # ...forced: old state replaced, the backups folder carried over.
    restore_backup(backup.location, target, force=True)
    assert not (target / "stale.txt").exists()
    assert (target / "backups" / "keep.tar.gz").read_bytes() == b"older backup"
    assert db_answer(target) == db_answer(home.home)


def test_prune_backups_keeps_the_n_newest(home: Settings, tmp_path: Path) -> None:
    # Arrange
    destination = tmp_path / "offsite"
    made = [create_backup(home, destination) for _ in range(4)]
    (destination / "notes.txt").write_text("not a backup")
    (destination / f".{made[0].name}.abcd1234.tmp").write_bytes(b"partial")

    # Act
    deleted = prune_backups(destination, keep=2)

    # Assert
    assert [b.name for b in deleted] == [made[1].name, made[0].name]
    assert [b.name for b in list_backups(destination)] == [made[3].name, made[2].name]
    assert (destination / "notes.txt").exists()
    with pytest.raises(InvalidInputError, match="at least 1"):
        prune_backups(destination, keep=0)


def test_verify_backup_missing_archive_raises_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no backup archive"):
        verify_backup(tmp_path / "nope.tar.gz")


def test_create_backup_server_database_is_skipped_with_reason(tmp_path: Path) -> None:
    # Arrange
    settings = load_settings(
        home=tmp_path / "home", database_url="postgresql+psycopg://u:pw@db.example/quantdesk"
    )
    settings.lake_dir.mkdir(parents=True)

    # Act
    backup = create_backup(settings, tmp_path / "offsite")

    # Assert
    manifest = verify_backup(backup.location).manifest
    assert manifest is not None
    reasons = {s["what"]: s["reason"] for s in manifest["skipped"]}
    assert "server's tools" in reasons["operational database"]
    assert "pw" not in json.dumps(manifest)
    assert manifest["files"] == []
