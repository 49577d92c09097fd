"""``quantdesk backup ...`` and ``quantdesk data retention`` as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from quantdesk.data.lake import Lake, Zone
from quantdesk.domain import Granularity
from tests.bar_factory import make_bars

QUANTDESK = str(Path(sys.executable).with_name("quantdesk"))


def run_cli(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    clean.update({"QUANTDESK_HOME": str(home), **env})
    return subprocess.run(
        [QUANTDESK, *args], capture_output=True, text=True, env=clean, timeout=120, check=False
    )


def test_backup_create_verify_restore_round_trips_the_lake(tmp_path: Path) -> None:
    # Arrange
    home = tmp_path / "home"
    Lake(home / "lake").write_bars(make_bars("BTC-USD", periods=72))
    before = Lake(home / "lake").coverage()

    # Act
    created = run_cli("backup", "create", home=home)
    listed = run_cli("backup", "list", home=home)
    archive = next((home / "backups").glob("quantdesk-backup-*.tar.gz"))
    verified = run_cli("backup", "verify", str(archive), home=home)
    restored = run_cli(
        "backup", "restore", str(archive), "--into", str(tmp_path / "fresh"), home=home
    )

    # Assert
    assert created.returncode == 0, created.stderr
    assert archive.name in listed.stdout
    assert verified.returncode == 0 and "match the manifest" in verified.stdout
    assert restored.returncode == 0, restored.stderr
    assert Lake(tmp_path / "fresh" / "lake").coverage() == before


def test_backup_verify_tampered_archive_exits_1_listing_problems(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Lake(home / "lake").write_bars(make_bars("ETH-USD"))
    assert run_cli("backup", "create", home=home).returncode == 0
    archive = next((home / "backups").glob("quantdesk-backup-*.tar.gz"))
    archive.write_bytes(archive.read_bytes()[:-64])  # cut the tail off

    result = run_cli("backup", "verify", str(archive), home=home)

    assert result.returncode == 1
    assert "problem:" in result.stderr


def test_backup_restore_into_non_empty_home_is_refused_with_exit_2(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Lake(home / "lake").write_bars(make_bars("ETH-USD"))
    assert run_cli("backup", "create", home=home).returncode == 0
    archive = next((home / "backups").glob("quantdesk-backup-*.tar.gz"))

    result = run_cli("backup", "restore", str(archive), home=home)

    assert result.returncode == 2
    assert "not empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_backup_create_keeps_only_the_newest_n(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Lake(home / "lake").write_bars(make_bars("ETH-USD"))

    for _ in range(3):
        assert run_cli("backup", "create", "--keep", "2", home=home).returncode == 0

    assert len(list((home / "backups").glob("quantdesk-backup-*.tar.gz"))) == 2


def test_data_retention_dry_run_lists_then_real_run_deletes_old_raw_only(tmp_path: Path) -> None:
    # Arrange: raw bars from long ago, and the same bars in the clean zone (kept forever)
    home = tmp_path / "home"
    lake = Lake(home / "lake")
    old = make_bars("BTC-USD", Granularity.D1, start=datetime(2020, 1, 1, tzinfo=UTC), periods=40)
    lake.write_bars(old, Zone.RAW)
    lake.write_bars(old, Zone.CLEAN)
    recent_start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    lake.write_bars(make_bars("ETH-USD", start=recent_start - timedelta(days=1)), Zone.RAW)

    # Act
    dry = run_cli("data", "retention", "--dry-run", home=home)
    kept_after_dry = lake.symbols(Zone.RAW)
    real = run_cli("data", "retention", home=home, QUANTDESK_RETENTION__RAW_DAYS="30")

    # Assert
    assert dry.returncode == 0, dry.stderr
    assert "would delete" in dry.stdout and "symbol=BTC-USD" in dry.stdout
    assert kept_after_dry == ["BTC-USD", "ETH-USD"]
    assert real.returncode == 0, real.stderr
    assert lake.symbols(Zone.RAW) == ["ETH-USD"]
    assert lake.symbols(Zone.CLEAN) == ["BTC-USD"]
