"""Airflow operators built from a :class:`PipelineTask` (Airflow imported only in here).

``inprocess``: a TaskFlow ``@task`` in the worker calling the step directly.
``kubernetes``: heavy tasks become a ``KubernetesPodOperator`` on the platform image running
``quantdesk step run ...``, with requests/limits from settings and the environment from the
configured Secret/ConfigMap; light tasks stay in the worker.
"""

from __future__ import annotations

from typing import Any

from quantdesk.config import Settings, load_settings
from quantdesk.orchestration.step_runner import run_step
from quantdesk.orchestration.task_definition import (
    PipelineTask,
    pod_command,
    pod_environment,
    resources_for,
    runs_in_pod,
)


def run_in_worker(target: str, params: dict[str, str]) -> dict[str, Any]:
    """The TaskFlow body: Airflow has rendered ``params`` already."""
    return run_step(target, params)


def build_task(definition: PipelineTask, settings: Settings | None = None) -> Any:
    """The operator for ``definition`` under the configured mode (call inside a DAG)."""
    resolved = settings or load_settings()
    if runs_in_pod(definition, resolved):
        return build_pod_operator(definition, resolved)
    from airflow.sdk import task

    worker_task = task(task_id=definition.name)(run_in_worker)
    return worker_task(target=definition.target, params=dict(definition.params))


def build_pod_operator(definition: PipelineTask, settings: Settings) -> Any:
    """A ``KubernetesPodOperator`` running the step on the platform image."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import models as k8s  # type: ignore[import-untyped]

    cfg = settings.orchestration
    resources = resources_for(definition, settings)
    env_from = [
        *([k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name=cfg.env_secret))]
          if cfg.env_secret else []),
        *([k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name=cfg.env_config_map))]
          if cfg.env_config_map else []),
    ]  # fmt: skip
    command = pod_command(definition)
    return KubernetesPodOperator(
        task_id=definition.name,
        name=definition.pod_name,
        namespace=cfg.namespace,
        image=cfg.image,
        image_pull_policy=cfg.image_pull_policy,
        cmds=command[:1],
        arguments=command[1:],
        env_vars=pod_environment(definition),
        env_from=env_from or None,
        service_account_name=cfg.service_account or "default",
        labels={"app.kubernetes.io/part-of": "quantdesk", "quantdesk/task": definition.name},
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": resources.cpu_request, "memory": resources.memory_request},
            limits={"cpu": resources.cpu_limit, "memory": resources.memory_limit},
        ),
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_succeeded_pod",
    )
