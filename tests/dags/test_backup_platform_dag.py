"""End to end: ``dag.test()`` of backup_platform: the archive made by one task is verified
by the next (its location passes through XCom)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pendulum
import pytest

from quantdesk.data.backup import list_backups, verify_backup
from quantdesk.data.lake import Lake, Zone
from tests.bar_factory import make_bars
from tests.dags.conftest import DAGS_FOLDER


@pytest.mark.slow  # dag.test() starts Airflow's in-process execution API
def test_backup_platform_dag_run_creates_and_verifies_an_archive(
    airflow_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange
    from airflow.dag_processing.dagbag import DagBag

    home = tmp_path / "home"
    monkeypatch.setenv("QUANTDESK_HOME", str(home))
    monkeypatch.setenv("QUANTDESK_RETENTION__BACKUPS_KEEP", "1")
    Lake(home / "lake").write_bars(make_bars("ETH-USD", periods=24), Zone.CLEAN)
    dag: Any = DagBag(dag_folder=str(DAGS_FOLDER / "backup_platform.py")).dags["backup_platform"]

    # Act
    run = dag.test(logical_date=pendulum.datetime(2026, 3, 3, 2, tz="UTC"))
    again = dag.test(logical_date=pendulum.datetime(2026, 3, 4, 2, tz="UTC"))

    # Assert
    assert run.state == "success"
    assert again.state == "success"
    states = {ti.task_id: ti.state for ti in again.get_task_instances()}
    assert states == {"create_backup": "success", "verify_backup": "success"}
    [kept] = list_backups(home / "backups")  # the second run pruned the first archive
    assert verify_backup(kept.location).ok
