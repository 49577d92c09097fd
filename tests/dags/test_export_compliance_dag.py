"""End to end: ``dag.test()`` of export_compliance on a temporary home, files checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest

from quantdesk.config import load_settings
from quantdesk.store import OperationalStore
from tests.dags.conftest import DAGS_FOLDER
from tests.unit.governance.compliance_test_data import DAY, seed_day


@pytest.fixture
def quantdesk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The home the DAG's task reads through QUANTDESK_HOME, with a seeded store."""
    home = tmp_path / "home"
    monkeypatch.setenv("QUANTDESK_HOME", str(home))
    with OperationalStore.from_settings(load_settings()) as store:
        store.upgrade()
        seed_day(store)
    yield home


@pytest.mark.slow  # dag.test() starts Airflow's in-process execution API (~8-12 s first call)
def test_export_compliance_dag_run_writes_the_days_export(
    airflow_db: Path, quantdesk_home: Path
) -> None:
    # Arrange
    from airflow.dag_processing.dagbag import DagBag

    dag: Any = DagBag(dag_folder=str(DAGS_FOLDER / "export_compliance.py")).dags[
        "export_compliance"
    ]
    # A manual run at D+1 00:30 covers the interval that started on D at 00:30.
    logical_date = pendulum.datetime(DAY.year, DAY.month, DAY.day + 1, 0, 30, tz="UTC")

    # Act
    first = dag.test(logical_date=logical_date)
    folder = quantdesk_home / "exports" / "compliance" / DAY.isoformat()
    files_after_first = {p.name: p.read_bytes() for p in folder.iterdir()}
    second = dag.test(logical_date=logical_date.add(seconds=1))

    # Assert
    assert first.state == "success"
    assert second.state == "success"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["day"] == "2026-03-02"
    assert manifest["tables"] == {
        "decisions": {"rows": 2},
        "orders": {"rows": 2},
        "limit_breaches": {"rows": 2},
        "model_versions": {"rows": 0},
    }
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files_after_first
    assert sorted(p.name for p in folder.parent.iterdir()) == ["2026-03-02"]
