"""The backup and retention batch steps the DAGs call, on a real home folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quantdesk.config import Settings, load_settings
from quantdesk.data.backup import list_backups
from quantdesk.data.lake import Lake, Zone
from quantdesk.domain import Granularity
from quantdesk.domain.errors import StorageError
from quantdesk.pipelines.apply_retention import apply_retention
from quantdesk.pipelines.backup_platform import (
    backup_platform,
    create_platform_backup,
    verify_and_prune,
)
from tests.bar_factory import make_bars


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    configured = load_settings(home=tmp_path / "home", retention={"backups_keep": 1})
    Lake(configured.lake_dir).write_bars(make_bars("BTC-USD", periods=48), Zone.CLEAN)
    return configured


def test_backup_platform_creates_verifies_and_prunes_to_keep(settings: Settings) -> None:
    # Act
    first = backup_platform(settings)
    second = backup_platform(settings)

    # Assert
    assert first.files >= 1
    assert first.files_verified == first.files
    assert first.pruned == ()
    assert second.pruned == (first.location,)
    assert [b.location for b in list_backups(settings.backups_dir)] == [second.location]


def test_verify_and_prune_damaged_archive_raises_and_prunes_nothing(settings: Settings) -> None:
    # Arrange
    good = create_platform_backup(settings)
    damaged = create_platform_backup(settings)
    data = Path(damaged.location).read_bytes()
    Path(damaged.location).write_bytes(data[: len(data) // 2])

    # Act / Assert
    with pytest.raises(StorageError, match="failed verification"):
        verify_and_prune(settings, damaged.location)
    assert {b.location for b in list_backups(settings.backups_dir)} == {
        good.location,
        damaged.location,
    }


def test_apply_retention_deletes_expired_raw_partitions_and_rerun_deletes_nothing(
    tmp_path: Path,
) -> None:
    # Arrange
    settings = load_settings(home=tmp_path / "home", retention={"raw_days": 30})
    lake = Lake(settings.lake_dir)
    old = make_bars("BTC-USD", Granularity.D1, start=datetime(2020, 1, 1, tzinfo=UTC), periods=40)
    lake.write_bars(old, Zone.RAW)
    lake.write_bars(old, Zone.CLEAN)
    now = datetime(2022, 3, 15, tzinfo=UTC)
    lake.write_bars(make_bars("ETH-USD", start=now - timedelta(days=2)), Zone.RAW)

    # Act
    preview = apply_retention(settings, now=now, dry_run=True)
    first = apply_retention(settings, now=now)
    again = apply_retention(settings, now=now)

    # Assert
    assert preview.deleted == first.deleted
    assert first.deleted and all(path.startswith("zone=raw/") for path in first.deleted)
    assert again.deleted == ()
    assert lake.symbols(Zone.RAW) == ["ETH-USD"]
    assert lake.symbols(Zone.CLEAN) == ["BTC-USD"]
