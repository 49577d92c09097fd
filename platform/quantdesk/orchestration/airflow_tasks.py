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


def run_in_worker(target: str, step_params: dict[str, str]) -> dict[str, Any]:
    """The TaskFlow body: Airflow has rendered ``step_params`` already.

    (Not ``params``: that name is Airflow's own context variable and cannot be mapped over.)
    """
    return run_step(target, step_params)


def build_task(definition: PipelineTask, settings: Settings | None = None) -> Any:
    """The operator for ``definition`` under the configured mode (call inside a DAG)."""
    resolved = settings or load_settings()
    if runs_in_pod(definition, resolved):
        return build_pod_operator(definition, resolved)
    from airflow.sdk import task

    worker_task = task(task_id=definition.name, **_task_options(definition))(run_in_worker)
    return worker_task(target=definition.target, step_params=dict(definition.params))


def build_mapped_task(
    definition: PipelineTask, over: str, values: list[str], settings: Settings | None = None
) -> Any:
    """One task instance per value of parameter ``over`` (Airflow dynamic task mapping)."""
    resolved = settings or load_settings()
    expanded = [{**definition.params, over: value} for value in values]
    if runs_in_pod(definition, resolved):
        operator = build_pod_operator(definition, resolved, partial=True)
        return operator.expand(arguments=[pod_command(definition, p)[1:] for p in expanded])
    from airflow.sdk import task

    worker_task = task(task_id=definition.name, **_task_options(definition))(run_in_worker)
    return worker_task.partial(target=definition.target).expand(step_params=expanded)


def _task_options(definition: PipelineTask) -> dict[str, Any]:
    from airflow.sdk import Asset

    options: dict[str, Any] = {}
    if definition.outlets:
        options["outlets"] = [Asset(name=name) for name in definition.outlets]
    return options


def build_pod_operator(definition: PipelineTask, settings: Settings, partial: bool = False) -> Any:
    """A ``KubernetesPodOperator`` running the step on the platform image.

    With ``partial`` the operator is left unfinished for :func:`build_mapped_task` to expand
    over its arguments.
    """
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
    factory = KubernetesPodOperator.partial if partial else KubernetesPodOperator
    arguments: dict[str, Any] = {} if partial else {"arguments": command[1:]}
    return factory(
        task_id=definition.name,
        name=definition.pod_name,
        namespace=cfg.namespace,
        image=cfg.image,
        image_pull_policy=cfg.image_pull_policy,
        cmds=command[:1],
        **arguments,
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
        **_task_options(definition),
    )
