"""One definition per DAG task, from which both execution paths are built.

A :class:`PipelineTask` names the step (``quantdesk.pipelines.<module>:<function>``), its
parameters as Jinja templates (``{"day": "{{ ds }}"}``) and the pod resources it needs.
In ``inprocess`` mode the worker calls :func:`~quantdesk.orchestration.step_runner.run_step`;
in ``kubernetes`` mode a heavy task becomes a pod on the platform image running
``quantdesk step run <target> --param k=v``: the same function, the same parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from quantdesk.config import PodResources, Settings
from quantdesk.domain.errors import InvalidInputError

XCOM_FILE = "/airflow/xcom/return.json"  # where KubernetesPodOperator's sidecar reads XCom


@dataclass(frozen=True, slots=True)
class PipelineTask:
    """What a DAG task runs; ``heavy`` tasks go to their own pod in kubernetes mode."""

    name: str
    target: str
    params: Mapping[str, str] = field(default_factory=dict)
    resources: PodResources | None = None
    heavy: bool = True
    outlets: tuple[str, ...] = ()  # Airflow asset names this task updates when it succeeds

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise InvalidInputError(f"task name must be a Python identifier, got {self.name!r}")
        if ":" not in self.target:
            raise InvalidInputError(f"task target must be module:function, got {self.target!r}")

    @property
    def pod_name(self) -> str:
        """Kubernetes names allow no underscores."""
        return "quantdesk-" + self.name.replace("_", "-")


def pod_command(task: PipelineTask, params: Mapping[str, str] | None = None) -> list[str]:
    """The container command: the CLI entry point with the task's (templated) parameters."""
    command = ["quantdesk", "step", "run", task.target]
    for key, value in (task.params if params is None else params).items():
        command += ["--param", f"{key}={value}"]
    return [*command, "--xcom-file", XCOM_FILE]


def resources_for(task: PipelineTask, settings: Settings) -> PodResources:
    """Settings override the definition, which overrides the platform default."""
    configured = settings.orchestration.task_resources.get(task.name)
    return configured or task.resources or settings.orchestration.default_resources


def runs_in_pod(task: PipelineTask, settings: Settings) -> bool:
    return settings.orchestration.mode == "kubernetes" and task.heavy


def pod_environment(task: PipelineTask) -> dict[str, str]:
    """Variables every pod gets; credentials come from the configured Secret, never here."""
    return {
        "QUANTDESK_LOG_FORMAT": "json",
        "QUANTDESK_TASK": task.name,
        "QUANTDESK_DAG_RUN_ID": "{{ run_id }}",
    }
