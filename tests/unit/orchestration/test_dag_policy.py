"""The DAG policy defaults and the failure callback that raises an alert."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from quantdesk.config import load_settings
from quantdesk.monitoring.alert_outbox import FileOutbox
from quantdesk.orchestration.dag_policy import alert_on_failure, dag_options, default_args


def test_default_args_follow_settings_and_policy(tmp_path: Path) -> None:
    # Arrange
    settings = load_settings(
        home=tmp_path, orchestration={"owner": "desk-ops", "retries": 3, "retry_delay_seconds": 30}
    )

    # Act
    args = default_args(settings)

    # Assert
    assert args["owner"] == "desk-ops"
    assert args["retries"] == 3
    assert args["retry_delay"] == timedelta(seconds=30)
    assert args["retry_exponential_backoff"] >= 2
    assert args["max_retry_delay"] > args["retry_delay"]
    assert args["execution_timeout"] == timedelta(minutes=120)
    assert args["on_failure_callback"] is alert_on_failure


def test_settings_refuse_fewer_than_two_retries(tmp_path: Path) -> None:
    from quantdesk.domain.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="QUANTDESK_ORCHESTRATION__RETRIES"):
        load_settings(home=tmp_path, orchestration={"retries": 1})


def test_dag_options_turn_catchup_off_and_tag_every_dag(tmp_path: Path) -> None:
    # Act
    options = dag_options(load_settings(home=tmp_path), tags=["governance"])

    # Assert
    assert options["catchup"] is False
    assert options["max_active_runs"] == 1
    assert options["tags"] == ["governance", "quantdesk"]
    assert options["dagrun_timeout"] == timedelta(minutes=360)


def test_alert_on_failure_writes_critical_alert_once_per_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: the callback reads settings from the environment, as in a real worker
    monkeypatch.setenv("QUANTDESK_HOME", str(tmp_path))
    ti = SimpleNamespace(
        dag_id="export_compliance", task_id="export_compliance", run_id="scheduled__2026-03-02",
        try_number=3, log_url="http://airflow.local/log",
    )  # fmt: skip
    context = {"ti": ti, "exception": RuntimeError("disk full")}

    # Act
    alert_on_failure(context)
    alert_on_failure(context)  # the same task failing again within the dedup window

    # Assert
    records = FileOutbox(tmp_path / "alerts").records()
    assert [r["status"] for r in records] == ["delivered", "suppressed"]
    alert = records[0]["alert"]
    assert alert["severity"] == "critical"
    assert alert["title"] == "Airflow task failed: export_compliance.export_compliance"
    assert alert["dedup_key"] == "airflow:export_compliance:export_compliance"
    assert "disk full" in alert["body"]
    assert "try: 3" in alert["body"]


def test_alert_on_failure_with_broken_settings_does_not_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUANTDESK_HOME", str(tmp_path))
    monkeypatch.setenv("QUANTDESK_ALERTS__MIN_SEVERITY", "loud")

    alert_on_failure({"ti": None, "exception": None})

    assert not (tmp_path / "alerts").exists()
