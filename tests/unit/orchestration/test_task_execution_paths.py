"""One task definition, two paths: the worker (TaskFlow) and a pod rendered without a cluster."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pendulum
import pytest

from quantdesk.config import PodResources, Settings, load_settings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.orchestration.airflow_tasks import build_mapped_task, build_task
from quantdesk.orchestration.step_runner import convert_params, resolve_step, run_step
from quantdesk.orchestration.task_catalog import EXPORT_COMPLIANCE, LAKE_RAW, ingest_task
from quantdesk.orchestration.task_definition import PipelineTask, pod_command
from quantdesk.pipelines.apply_retention import apply_retention

QUANTDESK = str(Path(sys.executable).with_name("quantdesk"))


def _kubernetes_settings(tmp_path: Path, **orchestration: Any) -> Settings:
    return load_settings(
        home=tmp_path,
        orchestration={
            "mode": "kubernetes", "image": "registry.local/quantdesk:1.2.3",
            "env_secret": "quantdesk-env", "namespace": "trading", **orchestration,
        },
    )  # fmt: skip


def _build_in_dag(definition: PipelineTask, settings: Settings) -> Any:
    from airflow.sdk import DAG

    with DAG("render_check", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        return build_task(definition, settings)


def _rendered_pod(operator: Any, context: dict[str, Any]) -> Any:
    operator.render_template_fields(context)
    return operator.build_pod_request_obj(None, dry_run=True)  # no cluster, no kube config


def test_kubernetes_mode_renders_pod_spec_from_the_task_definition(tmp_path: Path) -> None:
    # Arrange
    settings = _kubernetes_settings(
        tmp_path,
        task_resources={"export_compliance": {"cpu_request": "1", "memory_request": "2Gi",
                                              "cpu_limit": "3", "memory_limit": "6Gi"}},
    )  # fmt: skip
    operator = _build_in_dag(EXPORT_COMPLIANCE, settings)

    # Act
    pod = _rendered_pod(
        operator,
        {"data_interval_start": pendulum.datetime(2026, 3, 2, 0, 30, tz="UTC"), "run_id": "r1"},
    )

    # Assert
    assert type(operator).__name__ == "KubernetesPodOperator"
    container = pod.spec.containers[0]
    assert container.image == "registry.local/quantdesk:1.2.3"
    assert [*container.command, *container.args] == [
        "quantdesk", "step", "run", "quantdesk.pipelines.export_compliance:export_compliance",
        "--param", "day=2026-03-02", "--xcom-file", "/airflow/xcom/return.json",
    ]  # fmt: skip
    assert container.resources.requests == {"cpu": "1", "memory": "2Gi"}
    assert container.resources.limits == {"cpu": "3", "memory": "6Gi"}
    env = {e.name: e.value for e in container.env}
    assert env["QUANTDESK_TASK"] == "export_compliance"
    assert env["QUANTDESK_DAG_RUN_ID"] == "r1"
    assert [s.secret_ref.name for s in container.env_from] == ["quantdesk-env"]
    assert pod.metadata.namespace == "trading"
    assert pod.metadata.labels["quantdesk/task"] == "export_compliance"
    assert "airflow-xcom-sidecar" in [c.name for c in pod.spec.containers]


def test_kubernetes_mode_uses_definition_resources_when_settings_have_none(
    tmp_path: Path,
) -> None:
    # Arrange
    definition = PipelineTask(
        "train_models", "quantdesk.pipelines.apply_retention:apply_retention",
        resources=PodResources(cpu_request="4", memory_request="8Gi", cpu_limit="8",
                               memory_limit="16Gi"),
    )  # fmt: skip

    # Act
    pod = _rendered_pod(_build_in_dag(definition, _kubernetes_settings(tmp_path)), {"run_id": "r"})

    # Assert
    container = pod.spec.containers[0]
    assert container.resources.requests == {"cpu": "4", "memory": "8Gi"}
    assert pod.metadata.name.startswith("quantdesk-train-models")


def test_light_task_stays_in_worker_even_in_kubernetes_mode(tmp_path: Path) -> None:
    definition = PipelineTask(
        "check_retention", "quantdesk.pipelines.apply_retention:apply_retention", heavy=False
    )

    task = _build_in_dag(definition, _kubernetes_settings(tmp_path))

    assert type(task.operator).__name__ == "_PythonDecoratedOperator"


def test_inprocess_mode_builds_taskflow_task_with_the_same_target_and_params(
    tmp_path: Path,
) -> None:
    # Act
    task = _build_in_dag(EXPORT_COMPLIANCE, load_settings(home=tmp_path))

    # Assert
    operator = task.operator
    assert operator.task_id == "export_compliance"
    assert operator.op_kwargs == {
        "target": EXPORT_COMPLIANCE.target,
        "step_params": {"day": "{{ data_interval_start | ds }}"},
    }
    assert pod_command(EXPORT_COMPLIANCE)[4:6] == ["--param", "day={{ data_interval_start | ds }}"]


def test_convert_params_uses_the_step_type_hints() -> None:
    converted = convert_params(
        apply_retention, {"now": "2026-03-03T00:30:00+00:00", "dry_run": "true"}
    )

    assert converted == {"now": datetime(2026, 3, 3, 0, 30, tzinfo=UTC), "dry_run": True}


@pytest.mark.parametrize(
    ("target", "params", "message"),
    [
        ("os:system", {}, "quantdesk.pipelines"),
        ("quantdesk.pipelines.nope:run", {}, "no pipeline module"),
        ("quantdesk.pipelines.apply_retention:missing", {}, "no step function"),
        ("quantdesk.pipelines.apply_retention:apply_retention", {"when": "x"}, "does not take"),
        ("quantdesk.pipelines.apply_retention:apply_retention", {"now": "2026-03-03"}, "now="),
    ],
)
def test_run_step_bad_target_or_params_raise_clear_error(
    tmp_path: Path, target: str, params: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        run_step(target, params, load_settings(home=tmp_path))


def test_run_step_returns_json_summary(tmp_path: Path) -> None:
    summary = run_step(
        "quantdesk.pipelines.apply_retention:apply_retention",
        {"now": "2026-03-03T00:00:00+00:00", "dry_run": "true"},
        load_settings(home=tmp_path),
    )

    assert summary["dry_run"] is True
    assert summary["now"] == "2026-03-03T00:00:00+00:00"
    assert summary["deleted"] == []
    assert callable(resolve_step(EXPORT_COMPLIANCE.target))


def test_cli_step_run_prints_summary_and_writes_xcom_file(tmp_path: Path) -> None:
    # Arrange
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env["QUANTDESK_HOME"] = str(tmp_path / "home")
    xcom = tmp_path / "xcom" / "return.json"

    # Act
    result = subprocess.run(
        [QUANTDESK, "step", "run", "quantdesk.pipelines.apply_retention:apply_retention",
         "--param", "now=2026-03-03T00:00:00+00:00", "--param", "dry_run=true",
         "--xcom-file", str(xcom)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip

    # Assert
    assert result.returncode == 0, result.stderr
    written = json.loads(xcom.read_text())
    assert written["dry_run"] is True
    assert json.loads(result.stdout.strip().splitlines()[0]) == written


def _build_mapped_in_dag(settings: Settings, definition: PipelineTask | None = None) -> Any:
    from airflow.sdk import DAG

    chosen = definition or ingest_task("crypto")
    with DAG("map_check", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        return build_mapped_task(chosen, "symbols", ["BTC-USD", "ETH-USD"], settings)


def test_mapped_task_inprocess_expands_one_instance_per_symbol_and_updates_the_raw_asset(
    tmp_path: Path,
) -> None:
    mapped = _build_mapped_in_dag(load_settings(home=tmp_path))

    expanded = mapped.operator.op_kwargs_expand_input.value["step_params"]
    assert [p["symbols"] for p in expanded] == ["BTC-USD", "ETH-USD"]
    assert all(p["asset_class"] == "crypto" for p in expanded)
    assert [a.name for a in mapped.operator.partial_kwargs["outlets"]] == [LAKE_RAW]


def test_mapped_task_in_kubernetes_mode_expands_pod_arguments_per_symbol(tmp_path: Path) -> None:
    heavy = dataclasses.replace(ingest_task("crypto"), heavy=True)
    mapped = _build_mapped_in_dag(_kubernetes_settings(tmp_path), heavy)

    arguments = mapped.expand_input.value["arguments"]
    assert len(arguments) == 2
    assert arguments[0][:3] == ["step", "run", "quantdesk.pipelines.market_data:ingest_due_bars"]
    assert "symbols=ETH-USD" in arguments[1]


def test_step_summary_with_non_finite_numbers_becomes_json_xcom_accepts() -> None:
    # A strategy that took no position has an undefined Sharpe (NaN): XCom must still take it.
    from quantdesk.orchestration.step_runner import to_jsonable

    summary = {"metrics": {"hybrid": {"sharpe": float("nan"), "cagr": 0.0}}, "peak": float("inf")}

    data = to_jsonable(summary)

    assert data == {"metrics": {"hybrid": {"sharpe": None, "cagr": 0.0}}, "peak": None}
    assert json.loads(json.dumps(data, allow_nan=False)) == data
